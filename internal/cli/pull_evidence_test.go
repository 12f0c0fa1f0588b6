package cli

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/objstore/source"
)

// makeDemo writes a demo folder (3 accounts x 2 regions x 1 day) and
// returns its path.
func makeDemo(t *testing.T, args ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "demo")
	if out, errOut, code := run(append([]string{"demo", "--out", dir, "--accounts", "3", "--regions", "us-east-1,eu-west-1"}, args...)...); code != 0 {
		t.Fatalf("demo: exit %d\n%s%s", code, out, errOut)
	}
	return dir
}

type pullJSON struct {
	OK       bool
	Listed   int
	Loaded   int
	Verified bool
	Bad      []struct{ Key, Problem string }
	Gaps     []struct {
		Account, Region, Reason string
		From, To                time.Time
	}
	Since, Until time.Time
	Newest       *struct {
		Key  string
		Time time.Time
	} `json:"newest_log_file"`
}

func pullReport(t *testing.T, stdout string) pullJSON {
	t.Helper()
	var s pullJSON
	if err := json.Unmarshal([]byte(stdout), &s); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	return s
}

func manifestOf(t *testing.T, dir string) (tampered []string) {
	t.Helper()
	m, err := source.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tp := range m.Tampered {
		tampered = append(tampered, tp.Key)
	}
	return tampered
}

// A pull of a demo whose log file was deleted names it and exits 1, as
// verify does; the rest is loaded.
func TestPullNamesADeletedLogFile(t *testing.T) {
	dir := makeDemo(t, "--tamper", "delete")
	gone := manifestOf(t, dir)[0]
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	stdout, stderr, code := run("pull", "--source", dir, "--db", db, "--format", "json")
	if code != ExitFailure {
		t.Fatalf("pull: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	s := pullReport(t, stdout)
	if s.OK || !s.Verified || len(s.Bad) != 1 || s.Bad[0].Key != gone || s.Bad[0].Problem != "not found" || s.Loaded == 0 {
		t.Fatalf("summary %+v, want %s not found and the rest loaded", s, gone)
	}
	if _, err := os.Stat(db); err != nil {
		t.Fatalf("the store with the loaded files is gone: %v", err)
	}
	stdout, _, code = run("pull", "--source", dir, "--db", filepath.Join(t.TempDir(), "t.duckdb"))
	if code != ExitFailure || !strings.Contains(stdout, "bad: "+gone+": not found") {
		t.Fatalf("text: exit %d\n%s", code, stdout)
	}
}

// truncateChain deletes a chain's newest digest and its signature file,
// as the reproduction does, and returns the chain's newest log
// file, which no digest lists any more.
func truncateChain(t *testing.T, dir string) (account, orphan string) {
	t.Helper()
	m, err := source.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	account = m.Org.Accounts[1]
	chain := filepath.Join(dir, "AWSLogs", m.Org.ID, account)
	digests, _ := filepath.Glob(filepath.Join(chain, "CloudTrail-Digest", "us-east-1", "*", "*", "*", "*.json.gz"))
	logs, _ := filepath.Glob(filepath.Join(chain, "CloudTrail", "us-east-1", "*", "*", "*", "*.json.gz"))
	sort.Strings(digests)
	sort.Strings(logs)
	newest, err := filepath.Rel(dir, digests[len(digests)-1])
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(dir, newest), filepath.Join(dir, ".trailwarden", "meta", newest+".json")} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	orphan, _ = filepath.Rel(dir, logs[len(logs)-1])
	return account, filepath.ToSlash(orphan)
}

// A chain whose newest digest was deleted fails verify (with --until at the
// demo's end or past it) and pull: a gap, and the orphaned log file named.
func TestVerifyAndPullTruncatedChain(t *testing.T) {
	dir := makeDemo(t)
	account, orphan := truncateChain(t, dir)
	for _, end := range []string{"2026-11-21T00:00:00Z", "2026-11-21T05:00:00Z"} {
		stdout, stderr, code := run("verify", "--source", dir, "--until", end, "--format", "json")
		if code != ExitFailure {
			t.Fatalf("verify --until %s: exit %d, want 1\n%s%s", end, code, stdout, stderr)
		}
		var rep struct {
			OK      bool
			Gaps    []struct{ Account, Region, Reason string }
			Invalid []struct{ Key, Problem string }
		}
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
			t.Fatal(err)
		}
		// Past the demo's end every chain ends early (logging stopped
		// everywhere looks the same); at its end only the truncated one.
		wantGaps := 1
		if end != "2026-11-21T00:00:00Z" {
			wantGaps = len(rep.Gaps)
		}
		truncated := false
		for _, g := range rep.Gaps {
			truncated = truncated || (g.Account == account && g.Reason == "chain ends early")
		}
		if rep.OK || len(rep.Gaps) != wantGaps || !truncated || (end != "2026-11-21T00:00:00Z" && len(rep.Gaps) != 6) {
			t.Fatalf("verify --until %s: %+v", end, rep)
		}
		if len(rep.Invalid) != 1 || rep.Invalid[0].Key != orphan || rep.Invalid[0].Problem != "not listed in any digest" {
			t.Fatalf("verify --until %s: invalid %+v, want %s not listed in any digest", end, rep.Invalid, orphan)
		}
	}
	stdout, _, code := run("verify", "--source", dir)
	if code != ExitFailure || !strings.Contains(stdout, "the chain ends early") || !strings.Contains(stdout, "INVALID: not listed in any digest") {
		t.Fatalf("verify text: exit %d\n%s", code, stdout)
	}

	stdout, stderr, code := run("pull", "--source", dir, "--db", filepath.Join(t.TempDir(), "t.duckdb"), "--format", "json")
	if code != ExitFailure {
		t.Fatalf("pull: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	s := pullReport(t, stdout)
	if s.OK || len(s.Gaps) != 1 || s.Gaps[0].Reason != "chain ends early" || len(s.Bad) != 1 || s.Bad[0].Key != orphan ||
		s.Bad[0].Problem != "not listed in any digest" {
		t.Fatalf("pull summary %+v", s)
	}
}

// A pull whose window holds no log file says which window it listed and
// where the newest log file is, exits 1 and leaves no store.
func TestPullEmptyWindowSaysSoAndLeavesNoStore(t *testing.T) {
	dir := makeDemo(t)
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	stdout, stderr, code := run("pull", "--source", dir, "--db", db, "--since", "7d")
	if code != ExitFailure {
		t.Fatalf("empty pull: exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"no log file was delivered between ", "the newest log file is ", "delivered 2026-11-20T23:",
		"--since 2026-11-20T00:00:00Z"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if left, _ := filepath.Glob(db + "*"); len(left) != 0 {
		t.Fatalf("an empty pull left %v", left)
	}
	stdout, _, code = run("pull", "--source", dir, "--db", db, "--since", "2026-11-01T00:00:00Z", "--until", "2026-11-10T00:00:00Z", "--format", "json")
	s := pullReport(t, stdout)
	if code != ExitFailure || s.OK || s.Listed != 0 || s.Newest == nil || s.Newest.Time.Before(time.Date(2026, 11, 20, 23, 0, 0, 0, time.UTC)) ||
		s.Since.Format(time.RFC3339) != "2026-11-01T00:00:00Z" || s.Until.Format(time.RFC3339) != "2026-11-10T00:00:00Z" {
		t.Fatalf("empty pull before the data: exit %d, %+v", code, s)
	}
	if left, _ := filepath.Glob(db + "*"); len(left) != 0 {
		t.Fatalf("an empty pull left %v", left)
	}
	// Pulled once, a store with nothing new stays, and the pull passes.
	if _, _, code := run("pull", "--source", dir, "--db", db); code != 0 {
		t.Fatalf("pull: exit %d", code)
	}
	if stdout, _, code := run("pull", "--source", dir, "--db", db); code != 0 || !strings.Contains(stdout, "0 new files") {
		t.Fatalf("pull with nothing new: exit %d\n%s", code, stdout)
	}
}

// A pull that fails before loading anything removes the store it created,
// and never one that was there before.
func TestPullFailureLeavesNoStore(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>`))
	}))
	defer srv.Close()
	isolateAWS(t)
	dir := makeDemo(t)
	keys := filepath.Join(dir, source.PublicKeysFile)
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	args := []string{"pull", "--source", "s3://demo-bucket", "--endpoint-url", srv.URL, "--public-keys", keys, "--db", db}
	if stdout, stderr, code := run(args...); code == 0 || !strings.Contains(stderr, "AccessDenied") {
		t.Fatalf("pull from a refusing bucket: exit %d\n%s%s", code, stdout, stderr)
	}
	if left, _ := filepath.Glob(db + "*"); len(left) != 0 {
		t.Fatalf("a failed pull left %v", left)
	}
	if _, _, code := run("pull", "--source", dir, "--db", db); code != 0 {
		t.Fatalf("pull: exit %d", code)
	}
	before, err := os.Stat(db)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, code := run(args...); code == 0 {
		t.Fatal("pull from a refusing bucket passed")
	}
	if after, err := os.Stat(db); err != nil || after.Size() != before.Size() {
		t.Fatalf("a failed pull touched the store it did not create: %v", err)
	}
}

// isolateAWS gives the SDK static keys and nothing of the machine's AWS
// setup (no profile, no instance metadata, no endpoint override).
func isolateAWS(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "",
		"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "",
	} {
		t.Setenv(k, v)
	}
}
