// Command fixgen writes the audit fixtures good.json, bad.json,
// equivalent.json and scp-deny.json from trailwarden's own generated
// policies: go run ./internal/audit/testdata/fixgen (from the repo root).
package main

import (
	"bytes"
	"os"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func i32(v int32) *int32 { return &v }

const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

func main() {
	dir := "internal/audit/testdata/"
	f := must(os.Open(dir + "trailwarden.yaml"))
	c := must(config.Parse(f, "trailwarden.yaml"))
	acc := *c
	acc.Profile = config.ProfileAccelerate

	bucket := must(generator.Bucket(c, nil)).Doc
	accBucket := must(generator.Bucket(&acc, nil)).Doc
	for _, st := range accBucket.Statements {
		if len(st.Sid) > 10 && st.Sid[:10] == "DONOTDELET" {
			bucket.Statements = append(bucket.Statements, st)
		}
	}
	key := must(generator.Key(c, nil)).Doc
	for _, st := range must(generator.Key(&acc, nil)).Doc.Statements {
		if st.Sid == generator.SidAMSDecrypt {
			key.Statements = append(key.Statements, st)
		}
	}
	trust := must(generator.ReaderTrust(c)).Doc
	access := must(generator.ReaderAccess(c)).Doc

	taken := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	delivered := time.Date(2026, 11, 23, 7, 55, 0, 0, time.UTC)
	trailARN := c.TrailARN("111111111111")
	orgTrail := snapshot.Trail{ARN: trailARN, Name: "org-trail", HomeRegion: "us-east-1", S3BucketName: c.Bucket, S3KeyPrefix: "org",
		IsMultiRegion: true, IsOrganization: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true, KMSKeyID: c.KMSKeyARN,
		CloudWatchLogsLogGroupARN: "arn:aws:logs:us-east-1:111111111111:log-group:aws-cloudtrail-logs-org-trail:*",
		Status:                    &snapshot.TrailStatus{IsLogging: true, LatestDeliveryTime: &delivered, LatestDigestDeliveryTime: &delivered, LatestCloudWatchLogsDeliveryTime: &delivered},
		HasInsightSelectors:       true, InsightTypes: []string{"ApiCallRateInsight", "ApiErrorRateInsight"},
		AdvancedEventSelectors: []snapshot.AdvancedEventSelector{
			{Name: "Management events", FieldSelectors: []snapshot.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}},
			{Name: "S3 object-level events but the log bucket's", FieldSelectors: []snapshot.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}},
				{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, {Field: "resources.ARN", NotStartsWith: []string{"arn:aws:s3:::" + c.Bucket + "/"}}}},
		}}
	ids := []string{"111111111111", "222222222222", "333333333333", "444444444444"}
	var accounts []snapshot.Account
	for _, id := range ids {
		accounts = append(accounts, snapshot.Account{ID: id, Regions: []string{"eu-west-1", "us-east-1"}, Trails: []snapshot.Trail{orgTrail}})
	}
	good := &snapshot.Snapshot{Version: 1, TakenAt: taken, Partition: "aws",
		Organization: &snapshot.Organization{ID: c.OrganizationID, ManagementAccount: "111111111111", FeatureSet: "ALL", CloudTrailTrustedAccess: true,
			Accounts: []snapshot.OrgAccount{
				{ID: "111111111111", Name: "management", Status: "ACTIVE", Path: []string{"r-ab12"}},
				{ID: "222222222222", Name: "log-archive", Status: "ACTIVE", Path: []string{"r-ab12", "ou-ab12-security"}},
				{ID: "333333333333", Name: "workload-a", Status: "ACTIVE", Path: []string{"r-ab12", "ou-ab12-workloads"}},
				{ID: "444444444444", Name: "security-tools", Status: "ACTIVE", Path: []string{"r-ab12", "ou-ab12-workloads"}},
			},
			Policies: []snapshot.OrgPolicy{
				{ID: "p-FullAWSAccess", Name: "FullAWSAccess", Type: snapshot.PolicySCP, Document: allowAll, AWSManaged: true,
					Targets: []string{"r-ab12", "ou-ab12-security", "ou-ab12-workloads", "111111111111", "222222222222", "333333333333", "444444444444"}},
				{ID: "p-RCPFullAWSAccess", Name: "RCPFullAWSAccess", Type: snapshot.PolicyRCP, Document: allowAll, AWSManaged: true,
					Targets: []string{"r-ab12", "ou-ab12-security", "ou-ab12-workloads", "111111111111", "222222222222", "333333333333", "444444444444"}},
			}},
		Accounts: accounts,
		Bucket: &snapshot.Bucket{Name: c.Bucket, Account: "222222222222", Region: "us-east-1", Exists: true, Policy: string(policy.Canonical(bucket)),
			Encryption: []snapshot.EncryptionRule{{SSEAlgorithm: "aws:kms", KMSMasterKeyID: c.KMSKeyARN, BucketKeyEnabled: true}},
			Logging:    &snapshot.Logging{TargetBucket: "acme-org-cloudtrail-access-logs", TargetPrefix: "acme-org-cloudtrail/"},
			// No lifecycle: MFA delete cannot be combined with one, and
			// without it every log object is kept.
			ObjectOwnership: "BucketOwnerEnforced", Versioning: "Enabled", MFADelete: "Enabled",
			PublicAccessBlock: &snapshot.PublicAccessBlock{BlockPublicACLs: true, IgnorePublicACLs: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
			ACLGrants:         []snapshot.Grant{{GranteeType: "CanonicalUser", GranteeID: "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be", Permission: "FULL_CONTROL"}}},
		Keys: []snapshot.Key{{ARN: c.KMSKeyARN, Account: "222222222222", Region: "us-east-1", Policy: string(policy.Canonical(key)), State: "Enabled",
			KeySpec: "SYMMETRIC_DEFAULT", KeyManager: "CUSTOMER", RotationEnabled: true}},
		Readers: []snapshot.Role{{ARN: c.ReaderRoleARN(), Name: c.Readers.RoleName, Account: "222222222222", Exists: true,
			TrustPolicy: string(policy.Canonical(trust)), Inline: []snapshot.NamedPolicy{{Name: "trailwarden-log-access", Document: string(policy.Canonical(access))}}}},
	}
	must(0, snapshot.WriteFile(dir+"good.json", good))

	// bad: every rule fails.
	bad := clone(good)
	badTrail := orgTrail
	badTrail.IsMultiRegion, badTrail.IncludeGlobalServiceEvents, badTrail.LogFileValidationEnabled = false, false, false
	badTrail.KMSKeyID, badTrail.CloudWatchLogsLogGroupARN = "", ""
	badTrail.Status = &snapshot.TrailStatus{IsLogging: false, LatestDeliveryError: "AccessDenied", LatestDeliveryTime: &delivered}
	badTrail.AdvancedEventSelectors = nil
	badTrail.HasInsightSelectors, badTrail.InsightTypes = false, nil
	badTrail.EventSelectors = []snapshot.EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true,
		ExcludeManagementEventSources: []string{"kms.amazonaws.com", "rdsdata.amazonaws.com"}}}
	for i := range bad.Accounts {
		bad.Accounts[i].Trails = []snapshot.Trail{badTrail}
	}
	bad.Accounts[2].Trails = []snapshot.Trail{{ARN: "arn:aws:cloudtrail:us-east-1:333333333333:trail/local", Name: "local", HomeRegion: "us-east-1",
		S3BucketName: "workload-a-trail", IsMultiRegion: true, Status: &snapshot.TrailStatus{IsLogging: true}}}
	bad.Bucket.Policy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AWSCloudTrailAclCheck", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::acme-org-cloudtrail"},
    {"Sid": "AWSCloudTrailWrite", "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::acme-org-cloudtrail/AWSLogs/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}},
    {"Sid": "LegacyRegionalDelivery", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::903692715234:root"},
     "Action": ["s3:GetBucketAcl", "s3:PutObject"], "Resource": ["arn:aws:s3:::acme-org-cloudtrail", "arn:aws:s3:::acme-org-cloudtrail/org/AWSLogs/*"]},
    {"Sid": "SharedReads", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-org-cloudtrail/*"}
  ]
}`
	bad.Bucket.Encryption = nil
	bad.Bucket.Logging = nil
	bad.Bucket.Lifecycle = []snapshot.LifecycleRule{{ID: "expire-after-a-year", Status: "Enabled", ExpirationDays: i32(365)}}
	bad.Bucket.ObjectOwnership = "ObjectWriter"
	bad.Bucket.Versioning, bad.Bucket.MFADelete = "", ""
	bad.Bucket.PublicAccessBlock = nil
	bad.Bucket.RequesterPays = true
	bad.Bucket.ACLGrants = append(bad.Bucket.ACLGrants, snapshot.Grant{GranteeType: "Group", GranteeURI: "http://acs.amazonaws.com/groups/global/AllUsers", Permission: "READ"})
	bad.Keys[0].Policy = `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"},{"Sid":"SharedDecrypt","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*"}]}`
	bad.Keys[0].State, bad.Keys[0].RotationEnabled = "Disabled", false
	bad.Readers[0].TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:root"},"Action":"sts:AssumeRole"}]}`
	must(0, snapshot.WriteFile(dir+"bad.json", bad))

	// equivalent: the onboarding guide's grants written differently.
	eq := clone(good)
	var kept []policy.Statement
	for _, st := range bucket.Statements {
		if len(st.Sid) < 10 || st.Sid[:10] != "DONOTDELET" {
			kept = append(kept, st)
		}
	}
	eqBucket := &policy.Document{Version: policy.Version2012, Statements: kept}
	extra := must(policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
	  {"Sid":"AmsConfigReads","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:GetBucketLogging","s3:GetBucketObjectLock*","s3:GetLifecycleConfiguration","s3:GetEncryptionConfiguration"],
	   "Resource":"arn:aws:s3:::acme-org-cloudtrail","Condition":{"StringEquals":{"AWS:PrincipalOrgID":["o-a1b2c3d4e5"]},"StringLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/ams-access-*","arn:aws:iam::444444444444:role/security-analytics"]}}},
	  {"Sid":"AmsAthenaReads","Effect":"Allow","Principal":{"AWS":"*"},"Action":["s3:ListBucket","s3:GetObject"],
	   "Resource":["arn:aws:s3:::acme-org-cloudtrail","arn:aws:s3:::acme-org-cloudtrail/org/AWSLogs/*"],
	   "Condition":{"ForAnyValue:StringLike":{"aws:CalledVia":"athena.*"},"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/ams-access-*","arn:aws:iam::444444444444:role/security-analytics"]}}}]}`)))
	eqBucket.Statements = append(eqBucket.Statements, extra.Statements...)
	eq.Bucket.Policy = string(policy.Canonical(eqBucket))
	var keptKey []policy.Statement
	for _, st := range key.Statements {
		if st.Sid != generator.SidAMSDecrypt {
			keptKey = append(keptKey, st)
		}
	}
	keyExtra := must(policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
	  {"Sid":"AmsDecryptViaAthena","Effect":"Allow","Principal":"*","Action":["kms:Decrypt","kms:Describe*"],"Resource":"*",
	   "Condition":{"ForAnyValue:StringEquals":{"aws:calledvia":["athena.amazonaws.com"]},"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"ArnLike":{"aws:PrincipalArn":["arn:aws:iam::*:role/ams-access-*","arn:aws:iam::444444444444:role/security-analytics"]}}}]}`)))
	eq.Keys[0].Policy = string(policy.Canonical(&policy.Document{Version: policy.Version2012, Statements: append(keptKey, keyExtra.Statements...)}))
	must(0, snapshot.WriteFile(dir+"equivalent.json", eq))

	// scp-deny: an SCP on the workloads OU denies reading the log bucket.
	scp := clone(good)
	scp.Organization.Policies = append(scp.Organization.Policies, snapshot.OrgPolicy{ID: "p-denylogreads", Name: "DenyLogBucketReads", Type: snapshot.PolicySCP,
		Targets:  []string{"ou-ab12-workloads"},
		Document: `{"Version":"2012-10-17","Statement":[{"Sid":"NoCentralLogReads","Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-org-cloudtrail/*"}]}`})
	must(0, snapshot.WriteFile(dir+"scp-deny.json", scp))
}

func clone(s *snapshot.Snapshot) *snapshot.Snapshot {
	var buf bytes.Buffer
	must(0, snapshot.Encode(&buf, s))
	return must(snapshot.Decode(&buf, "clone"))
}
