package dashboard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkPages measures each page's server time (one GET over loopback,
// the whole response read) on the bench store of about 2 million events:
// the organization of BenchmarkPullVersusReadJSON (20 accounts, 3
// regions, 3 days; TRAILWARDEN_BENCH_EVENTS changes the size), pulled
// into DuckDB and served by `trailwarden serve`. Every page must answer in
// under a second. TRAILWARDEN_DASH_BENCH_DIR keeps the demo and the store
// between runs.
func BenchmarkPages(b *testing.B) {
	target := 2_000_000
	if v, err := strconv.Atoi(os.Getenv("TRAILWARDEN_BENCH_EVENTS")); err == nil && v > 0 {
		target = v
	}
	dir := os.Getenv("TRAILWARDEN_DASH_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	d := demoOrg{dir: dir, bucket: filepath.Join(dir, "bucket"), db: filepath.Join(dir, "trail.duckdb")}
	d.config = filepath.Join(d.bucket, ".trailwarden", "trailwarden.yaml")
	d.snapshot = filepath.Join(d.bucket, ".trailwarden", "snapshot.json")
	if _, err := os.Stat(d.db); err != nil {
		perHour := max(24, target/4320*100/85) // as the pull benchmark: quiet hours have fewer
		start := time.Now()
		if o, e, code := run(b, "demo", "--out", d.bucket, "--accounts", "20", "--regions", "us-east-1,eu-west-1,ap-southeast-2",
			"--days", "3", "--seed", "9", "--events-per-hour", strconv.Itoa(perHour)); code != 0 {
			b.Fatalf("demo: %d\n%s%s", code, o, e)
		}
		if o, e, code := run(b, "pull", "--source", d.bucket, "--db", d.db); code != 0 {
			b.Fatalf("pull: %d\n%s%s", code, o, e)
		}
		b.Logf("bench store built in %s", time.Since(start).Round(time.Second))
	}
	out, _, _ := run(b, "query", "--db", d.db, "--format", "csv", "SELECT count(*) FROM events")
	b.Logf("store: %s events", out)
	start := time.Now()
	// The store's default memory limit (256 MB) is shared by every
	// query of a long-lived serve; calls-from-outside-expected-networks
	// needs more on this store.
	d.extra = []string{"--memory-limit", "1GB"}
	base := serve(b, d)
	b.Logf("serve computed coverage, verify, audit and proofs in %s", time.Since(start).Round(time.Millisecond))
	pages := []string{"/", "/coverage", "/coverage?page=2", "/coverage/cell?account=111111111111&region=us-east-1", "/audit",
		"/audit?status=fail", "/access", "/detections", "/queries",
		"/sql?named=pipeline-tampering", "/sql?named=console-logins-without-mfa", "/sql?named=root-activity",
		"/sql?named=access-denied-by-principal", "/sql?named=calls-from-outside-expected-networks",
		"/sql.csv?named=root-activity",
		// Ad-hoc SQL is not cached: a comment that changes each time
		// makes every request run DuckDB.
		"adhoc:SELECT * FROM events WHERE event_name = 'ConsoleLogin'", "adhoc:SELECT event_source, count(*) AS n FROM events GROUP BY 1 ORDER BY 2 DESC"}
	for i, p := range pages {
		name := p
		if sqlText, ok := strings.CutPrefix(p, "adhoc:"); ok {
			name = "/sql?q=" + sqlText + " (page 3, uncached)"
		}
		b.Run(name, func(b *testing.B) {
			var worst time.Duration
			n := 0
			for b.Loop() {
				n++
				u := p
				if sqlText, ok := strings.CutPrefix(p, "adhoc:"); ok {
					u = "/sql?page=3&q=" + url.QueryEscape(fmt.Sprintf("%s -- %d.%d", sqlText, i, n))
				}
				t0 := time.Now()
				resp, err := http.Get(base + u)
				if err != nil {
					b.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					msg := string(body)
					if i := strings.Index(msg, `id="sql-error"`); i >= 0 {
						msg = msg[i:min(len(msg), i+400)]
					}
					b.Fatalf("%s: %d\n%.400s", u, resp.StatusCode, msg)
				}
				worst = max(worst, time.Since(t0))
			}
			b.ReportMetric(float64(worst.Microseconds())/1000, "worst-ms")
			if worst > time.Second && !strings.Contains(p, ".csv") { // a download, not a page
				b.Errorf("%s took %s, over the 1 s budget", p, worst)
			}
		})
	}
}
