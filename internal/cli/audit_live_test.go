package cli

import (
	"path/filepath"
	"testing"

	"github.com/trailwarden/trailwarden/internal/textdiff"
)

// A live audit and an audit of a snapshot of the same world decide the same
// findings: both go through the AWS reader and the same rules.
func TestAudit_LiveEqualsSnapshot(t *testing.T) {
	for _, profile := range []string{"accelerate", "cis", "baseline"} {
		t.Run(profile, func(t *testing.T) {
			s := snapshotWorld(t)
			snap := filepath.Join(t.TempDir(), "snap.json")
			if out, errOut, code := run("snapshot", "-c", snapConfig, "--out", snap, "--endpoint", s.URL); code != 0 {
				t.Fatalf("snapshot: exit %d\n%s%s", code, out, errOut)
			}
			live, errOut, liveCode := run("audit", "-c", snapConfig, "--profile", profile, "--format", "json", "--fail-on", "never", "--endpoint", s.URL)
			if liveCode != 0 {
				t.Fatalf("live audit: exit %d\n%s", liveCode, errOut)
			}
			offline, errOut, code := run("audit", "-c", snapConfig, "--profile", profile, "--format", "json", "--fail-on", "never", "--snapshot", snap)
			if code != 0 {
				t.Fatalf("snapshot audit: exit %d\n%s", code, errOut)
			}
			if live != offline {
				t.Fatalf("live and snapshot audits differ:\n%s", textdiff.Unified("snapshot", "live", offline, live, 3))
			}
			if len(live) < 200 {
				t.Fatalf("audit printed almost nothing:\n%s", live)
			}
		})
	}
}
