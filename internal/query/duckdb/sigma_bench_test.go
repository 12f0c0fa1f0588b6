package duckdb

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/sigma"
	"github.com/trailwarden/trailwarden/internal/testkit/sigmacorpus"
)

// BenchmarkSigmaHQRules runs every vendored SigmaHQ rule's DuckDB SQL over
// a store of generated events (TW_SIGMA_BENCH_EVENTS, default 200,000)
// and reports the time of all rules next to one scan of the table
// (select count(*) from events where event_name = 'x').
func BenchmarkSigmaHQRules(b *testing.B) {
	n := 200000
	if v := os.Getenv("TW_SIGMA_BENCH_EVENTS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	ctx := context.Background()
	cases, err := sigmacorpus.Load()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	s, err := Open(ctx, filepath.Join(dir, "bench.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	const perFile = 20000
	for i := 0; i*perFile < n; i++ {
		recs := sigmacorpus.Generate(cases, min(perFile, n-i*perFile), uint64(i))
		data, err := sigmacorpus.LogFile(recs)
		if err != nil {
			b.Fatal(err)
		}
		path := filepath.Join(dir, fmt.Sprintf("f%d.json", i))
		if err := writeGzip(path, data); err != nil {
			b.Fatal(err)
		}
		if _, err := ingest(ctx, s, File{Key: path, Account: "111122223333", Region: "us-east-1", Day: day, Path: path, Verified: true}); err != nil {
			b.Fatal(err)
		}
	}
	set, err := sigma.Load(os.DirFS(filepath.Join("..", "..", "sigma", "testdata")), "sigmahq")
	if err != nil {
		b.Fatal(err)
	}
	var sqls []string
	var comps []*sigma.Compiled
	for _, r := range set.Rules {
		if c, err := sigma.Compile(r, sigma.DuckDB, nil); err == nil {
			sqls = append(sqls, "SELECT count(*) FROM ("+c.SQL+")")
			comps = append(comps, c)
		}
	}
	combined, err := sigma.Combine(comps, sigma.DuckDB, sigma.Options{})
	if err != nil {
		b.Fatal(err)
	}
	run := func(q string) {
		var c int64
		if err := s.db.QueryRowContext(ctx, q).Scan(&c); err != nil {
			b.Fatalf("%v\n%s", err, q)
		}
	}
	if os.Getenv("TW_SIGMA_BENCH_SHAPES") != "" {
		for _, q := range []string{
			"SELECT count(*) FROM events WHERE event_name = 'x'",
			"SELECT count(*) FROM events WHERE event_name = 'ConsoleLogin'",
			"SELECT count(*) FROM events WHERE lower(event_name) = 'consolelogin'",
			"SELECT count(*) FROM events WHERE coalesce(lower(event_name) = 'consolelogin', false)",
			"SELECT count(*) FROM events WHERE event_name ILIKE 'consolelogin'",
			"SELECT count(*) FROM events WHERE coalesce(lower(coalesce(event_name, json_extract_string(extra, '$.\"eventName\"'))) = 'consolelogin', false)",
			"SELECT count(*) FROM events WHERE coalesce(lower(event_name) = 'consolelogin', false) AND coalesce(lower(json_extract_string(response_elements, '$.\"ConsoleLogin\"')) = 'failure', false)",
			sqls[0],
		} {
			t0 := time.Now()
			for i := 0; i < 5; i++ {
				run(q)
			}
			b.Logf("%6.1f ms  %.150s", float64(time.Since(t0).Microseconds())/5000, q)
		}
	}
	b.ResetTimer()
	var scan, rules, one time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		run("SELECT count(*) FROM events WHERE event_name = 'x'")
		scan += time.Since(t0)
		t0 = time.Now()
		for _, q := range sqls {
			run(q)
		}
		rules += time.Since(t0)
		t0 = time.Now()
		run("SELECT count(*) FROM (" + combined + ")")
		one += time.Since(t0)
	}
	b.ReportMetric(float64(one.Milliseconds())/float64(b.N), "combined-ms")
	b.ReportMetric(float64(one)/float64(scan), "combined-x-scan")
	b.ReportMetric(float64(scan.Milliseconds())/float64(b.N), "scan-ms")
	b.ReportMetric(float64(rules.Milliseconds())/float64(b.N), "rules-ms")
	b.ReportMetric(float64(len(sqls)), "rules")
	b.ReportMetric(float64(rules)/float64(scan), "x-scan")
}
