package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

// perAccountYAML has a trail in each of three source accounts, reached
// through the access role, with CloudWatch Logs named per account.
const perAccountYAML = `version: 1
log_archive_account: "222222222222"
source_accounts: ["333333333333", "555555555555", "666666666666"]
bucket: "acme-cloudtrail"
home_region: "us-east-1"
trail:
  name: "central"
  organization: false
  cloudwatch_logs:
    log_group: "aws-cloudtrail-logs"
    role: "CloudTrailToCloudWatch"
kms_key_arn: "arn:aws:kms:us-east-1:222222222222:key/` + keyID + `"
readers:
  role_name: "trailwarden-log-reader"
  roles: ["arn:aws:iam::444444444444:role/security-analytics"]
standard: %q
delivery_scope: "per-account"
aws:
  access_role: "OrganizationAccountAccessRole"
  regions: ["us-east-1"]
  backup_dir: %q
`

// brokenAccounts is a world of per-account trails gone wrong: one
// account's trail is single-Region, without validation, global events or
// KMS, reads only write events and excludes KMS; one is right but not
// logging and has no CloudWatch Logs; one account has none. The bucket
// has only versioning.
func brokenAccounts(t *testing.T) (*awsfake.World, *awsfake.Server) {
	t.Helper()
	awsfake.Isolate(t)
	w := awsfake.New()
	w.SetBucketPolicy("acme-cloudtrail", "")
	w.SetKeyPolicy("222222222222", "us-east-1", keyID, keyPolicy)
	w.SetBucketConfig("acme-cloudtrail", "BucketVersioning", `<VersioningConfiguration `+s3ns+`><Status>Enabled</Status></VersioningConfiguration>`)
	w.PutTrail("333333333333", awsfake.Trail{Name: "central", HomeRegion: "us-east-1", S3BucketName: "acme-cloudtrail", Logging: true,
		EventSelectors: `[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":["kms.amazonaws.com"]}]`})
	w.PutTrail("555555555555", awsfake.Trail{Name: "central", HomeRegion: "us-east-1", S3BucketName: "acme-cloudtrail", IsMultiRegion: true,
		IncludeGlobalServiceEvents: true, LogFileValidation: true, KMSKeyID: "arn:aws:kms:us-east-1:222222222222:key/" + keyID})
	w.PutTrail("666666666666", awsfake.Trail{Name: "unrelated", HomeRegion: "eu-west-1", S3BucketName: "theirs"})
	// Live facts plan does not manage: the key is enabled and rotates,
	// and the reader the config names exists and may assume the reader
	// role.
	rec := func(op, body string) {
		w.Record(awsfake.Key{Account: "222222222222", Region: "us-east-1", Service: "kms", Operation: op, Resource: keyID}, awsfake.OK(body))
	}
	rec("DescribeKey", `{"KeyMetadata":{"AWSAccountId":"222222222222","KeyId":"`+keyID+`","Arn":"arn:aws:kms:us-east-1:222222222222:key/`+keyID+`","KeyState":"Enabled","KeyManager":"CUSTOMER","KeySpec":"SYMMETRIC_DEFAULT","MultiRegion":false}}`)
	rec("GetKeyRotationStatus", `{"KeyRotationEnabled":true}`)
	w.PutRole("444444444444", awsfake.Role{Name: "security-analytics",
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		Inline:      map[string]string{"read-logs": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","s3:GetObject","s3:ListBucket","kms:Decrypt"],"Resource":"*"}]}`}})
	return w, awsfake.Start(t, w)
}

// TestApplyPerAccountReachesStandard: for each standard, a broken world
// of per-account trails passes, after apply, every audit rule of that
// standard that plan manages; a second plan is empty; rollback restores
// every account's trail, the bucket and its settings, the key policy, and
// removes the reader role it created.
func TestApplyPerAccountReachesStandard(t *testing.T) {
	for _, tt := range []struct {
		standard string
		// handled must fail before apply and pass after.
		handled []string
		// left are the rules still not passing after apply: what plan
		// does not manage (MFA delete is a manual step; data events
		// and Insights are not part of the central trail's settings).
		left string
	}{
		{"baseline", []string{"TW-TRL-01", "TW-TRL-02", "TW-TRL-04", "TW-TRL-05", "TW-TRL-06", "TW-TRL-08", "TW-TRL-09", "TW-BKT-01", "TW-BKT-02",
			"TW-BKT-04", "TW-BKT-05", "TW-BKT-06", "TW-ACC-01", "TW-ACC-02"}, ""},
		{"cis", []string{"TW-TRL-01", "TW-TRL-04", "TW-TRL-05", "TW-TRL-06", "TW-TRL-07", "TW-TRL-09", "TW-BKT-02", "TW-BKT-05", "TW-ACC-01"},
			"TW-BKT-10=fail TW-TRL-10=fail TW-TRL-11=fail TW-TRL-12=fail"},
	} {
		t.Run(tt.standard, func(t *testing.T) {
			w, srv := brokenAccounts(t)
			dir := t.TempDir()
			cfgPath := filepath.Join(dir, "trailwarden.yaml")
			if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(perAccountYAML, tt.standard, filepath.Join(dir, "backups"))), 0o600); err != nil {
				t.Fatal(err)
			}
			trails := func() string {
				var out []string
				for _, a := range []string{"333333333333", "555555555555", "666666666666"} {
					for _, n := range []string{"central", "unrelated"} {
						if tr, ok := w.Trail(a, n); ok {
							tr.EventSelectors = sameSelectorsJSON(t, tr.EventSelectors)
							out = append(out, fmt.Sprintf("%s %+v", a, tr))
						}
					}
				}
				return strings.Join(out, "\n")
			}
			audit := func() map[string]string {
				out, stderr, _ := run("audit", "-c", cfgPath, "--standard", tt.standard, "--format", "json", "--fail-on", "never", "--endpoint-url", srv.URL)
				if out == "" {
					t.Fatalf("audit: %s", stderr)
				}
				return auditStatus(t, out)
			}
			beforeTrails := trails()
			beforeBucket := snapshotBucket(t, cfgPath, srv.URL, filepath.Join(dir, "before.json"))
			beforeKey, _ := w.KeyPolicy("222222222222", "us-east-1", keyID)
			start := audit()
			for _, id := range tt.handled {
				if start[id] != "fail" {
					t.Errorf("before apply %s is %q, want fail (the world is not broken as intended)", id, start[id])
				}
			}
			stdout, stderr, code := run("apply", "--config", cfgPath, "--endpoint-url", srv.URL, "--yes", "--jobs", "3")
			if code != 0 {
				t.Fatalf("apply exit %d\n%s%s", code, stdout, stderr)
			}
			for _, a := range []string{"333333333333", "555555555555", "666666666666"} {
				if !strings.Contains(stdout, " central ("+a+" us-east-1)") {
					t.Errorf("apply did not change the trail of %s:\n%s", a, stdout)
				}
			}
			after := audit()
			var still []string
			for _, id := range tt.handled {
				if after[id] != "pass" {
					t.Errorf("after apply %s is %q, want pass", id, after[id])
				}
			}
			for id, st := range after {
				if st != "pass" {
					still = append(still, id+"="+st)
				}
			}
			sort.Strings(still)
			if got := strings.Join(still, " "); got != tt.left {
				t.Errorf("not passing after apply: %q, want only what plan does not manage: %q", got, tt.left)
			}
			if stdout, stderr, code := run("plan", "--config", cfgPath, "--endpoint-url", srv.URL, "--detailed-exitcode"); code != ExitOK {
				t.Errorf("plan after apply: exit %d\n%s%s", code, stdout, stderr)
			}
			id := regexp.MustCompile(`Backup: (\S+)`).FindStringSubmatch(stdout)
			if id == nil {
				t.Fatalf("no backup id:\n%s", stdout)
			}
			if stdout, stderr, code := run("rollback", "--config", cfgPath, "--to", id[1], "--endpoint-url", srv.URL, "--yes"); code != 0 {
				t.Fatalf("rollback exit %d\n%s%s", code, stdout, stderr)
			}
			if got := trails(); got != beforeTrails {
				t.Errorf("trails after rollback\n%s\nwant\n%s", got, beforeTrails)
			}
			if got := snapshotBucket(t, cfgPath, srv.URL, filepath.Join(dir, "after.json")); got != beforeBucket {
				t.Errorf("bucket after rollback\n%s\nwant\n%s", got, beforeBucket)
			}
			if got, _ := w.KeyPolicy("222222222222", "us-east-1", keyID); got != beforeKey {
				t.Errorf("key policy after rollback %s, want %s", got, beforeKey)
			}
			if _, ok := w.Role("222222222222", "trailwarden-log-reader"); ok {
				t.Error("the reader role apply created is still there after rollback")
			}
		})
	}
}

// sameSelectorsJSON is selectors JSON in one form: keys sorted, empty
// lists left out (the SDK sends none; a recording may have them).
func sameSelectorsJSON(t *testing.T, raw string) string {
	t.Helper()
	if raw == "" {
		return ""
	}
	var sel []map[string]any
	if err := json.Unmarshal([]byte(raw), &sel); err != nil {
		t.Fatal(err)
	}
	for _, s := range sel {
		for k, v := range s {
			if l, ok := v.([]any); ok && len(l) == 0 {
				delete(s, k)
			}
		}
	}
	b, _ := json.Marshal(sel)
	return string(b)
}

// organizationFacts records what the audit reads of the organization and
// of the reader the config names, which plan does not manage: the
// organization's accounts (under the root, no SCPs or RCPs enabled) and
// the reader role security-analytics allowed to read.
func organizationFacts(t *testing.T, w *awsfake.World, accounts ...string) {
	t.Helper()
	var list []string
	for _, a := range accounts {
		list = append(list, fmt.Sprintf(`{"Id":%q,"Arn":"arn:aws:organizations::111111111111:account/o-a1b2c3d4e5/%s","Name":"a%s","Email":"a@example.com","Status":"ACTIVE","JoinedMethod":"CREATED","JoinedTimestamp":1.7e9}`, a, a, a))
		w.Record(awsfake.Key{Account: "111111111111", Service: "organizations", Operation: "ListParents", Resource: a},
			awsfake.OK(`{"Parents":[{"Id":"r-ab12","Type":"ROOT"}]}`))
		for _, target := range []string{a, "r-ab12"} {
			for _, f := range []string{"SERVICE_CONTROL_POLICY", "RESOURCE_CONTROL_POLICY"} {
				w.Record(awsfake.Key{Account: "111111111111", Service: "organizations", Operation: "ListPoliciesForTarget", Resource: target + "/" + f},
					awsfake.Response{Status: 400, Body: `{"__type":"PolicyTypeNotEnabledException","message":"This operation can be performed only for enabled policy types."}`})
			}
		}
	}
	w.Record(awsfake.Key{Account: "111111111111", Service: "organizations", Operation: "ListAccounts"}, awsfake.OK(`{"Accounts":[`+strings.Join(list, ",")+`]}`))
	w.PutRole("444444444444", awsfake.Role{Name: "security-analytics",
		TrustPolicy: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`,
		Inline:      map[string]string{"read-logs": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:AssumeRole","s3:Get*","s3:List*","kms:Decrypt","kms:DescribeKey","athena:*"],"Resource":"*"}]}`}})
}
