package detect

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/query/duckdb"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// StoreOf loads events into a new DuckDB store, one log file per account
// and region, the way pull does, and opens it read-only as detect does.
func StoreOf(tb testing.TB, events []map[string]any) *duckdb.Store {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "trail.duckdb")
	files := map[string][]map[string]any{}
	var order []string
	for _, ev := range events {
		k := ev["recipientAccountId"].(string) + "/" + ev["awsRegion"].(string)
		if _, ok := files[k]; !ok {
			order = append(order, k)
		}
		files[k] = append(files[k], ev)
	}
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	var logs []logFile
	for i, k := range order {
		evs := files[k]
		acct, region := evs[0]["recipientAccountId"].(string), evs[0]["awsRegion"].(string)
		raw, err := json.Marshal(map[string]any{"Records": evs})
		if err != nil {
			tb.Fatal(err)
		}
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write(raw)
		_ = zw.Close()
		key := "AWSLogs/o-exampleorg1/" + acct + "/CloudTrail/" + region + "/2026/11/20/" + acct + "_CloudTrail_" + region + "_20261120T1000Z_" + string(rune('a'+i)) + ".json.gz"
		logs = append(logs, logFile{batch.File{Key: key, Account: acct, Region: region, Day: day, Verified: true}, gz.Bytes()})
	}
	return storeOfFiles(tb, path, logs)
}

// logFile is a gzipped log file and where it is in the bucket.
type logFile struct {
	f  batch.File
	gz []byte
}

// storeOfFiles loads log files into a new store at path, the way pull
// does, and opens it read-only as detect does.
func storeOfFiles(tb testing.TB, path string, logs []logFile) *duckdb.Store {
	tb.Helper()
	ctx := context.Background()
	sink, err := duckdb.OpenSink(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	var p batch.Parser
	var b batch.Events
	// Batches of 64 files, as a pull loads them, so a large store is
	// never in memory at once.
	for start := 0; start < len(logs); start += 64 {
		for _, l := range logs[start:min(start+64, len(logs))] {
			if _, err := p.Append(&b, l.f, l.gz, batch.InMemoryRecords); err != nil {
				tb.Fatal(err)
			}
			b.Commit()
		}
		if err := sink.Prepare(ctx, &b); err != nil {
			tb.Fatal(err)
		}
		if _, err := sink.Load(ctx, &b); err != nil {
			tb.Fatal(err)
		}
		b.Reset()
	}
	if err := sink.Commit(ctx); err != nil {
		tb.Fatal(err)
	}
	if err := sink.Close(ctx, false); err != nil {
		tb.Fatal(err)
	}
	st, err := duckdb.OpenWith(ctx, path, duckdb.Options{ReadOnly: true})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = st.Close() })
	return st
}

// TestBuiltinRulesInStore runs every case through the DuckDB store in one
// detect run: each rule fires on exactly the cases that say it must.
func TestBuiltinRulesInStore(t *testing.T) {
	cases := LoadCases(t)
	var evs []map[string]any
	for _, c := range cases {
		evs = append(evs, c.Event)
	}
	st := StoreOf(t, evs)
	cat := builtin(t, sigma.DuckDB)
	rules := byName(cat)
	rep, err := Run(context.Background(), st, cat, Scope{})
	if err != nil {
		t.Fatal(err)
	}
	fired := map[[2]string]bool{}
	for _, d := range rep.Detections {
		for _, id := range d.EventIDs {
			fired[[2]string{d.RuleID, id}] = true
		}
	}
	for i, c := range cases {
		id := c.Event["eventID"].(string)
		if got := fired[[2]string{rules[c.Rule].ID, id}]; got != c.Match {
			t.Errorf("case %d: %s fired=%v in the store, want %v (%s) on %v", i, c.Rule, got, c.Match, c.Note, c.Event["requestParameters"])
		}
	}
	if rep.Events != int64(len(cases)) {
		t.Errorf("events = %d, want %d", rep.Events, len(cases))
	}
}
