package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

// TestDemoAndVerifyAgainstMinIO runs the commands a user would against a
// real S3-compatible server: write a demo organization into a bucket,
// verify it, tamper with it, verify again.
func TestDemoAndVerifyAgainstMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "demo-bucket")
	keys := filepath.Join(t.TempDir(), "keys.json")
	url := "s3://demo-bucket/org-logs"
	stdout, stderr, code := run("demo", "--s3", url, "--endpoint-url", srv.Endpoint, "--accounts", "3", "--regions", "us-east-1,eu-west-1",
		"--days", "1", "--public-keys-out", keys)
	if code != 0 {
		t.Fatalf("demo: %d %s", code, stderr)
	}
	if !strings.Contains(stdout, "3 accounts x 2 regions") {
		t.Fatalf("demo output: %s", stdout)
	}
	verifyArgs := []string{"verify", "--source", url, "--endpoint-url", srv.Endpoint, "--public-keys", keys,
		"--since", "2026-11-20T00:00:00Z", "--until", "2026-11-21T00:00:00Z", "--format", "json"}
	stdout, stderr, code = run(verifyArgs...)
	if code != 0 {
		t.Fatalf("verify of a clean bucket: exit %d\n%s\n%s", code, stderr, stdout)
	}
	var rep struct {
		OK            bool
		Digests       int
		LogFiles      int `json:"log_files"`
		DigestsValid  int `json:"digests_valid"`
		LogFilesValid int `json:"log_files_valid"`
		Chains        []json.RawMessage
		Invalid       []struct{ Key, Problem string }
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Digests != 3*2*24 || rep.LogFiles == 0 || rep.LogFilesValid != rep.LogFiles || len(rep.Chains) != 6 {
		t.Fatalf("report %+v", rep)
	}

	// The same bucket, tampered: a second demo run with --tamper rewrites it.
	_, stderr, code = run("demo", "--s3", url, "--endpoint-url", srv.Endpoint, "--accounts", "3", "--regions", "us-east-1,eu-west-1",
		"--days", "1", "--tamper", "modify", "--tamper", "break-chain")
	if code != 0 {
		t.Fatalf("demo --tamper: %s", stderr)
	}
	stdout, _, code = run(verifyArgs...)
	if code != 1 {
		t.Fatalf("verify of a tampered bucket: exit %d, want 1\n%s", code, stdout)
	}
	rep.Invalid = nil
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	problems := map[string]bool{}
	for _, f := range rep.Invalid {
		problems[f.Problem] = true
	}
	if !problems["hash value doesn't match"] || !problems["not found"] {
		t.Fatalf("tampering not reported: %+v", rep.Invalid)
	}
}
