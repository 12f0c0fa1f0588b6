package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const s3ns = `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`

// brokenSettings are the bucket settings of the world: versioning
// on, BucketOwnerPreferred, SSE-S3, no public access block, no access
// logging, and a rule deleting noncurrent versions after 30 days.
var brokenSettings = map[string]string{
	"BucketVersioning":             `<VersioningConfiguration ` + s3ns + `><Status>Enabled</Status></VersioningConfiguration>`,
	"BucketOwnershipControls":      `<OwnershipControls ` + s3ns + `><Rule><ObjectOwnership>BucketOwnerPreferred</ObjectOwnership></Rule></OwnershipControls>`,
	"BucketEncryption":             `<ServerSideEncryptionConfiguration ` + s3ns + `><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>false</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`,
	"BucketLifecycleConfiguration": `<LifecycleConfiguration ` + s3ns + `><Rule><ID>cleanup</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule></LifecycleConfiguration>`,
}

// auditStatus returns each rule's status from `audit --format json`: pass
// only when every finding of the rule passes.
func auditStatus(t *testing.T, out string) map[string]string {
	t.Helper()
	var rep struct {
		Findings []struct {
			Rule    string `json:"rule"`
			Status  string `json:"status"`
			Message string `json:"message"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("audit JSON: %v\n%s", err, out)
	}
	got := map[string]string{}
	for _, f := range rep.Findings {
		if got[f.Rule] == "" || got[f.Rule] == "pass" {
			got[f.Rule] = f.Status
		}
		if f.Status != "pass" {
			t.Logf("%s %s: %s", f.Rule, f.Status, f.Message)
		}
	}
	return got
}

// snapshotBucket reads the live bucket and the access log bucket through
// `snapshot`.
func snapshotBucket(t *testing.T, cfgPath, url, out string) string {
	t.Helper()
	if stdout, stderr, code := run("snapshot", "--config", cfgPath, "--out", out, "--endpoint-url", url); code != 0 && code != ExitFailure {
		t.Fatalf("snapshot exit %d: %s%s", code, stdout, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Bucket    json.RawMessage `json:"bucket"`
		LogTarget json.RawMessage `json:"access_log_target"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if len(s.LogTarget) == 0 {
		t.Fatal("the snapshot has no access_log_target")
	}
	return string(s.Bucket) + "\n" + string(s.LogTarget)
}

// TestApplyReachesAccelerate: a world whose bucket settings fail the
// accelerate audit passes TW-BKT-01 to -04 after `apply --yes`, and
// with them every rule of the accelerate audit, as the audit computes
// from the live state after apply; a second plan is empty; `rollback
// --to` restores every setting as it was.
func TestApplyReachesAccelerate(t *testing.T) {
	w, srv, _ := applyWorld(t)
	for noun, doc := range brokenSettings {
		w.SetBucketConfig("acme-org-cloudtrail", noun, doc)
	}
	organizationFacts(t, w, "111111111111", "222222222222", "444444444444")
	dir := t.TempDir()
	cfg, err := os.ReadFile(planConfig)
	if err != nil {
		t.Fatal(err)
	}
	cfg = []byte(strings.Replace(strings.Replace(string(cfg), `standard: "baseline"`, `standard: "accelerate"`, 1),
		"  athena_only: true\n", "  athena_only: true\n  role_pattern: \"ams-access-*\"\n", 1))
	cfg = append(cfg, []byte(fmt.Sprintf("aws:\n  access_role: OrganizationAccountAccessRole\n  backup_dir: %q\n", filepath.Join(dir, "backups")))...)
	cfgPath := filepath.Join(dir, "trailwarden.yaml")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	before := snapshotBucket(t, cfgPath, srv.URL, filepath.Join(dir, "before.json"))

	audit := func() map[string]string {
		out, stderr, _ := run("audit", "-c", cfgPath, "--standard", "accelerate", "--format", "json", "--fail-on", "never", "--endpoint-url", srv.URL)
		if out == "" {
			t.Fatalf("audit: %s", stderr)
		}
		return auditStatus(t, out)
	}
	handled := []string{"TW-BKT-01", "TW-BKT-02", "TW-BKT-03", "TW-BKT-04"}
	start := audit()
	for _, id := range []string{"TW-BKT-02", "TW-BKT-03", "TW-BKT-04"} {
		if start[id] != "fail" {
			t.Errorf("before apply %s is %q, want fail (the world is not broken as intended)", id, start[id])
		}
	}

	w.ResetCalls()
	stdout, stderr, code := run("apply", "--config", cfgPath, "--endpoint-url", srv.URL, "--yes")
	if code != 0 {
		t.Fatalf("apply exit %d\n%s%s", code, stdout, stderr)
	}
	writes := 0
	for _, c := range w.Calls() {
		if strings.HasPrefix(c.Operation, "Put") || strings.HasPrefix(c.Operation, "Create") || strings.HasPrefix(c.Operation, "Update") ||
			strings.HasPrefix(c.Operation, "Delete") || strings.HasPrefix(c.Operation, "Start") {
			writes++
		}
	}
	t.Logf("apply made %d write calls", writes)
	for _, want := range []string{"ok    PutBucketOwnershipControls acme-org-cloudtrail", "ok    PutBucketEncryption acme-org-cloudtrail",
		"ok    PutBucketLifecycleConfiguration acme-org-cloudtrail", "ok    PutPublicAccessBlock acme-org-cloudtrail",
		"ok    CreateBucket acme-org-cloudtrail-access-logs", "ok    PutBucketLogging acme-org-cloudtrail"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("apply output lacks %q:\n%s", want, stdout)
		}
	}
	id := regexp.MustCompile(`Backup: (\S+)`).FindStringSubmatch(stdout)
	if id == nil {
		t.Fatalf("no backup id:\n%s", stdout)
	}
	logPolicy, ok := w.BucketPolicy("acme-org-cloudtrail-access-logs")
	for _, want := range []string{`"Service":"logging.s3.amazonaws.com"`, `"aws:SourceArn":"arn:aws:s3:::acme-org-cloudtrail"`, `"aws:SourceAccount":"222222222222"`,
		`"Resource":"arn:aws:s3:::acme-org-cloudtrail-access-logs/acme-org-cloudtrail/*"`} {
		if !ok || !strings.Contains(logPolicy, want) {
			t.Errorf("access log bucket policy lacks %s: %s", want, logPolicy)
		}
	}
	after := audit()
	for _, rule := range handled {
		if after[rule] != "pass" {
			t.Errorf("after apply %s is %q, want pass", rule, after[rule])
		}
	}
	for rule, st := range after {
		if st != "pass" {
			t.Errorf("after apply %s is %q: the accelerate audit does not pass", rule, st)
		}
	}
	stdout, stderr, code = run("plan", "--config", cfgPath, "--endpoint-url", srv.URL, "--detailed-exitcode")
	if code != ExitOK {
		t.Errorf("plan after apply: exit %d\n%s%s", code, stdout, stderr)
	}

	if stdout, stderr, code = run("rollback", "--config", cfgPath, "--to", id[1], "--endpoint-url", srv.URL, "--yes"); code != 0 {
		t.Fatalf("rollback exit %d\n%s%s", code, stdout, stderr)
	}
	if got := snapshotBucket(t, cfgPath, srv.URL, filepath.Join(dir, "after.json")); got != before {
		t.Errorf("bucket after rollback\n%s\nwant\n%s", got, before)
	}
	if w.BucketConfig("acme-org-cloudtrail", "PublicAccessBlock") != "" {
		t.Error("the public access block apply created is still there")
	}
	if _, ok := w.BucketPolicy("acme-org-cloudtrail-access-logs"); ok {
		t.Error("the access log bucket apply created is still there")
	}
}
