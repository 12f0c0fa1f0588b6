package duckdb

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/sigma"
	"github.com/trailwarden/trailwarden/internal/testkit/sigmacorpus"
)

// TestSigmaDifferential loads the Sigma corpus's events and records
// generated from them into a real store and, for every corpus rule the
// compiler accepts, compares the events its DuckDB SQL returns with the
// events sigma's Go matcher accepts (and, for correlations, the episodes
// of Correlate). The two are written independently; a difference is a
// bug in one of them.
func TestSigmaDifferential(t *testing.T) {
	cases, err := sigmacorpus.Load()
	if err != nil {
		t.Fatal(err)
	}
	var recs []map[string]any
	for _, c := range cases {
		for _, e := range c.Events {
			if c.Fires == nil {
				recs = append(recs, e.Event)
			}
		}
	}
	recs = append(recs, sigmacorpus.Generate(cases, 3000, 17)...)

	ctx := context.Background()
	dir := t.TempDir()
	load := func(name string, recs []map[string]any) *Store {
		data, err := sigmacorpus.LogFile(recs)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name+".json.gz")
		if err := writeGzip(path, data); err != nil {
			t.Fatal(err)
		}
		s, err := Open(ctx, filepath.Join(dir, name+".duckdb"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
		got, err := ingest(ctx, s, File{Key: name, Account: "111122223333", Region: "us-east-1", Day: day, Path: path, Verified: true})
		if err != nil {
			t.Fatal(err)
		}
		if got.Events != len(recs) {
			t.Fatalf("loaded %d events of %d", got.Events, len(recs))
		}
		return s
	}
	store := load("events", recs)

	compared, matches := 0, 0
	var combined []*sigma.Compiled
	wantByRule := map[int][]string{}
	for _, c := range cases {
		if c.Unsupported != "" {
			continue
		}
		rules, err := sigma.Parse([]byte(c.Rule), c.File)
		if err != nil {
			t.Fatal(err)
		}
		r := rules[len(rules)-1]
		ph := sigma.Placeholders(c.Placeholders)
		comp, err := sigma.Compile(r, sigma.DuckDB, ph)
		if err != nil {
			t.Fatalf("%s: %v", c.File, err)
		}
		if r.Correlation != nil {
			var own []map[string]any
			for _, e := range c.Events {
				own = append(own, e.Event)
			}
			s := load(strings.TrimSuffix(c.File, ".yaml"), own)
			want, err := r.Correlate(own, ph)
			if err != nil {
				t.Fatal(err)
			}
			var wantIDs []string
			for _, f := range want {
				wantIDs = append(wantIDs, strings.Join(f.EventIDs, ","))
			}
			got := column(t, s, "SELECT array_to_string(event_ids, ',') FROM ("+comp.SQL+")")
			if !slices.Equal(got, wantIDs) {
				t.Errorf("%s: SQL fired %v, Correlate %v\n%s", c.File, got, wantIDs, comp.SQL)
			}
			// And over the generated events, where groups are larger and
			// windows overlap in every way. Episodes starting at the same
			// time are ordered by their events.
			all, err := r.Correlate(recs, ph)
			if err != nil {
				t.Fatal(err)
			}
			wantIDs = nil
			for _, f := range all {
				wantIDs = append(wantIDs, f.First.Format(time.RFC3339)+" "+f.Last.Format(time.RFC3339)+" "+strconv.Itoa(f.Count)+" "+strings.Join(f.EventIDs, ","))
			}
			got = column(t, store, `SELECT strftime(first_time, '%Y-%m-%dT%H:%M:%SZ') || ' ' || strftime(last_time, '%Y-%m-%dT%H:%M:%SZ') || ' ' || "count" || ' ' || array_to_string(event_ids, ',') FROM (`+comp.SQL+`)`)
			sort.Strings(got)
			sort.Strings(wantIDs)
			if !slices.Equal(got, wantIDs) {
				t.Errorf("%s over generated events: SQL fired\n%v\nCorrelate\n%v", c.File, got, wantIDs)
			}
			t.Logf("%s: %d episodes over the generated events", c.File, len(all))
			if len(all) == 0 {
				t.Errorf("%s: no episode over the generated events: the comparison proves little", c.File)
			}
			compared++
			continue
		}
		var want []string
		for _, rec := range recs {
			ok, err := r.Match(rec, ph)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				want = append(want, rec["eventID"].(string))
			}
		}
		got := column(t, store, "SELECT event_id FROM ("+comp.SQL+")")
		wantByRule[len(combined)] = slices.Clone(got)
		combined = append(combined, comp)
		sort.Strings(want)
		sort.Strings(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: SQL and Match differ\n only SQL:   %v\n only Match: %v\n%s", c.File, minus(got, want), minus(want, got), comp.Where)
		}
		compared++
		matches += len(want)
	}
	t.Logf("compared %d rules over %d events (%d matches)", compared, len(recs), matches)

	// Combine flags, in one read of the table, the rows each rule returns.
	q, err := sigma.Combine(combined, sigma.DuckDB, sigma.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range combined {
		got := column(t, store, fmt.Sprintf("SELECT event_id FROM (%s) WHERE rule_%d", q, i))
		want := wantByRule[i]
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("Combine's rule_%d (%s) flags %d rows, the rule's own SQL returns %d", i, combined[i].Rule.Title, len(got), len(want))
		}
	}
	if compared < 20 || matches < 100 {
		t.Errorf("compared %d rules with %d matches: the generated events exercise too little", compared, matches)
	}
}

func column(t *testing.T, s *Store, q string) []string {
	t.Helper()
	rows, err := s.db.QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%v\n%s", err, q)
	}
	defer func() { _ = rows.Close() }()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func minus(a, b []string) []string {
	var out []string
	for _, v := range a {
		if !slices.Contains(b, v) {
			out = append(out, v)
		}
	}
	return out
}

// TestSigmaSQLParses compiles every corpus rule and every vendored
// SigmaHQ rule for both dialects. The DuckDB SQL runs on a real (empty)
// store, which binds every column, JSON path and function. The Athena SQL
// is parsed, not run, by DuckDB's parser (json_serialize_sql): no Go
// parser of Trino's grammar exists, and the SQL the compiler writes for
// Athena stays inside the grammar the two share; its functions are
// checked against Trino's by sigma's own tests.
func TestSigmaSQLParses(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "empty.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()

	var rules []*sigma.Rule
	cases, err := sigmacorpus.Load()
	if err != nil {
		t.Fatal(err)
	}
	phs := map[*sigma.Rule]sigma.Placeholders{}
	for _, c := range cases {
		rs, err := sigma.Parse([]byte(c.Rule), c.File)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rs {
			phs[r] = c.Placeholders
		}
		rules = append(rules, rs...)
	}
	set, err := sigma.Load(os.DirFS(filepath.Join("..", "..", "sigma", "testdata")), "sigmahq")
	if err != nil {
		t.Fatal(err)
	}
	rules = append(rules, set.Rules...)

	ran, parsed := 0, 0
	for _, r := range rules {
		if c, err := sigma.Compile(r, sigma.DuckDB, phs[r]); err == nil {
			rows, err := s.db.QueryContext(ctx, c.SQL)
			if err != nil {
				t.Errorf("%s (%s): DuckDB refuses its SQL: %v\n%s", r.Title, r.Source, err, c.SQL)
				continue
			}
			_ = rows.Close()
			ran++
		}
		if c, err := sigma.Compile(r, sigma.Athena, phs[r]); err == nil {
			// Trino's ARRAY(JSON) type is JSON[] in DuckDB's grammar; the
			// rest is common to both.
			q := strings.ReplaceAll(c.SQL, "AS ARRAY(JSON)", "AS JSON[]")
			var out string
			if err := s.db.QueryRowContext(ctx, "SELECT json_serialize_sql(?::VARCHAR)::VARCHAR", q).Scan(&out); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(out, `"error":true`) {
				t.Errorf("%s (%s): Athena SQL does not parse: %s\n%s", r.Title, r.Source, out, c.SQL)
			}
			parsed++
		}
	}
	t.Logf("ran %d DuckDB queries, parsed %d Athena queries", ran, parsed)
	if ran < 75 || parsed < 75 {
		t.Errorf("ran %d and parsed %d: fewer rules than the corpus and SigmaHQ hold", ran, parsed)
	}
}

// writeGzip writes data gzipped, as CloudTrail delivers its files.
func writeGzip(path string, data []byte) error {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(data)
	if err := zw.Close(); err != nil {
		return err
	}
	return os.WriteFile(path, gz.Bytes(), 0o600)
}

// TestSigmaGlobAgainstLike compares random Sigma strings (wildcards,
// escapes, SQL's LIKE characters, quotes, case, a non-ASCII letter)
// matched by sigma's Go matcher and by the DuckDB SQL the compiler writes
// for them, over random values from the same alphabet.
func TestSigmaGlobAgainstLike(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11)) //nolint:gosec // deterministic test data
	alphabet := []string{"a", "A", "b", "%", "_", "\\", "'", "é", "É", ".", "*", "?"}
	word := func(n int, wild bool) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			c := alphabet[rng.IntN(len(alphabet))]
			if !wild && (c == "*" || c == "?") {
				c = "a"
			}
			b.WriteString(c)
		}
		return b.String()
	}
	var recs []map[string]any
	for i := 0; i < 400; i++ {
		rec, err := sigmacorpus.Record(map[string]any{"requestParameters": map[string]any{"v": word(rng.IntN(6), false)}}, "v"+strconv.Itoa(i))
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	data, err := sigmacorpus.LogFile(recs)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "glob.json.gz")
	if err := writeGzip(path, data); err != nil {
		t.Fatal(err)
	}
	s, err := Open(ctx, filepath.Join(dir, "glob.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	if _, err := ingest(ctx, s, File{Key: "glob", Account: "111122223333", Region: "us-east-1", Day: day, Path: path, Verified: true}); err != nil {
		t.Fatal(err)
	}
	mods := []string{"", "|contains", "|startswith", "|endswith", "|cased", "|contains|cased"}
	matched := 0
	for i := 0; i < 300; i++ {
		pat := word(1+rng.IntN(4), true)
		rule := "title: g\nid: g" + strconv.Itoa(i) + "\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  s:\n    'requestParameters.v" +
			mods[rng.IntN(len(mods))] + "': '" + strings.ReplaceAll(pat, "'", "''") + "'\n  condition: s\n"
		rules, err := sigma.Parse([]byte(rule), "g.yml")
		if err != nil {
			t.Fatalf("%v\n%s", err, rule)
		}
		comp, err := sigma.Compile(rules[0], sigma.DuckDB, nil)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, rec := range recs {
			if ok, err := rules[0].Match(rec, nil); err != nil {
				t.Fatal(err)
			} else if ok {
				want = append(want, rec["eventID"].(string))
			}
		}
		got := column(t, s, "SELECT event_id FROM ("+comp.SQL+")")
		sort.Strings(got)
		sort.Strings(want)
		if !slices.Equal(got, want) {
			t.Errorf("%q: only SQL %v, only Match %v\n%s", rule, minus(got, want), minus(want, got), comp.Where)
		}
		matched += len(want)
	}
	if matched < 300 {
		t.Errorf("only %d matches over 300 patterns: the comparison proves little", matched)
	}
}
