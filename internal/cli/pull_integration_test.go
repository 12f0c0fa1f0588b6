package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

// TestPullQueryExportAgainstMinIO is the local tour on a real S3-compatible
// server: demo into a bucket, pull into DuckDB (twice: the second pull reads
// nothing new), ask named questions, export Parquet.
func TestPullQueryExportAgainstMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "demo-bucket")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	db := filepath.Join(dir, "trail.duckdb")
	url := "s3://demo-bucket"
	if _, stderr, code := run("demo", "--s3", url, "--endpoint-url", srv.Endpoint, "--accounts", "3", "--regions", "us-east-1,eu-west-1",
		"--days", "1", "--public-keys-out", keys, "--format", "json"); code != 0 {
		t.Fatalf("demo: %s", stderr)
	}
	pullArgs := []string{"pull", "--source", url, "--endpoint-url", srv.Endpoint, "--public-keys", keys, "--db", db,
		"--since", "2026-11-20T00:00:00Z", "--until", "2026-11-21T00:00:00Z", "--format", "json"}
	stdout, stderr, code := run(pullArgs...)
	if code != 0 {
		t.Fatalf("pull: %d %s\n%s", code, stderr, stdout)
	}
	var sum struct {
		Listed, Loaded, Events, Duplicates int
		AlreadyLoaded                      int `json:"already_loaded"`
		Verified                           bool
	}
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatal(err)
	}
	if !sum.Verified || sum.Loaded == 0 || sum.Loaded != sum.Listed || sum.Events == 0 {
		t.Fatalf("first pull: %+v", sum)
	}
	stdout, _, code = run(pullArgs...)
	if code != 0 {
		t.Fatalf("second pull failed")
	}
	var again struct {
		Loaded        int
		AlreadyLoaded int `json:"already_loaded"`
	}
	_ = json.Unmarshal([]byte(stdout), &again)
	if again.Loaded != 0 || again.AlreadyLoaded != sum.Loaded {
		t.Fatalf("second pull: %+v", again)
	}
	stdout, stderr, code = run("query", "--db", db, "--format", "jsonl", "select count(*) as n, count(distinct account) as accounts from events")
	if code != 0 || !strings.Contains(stdout, `"accounts":3`) {
		t.Fatalf("query: %d %s %s", code, stdout, stderr)
	}
	for _, q := range []string{"pipeline-tampering", "console-logins-without-mfa", "root-activity", "access-denied-by-principal",
		"new-access-keys", "activity-by-principal", "calls-from-outside-expected-networks", "events-by-name"} {
		if _, stderr, code := run("query", "--db", db, "--named", q, "--format", "csv"); code != 0 {
			t.Errorf("named query %s: %s", q, stderr)
		}
	}
	out := filepath.Join(dir, "parquet")
	if _, stderr, code := run("export", "--db", db, "--out", out); code != 0 {
		t.Fatalf("export: %s", stderr)
	}
	var n int
	_ = filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.HasSuffix(p, ".parquet") {
			n++
		}
		return nil
	})
	if n == 0 {
		t.Fatal("no parquet files written")
	}
}
