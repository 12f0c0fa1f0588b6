package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/objstore/source"
)

// The demo folder carries a config and a snapshot of its organization, so
// audit and plan run offline on it: audit finds the planted problems, plan
// has nothing to change.
func TestDemoAuditAndPlanOffline(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	if out, errOut, code := run("demo", "--out", dir, "--accounts", "3"); code != 0 {
		t.Fatalf("demo: exit %d\n%s%s", code, out, errOut)
	}
	cfg, snap := filepath.Join(dir, source.ConfigFile), filepath.Join(dir, source.SnapshotFile)
	out, errOut, code := run("audit", "--config", cfg, "--snapshot", snap, "--standard", "baseline")
	if code != ExitFailure {
		t.Fatalf("audit: exit %d (want 1: a high finding is planted)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"FAIL    high     TW-KEY-01", "FAIL    medium   TW-BKT-02", "2 fail"} {
		if !strings.Contains(out, want) {
			t.Errorf("audit output lacks %q:\n%s", want, out)
		}
	}
	out, errOut, code = run("plan", "--config", cfg, "--snapshot", snap)
	if code != 0 || !strings.Contains(out, "Plan: 2 of 10 resources change, 0 blocked") {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	// A snapshot of another pipeline is refused, not audited.
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other.yaml")
	if err := os.WriteFile(other, []byte(strings.Replace(string(data), `bucket: "demo-bucket"`, `bucket: "other-bucket"`, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, cmd := range []string{"audit", "plan"} {
		_, errOut, code = run(cmd, "--config", other, "--snapshot", snap)
		if code != ExitBadInput || !strings.Contains(errOut, "the snapshot is of bucket demo-bucket, the config's bucket is other-bucket") {
			t.Errorf("%s of another pipeline's snapshot: exit %d\n%s", cmd, code, errOut)
		}
	}
}
