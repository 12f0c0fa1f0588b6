package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// TestRealAWS runs the live commands against a real AWS sandbox. It needs
//
//	TRAILWARDEN_AWS_E2E=1
//	TRAILWARDEN_AWS_E2E_CONFIG=path/to/trailwarden.yaml   (the sandbox's pipeline)
//	AWS credentials of the management account (default chain, or AWS_PROFILE)
//
// It reads (snapshot, audit of every profile, plan). With
// TRAILWARDEN_AWS_E2E_APPLY=1 it also applies the plan, checks that a new
// plan has nothing to change, and rolls the apply back: only in a sandbox.
func TestRealAWS(t *testing.T) {
	if os.Getenv("TRAILWARDEN_AWS_E2E") != "1" {
		t.Skip("real-AWS test: set TRAILWARDEN_AWS_E2E=1, TRAILWARDEN_AWS_E2E_CONFIG and AWS credentials to run it against a sandbox")
	}
	cfg := os.Getenv("TRAILWARDEN_AWS_E2E_CONFIG")
	if cfg == "" {
		t.Fatal("TRAILWARDEN_AWS_E2E=1 needs TRAILWARDEN_AWS_E2E_CONFIG=path/to/trailwarden.yaml describing the sandbox")
	}
	awsSuite(t, cfg, os.Getenv("TRAILWARDEN_AWS_E2E_APPLY") == "1")
}

// The real-AWS suite's read-only part, run on the recorded world so that
// it cannot rot between sandbox runs.
func TestAWSSuiteOnRecordedWorld(t *testing.T) {
	s := snapshotWorld(t)
	awsSuiteEndpoint = s.URL
	defer func() { awsSuiteEndpoint = "" }()
	awsSuite(t, snapConfig, false)
}

// awsSuiteEndpoint sends the suite's AWS calls to a recorded world.
var awsSuiteEndpoint string

// live adds the endpoint flag when the suite runs on a recorded world.
func live(args ...string) []string {
	if awsSuiteEndpoint != "" {
		args = append(args, "--endpoint-url", awsSuiteEndpoint)
	}
	return args
}

func awsSuite(t *testing.T, cfg string, apply bool) {
	t.Helper()
	dir := t.TempDir()
	// The sandbox's config, with apply's backups kept in the test's folder.
	f, err := os.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(f, cfg)
	_ = f.Close()
	if err != nil {
		t.Fatal(err)
	}
	c.AWS.BackupDir = filepath.Join(dir, "backups")
	cfg = filepath.Join(dir, "trailwarden.yaml")
	if err := os.WriteFile(cfg, config.Render(c), 0o600); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "snapshot.json")
	out, errOut, code := run(live("snapshot", "-c", cfg, "--out", snap)...)
	if code != ExitOK && code != ExitFailure {
		t.Fatalf("snapshot: exit %d\n%s%s", code, out, errOut)
	}
	s, err := snapshot.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if s.Bucket == nil || len(s.Accounts) == 0 {
		t.Fatalf("snapshot lacks the bucket or the accounts:\n%s", errOut)
	}
	for _, profile := range []string{"accelerate", "cis", "baseline"} {
		out, errOut, code := run("audit", "-c", cfg, "--snapshot", snap, "--standard", profile, "--format", "json", "--fail-on", "never")
		if code != ExitOK || !json.Valid([]byte(out)) {
			t.Fatalf("audit %s: exit %d\n%s", profile, code, errOut)
		}
	}
	out, errOut, code = run("plan", "-c", cfg, "--snapshot", snap, "--format", "json")
	if code != ExitOK && code != ExitFailure {
		t.Fatalf("plan: exit %d\n%s%s", code, out, errOut)
	}
	if !apply {
		return
	}
	out, errOut, code = run(live("apply", "-c", cfg, "--yes")...)
	if code != ExitOK {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	id := regexp.MustCompile(`Backup: (\S+)`).FindStringSubmatch(out)
	out2, errOut, code := run(live("plan", "-c", cfg, "--format", "json")...)
	if code != ExitOK {
		t.Fatalf("plan after apply: exit %d\n%s", code, errOut)
	}
	var p struct {
		Steps []struct {
			Change string `json:"change"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(out2), &p); err != nil {
		t.Fatal(err)
	}
	for i, st := range p.Steps {
		if st.Change != "no-op" {
			t.Errorf("after apply, step %d still plans %q", i, st.Change)
		}
	}
	if id == nil {
		t.Fatalf("apply printed no backup id:\n%s", out)
	}
	if out, errOut, code := run(live("rollback", "-c", cfg, "--to", id[1], "--yes")...); code != ExitOK {
		t.Fatalf("rollback: exit %d\n%s%s", code, out, errOut)
	}
}
