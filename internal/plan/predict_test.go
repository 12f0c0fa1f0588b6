package plan

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// denyCloudTrailPut is a foreign statement (not trailwarden's Sid, so merge
// keeps it) that requires SSE-KMS headers CloudTrail does not send.
const denyCloudTrailPut = `{"Version":"2012-10-17","Statement":[{"Sid":"DenyUnencryptedObjectUploads","Effect":"Deny","Principal":"*",` +
	`"Action":"s3:PutObject","Resource":"arn:aws:s3:::%s/*","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}}]}`

const denyCloudTrailKey = `{"Version":"2012-10-17","Statement":[` +
	`{"Sid":"Admin","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"},` +
	`{"Sid":"NoServices","Effect":"Deny","Principal":"*","Action":"kms:GenerateDataKey*","Resource":"*","Condition":{"Bool":{"aws:PrincipalIsAWSService":"true"}}}]}`

func TestPredictions(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		change func(c *config.Config, s *snapshot.Snapshot)
		// step is the index of the step that must carry code.
		step int
		code string
		// blocked is how many steps carry a prediction (default 1).
		blocked int
	}{
		{"bucket missing", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Bucket.Exists = false }, 3, "S3BucketDoesNotExistException", 2},
		{"bucket missing blocks its policy", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Bucket.Exists = false }, 0, "NoSuchBucket", 2},
		{"foreign deny on delivery", "org.yaml", func(c *config.Config, s *snapshot.Snapshot) {
			s.Bucket.Policy = strings.Replace(denyCloudTrailPut, "%s", c.Bucket, 1)
		}, 3, "InsufficientS3BucketPolicyException", 1},
		{"foreign deny on the key", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Keys[0].Policy = denyCloudTrailKey }, 3,
			"InsufficientEncryptionPolicyException", 1},
		{"key disabled", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Keys[0].State = "Disabled" }, 3, "KmsKeyDisabledException", 1},
		{"key pending deletion", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Keys[0].State = "PendingDeletion" }, 3, "KmsKeyNotFoundException", 1},
		{"key in another region", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Bucket.Region = "eu-west-1" }, 3, "KmsKeyNotFoundException", 1},
		{"key not read", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) {
			s.Keys = nil
			s.Errors = append(s.Errors, snapshot.CallError{Service: "kms", Operation: "GetKeyPolicy", Code: "AccessDeniedException"})
		}, 1, LiveStateUnknown, 2},
		{"trusted access off", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Organization.CloudTrailTrustedAccess = false }, 3,
			"CloudTrailAccessNotEnabledException", 1},
		{"consolidated billing", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Organization.FeatureSet = "CONSOLIDATED_BILLING" }, 3,
			"OrganizationNotInAllFeaturesModeException", 1},
		{"not the management account", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Organization.ManagementAccount = "666666666666" }, 3,
			"NotOrganizationMasterAccountException", 1},
		{"no organization", "org.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Organization = nil }, 3, "OrganizationsNotInUseException", 1},
		{"five trails already", "accounts.yaml", func(c *config.Config, s *snapshot.Snapshot) {
			for i := range 5 {
				s.Accounts[0].Trails = append(s.Accounts[0].Trails, snapshot.Trail{ARN: "arn:aws:cloudtrail:eu-west-1:333333333333:trail/t" + string(rune('a'+i)),
					HomeRegion: c.HomeRegion})
			}
		}, 2, "MaximumNumberOfTrailsExceededException", 1},
		{"trails not read", "accounts.yaml", func(_ *config.Config, s *snapshot.Snapshot) {
			s.Errors = append(s.Errors, snapshot.CallError{Account: "555555555555", Service: "cloudtrail", Operation: "DescribeTrails", Code: "AccessDenied"})
		}, 3, LiveStateUnknown, 0},
		{"bucket policy not read", "org.yaml", func(c *config.Config, s *snapshot.Snapshot) {
			s.Errors = append(s.Errors, snapshot.CallError{Account: "222222222222", Service: "s3", Operation: "GetBucketPolicy", Resource: c.Bucket, Code: "AccessDenied"})
		}, 0, LiveStateUnknown, 2},
		{"key policy not read", "org.yaml", func(c *config.Config, s *snapshot.Snapshot) {
			s.Keys[0].Policy = ""
			s.Errors = append(s.Errors, snapshot.CallError{Service: "kms", Operation: "GetKeyPolicy", Resource: c.KMSKeyARN, Code: "AccessDeniedException"})
		}, 1, LiveStateUnknown, 2},
		{"reader role not read", "accounts.yaml", func(c *config.Config, s *snapshot.Snapshot) {
			s.Errors = append(s.Errors, snapshot.CallError{Service: "iam", Operation: "GetRole", Resource: c.ReaderRoleARN(), Code: "AccessDenied"})
		}, 1, LiveStateUnknown, 1},
		{"role not read", "accounts.yaml", func(_ *config.Config, s *snapshot.Snapshot) { s.Readers = nil }, 1, LiveStateUnknown, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadConfig(t, tt.file)
			s := freshWorld(c)
			tt.change(c, s)
			p, err := Build(c, s)
			if err != nil {
				t.Fatal(err)
			}
			st := p.Steps[tt.step]
			var codes []string
			for _, pr := range st.Predicted {
				codes = append(codes, pr.Code)
				if pr.Message == "" || pr.Fix == "" {
					t.Errorf("prediction %s lacks a message or fix", pr.Code)
				}
			}
			// A trail may also say the policy it needs is blocked.
			if len(codes) == 0 || codes[0] != tt.code || (len(codes) > 1 && (len(codes) != 2 || codes[1] != "DependencyBlocked")) {
				t.Errorf("step %s predicted %v, want [%s]", st.Title(), codes, tt.code)
			}
			// Nothing else is blocked: the fresh world has no problem.
			if want := max(tt.blocked, 1); len(p.Blocked()) != want {
				t.Errorf("%d steps blocked, want %d", len(p.Blocked()), want)
			}
		})
	}
}

// The foreign Deny makes the evaluator refuse CloudTrail's PutObject; with
// the Deny narrowed to non-service callers the same plan passes.
func TestPredictionFollowsEvaluation(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	s := freshWorld(c)
	narrowed := strings.Replace(denyCloudTrailPut, "%s", c.Bucket, 1)
	narrowed = strings.Replace(narrowed, `"Condition":{`, `"Condition":{"Bool":{"aws:PrincipalIsAWSService":"false"},`, 1)
	s.Bucket.Policy = narrowed
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Blocked(); len(b) != 0 {
		t.Errorf("narrowed deny still predicted to fail: %+v", b[0].Predicted)
	}
	if !strings.Contains(p.Steps[0].Calls[0].Do.Document, "DenyUnencryptedObjectUploads") {
		t.Errorf("the foreign statement is not kept in the policy put: %s", p.Steps[0].Calls[0].Do.Document)
	}
}
