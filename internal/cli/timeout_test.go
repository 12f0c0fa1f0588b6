package cli

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

// silentServer accepts loopback connections, reads whatever comes and
// never answers: an endpoint that has stalled. It returns its URL.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close()
		}
	})
	return "http://" + ln.Addr().String()
}

// TestTimeout_EveryNetworkCommand runs each command that calls AWS
// against an endpoint that never answers, with a short --timeout: each
// fails within 3 attempts of it (and the SDK's backoff), exit 1, with the
// stall named and the hint. A command that did not pass --timeout down
// would take 3 x 30s, and one without a watchdog would hang.
func TestTimeout_EveryNetworkCommand(t *testing.T) {
	awsfake.Isolate(t)
	url := silentServer(t)
	const timeout = 300 * time.Millisecond
	// 3 attempts, backoff under 2s and then under 4s, and slack.
	const bound = 3*timeout + 6*time.Second + 5*time.Second
	dir := t.TempDir()
	tests := []struct {
		name string
		args []string
	}{
		{"QueryAthena", []string{"query", "--engine", "athena", "--region", "us-east-1", "--accounts", "111111111111", "--named", "root-activity",
			"--endpoint-url", url}},
		// The expected accounts of an organization trail, read live.
		{"CoverageLiveOrganization", []string{"coverage", "--config", "testdata/input/org.yaml", "--endpoint-url", url, "--public-keys", "x.json"}},
		{"AthenaSetup", []string{"athena", "setup", "--config", "testdata/input/org.yaml", "--accounts", "111111111111",
			"--athena-results", "s3://acme-athena-results/tw/", "--endpoint-url", url}},
		{"Snapshot", []string{"snapshot", "--config", snapConfig, "--out", filepath.Join(dir, "snap.json"), "--endpoint-url", url}},
		{"AuditLive", []string{"audit", "--config", snapConfig, "--endpoint-url", url}},
		{"Plan", []string{"plan", "--config", snapConfig, "--endpoint-url", url}},
		{"Apply", []string{"apply", "--config", snapConfig, "--endpoint-url", url, "--yes"}},
		{"DemoS3", []string{"demo", "--s3", "s3://demo-bucket", "--endpoint-url", url, "--accounts", "2", "--regions", "us-east-1"}},
		{"PullS3", []string{"pull", "--source", "s3://demo-bucket", "--endpoint-url", url, "--no-verify", "--db", filepath.Join(dir, "t.duckdb")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			stdout, stderr, code := run(append(tt.args, "--timeout", timeout.String())...)
			elapsed := time.Since(start)
			t.Logf("exit %d after %s: %s", code, elapsed.Round(time.Millisecond), stderr)
			if code != ExitFailure {
				t.Errorf("exit %d, want 1\n%s%s", code, stdout, stderr)
			}
			if elapsed > bound {
				t.Errorf("took %s, want at most %s", elapsed, bound)
			}
			for _, want := range []string{"(stalled endpoint)", "Try: the endpoint stopped answering", "--timeout"} {
				if !strings.Contains(stderr, want) {
					t.Errorf("stderr lacks %q:\n%s", want, stderr)
				}
			}
		})
	}
}
