package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestApplyIrreversibleObjectLock: an Object Lock the config asks for is
// announced as irreversible by plan; apply --yes without a terminal makes
// every other change but not that one (exit 1, saying why); at a terminal
// it is asked separately even with --yes; --allow-irreversible makes it;
// rollback undoes the rest and says it keeps the lock.
func TestApplyIrreversibleObjectLock(t *testing.T) {
	w, srv, _ := applyWorld(t)
	w.SetBucketConfig("acme-org-cloudtrail", "BucketVersioning", `<VersioningConfiguration `+s3ns+`><Status>Enabled</Status></VersioningConfiguration>`)
	dir := t.TempDir()
	cfg, err := os.ReadFile(planConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, []byte(fmt.Sprintf("bucket_settings:\n  object_lock:\n    mode: COMPLIANCE\n    days: 548\naws:\n  access_role: OrganizationAccountAccessRole\n  backup_dir: %q\n",
		filepath.Join(dir, "backups")))...)
	cfgPath := filepath.Join(dir, "trailwarden.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	lock := func() string { return w.BucketConfig("acme-org-cloudtrail", "ObjectLockConfiguration") }

	stdout, stderr, code := run("plan", "--config", cfgPath, "--endpoint-url", srv.URL)
	if code != ExitOK || !strings.Contains(stdout, "IRREVERSIBLE: Object Lock of s3://acme-org-cloudtrail cannot be undone") ||
		!strings.Contains(stdout, "root user included") {
		t.Fatalf("plan: exit %d\n%s%s", code, stdout, stderr)
	}

	stdout, stderr, code = run("apply", "--config", cfgPath, "--endpoint-url", srv.URL, "--yes")
	if code != ExitFailure || !strings.Contains(stdout, "Not made, irreversible and not confirmed: Object Lock of s3://acme-org-cloudtrail") ||
		!strings.Contains(stdout, "ok    PutBucketOwnershipControls") || lock() != "" {
		t.Fatalf("apply --yes without a terminal: exit %d, lock %q\n%s%s", code, lock(), stdout, stderr)
	}

	stdout, stderr, code = runAtTerminal("yes\n", "apply", "--config", cfgPath, "--endpoint-url", srv.URL, "--yes")
	if code != ExitFailure || !strings.Contains(stdout, `Type "irreversible" to continue`) || lock() != "" {
		t.Fatalf("answered yes to the irreversible question: exit %d, lock %q\n%s%s", code, lock(), stdout, stderr)
	}
	stdout, stderr, code = runAtTerminal("irreversible\n", "apply", "--config", cfgPath, "--endpoint-url", srv.URL, "--yes")
	if code != ExitOK || !strings.Contains(lock(), "<Mode>COMPLIANCE</Mode>") || !strings.Contains(lock(), "<Days>548</Days>") {
		t.Fatalf("answered irreversible: exit %d, lock %q\n%s%s", code, lock(), stdout, stderr)
	}
	id := regexp.MustCompile(`Backup: (\S+)`).FindStringSubmatch(stdout)
	if id == nil {
		t.Fatalf("no backup id:\n%s", stdout)
	}
	stdout, stderr, code = run("rollback", "--config", cfgPath, "--to", id[1], "--endpoint-url", srv.URL, "--yes")
	if code != ExitOK || !strings.Contains(stdout, "kept  Object Lock of s3://acme-org-cloudtrail: cannot be undone") || lock() == "" {
		t.Fatalf("rollback: exit %d, lock %q\n%s%s", code, lock(), stdout, stderr)
	}
}

// TestApplyAllowIrreversible: --allow-irreversible makes the step with no
// terminal and no question.
func TestApplyAllowIrreversible(t *testing.T) {
	w, srv, _ := applyWorld(t)
	w.SetBucketConfig("acme-org-cloudtrail", "BucketVersioning", `<VersioningConfiguration `+s3ns+`><Status>Enabled</Status></VersioningConfiguration>`)
	dir := t.TempDir()
	cfg, err := os.ReadFile(planConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, []byte(fmt.Sprintf("bucket_settings:\n  object_lock:\n    mode: GOVERNANCE\n    years: 1\naws:\n  access_role: OrganizationAccountAccessRole\n  backup_dir: %q\n",
		filepath.Join(dir, "backups")))...)
	cfgPath := filepath.Join(dir, "trailwarden.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run("apply", "--config", cfgPath, "--endpoint-url", srv.URL, "--yes", "--allow-irreversible")
	if code != ExitOK || strings.Contains(stdout, `Type "irreversible"`) || !strings.Contains(w.BucketConfig("acme-org-cloudtrail", "ObjectLockConfiguration"), "<Mode>GOVERNANCE</Mode>") {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
}

// TestJobsMustBePositive: --jobs 0 is bad input for apply and rollback.
func TestJobsMustBePositive(t *testing.T) {
	for _, args := range [][]string{
		{"apply", "--config", planConfig, "--snapshot", freshSnap, "--jobs", "0"},
		{"rollback", "--config", planConfig, "--list", "--jobs", "0"},
	} {
		if stdout, stderr, code := run(args...); code != ExitBadInput || !strings.Contains(stderr, "--jobs 0") {
			t.Errorf("%s: exit %d\n%s%s", args[0], code, stdout, stderr)
		}
	}
}
