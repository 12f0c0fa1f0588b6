package detect

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/query/duckdb"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// benchStore is a store of the demo organization the pull benchmark uses
// (20 accounts, 3 regions, 3 days), about TRAILWARDEN_BENCH_EVENTS events
// (default 2 million). It is kept under TRAILWARDEN_BENCH_DIR (default the
// system's temporary folder) and reused by the next run.
func benchStore(b *testing.B) (*demo.Org, *duckdb.Store) {
	target := 2_000_000
	if v, err := strconv.Atoi(os.Getenv("TRAILWARDEN_BENCH_EVENTS")); err == nil && v > 0 {
		target = v
	}
	dir := os.Getenv("TRAILWARDEN_BENCH_DIR")
	if dir == "" {
		dir = os.TempDir()
	}
	ctx := context.Background()
	opt := demo.Options{Accounts: 20, Regions: []string{"us-east-1", "eu-west-1", "ap-southeast-2"}, Days: 3, Seed: 9,
		Bucket: "bench-bucket", Trail: "org-trail", Jobs: runtime.GOMAXPROCS(0)}
	opt.EventsPerHour = max(24, target/4320*100/85)
	path := filepath.Join(dir, "trailwarden-detect-bench-"+strconv.Itoa(target)+".duckdb")
	org := demo.NewOrg(opt.Seed, opt.Accounts, opt.Regions, opt.Bucket, opt.Prefix, opt.Trail)
	if _, err := os.Stat(path); err == nil {
		st, err := duckdb.OpenWith(ctx, path, duckdb.Options{ReadOnly: true})
		if err == nil {
			return org, st
		}
		_ = os.Remove(path)
	}
	bucket := b.TempDir()
	fs, err := folder.Create(bucket)
	if err != nil {
		b.Fatal(err)
	}
	fs.WithoutSync()
	start := time.Now()
	res, err := demo.Generate(ctx, fs, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("demo: %d events in %d log files (%s)", res.Manifest.Events, res.Manifest.LogFiles, time.Since(start).Round(time.Second))
	var logs []logFile
	err = fs.List(ctx, "", "", func(o objstore.Object) error {
		k, err := layout.Parse(o.Key)
		if err != nil || k.Kind != layout.LogFile {
			return nil //nolint:nilerr // not a log file
		}
		gz, err := os.ReadFile(filepath.Join(bucket, filepath.FromSlash(o.Key)))
		if err != nil {
			return err
		}
		logs = append(logs, logFile{batch.File{Key: o.Key, Account: k.Account, Region: k.Region,
			Day: time.Date(k.Year, time.Month(k.Month), k.Day, 0, 0, 0, 0, time.UTC), Verified: true}, gz})
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	// Oldest first, as a pull loads them, so each row group covers a
	// narrow range of time.
	sort.Slice(logs, func(i, j int) bool {
		if !logs[i].f.Day.Equal(logs[j].f.Day) {
			return logs[i].f.Day.Before(logs[j].f.Day)
		}
		return logs[i].f.Key < logs[j].f.Key
	})
	start = time.Now()
	st := storeOfFiles(b, path, logs)
	b.Logf("store: %s loaded in %s", path, time.Since(start).Round(time.Second))
	return org, st
}

// BenchmarkDetectVersusScan runs every built-in rule (one scan for the
// single-event rules, one query per correlation, the coverage count) over
// the bench store, and one full scan of the table (select count(*) from
// events where event_name = 'x'), interleaved TRAILWARDEN_BENCH_ROUNDS
// times (3); it reports the medians and their ratio. The goal is at most
// 3x.
func BenchmarkDetectVersusScan(b *testing.B) {
	rounds := 3
	if v, err := strconv.Atoi(os.Getenv("TRAILWARDEN_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	org, st := benchStore(b)
	defer func() { _ = st.Close() }()
	ctx := context.Background()
	cat, err := Prepare(Options{Config: org.Config()}, sigma.DuckDB)
	if err != nil {
		b.Fatal(err)
	}
	scanOnce := func(sql string) (time.Duration, int64) {
		t0 := time.Now()
		rows, err := st.Query(ctx, sql)
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for rows.Next() {
			n = num(rows.Row()[0])
		}
		if err := rows.Err(); err != nil {
			b.Fatal(err)
		}
		_ = rows.Close()
		return time.Since(t0), n
	}
	// The literal scan DuckDB answers from its zonemaps: 'x' sorts after
	// every event name, so no row group is read. The second reads the
	// whole request_parameters column, the one most rules look into.
	const literal = "select count(*) from events where event_name = 'x'"
	const reads = "select count(*) from events where contains(CAST(request_parameters AS VARCHAR), 'no-such-value')"
	var scans, fulls, runs []time.Duration
	var rep *Report
	for b.Loop() {
		for i := 0; i < rounds; i++ {
			d, _ := scanOnce(literal)
			scans = append(scans, d)
			d, _ = scanOnce(reads)
			fulls = append(fulls, d)
			t0 := time.Now()
			rep, err = Run(ctx, st, cat, Scope{})
			if err != nil {
				b.Fatal(err)
			}
			runs = append(runs, time.Since(t0))
		}
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	ms, mf, mr := median(scans), median(fulls), median(runs)
	ratio, fratio := float64(mr)/float64(ms), float64(mr)/float64(mf)
	b.Logf("%d events, %d rules ready, %d detections; medians of %d rounds: all rules %s", rep.Events, rep.Rules[StatusReady],
		len(rep.Detections), len(scans), mr.Round(time.Millisecond))
	b.Logf("ratio %.0fx to %q (%s, answered from zonemaps; goal <= 3x)", ratio, literal, ms.Round(time.Millisecond))
	b.Logf("ratio %.2fx to a read of every request_parameters value (%s)", fratio, mf.Round(time.Millisecond))
	b.ReportMetric(ratio, "x-scan")
	b.ReportMetric(fratio, "x-read")
	b.ReportMetric(float64(mr.Milliseconds()), "ms-rules")
	b.ReportMetric(float64(ms.Milliseconds()), "ms-scan")
}
