package cli

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/textdiff"
)

var update = flag.Bool("update", false, "rewrite golden files")

func run(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	code = Execute(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// checkGolden runs a command line in-process and compares its exit code,
// stdout and stderr with testdata/golden/<name>.txt (rewritten with
// -update); scrub, when set, replaces what differs between runs.
func checkGolden(t *testing.T, name string, args []string, scrub *strings.Replacer) {
	t.Helper()
	stdout, stderr, code := run(args...)
	got := fmt.Sprintf("$ trailwarden %s\nexit: %d\n--- stdout\n%s--- stderr\n%s", strings.Join(args, " "), code, stdout, stderr)
	if scrub != nil {
		got = scrub.Replace(got)
	}
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/cli -run Golden -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s:\n%s", path, textdiff.Unified("want", "got", string(want), got, 3))
	}
}

// TestGolden runs each command line in-process and compares exit code,
// stdout and stderr with testdata/golden/<name>.txt.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"init-org", []string{"init", "--org", "o-a1b2c3d4e5", "--management-account", "111111111111", "--log-archive-account", "222222222222",
			"--bucket", "acme-org-cloudtrail", "--region", "us-east-1", "--trail", "org-trail"}},
		{"init-bad-values", []string{"init", "--log-archive-account", "22222222222", "--bucket", "Acme", "--region", "us-east-1", "--trail", "t"}},
		{"init-unknown-flag", []string{"init", "--bukket", "x"}},
		{"bucket", []string{"policy", "bucket", "--config", "testdata/input/org.yaml"}},
		{"bucket-json", []string{"policy", "bucket", "--config", "testdata/input/org.yaml", "--format", "json"}},
		{"bucket-merge-diff", []string{"policy", "bucket", "--config", "testdata/input/org.yaml", "--existing", "testdata/input/existing-bucket.json", "--diff"}},
		{"bucket-malformed-existing", []string{"policy", "bucket", "--config", "testdata/input/org.yaml", "--existing", "testdata/input/malformed.json"}},
		{"bucket-truncated-existing", []string{"policy", "bucket", "--config", "testdata/input/org.yaml", "--existing", "testdata/input/truncated.json"}},
		{"bad-config", []string{"policy", "bucket", "--config", "testdata/input/bad.yaml"}},
		{"missing-config", []string{"policy", "bucket", "--config", "testdata/input/nope.yaml"}},
		{"bucket-conflict", []string{"policy", "bucket", "--config", "testdata/input/org.yaml", "--existing", "testdata/input/existing-conflict.json", "--diff"}},
		{"can-cloudtrail-allowed", []string{"can", "--principal", "cloudtrail.amazonaws.com", "--action", "s3:PutObject",
			"--resource", "arn:aws:s3:::acme-org-cloudtrail/org/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/11/22/x.json.gz",
			"--resource-policy", "testdata/input/org-bucket.json", "--config", "testdata/input/org.yaml",
			"--context", "aws:SourceArn=arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail", "--context", "s3:x-amz-acl=bucket-owner-full-control"}},
		{"can-reader-direct-denied", []string{"can", "--principal", "arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice", "--action", "s3:GetObject",
			"--resource", "arn:aws:s3:::acme-org-cloudtrail/org/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/11/22/x.json.gz",
			"--resource-policy", "testdata/input/org-bucket.json", "--identity-policy", "testdata/input/org-reader-access.json", "--config", "testdata/input/org.yaml"}},
		{"can-reader-athena-json", []string{"can", "--principal", "arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice", "--action", "s3:GetObject",
			"--resource", "arn:aws:s3:::acme-org-cloudtrail/org/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/11/22/x.json.gz",
			"--resource-policy", "testdata/input/org-bucket.json", "--identity-policy", "testdata/input/org-reader-access.json",
			"--org", "o-a1b2c3d4e5", "--resource-account", "222222222222", "--context", "aws:CalledVia=athena.amazonaws.com", "--format", "json"}},
		{"can-plain-http-denied", []string{"can", "--principal", "anonymous", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::acme-org-cloudtrail/x",
			"--resource-policy", "testdata/input/org-bucket.json", "--resource-account", "222222222222", "--context", "aws:SecureTransport=false"}},
		{"can-unknown-account", []string{"can", "--principal", "anonymous", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/x"}},
		{"can-bad-context", []string{"can", "--principal", "anonymous", "--action", "s3:GetObject", "--resource", "arn:aws:s3:::b/x", "--context", "novalue"}},
		{"prove-generated", []string{"policy", "prove", "--config", "testdata/input/org.yaml"}},
		{"prove-overbroad-file", []string{"policy", "prove", "--config", "testdata/input/org.yaml", "--trust", "testdata/input/trust-root.json"}},
		{"key-merge", []string{"policy", "key", "--config", "testdata/input/org.yaml", "--existing", "testdata/input/key-existing.json"}},
		{"reader-trust", []string{"policy", "reader-trust", "--config", "testdata/input/org.yaml"}},
		{"reader-access", []string{"policy", "reader-access", "--config", "testdata/input/org.yaml"}},
		{"reader-trust-diff", []string{"policy", "reader-trust", "--config", "testdata/input/org.yaml", "--diff"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkGolden(t, tt.name, tt.args, nil) })
	}
}

func TestMergeTwiceIsByteIdentical(t *testing.T) {
	dir := t.TempDir()
	first := filepath.Join(dir, "first.json")
	second := filepath.Join(dir, "second.json")
	// The existing policy's DONOTDELETE-AMS-ALLOWLISTBUCKET statement lets the
	// whole organization list the bucket; accept it, so that exit 0 means the
	// merge itself is clean.
	cfg := filepath.Join(dir, "trailwarden.yaml")
	org, err := os.ReadFile("testdata/input/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, append(org, "accepted_foreign_sids: {bucket_policy: [DONOTDELETE-AMS-ALLOWLISTBUCKET]}\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run("policy", "bucket", "-c", cfg, "--existing", "testdata/input/existing-bucket.json", "-o", first); code != 0 {
		t.Fatalf("first merge: %s", stderr)
	}
	if _, stderr, code := run("policy", "bucket", "-c", cfg, "--existing", first, "-o", second); code != 0 {
		t.Fatalf("second merge: %s", stderr)
	}
	a, _ := os.ReadFile(first)
	b, _ := os.ReadFile(second)
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatalf("merging twice changed the output")
	}
	stdout, _, _ := run("policy", "bucket", "-c", "testdata/input/org.yaml", "--existing", second, "--diff")
	if !strings.Contains(stdout, "no change") {
		t.Fatalf("diff against own output should report no change:\n%s", stdout)
	}
}

func TestInitOutputParses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trailwarden.yaml")
	if _, stderr, code := run("init", "--log-archive-account", "022222222222", "--bucket", "acme-logs", "--region", "eu-west-1",
		"--trail", "audit", "--source-account", "033333333333", "--reader-role", "arn:aws:iam::044444444444:role/siem", "-o", path); code != 0 {
		t.Fatalf("init: %s", stderr)
	}
	if _, stderr, code := run("policy", "bucket", "-c", path); code != 0 {
		t.Fatalf("policy from init output: %s", stderr)
	}
}

func TestVersionFlag(t *testing.T) {
	stdout, _, code := run("--version")
	if code != 0 || !strings.HasPrefix(stdout, "trailwarden version ") {
		t.Fatalf("--version: %d %q", code, stdout)
	}
}

// TestPolicyAndConfigSizeErrorsGiveTheRealSize: an oversized --existing
// policy or config, from a file or from stdin, is bad input that names its
// real size, not the limit plus one byte.
func TestPolicyAndConfigSizeErrorsGiveTheRealSize(t *testing.T) {
	dir := t.TempDir()
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}` +
		strings.Repeat(" ", 52428800-96)
	if len(big) != 52428800 {
		t.Fatalf("test policy is %d bytes", len(big))
	}
	policyPath := filepath.Join(dir, "policy.json")
	bigConfig := filepath.Join(dir, "trailwarden.yaml")
	if err := os.WriteFile(policyPath, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bigConfig, []byte("version: 1\n#"+strings.Repeat("x", 2<<20)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"policy file", []string{"policy", "bucket", "-c", "testdata/input/org.yaml", "--existing", policyPath},
			"", policyPath + " is 52,428,800 bytes, over the 1 MiB limit"},
		{"policy on stdin", []string{"policy", "bucket", "-c", "testdata/input/org.yaml", "--existing", "-"},
			big, "- is 52,428,800 bytes, over the 1 MiB limit"},
		{"config file", []string{"policy", "bucket", "-c", bigConfig},
			"", bigConfig + ": file is 2,097,165 bytes, over the 1 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Execute(context.Background(), tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code != ExitBadInput || !strings.Contains(errb.String(), "Error: "+tt.want) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 2 and %q", code, errb.String(), tt.want)
			}
		})
	}
}
