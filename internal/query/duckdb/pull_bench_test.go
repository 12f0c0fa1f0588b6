package duckdb

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"syscall"
	"testing"
	"time"

	s3store "github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/objstore/storetest"
	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

// BenchmarkPullVersusReadJSON pulls a demo organization of about 2 million
// events (TRAILWARDEN_BENCH_EVENTS) from a real MinIO with the trailwarden
// binary, verification included, then from the local folder MinIO was
// filled from, and loads the same files from that folder with DuckDB's own
// read_json (the engine's limit), in the same run. The pulls run as child
// processes so their peak memory (ru_maxrss, DuckDB's allocations
// included) is measured exactly. MinIO runs on the same cores as the pull.
// The three are measured TRAILWARDEN_BENCH_ROUNDS times (3), interleaved,
// and the ratios are those of the medians.
func BenchmarkPullVersusReadJSON(b *testing.B) {
	target, rounds := 2_000_000, 3
	if v, err := strconv.Atoi(os.Getenv("TRAILWARDEN_BENCH_EVENTS")); err == nil && v > 0 {
		target = v
	}
	if v, err := strconv.Atoi(os.Getenv("TRAILWARDEN_BENCH_ROUNDS")); err == nil && v > 0 {
		rounds = v
	}
	ctx := context.Background()
	dir := b.TempDir()
	opt := demo.Options{Accounts: 20, Regions: []string{"us-east-1", "eu-west-1", "ap-southeast-2"}, Days: 3, Seed: 9,
		Bucket: "bench-bucket", Trail: "org-trail", Jobs: runtime.GOMAXPROCS(0)}
	opt.EventsPerHour = max(24, target/4320*100/85) // quiet hours: about 10% fewer events than asked
	local, err := folder.Create(filepath.Join(dir, "bucket"))
	if err != nil {
		b.Fatal(err)
	}
	local.WithoutSync()
	res, err := demo.Generate(ctx, local, opt)
	if err != nil {
		b.Fatal(err)
	}
	m := res.Manifest
	b.Logf("demo: %d events in %d log files, %.0f MB compressed", m.Events, m.LogFiles, float64(m.LogBytes)/1e6)
	keys := filepath.Join(dir, "keys.json")
	if err := os.WriteFile(keys, res.PublicKeys, 0o600); err != nil {
		b.Fatal(err)
	}
	srv := miniotest.Start(b)
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": srv.AccessKey, "AWS_SECRET_ACCESS_KEY": srv.SecretKey,
		"AWS_PROFILE": "", "AWS_EC2_METADATA_DISABLED": "true"} {
		b.Setenv(k, v)
	}
	srv.CreateBucket(b, "bench-bucket")
	remote, err := s3store.New(ctx, s3store.Options{Bucket: "bench-bucket", Region: miniotest.Region, Endpoint: srv.Endpoint})
	if err != nil {
		b.Fatal(err)
	}
	if err := storetest.Copy(ctx, local, remote, 16); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "trailwarden")
	build := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", bin, "github.com/trailwarden/trailwarden/cmd/trailwarden")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	for b.Loop() {
		window := []string{"--since", m.Start.Format(time.RFC3339), "--until", m.End.Add(time.Hour).Format(time.RFC3339)}
		db := ""
		pull := func(args ...string) (int, float64, float64) {
			db = filepath.Join(b.TempDir(), "trail.duckdb")
			var sum struct{ Events int }
			argv := append(append([]string{bin, "pull", "--db", db, "--format", "json", "--public-keys", keys}, window...), args...)
			secs, peakMB := measured(b, &sum, argv...)
			return sum.Events, secs, peakMB
		}
		// The machine's speed varies by 10 to 20% from minute to minute, so
		// each measurement is repeated, interleaved, and the medians compared.
		var pullSecs, localSecs, limitSecs []float64
		var events, localEvents, limitEvents int
		peakMB := 0.0
		for round := 1; round <= rounds; round++ {
			n, secs, remoteMB := pull("--source", "s3://bench-bucket", "--endpoint-url", srv.Endpoint)
			_ = os.Remove(db)
			events, pullSecs, peakMB = n, append(pullSecs, secs), max(peakMB, remoteMB)
			// The same files from the local folder read_json reads: no
			// MinIO on the same cores, the same source as the limit's.
			n, lsecs, localMB := pull("--source", local.Dir())
			localEvents, localSecs, peakMB = n, append(localSecs, lsecs), max(peakMB, localMB)
			if round < rounds {
				_ = os.Remove(db) // the last one is queried below
			}
			rsecs, rn := readJSONLimit(b, filepath.Join(local.Dir(), "AWSLogs"))
			limitEvents, limitSecs = rn, append(limitSecs, rsecs)
			b.Logf("round %d: pull from MinIO %.1fs (peak RSS %.0f MB), from the local folder %.1fs (%.0f MB), read_json %.1fs; ratios %.2fx and %.2fx",
				round, secs, remoteMB, lsecs, localMB, rsecs, rsecs/secs*float64(n)/float64(rn), rsecs/lsecs*float64(n)/float64(rn))
		}
		pullRate, localRate, limitRate := float64(events)/median(pullSecs), float64(localEvents)/median(localSecs), float64(limitEvents)/median(limitSecs)
		b.Logf("pull from MinIO, verified (median of %d): %d events in %.1fs = %.0f events/s, %.1f MB/s",
			rounds, events, median(pullSecs), pullRate, float64(m.LogBytes)/1e6/median(pullSecs))
		b.Logf("pull from the local folder, verified (median): %d events in %.1fs = %.0f events/s", localEvents, median(localSecs), localRate)
		b.Logf("DuckDB read_json, local disk (median): %d records in %.1fs = %.0f events/s", limitEvents, median(limitSecs), limitRate)
		b.Logf("peak RSS of every pull: %.0f MB at most", peakMB)
		b.Logf("ratios of the medians to read_json: %.2fx from MinIO, %.2fx from the local folder", pullRate/limitRate, localRate/limitRate)
		b.ReportMetric(pullRate, "events/s")
		b.ReportMetric(pullRate/limitRate, "x-read_json")
		b.ReportMetric(localRate/limitRate, "x-read_json-local")
		b.ReportMetric(peakMB, "peak-MB")
		queryLatency(b, bin, db) // the local pull's store
	}
}

// measured runs a command through a small helper process (the test
// binary, see TestMain) and returns its elapsed time and peak RSS, and
// its JSON output in out. The helper is needed because Linux counts in a
// child's ru_maxrss the peak RSS of the process that started it: this
// test's own, which read_json makes large, would hide the pull's.
func measured(b *testing.B, out any, argv ...string) (secs, peakMB float64) {
	b.Helper()
	stats := filepath.Join(b.TempDir(), "peak")
	cmd := exec.Command(os.Args[0], argv...) //nolint:gosec // the test binary, re-run as the helper
	cmd.Env = append(os.Environ(), "TW_MEASURE_INTO="+stats)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		b.Fatalf("%v: %v\n%s%s", argv, err, stdout, stderr.Bytes())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(stats)
	if err != nil {
		b.Fatal(err)
	}
	var kb, ns int64
	if _, err := fmt.Sscan(string(raw), &kb, &ns); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ns).Seconds(), float64(kb) / 1024
}

// measure is the helper: it runs argv, passing its output through, and
// writes the child's peak RSS (KB) and elapsed time (ns) into path.
func measure(path string, argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // the benchmark's own command
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	began := time.Now()
	err := cmd.Run()
	elapsed := time.Since(began)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kb := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d %d", kb, elapsed.Nanoseconds()), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// readJSONLimit loads every log file of dir into a fresh DuckDB table with
// read_json and unnest, as a user of DuckDB alone would.
func readJSONLimit(b *testing.B, dir string) (float64, int) {
	s, err := Open(context.Background(), filepath.Join(b.TempDir(), "limit.duckdb"))
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	// The engine's limit: give it all the memory and every core it wants
	// (the duckdb's own default is one thread).
	if _, err := s.db.ExecContext(context.Background(), fmt.Sprintf("SET memory_limit='8GB'; SET threads=%d", runtime.GOMAXPROCS(0))); err != nil {
		b.Fatal(err)
	}
	began := time.Now()
	glob := filepath.Join(dir, "*", "*", "CloudTrail", "*", "*", "*", "*", "*.json.gz") // AWSLogs/o-id/acct/CloudTrail/region/Y/M/D
	q := fmt.Sprintf(`CREATE TABLE raw AS SELECT unnest(Records) AS r FROM read_json(%s, format='auto', maximum_object_size=67108864)`, sqlString(glob))
	if _, err := s.db.ExecContext(context.Background(), q); err != nil {
		b.Fatal(err)
	}
	secs := time.Since(began).Seconds()
	var n int
	if err := s.db.QueryRowContext(context.Background(), "SELECT count(*) FROM raw").Scan(&n); err != nil {
		b.Fatal(err)
	}
	return secs, n
}

// queryLatency times each named query on the pulled store.
func queryLatency(b *testing.B, bin, db string) {
	for _, q := range []string{"root-activity", "console-logins-without-mfa", "access-denied-by-principal", "pipeline-tampering",
		"new-access-keys", "activity-by-principal", "calls-from-outside-expected-networks", "events-by-name"} {
		began := time.Now()
		if out, err := exec.Command(bin, "query", "--db", db, "--named", q, "--format", "csv").CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", q, err, out)
		}
		b.Logf("query --named %-38s %6.0f ms (process start included)", q, float64(time.Since(began).Milliseconds()))
	}
}
