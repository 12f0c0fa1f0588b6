package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
	"github.com/trailwarden/trailwarden/internal/textdiff"
)

// A live audit and an audit of a snapshot of the same world decide the same
// findings: both go through the AWS reader and the same rules.
func TestAudit_LiveEqualsSnapshot(t *testing.T) {
	for _, profile := range []string{"accelerate", "cis", "baseline"} {
		t.Run(profile, func(t *testing.T) {
			s := snapshotWorld(t)
			snap := filepath.Join(t.TempDir(), "snap.json")
			if out, errOut, code := run("snapshot", "-c", snapConfig, "--out", snap, "--endpoint-url", s.URL); code != 0 {
				t.Fatalf("snapshot: exit %d\n%s%s", code, out, errOut)
			}
			live, errOut, liveCode := run("audit", "-c", snapConfig, "--standard", profile, "--format", "json", "--fail-on", "never", "--endpoint-url", s.URL)
			if liveCode != 0 {
				t.Fatalf("live audit: exit %d\n%s", liveCode, errOut)
			}
			offline, errOut, code := run("audit", "-c", snapConfig, "--standard", profile, "--format", "json", "--fail-on", "never", "--snapshot", snap)
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

// deployedWorld is the recorded organization with trailwarden's generated
// bucket and key policies and no delivery error, changed by edit (applied to
// the world file's text) and then by extra (applied to the world).
func deployedWorld(t *testing.T, edit func(string) string, extra func(w *awsfake.World)) *awsfake.Server {
	t.Helper()
	awsfake.Isolate(t)
	data, err := os.ReadFile(snapWorld)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(data), `"LatestDigestDeliveryError":"AccessDenied",`, "")
	w := awsfake.New()
	if err := w.Parse(snapWorld, edit(text)); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(snapConfig)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, snapConfig)
	if err != nil {
		t.Fatal(err)
	}
	bucket, err := generator.Bucket(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := generator.Key(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.SetBucketPolicy(c.Bucket, string(policy.Compact(bucket.Doc)))
	w.SetKeyPolicy("222222222222", "us-east-1", "1234abcd-12ab-34cd-56ef-1234567890ab", string(policy.Compact(key.Doc)))
	if extra != nil {
		extra(w)
	}
	return awsfake.Start(t, w)
}

// auditBoth runs a live audit and an audit of a snapshot of the same world,
// requires them to print the same findings, and returns them.
func auditBoth(t *testing.T, s *awsfake.Server, profile string) *audit.Report {
	t.Helper()
	snap := filepath.Join(t.TempDir(), "snap.json")
	if out, errOut, code := run("snapshot", "-c", snapConfig, "--out", snap, "--endpoint-url", s.URL); code > 1 {
		t.Fatalf("snapshot: exit %d\n%s%s", code, out, errOut)
	}
	live, errOut, code := run("audit", "-c", snapConfig, "--standard", profile, "--format", "json", "--fail-on", "never", "--endpoint-url", s.URL)
	if code != 0 {
		t.Fatalf("live audit: exit %d\n%s", code, errOut)
	}
	offline, errOut, code := run("audit", "-c", snapConfig, "--standard", profile, "--format", "json", "--fail-on", "never", "--snapshot", snap)
	if code != 0 {
		t.Fatalf("snapshot audit: exit %d\n%s", code, errOut)
	}
	if live != offline {
		t.Fatalf("live and snapshot audits differ:\n%s", textdiff.Unified("snapshot", "live", offline, live, 3))
	}
	var rep audit.Report
	if err := json.Unmarshal([]byte(live), &rep); err != nil {
		t.Fatal(err)
	}
	return &rep
}

// TestAudit_LiveDeliveryFromTheDeployedTrail (issue 13 items 1 and 2, live
// path): a live organization trail writing under corp/logs, which the
// bucket policy does not cover, fails TW-ACC-01 for every account under
// every profile, live and from the snapshot alike, and the bucket's
// default-encryption key, read live, is checked for the readers. With the
// trail as configured, delivery passes.
func TestAudit_LiveDeliveryFromTheDeployedTrail(t *testing.T) {
	asConfigured := deployedWorld(t, func(s string) string { return s }, nil)
	rep := auditBoth(t, asConfigured, "baseline")
	acc := 0
	for _, f := range rep.Findings {
		if f.Rule == "TW-ACC-01" {
			acc++
			if f.Status != audit.Pass {
				t.Errorf("as configured: %s %s: %s", f.Account, f.Status, f.Message)
			}
		}
	}
	if acc != 4 {
		t.Fatalf("as configured: %d TW-ACC-01 findings, want one per account", acc)
	}

	const second = "arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555"
	drifted := deployedWorld(t, func(s string) string {
		s = strings.ReplaceAll(s, `"S3KeyPrefix":"org"`, `"S3KeyPrefix":"corp/logs"`)
		return strings.Replace(s, "<KMSMasterKeyID>arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab</KMSMasterKeyID>",
			"<KMSMasterKeyID>alias/logs-default</KMSMasterKeyID>", 1)
	}, func(w *awsfake.World) {
		rec := func(op, res, body string) {
			w.Record(awsfake.Key{Account: "222222222222", Region: "us-east-1", Service: "kms", Operation: op, Resource: res}, awsfake.OK(body))
		}
		rec("DescribeKey", "alias/logs-default", `{"KeyMetadata":{"AWSAccountId":"222222222222","KeyId":"99999999-2222-3333-4444-555555555555","Arn":"`+second+`","KeyState":"Enabled","KeyManager":"CUSTOMER","KeySpec":"SYMMETRIC_DEFAULT","MultiRegion":false}}`)
		rec("GetKeyPolicy", "99999999-2222-3333-4444-555555555555", `{"Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::222222222222:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}","PolicyName":"default"}`)
		rec("GetKeyRotationStatus", "99999999-2222-3333-4444-555555555555", `{"KeyRotationEnabled":true}`)
	})
	for _, profile := range []string{"accelerate", "cis", "baseline"} {
		t.Run(profile, func(t *testing.T) {
			rep := auditBoth(t, drifted, profile)
			failed, drift, bucketKey := 0, false, false
			for _, f := range rep.Findings {
				text := f.Message + strings.Join(f.Evidence, "\n") + f.Remediation
				switch {
				case f.Rule == "TW-ACC-01" && f.Status == audit.Fail && strings.Contains(text, "corp/logs/AWSLogs/o-a1b2c3d4e5/"+f.Account+"/"):
					failed++
				case f.Rule == "TW-TRL-09" && f.Status == audit.Fail && strings.Contains(text, "key prefix: deployed corp/logs, intended org"):
					drift = true
				case f.Rule == "TW-ACC-02" && f.Status == audit.Fail && strings.Contains(text, "kms:Decrypt on "+second):
					bucketKey = true
				}
			}
			if failed != 4 {
				t.Errorf("%d accounts fail TW-ACC-01 for the corp/logs prefix, want all 4", failed)
			}
			if !drift {
				t.Error("no TW-TRL-09 finding for the prefix drift")
			}
			if profile != "cis" && !bucketKey {
				t.Error("no TW-ACC-02 finding for the bucket's default-encryption key")
			}
		})
	}
}
