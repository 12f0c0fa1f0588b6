package cli

import (
	"encoding/json"
	"maps"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
	"github.com/trailwarden/trailwarden/internal/testkit/stallproxy"
)

// stallTimeout is the --timeout of the stalled runs, and stallBound the
// most a stalled command may take: a body's wait and the SDK's 3 attempts
// to resume it, of at most stallTimeout each, the SDK's backoff between
// them (under 2s, then under 4s), and slack for a loaded machine.
const (
	stallTimeout = time.Second
	stallBound   = 4*stallTimeout + 6*time.Second + 5*time.Second
)

// stalledRun runs a command through a proxy that stalls after half the
// bytes the same command took through it when it was not stalled, and
// checks that it fails within stallBound with exit 1, nothing on stdout
// and an error that names the stall and the flag to adjust.
func stalledRun(t *testing.T, p *stallproxy.Proxy, fullBytes int64, args ...string) {
	t.Helper()
	before := p.BytesToClients()
	p.StallAfter(fullBytes / 2)
	defer p.Resume()
	start := time.Now()
	stdout, stderr, code := run(append(args, "--timeout", stallTimeout.String())...)
	elapsed := time.Since(start)
	t.Logf("%s stalled after %d of %d bytes: exit %d after %s\n%s", args[0], p.BytesToClients()-before, fullBytes, code, elapsed.Round(time.Millisecond), stderr)
	if !p.Stalled() {
		t.Fatalf("%s finished before the proxy stalled", args[0])
	}
	if code != ExitFailure {
		t.Fatalf("%s on a stalled endpoint: exit %d, want 1\n%s%s", args[0], code, stdout, stderr)
	}
	if elapsed > stallBound {
		t.Errorf("%s took %s on a stalled endpoint, want at most %s", args[0], elapsed, stallBound)
	}
	if stdout != "" {
		t.Errorf("%s printed a result although it failed:\n%s", args[0], stdout)
	}
	for _, want := range []string{"Error: ", "(stalled endpoint)", p.URL, "no data for 1s", "Try: the endpoint stopped answering", "--timeout"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("%s: stderr lacks %q:\n%s", args[0], want, stderr)
		}
	}
}

// fullRun runs a command through the proxy, not stalled, and returns its
// stdout and how many bytes it read through the proxy.
func fullRun(t *testing.T, p *stallproxy.Proxy, args ...string) (string, int64) {
	t.Helper()
	before := p.BytesToClients()
	stdout, stderr, code := run(args...)
	if code != ExitOK {
		t.Fatalf("%v: exit %d\n%s%s", args, code, stdout, stderr)
	}
	return stdout, p.BytesToClients() - before
}

// queryRows runs SQL on a store and returns the rows as JSON objects.
func queryRows(t *testing.T, db, sql string) []map[string]any {
	t.Helper()
	stdout, stderr, code := run("query", "--db", db, "--format", "jsonl", sql)
	if code != ExitOK {
		t.Fatalf("query %s: exit %d %s", sql, code, stderr)
	}
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if line == "" {
			continue
		}
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		rows = append(rows, r)
	}
	return rows
}

// fileRecords maps each file in the duckdb's ingested_files to its
// records (events kept plus duplicates dropped: what the file holds,
// whatever order the files were loaded in).
func fileRecords(t *testing.T, db string) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, r := range queryRows(t, db, "select key, events + duplicates as records from ingested_files") {
		out[r["key"].(string)] = r["records"].(float64)
	}
	return out
}

// checkWholeFiles fails unless every file's events in the store are
// exactly the events ingested_files records for it: no half-loaded file.
func checkWholeFiles(t *testing.T, db string) {
	t.Helper()
	got := map[string]float64{}
	for _, r := range queryRows(t, db, "select source_key as key, count(*) as n from events group by 1") {
		got[r["key"].(string)] = r["n"].(float64)
	}
	want := map[string]float64{}
	for _, r := range queryRows(t, db, "select key, events from ingested_files where events > 0") {
		want[r["key"].(string)] = r["events"].(float64)
	}
	if !maps.Equal(got, want) {
		t.Fatalf("events per file %v, ingested_files says %v", got, want)
	}
}

// TestStall_PullVerifyCoverage stalls a loopback proxy in front of MinIO
// (connections stay open, no byte moves) halfway through pull, verify and
// coverage. Each fails within its limit with exit 1 and no result; pull
// leaves only whole files in the store, and once the proxy resumes, the
// same commands succeed, pull with exactly the events of a pull that was
// never stalled. On the code before --timeout, each of them hung until
// the proxy resumed.
func TestStall_PullVerifyCoverage(t *testing.T) {
	srv := miniotest.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "demo-bucket")
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	url := "s3://demo-bucket/org-logs"
	if _, stderr, code := run("demo", "--s3", url, "--endpoint-url", srv.Endpoint, "--accounts", "2", "--regions", "us-east-1,eu-west-1",
		"--days", "1", "--public-keys-out", keys); code != 0 {
		t.Fatalf("demo: %s", stderr)
	}
	const since, until = "2026-11-20T00:00:00Z", "2026-11-21T00:00:00Z"

	t.Run("Pull", func(t *testing.T) {
		t.Parallel()
		p := stallproxy.Start(t, srv.Endpoint)
		pull := func(db, until string) []string {
			return []string{"pull", "--source", url, "--endpoint-url", p.URL, "--public-keys", keys, "--db", db, "--since", since, "--until", until}
		}
		ref := filepath.Join(dir, "ref.duckdb")
		_, full := fullRun(t, p, pull(ref, until)...)
		db := filepath.Join(dir, "stalled.duckdb")
		fullRun(t, p, pull(db, "2026-11-20T12:00:00Z")...) // the first half of the day
		first := fileRecords(t, db)

		stalledRun(t, p, full, pull(db, until)...)
		checkWholeFiles(t, db)
		after := fileRecords(t, db)
		refFiles := fileRecords(t, ref)
		for k, n := range after {
			if refFiles[k] != n {
				t.Errorf("after the stalled pull, %s holds %v records, the reference %v", k, n, refFiles[k])
			}
		}
		for k := range first {
			if _, ok := after[k]; !ok {
				t.Errorf("the stalled pull lost %s", k)
			}
		}

		fullRun(t, p, pull(db, until)...) // resumed
		checkWholeFiles(t, db)
		if got := fileRecords(t, db); !maps.Equal(got, refFiles) {
			t.Errorf("after resuming: %d files, the reference %d (%v vs %v)", len(got), len(refFiles), got, refFiles)
		}
		const totals = "select count(*) as events, count(distinct event_id || '/' || recipient_account_id) as ids from events"
		got, want := queryRows(t, db, totals)[0], queryRows(t, ref, totals)[0]
		if !maps.Equal(got, want) || got["events"] != got["ids"] {
			t.Errorf("after resuming: %v, the reference %v (events must equal distinct ids)", got, want)
		}
		t.Logf("reference pull: %d files, %v events; first half: %d files; after the stall: %d files", len(refFiles), want["events"], len(first), len(after))

		// One connection going half-open while the endpoint is otherwise
		// fine costs a wait, not the pull: the body resumes on a new one.
		halfOpen := filepath.Join(dir, "half-open.duckdb")
		p.StallOpenAfter(full / 2)
		start := time.Now()
		fullRun(t, p, append(pull(halfOpen, until), "--timeout", stallTimeout.String())...)
		stalled := p.Stalled()
		p.Resume()
		t.Logf("pull through a half-open connection: %s", time.Since(start).Round(time.Millisecond))
		if !stalled {
			t.Fatal("no connection stalled")
		}
		if got := fileRecords(t, halfOpen); !maps.Equal(got, refFiles) {
			t.Errorf("through a half-open connection: %d files, the reference %d", len(got), len(refFiles))
		}
	})

	t.Run("Verify", func(t *testing.T) {
		t.Parallel()
		p := stallproxy.Start(t, srv.Endpoint)
		args := []string{"verify", "--source", url, "--endpoint-url", p.URL, "--public-keys", keys, "--since", since, "--until", until}
		_, full := fullRun(t, p, args...)
		stalledRun(t, p, full, args...)
		if out, _ := fullRun(t, p, args...); !strings.Contains(out, "valid") {
			t.Errorf("verify after resuming:\n%s", out)
		}
	})

	t.Run("Coverage", func(t *testing.T) {
		t.Parallel()
		p := stallproxy.Start(t, srv.Endpoint)
		args := []string{"coverage", "--source", url, "--endpoint-url", p.URL, "--public-keys", keys,
			"--accounts", "111111111111,222222222222", "--regions", "us-east-1,eu-west-1", "--since", since, "--until", until}
		_, full := fullRun(t, p, args...)
		stalledRun(t, p, full, args...)
		if out, _ := fullRun(t, p, args...); !strings.Contains(out, "complete") {
			t.Errorf("coverage after resuming:\n%s", out)
		}
	})
}
