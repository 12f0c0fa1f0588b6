package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

// The plan inputs live beside the plan package's own tests.
const (
	planConfig  = "../plan/testdata/org.yaml"
	freshSnap   = "../plan/testdata/fresh-snapshot.json"
	blockedSnap = "../plan/testdata/blocked-snapshot.json"
)

func TestPlanGolden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"plan-fresh", []string{"plan", "--config", planConfig, "--snapshot", freshSnap}},
		{"plan-blocked", []string{"plan", "--config", planConfig, "--snapshot", blockedSnap}},
		{"plan-bad-format", []string{"plan", "--config", planConfig, "--snapshot", freshSnap, "--format", "yaml"}},
		{"plan-missing-snapshot", []string{"plan", "--config", planConfig, "--snapshot", "testdata/input/nope.json"}},
		{"plan-apply-dry-run", []string{"apply", "--config", planConfig, "--snapshot", blockedSnap}},
		{"plan-rollback-needs-one", []string{"rollback", "--config", planConfig}},
		{"plan-rollback-bad-id", []string{"rollback", "--config", planConfig, "--to", "../../etc/passwd"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkGolden(t, tt.name, tt.args, nil) })
	}
}

func TestPlanJSON(t *testing.T) {
	stdout, stderr, code := run("plan", "--config", planConfig, "--snapshot", freshSnap, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"kind": "bucket-policy"`, `"op": "CreateTrail"`, `"access_changes": [`, `"after": "Allowed"`} {
		if !strings.Contains(stdout, want) {
			t.Errorf("JSON lacks %s", want)
		}
	}
}

// keyID is the KMS key of the plan fixtures, keyPolicy its live policy.
const (
	keyID     = "1234abcd-12ab-34cd-56ef-1234567890ab"
	keyPolicy = `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",` +
		`"Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`
)

// applyWorld is the loopback AWS world of the plan fixtures: live as the
// fresh snapshot saw it. livePolicy is its bucket policy.
func applyWorld(t *testing.T) (w *awsfake.World, srv *awsfake.Server, livePolicy string) {
	t.Helper()
	awsfake.Isolate(t)
	w = awsfake.New()
	snap, err := os.ReadFile(freshSnap)
	if err != nil {
		t.Fatal(err)
	}
	bucketPolicy := regexp.MustCompile(`"policy": "((?:[^"\\]|\\.)*)"`).FindStringSubmatch(string(snap))
	if bucketPolicy == nil {
		t.Fatal("no bucket policy in the snapshot fixture")
	}
	livePolicy = strings.ReplaceAll(bucketPolicy[1], `\"`, `"`)
	w.SetBucketPolicy("acme-org-cloudtrail", livePolicy)
	w.SetKeyPolicy("222222222222", "us-east-1", keyID, keyPolicy)
	// The organization the snapshot saw, so a live read plans the same.
	if err := w.Parse("org", `-- 111111111111 - organizations DescribeOrganization - --
{"Organization":{"Id":"o-a1b2c3d4e5","FeatureSet":"ALL","MasterAccountId":"111111111111"}}
-- 111111111111 - organizations ListAWSServiceAccessForOrganization - --
{"EnabledServicePrincipals":[{"ServicePrincipal":"cloudtrail.amazonaws.com","DateEnabled":1700000000.0}]}
`); err != nil {
		t.Fatal(err)
	}
	srv = awsfake.Start(t, w)
	return w, srv, livePolicy
}

// TestApplyRollbackEndToEnd runs apply and rollback in-process against the
// loopback AWS world: the calls reach the accounts in order, the backup is
// written, and rollback --to puts every resource back.
func TestApplyRollbackEndToEnd(t *testing.T) {
	w, srv, livePolicy := applyWorld(t)

	dir := t.TempDir()
	cfg, err := os.ReadFile(planConfig)
	if err != nil {
		t.Fatal(err)
	}
	backupDir := filepath.Join(dir, "backups")
	cfgPath := filepath.Join(dir, "trailwarden.yaml")
	cfg = append(cfg, []byte(fmt.Sprintf("aws:\n  access_role: OrganizationAccountAccessRole\n  backup_dir: %q\n", backupDir))...)
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}

	// A snapshot that no longer matches AWS: apply refuses before any write.
	w.SetBucketPolicy("acme-org-cloudtrail", `{"Version":"2012-10-17","Statement":[{"Sid":"Changed","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::acme-org-cloudtrail"}]}`)
	w.ResetCalls()
	stdout, stderr, code := run("apply", "--config", cfgPath, "--snapshot", freshSnap, "--endpoint-url", srv.URL, "--yes")
	if code != ExitFailure || !strings.Contains(stderr, "the live configuration changed since") {
		t.Fatalf("apply of a stale snapshot: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, c := range w.Calls() {
		if strings.HasPrefix(c.Operation, "Put") || strings.HasPrefix(c.Operation, "Create") || strings.HasPrefix(c.Operation, "Update") || strings.HasPrefix(c.Operation, "Delete") {
			t.Fatalf("apply of a stale snapshot made a write: %s:%s", c.Service, c.Operation)
		}
	}
	w.SetBucketPolicy("acme-org-cloudtrail", livePolicy)

	// A denied PutKeyPolicy: apply fails, rolls back the bucket policy.
	w.Inject(awsfake.Fault{Service: "kms", Operation: "PutKeyPolicy", Times: 1, Code: "AccessDeniedException", Message: "not allowed"})
	stdout, stderr, code = run("apply", "--config", cfgPath, "--snapshot", freshSnap, "--endpoint-url", srv.URL, "--yes")
	if code != ExitFailure {
		t.Fatalf("failing apply exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"ok    PutBucketPolicy acme-org-cloudtrail", "FAIL  PutKeyPolicy", "AccessDeniedException: not allowed",
		"undo  PutBucketPolicy acme-org-cloudtrail", "Rolled back: every change of this run was undone."} {
		if !strings.Contains(stdout, want) {
			t.Errorf("failing apply output lacks %q:\n%s", want, stdout)
		}
	}
	if got, _ := w.BucketPolicy("acme-org-cloudtrail"); got != livePolicy {
		t.Errorf("bucket policy after rollback: %s", got)
	}

	// A clean apply, then rollback --to its id.
	stdout, stderr, code = run("apply", "--config", cfgPath, "--snapshot", freshSnap, "--endpoint-url", srv.URL, "--yes")
	if code != 0 {
		t.Fatalf("apply exit %d\n%s%s", code, stdout, stderr)
	}
	id := regexp.MustCompile(`Backup: (\S+)`).FindStringSubmatch(stdout)
	if id == nil || !strings.Contains(stdout, "Applied 10 steps.") {
		t.Fatalf("apply output:\n%s", stdout)
	}
	if tr, ok := w.Trail("111111111111", "org-trail"); !ok || !tr.Logging {
		t.Fatalf("trail after apply: %+v %v", tr, ok)
	}
	// Planning again from the live state (read through aws/inventory) finds
	// nothing left to do.
	stdout, stderr, code = run("plan", "--config", cfgPath, "--endpoint-url", srv.URL)
	if code != 0 || !strings.Contains(stdout, "Plan: 0 of 10 resources change, 0 blocked") || !strings.Contains(stdout, "Access changes (+ gained, - lost, ~ still denied): 0") {
		t.Errorf("plan after apply (exit %d):\n%s%s", code, stdout, stderr)
	}
	// As Terraform's -detailed-exitcode: nothing to change is 0.
	if _, stderr, code = run("plan", "--config", cfgPath, "--endpoint-url", srv.URL, "--detailed-exitcode"); code != ExitOK {
		t.Errorf("plan --detailed-exitcode after apply: exit %d, want 0\n%s", code, stderr)
	}
	stdout, _, code = run("rollback", "--config", cfgPath, "--list")
	if code != 0 || !strings.Contains(stdout, id[1]+"  applied") || !strings.Contains(stdout, plan.StatusFailedRolledBack) {
		t.Errorf("rollback --list (exit %d):\n%s", code, stdout)
	}
	// Without --yes and without a terminal, rollback only shows the run.
	stdout, _, code = run("rollback", "--config", cfgPath, "--to", id[1], "--endpoint-url", srv.URL)
	if code != 0 || !strings.Contains(stdout, "Dry run") {
		t.Errorf("rollback dry run (exit %d):\n%s", code, stdout)
	}
	if _, ok := w.Trail("111111111111", "org-trail"); !ok {
		t.Fatal("the dry run changed something")
	}
	// Someone edits the bucket policy and apply runs again: that later run
	// is in effect on the bucket policy, so the first run cannot be
	// rolled back before it.
	applied, _ := w.BucketPolicy("acme-org-cloudtrail")
	var doc struct {
		Version   string           `json:"Version"`
		Statement []map[string]any `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(applied), &doc); err != nil {
		t.Fatal(err)
	}
	var kept []map[string]any
	for _, st := range doc.Statement {
		if st["Sid"] != "TrailwardenDenyInsecureTransport" {
			kept = append(kept, st)
		}
	}
	if len(kept) != len(doc.Statement)-1 {
		t.Fatalf("the applied policy has no TrailwardenDenyInsecureTransport statement:\n%s", applied)
	}
	doc.Statement = kept
	edited, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	w.SetBucketPolicy("acme-org-cloudtrail", string(edited))
	stdout, stderr, code = run("apply", "--config", cfgPath, "--endpoint-url", srv.URL, "--yes")
	second := regexp.MustCompile(`Backup: (\S+)`).FindStringSubmatch(stdout)
	if code != 0 || second == nil {
		t.Fatalf("second apply exit %d\n%s%s", code, stdout, stderr)
	}
	_, stderr, code = run("rollback", "--config", cfgPath, "--to", id[1], "--endpoint-url", srv.URL, "--yes")
	if code != ExitBadInput || !strings.Contains(stderr, "later runs changed the same resources and are still in effect: "+second[1]) {
		t.Fatalf("rollback under a later run: exit %d\n%s", code, stderr)
	}
	if stdout, stderr, code = run("rollback", "--config", cfgPath, "--to", second[1], "--endpoint-url", srv.URL, "--yes"); code != 0 {
		t.Fatalf("rollback of the later run: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = run("rollback", "--config", cfgPath, "--to", id[1], "--endpoint-url", srv.URL, "--yes")
	if code != 0 || !strings.Contains(stdout, "Rolled back run "+id[1]) {
		t.Fatalf("rollback exit %d\n%s%s", code, stdout, stderr)
	}
	if _, ok := w.Trail("111111111111", "org-trail"); ok {
		t.Error("trail still exists after rollback")
	}
	if _, ok := w.Role("222222222222", "trailwarden-log-reader"); ok {
		t.Error("role still exists after rollback")
	}
	if got, _ := w.KeyPolicy("222222222222", "us-east-1", keyID); got != keyPolicy {
		t.Errorf("key policy after rollback: %s", got)
	}
	if got, _ := w.BucketPolicy("acme-org-cloudtrail"); got != livePolicy {
		t.Errorf("bucket policy after rollback: %s", got)
	}
	_, stderr, code = run("rollback", "--config", cfgPath, "--to", id[1], "--endpoint-url", srv.URL, "--yes")
	if code != ExitFailure || !strings.Contains(stderr, "already rolled back") {
		t.Errorf("second rollback exit %d: %s", code, stderr)
	}
}

// The confirmation prompt applies nothing unless the answer is yes.
func TestApplyConfirmation(t *testing.T) {
	a := &app{stdin: strings.NewReader("no\n"), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	if a.confirm("? ") {
		t.Error("\"no\" confirmed")
	}
	a.stdin = strings.NewReader("yes\n")
	if !a.confirm("? ") {
		t.Error("\"yes\" not confirmed")
	}
	if a.interactive() {
		t.Error("a string reader is not a terminal")
	}
}
