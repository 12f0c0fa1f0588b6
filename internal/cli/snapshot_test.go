package cli

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
	"github.com/trailwarden/trailwarden/internal/textdiff"
)

// The recorded organization of internal/inventory's tests: one world, one
// golden snapshot, shared so the CLI is checked against the same answer.
const (
	snapWorld  = "../aws/inventory/testdata/org.world"
	snapConfig = "../aws/inventory/testdata/org.yaml"
	snapGolden = "../aws/inventory/testdata/org.golden.json"
)

func snapshotWorld(t *testing.T) *awsfake.Server {
	t.Helper()
	awsfake.Isolate(t)
	w := awsfake.New()
	if err := w.Load(snapWorld); err != nil {
		t.Fatal(err)
	}
	return awsfake.Start(t, w)
}

func TestSnapshot_EndToEndWritesTheSnapshot(t *testing.T) {
	s := snapshotWorld(t)
	out := filepath.Join(t.TempDir(), "snap.json")
	stdout, stderr, code := run("snapshot", "--config", snapConfig, "--out", out, "--endpoint-url", s.URL, "--jobs", "3")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	got, err := snapshot.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if time.Since(got.TakenAt) > time.Hour {
		t.Fatalf("takenAt %s is not now", got.TakenAt)
	}
	got.TakenAt = time.Time{}
	want, err := snapshot.ReadFile(snapGolden)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := encodeSnap(t, got), encodeSnap(t, want); a != b {
		t.Fatalf("written snapshot differs from %s:\n%s", snapGolden, textdiff.Unified("want", "got", b, a, 3))
	}
	// Read-only: no call may change anything.
	for _, c := range s.Calls() {
		if !strings.HasPrefix(c.Operation, "Get") && !strings.HasPrefix(c.Operation, "List") && !strings.HasPrefix(c.Operation, "Describe") &&
			c.Operation != "HeadBucket" && c.Operation != "AssumeRole" {
			t.Errorf("snapshot made a non-read call %s:%s", c.Service, c.Operation)
		}
	}
}

func TestSnapshot_StdoutAndFailedCalls(t *testing.T) {
	s := snapshotWorld(t)
	s.Deny("kms", "GetKeyPolicy", "")
	stdout, stderr, code := run("snapshot", "-c", snapConfig, "--out", "-", "--endpoint-url", s.URL)
	if code != ExitFailure {
		t.Fatalf("exit %d with a failed call, want 1\n%s", code, stderr)
	}
	got, err := snapshot.Decode(strings.NewReader(stdout), "stdout")
	if err != nil {
		t.Fatalf("stdout is not a snapshot: %v", err)
	}
	if len(got.Errors) != 1 || got.Errors[0].Operation != "GetKeyPolicy" || len(got.Keys) != 1 || got.Keys[0].Policy != "" || got.Keys[0].State != "Enabled" {
		t.Fatalf("errors %+v keys %+v", got.Errors, got.Keys)
	}
	if !strings.Contains(stderr, "missing permission kms:GetKeyPolicy") {
		t.Fatalf("summary on stderr does not name the permission:\n%s", stderr)
	}
}

// TestSnapshotGolden checks the summary, exit code and errors against
// testdata/golden/snapshot-*.txt (go test -run SnapshotGolden -update).
func TestSnapshotGolden(t *testing.T) {
	tests := []struct {
		name  string
		setup func(*awsfake.World)
		args  []string
	}{
		{"snapshot-summary", nil, nil},
		{"snapshot-json", nil, []string{"--format", "json"}},
		{"snapshot-denied", func(w *awsfake.World) {
			w.Deny("s3", "GetBucketPolicy", "")
			w.Deny("s3", "GetBucketEncryption", "")
			w.Deny("iam", "GetRole", "")
			w.Deny("cloudtrail", "DescribeTrails", "444444444444")
			w.Deny("cloudtrail", "GetTrailStatus", "111111111111")
		}, nil},
		{"snapshot-bad-jobs", nil, []string{"--jobs", "0"}},
		{"snapshot-bad-format", nil, []string{"--format", "yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := snapshotWorld(t)
			if tt.setup != nil {
				tt.setup(s.World)
			}
			dir := t.TempDir()
			args := append([]string{"snapshot", "--config", snapConfig, "--out", filepath.Join(dir, "snap.json"), "--endpoint-url", s.URL}, tt.args...)
			checkGolden(t, tt.name, args, strings.NewReplacer(dir, "$TMP", s.URL, "$ENDPOINT"))
		})
	}
}

func encodeSnap(t *testing.T, s *snapshot.Snapshot) string {
	t.Helper()
	var b strings.Builder
	if err := snapshot.Encode(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
