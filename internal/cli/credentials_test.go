package cli

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

// noCredentials isolates the test from the machine's AWS setup and leaves
// the SDK's credential chain nothing to find, and returns a loopback
// endpoint that would refuse every call (none should reach it).
func noCredentials(t *testing.T) string {
	t.Helper()
	awsfake.Isolate(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestLiveCommandsWithoutCredentials: every command that calls AWS (or an
// S3-compatible endpoint) and finds no credentials exits 2 with the same
// hint saying how to give them.
func TestLiveCommandsWithoutCredentials(t *testing.T) {
	demo := makeDemo(t)
	meta := filepath.Join(demo, ".trailwarden")
	cfg, keys := filepath.Join(meta, "trailwarden.yaml"), filepath.Join(meta, "public-keys.json")
	end := noCredentials(t)
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	tests := []struct {
		name string
		args []string
	}{
		{"snapshot", []string{"snapshot", "--config", cfg, "--out", filepath.Join(t.TempDir(), "s.json"), "--endpoint-url", end}},
		{"audit", []string{"audit", "--config", cfg, "--endpoint-url", end}},
		{"plan", []string{"plan", "--config", cfg, "--endpoint-url", end}},
		{"apply", []string{"apply", "--config", cfg, "--endpoint-url", end, "--yes"}},
		{"demo-s3", []string{"demo", "--out", "s3://demo-bucket", "--endpoint-url", end, "--accounts", "2", "--days", "1"}},
		{"pull-s3", []string{"pull", "--source", "s3://demo-bucket", "--endpoint-url", end, "--public-keys", keys, "--db", db}},
		{"verify-s3", []string{"verify", "--source", "s3://demo-bucket", "--endpoint-url", end, "--public-keys", keys}},
		{"coverage-s3", []string{"coverage", "--source", "s3://demo-bucket", "--endpoint-url", end, "--public-keys", keys,
			"--accounts", "111111111111", "--regions", "us-east-1"}},
		{"athena-setup", []string{"athena", "setup", "--config", cfg, "--endpoint-url", end, "--athena-results", "s3://athena-results/tw/", "--accounts", "111111111111"}},
		{"query-athena", []string{"query", "--engine", "athena", "--endpoint-url", end, "--athena-results", "s3://athena-results/tw/", "select 1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(tc.args...)
			if code != ExitBadInput || !strings.Contains(stderr, "\nTry: "+credentialHint+"\n") {
				t.Errorf("exit %d, want %d with the credential hint\n%s%s", code, ExitBadInput, stdout, stderr)
			}
		})
	}
}

// TestSDKLogOnlyWithDebug runs the binary where the instance metadata
// service refuses tokens (as it does off EC2 behind some proxies): the
// SDK's "falling back to IMDSv1" warning and its other log lines stay out
// of stderr unless --debug asks for them.
func TestSDKLogOnlyWithDebug(t *testing.T) {
	demo := makeDemo(t)
	cfg := filepath.Join(demo, ".trailwarden", "trailwarden.yaml")
	end := noCredentials(t)
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusForbidden)
	}))
	defer imds.Close()
	env := []string{"AWS_EC2_METADATA_DISABLED=false", "AWS_EC2_METADATA_SERVICE_ENDPOINT=" + imds.URL}
	quiet := start(t, env, "plan", "--config", cfg, "--endpoint-url", end)
	if code := quiet.wait(t); code != ExitBadInput {
		t.Fatalf("exit %d\n%s", code, quiet.stderr.String())
	}
	if s := quiet.stderr.String(); strings.HasPrefix(s, "SDK ") || strings.Contains(s, "\nSDK ") || strings.Contains(s, "WARN") ||
		!strings.Contains(s, credentialHint) {
		t.Errorf("stderr without --debug:\n%s", s)
	}
	loud := start(t, env, "plan", "--config", cfg, "--endpoint-url", end, "--debug")
	loud.wait(t)
	if s := loud.stderr.String(); !strings.Contains(s, "falling back to IMDSv1") {
		t.Errorf("stderr with --debug lacks the SDK's warning:\n%s", s)
	}
}
