package deploy_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/deploy"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

const (
	mgmt    = "111111111111"
	archive = "222222222222"
	keyID   = "1234abcd-12ab-34cd-56ef-1234567890ab"
	keyARN  = "arn:aws:kms:us-east-1:" + archive + ":key/" + keyID
	bucket  = "acme-org-cloudtrail"
)

const orgYAML = `version: 1
organization_id: "o-a1b2c3d4e5"
management_account: "111111111111"
log_archive_account: "222222222222"
bucket: "acme-org-cloudtrail"
key_prefix: "org"
home_region: "us-east-1"
trail:
  name: "org-trail"
  organization: true
kms_key_arn: "` + keyARN + `"
readers:
  role_name: "trailwarden-log-reader"
  roles: ["arn:aws:iam::444444444444:role/security-analytics"]
  athena_only: true
standard: "baseline"
delivery_scope: "auto"
aws:
  access_role: "OrganizationAccountAccessRole"
`

const keyAdmin = `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",` +
	`"Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`

const foreignBucketPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"KeepMe","Effect":"Deny","Principal":"*",` +
	`"Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::acme-org-cloudtrail"}]}`

func loadConfig(t *testing.T) *config.Config {
	t.Helper()
	c, err := config.Parse(strings.NewReader(orgYAML), "trailwarden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// setup starts a fake world holding the bucket (with a foreign policy) and
// the key (with its default policy), and the snapshot that describes it.
const versioningEnabled = `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`

// settingWrites are the bucket setting calls for setup's bucket, which
// has versioning and nothing else.
var settingWrites = []string{
	"s3:PutPublicAccessBlock 222222222222 acme-org-cloudtrail",
	"s3:PutBucketOwnershipControls 222222222222 acme-org-cloudtrail",
	"s3:PutBucketEncryption 222222222222 acme-org-cloudtrail",
	"s3:CreateBucket 222222222222 acme-org-cloudtrail-access-logs",
	"s3:PutBucketPolicy 222222222222 acme-org-cloudtrail-access-logs",
	"s3:PutBucketLogging 222222222222 acme-org-cloudtrail",
}

func setup(t *testing.T) (*awsfake.Server, *snapshot.Snapshot) {
	t.Helper()
	awsfake.Isolate(t)
	w := awsfake.New()
	w.SetBucketPolicy(bucket, foreignBucketPolicy)
	w.SetKeyPolicy(archive, "us-east-1", keyID, keyAdmin)
	w.SetBucketConfig(bucket, "BucketVersioning", versioningEnabled)
	s := &snapshot.Snapshot{Version: snapshot.SchemaVersion, Partition: "aws",
		Organization:    &snapshot.Organization{ID: "o-a1b2c3d4e5", ManagementAccount: mgmt, FeatureSet: "ALL", CloudTrailTrustedAccess: true},
		Accounts:        []snapshot.Account{{ID: mgmt, Regions: []string{"us-east-1"}}},
		Bucket:          &snapshot.Bucket{Name: bucket, Account: archive, Region: "us-east-1", Exists: true, Policy: foreignBucketPolicy, Versioning: "Enabled"},
		AccessLogTarget: &snapshot.Bucket{Name: bucket + "-access-logs", Account: archive, Region: "us-east-1"},
		Keys:            []snapshot.Key{{ARN: keyARN, Account: archive, Region: "us-east-1", Policy: keyAdmin, State: "Enabled"}},
		Readers:         []snapshot.Role{{ARN: "arn:aws:iam::222222222222:role/trailwarden-log-reader", Name: "trailwarden-log-reader", Account: archive}},
	}
	return awsfake.Start(t, w), s
}

func writer(t *testing.T, srv *awsfake.Server, interval time.Duration) *deploy.Writer {
	t.Helper()
	w, err := deploy.New(context.Background(), deploy.Options{AccessRole: "OrganizationAccountAccessRole", Endpoint: srv.URL,
		TrailInterval: interval, Retryer: awsfake.FastRetryer(0)})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// writes are the calls that change something, as "service:Op account resource".
func writes(srv *awsfake.Server) []string {
	var out []string
	for _, c := range srv.Calls() {
		if c.Service == "sts" || strings.HasPrefix(c.Operation, "Get") {
			continue
		}
		out = append(out, c.Service+":"+c.Operation+" "+c.Account+" "+c.Resource)
	}
	return out
}

func TestApplyAgainstFake(t *testing.T) {
	srv, snap := setup(t)
	c := loadConfig(t)
	p, err := plan.Build(c, snap)
	if err != nil {
		t.Fatal(err)
	}
	ex := writer(t, srv, time.Millisecond)
	if ex.Caller() != mgmt {
		t.Fatalf("caller %s", ex.Caller())
	}
	res, err := plan.Apply(context.Background(), p, ex, plan.Options{Backups: plan.Backups{Dir: t.TempDir()}})
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	want := []string{
		"s3:PutBucketPolicy 222222222222 acme-org-cloudtrail",
		"kms:PutKeyPolicy 222222222222 " + keyID,
		"iam:CreateRole 222222222222 trailwarden-log-reader",
		"iam:PutRolePolicy 222222222222 trailwarden-log-reader/" + plan.AccessPolicyName,
		"cloudtrail:CreateTrail 111111111111 org-trail",
		"cloudtrail:PutEventSelectors 111111111111 org-trail",
		"cloudtrail:StartLogging 111111111111 org-trail",
	}
	want = append(want, settingWrites...)
	if got := writes(srv); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls\n got %q\nwant %q", got, want)
	}
	// The settings reach S3 in its wire shapes.
	for noun, parts := range map[string][]string{
		"BucketEncryption":        {"<SSEAlgorithm>aws:kms</SSEAlgorithm>", "<KMSMasterKeyID>" + keyARN + "</KMSMasterKeyID>", "<BucketKeyEnabled>true</BucketKeyEnabled>"},
		"BucketOwnershipControls": {"<ObjectOwnership>BucketOwnerEnforced</ObjectOwnership>"},
		"PublicAccessBlock":       {"<BlockPublicAcls>true</BlockPublicAcls>", "<IgnorePublicAcls>true</IgnorePublicAcls>", "<BlockPublicPolicy>true</BlockPublicPolicy>", "<RestrictPublicBuckets>true</RestrictPublicBuckets>"},
	} {
		doc := srv.BucketConfig(bucket, noun)
		for _, part := range parts {
			if !strings.Contains(doc, part) {
				t.Errorf("%s lacks %s: %s", noun, part, doc)
			}
		}
	}
	// The log-archive account is reached through the access role; the
	// caller's own account is not.
	assumed := srv.CallsTo("sts", "AssumeRole")
	if len(assumed) != 1 || assumed[0].Params["RoleArn"] != "arn:aws:iam::222222222222:role/OrganizationAccountAccessRole" {
		t.Errorf("AssumeRole calls %+v", assumed)
	}
	bp, _ := srv.BucketPolicy(bucket)
	if bp != p.Steps[0].Calls[0].Do.Document || !strings.Contains(bp, "KeepMe") {
		t.Errorf("bucket policy %s", bp)
	}
	if kp, _ := srv.KeyPolicy(archive, "us-east-1", keyID); kp != p.Steps[1].Calls[0].Do.Document {
		t.Errorf("key policy %s", kp)
	}
	role, ok := srv.Role(archive, "trailwarden-log-reader")
	if !ok || role.TrustPolicy != p.Steps[2].Calls[0].Do.Document || role.Inline[plan.AccessPolicyName] == "" {
		t.Errorf("role %+v", role)
	}
	tr, ok := srv.Trail(mgmt, "org-trail")
	if !ok || !tr.Logging || !tr.IsOrganization || !tr.IsMultiRegion || !tr.LogFileValidation || tr.KMSKeyID != keyARN ||
		tr.S3KeyPrefix != "org" || tr.S3BucketName != bucket || !strings.Contains(tr.EventSelectors, `"ReadWriteType":"All"`) {
		t.Errorf("trail %+v", tr)
	}
}

func TestFailedKeyPolicyRollsBackBucketPolicy(t *testing.T) {
	srv, snap := setup(t)
	srv.Deny("kms", "PutKeyPolicy", "")
	p, err := plan.Build(loadConfig(t), snap)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	res, err := plan.Apply(context.Background(), p, writer(t, srv, time.Millisecond), plan.Options{Backups: plan.Backups{Dir: dir}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.RolledBack || !strings.Contains(res.Failure, "AccessDeniedException") {
		t.Errorf("result %+v", res)
	}
	want := []string{
		"s3:PutBucketPolicy 222222222222 acme-org-cloudtrail",
		"kms:PutKeyPolicy 222222222222 " + keyID,
		"s3:PutBucketPolicy 222222222222 acme-org-cloudtrail",
	}
	if got := writes(srv); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls\n got %q\nwant %q", got, want)
	}
	if bp, _ := srv.BucketPolicy(bucket); bp != foreignBucketPolicy {
		t.Errorf("bucket policy not restored to the backed-up document: %s", bp)
	}
	bk, err := plan.Backups{Dir: dir}.Load(res.BackupID)
	if err != nil || bk.Status != plan.StatusFailedRolledBack {
		t.Fatalf("backup %+v %v", bk, err)
	}
	if bk.Steps[0].Calls[0].Undo[0].Document != foreignBucketPolicy {
		t.Errorf("backup does not hold the previous bucket policy")
	}
}

func TestRollbackToRestoresPreviousRun(t *testing.T) {
	srv, snap := setup(t)
	p, err := plan.Build(loadConfig(t), snap)
	if err != nil {
		t.Fatal(err)
	}
	ex := writer(t, srv, time.Millisecond)
	opt := plan.Options{Backups: plan.Backups{Dir: t.TempDir()}}
	res, err := plan.Apply(context.Background(), p, ex, opt)
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	srv.ResetCalls()
	if _, err := plan.Rollback(context.Background(), res.BackupID, ex, opt); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"s3:PutBucketLogging 222222222222 acme-org-cloudtrail",
		"s3:DeleteBucket 222222222222 acme-org-cloudtrail-access-logs",
		"s3:DeleteBucketEncryption 222222222222 acme-org-cloudtrail",
		"s3:DeleteBucketOwnershipControls 222222222222 acme-org-cloudtrail",
		"s3:DeletePublicAccessBlock 222222222222 acme-org-cloudtrail",
		"cloudtrail:StopLogging 111111111111 org-trail",
		"cloudtrail:DeleteTrail 111111111111 org-trail",
		"iam:DeleteRolePolicy 222222222222 trailwarden-log-reader/" + plan.AccessPolicyName,
		"iam:DeleteRole 222222222222 trailwarden-log-reader",
		"kms:PutKeyPolicy 222222222222 " + keyID,
		"s3:PutBucketPolicy 222222222222 acme-org-cloudtrail",
	}
	if got := writes(srv); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("calls\n got %q\nwant %q", got, want)
	}
	if bp, _ := srv.BucketPolicy(bucket); bp != foreignBucketPolicy {
		t.Errorf("bucket policy %s", bp)
	}
	if kp, _ := srv.KeyPolicy(archive, "us-east-1", keyID); kp != keyAdmin {
		t.Errorf("key policy %s", kp)
	}
	if _, ok := srv.Role(archive, "trailwarden-log-reader"); ok {
		t.Error("the role trailwarden created is still there")
	}
	if _, ok := srv.Trail(mgmt, "org-trail"); ok {
		t.Error("the trail trailwarden created is still there")
	}
}

func TestThrottlingIsRetriedAndTrailCallsArePaced(t *testing.T) {
	srv, _ := setup(t)
	srv.Throttle("cloudtrail", "CreateTrail", 2)
	const interval = 60 * time.Millisecond
	ex := writer(t, srv, interval)
	set := &plan.TrailSettings{Name: "org-trail", S3BucketName: bucket, IsMultiRegion: true}
	act := func(op plan.Op) plan.Action {
		return plan.Action{Op: op, Account: mgmt, Region: "us-east-1", Trail: "org-trail", Settings: set}
	}
	start := time.Now()
	for _, op := range []plan.Op{plan.OpCreateTrail, plan.OpStartLogging, plan.OpStopLogging} {
		if err := ex.Do(context.Background(), act(op)); err != nil {
			t.Fatalf("%s: %v", op, err)
		}
	}
	if el := time.Since(start); el < 2*interval {
		t.Errorf("three CloudTrail writes took %v, want at least %v", el, 2*interval)
	}
	if n := len(srv.CallsTo("cloudtrail", "CreateTrail")); n != 3 {
		t.Errorf("CreateTrail sent %d times, want 3 (two throttled)", n)
	}
	// An error keeps AWS's code and message, not the SDK's request dump.
	err := ex.Do(context.Background(), act(plan.OpCreateTrail))
	var ae *deploy.APIError
	if !errors.As(err, &ae) || ae.Code != "TrailAlreadyExistsException" || strings.Contains(err.Error(), "RequestID") {
		t.Errorf("error %v", err)
	}
}
