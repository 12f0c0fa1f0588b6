package demo

import (
	"fmt"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// The demo organization's live configuration, so that audit and plan can
// be tried offline next to verify and pull: a trailwarden.yaml describing
// it and a snapshot of it as `trailwarden snapshot` would take it. The
// policies are trailwarden's own generated ones; three settings are
// planted wrong so that audit has something to find.

// Planted are the findings the demo snapshot is built to produce.
var Planted = []string{
	"TW-BKT-02: server access logging is off",
	"TW-BKT-03: the lifecycle expires log objects after 365 days (accelerate asks for 18 months)",
	"TW-KEY-01: the KMS key does not rotate",
}

// readerRole is the exact reader role the demo config names, in the last
// member account (a security-tools account).
func (o *Org) readerRole() string {
	return fmt.Sprintf("arn:aws:iam::%s:role/security-analytics", o.Accounts[len(o.Accounts)-1])
}

// Config is the trailwarden.yaml of the demo organization: an organization
// trail delivering to the central bucket with SSE-KMS, read by one role.
func (o *Org) Config() *config.Config {
	c := config.Default()
	c.OrganizationID, c.ManagementAccount, c.LogArchiveAccount = o.ID, o.Management, o.LogArchive
	c.Bucket, c.KeyPrefix, c.HomeRegion = o.Bucket, o.Prefix, o.HomeRegion
	c.Trail = config.Trail{Name: o.Trail, Organization: true}
	c.KMSKeyARN = o.KeyARN
	c.Readers.Roles = []string{o.readerRole()}
	c.AWS.Regions = append([]string(nil), o.Regions...)
	return &c
}

// Snapshot is the demo organization's live configuration at time at, with
// the findings of Planted.
func (o *Org) Snapshot(at time.Time) (*snapshot.Snapshot, error) {
	c := o.Config()
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("demo config: %w", err)
	}
	bucket, err := generator.Bucket(c, nil)
	if err != nil {
		return nil, fmt.Errorf("demo bucket policy: %w", err)
	}
	key, err := generator.Key(c, nil)
	if err != nil {
		return nil, fmt.Errorf("demo key policy: %w", err)
	}
	trust, err := generator.ReaderTrust(c)
	if err != nil {
		return nil, fmt.Errorf("demo reader trust: %w", err)
	}
	access, err := generator.ReaderAccess(c)
	if err != nil {
		return nil, fmt.Errorf("demo reader access: %w", err)
	}
	at = at.UTC().Truncate(time.Second)
	delivered := at.Add(-5 * time.Minute)
	trail := snapshot.Trail{ARN: o.TrailARN(), Name: o.Trail, HomeRegion: o.HomeRegion, S3BucketName: o.Bucket, S3KeyPrefix: o.Prefix,
		IsMultiRegion: true, IsOrganization: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true, KMSKeyID: o.KeyARN,
		CloudWatchLogsLogGroupARN: fmt.Sprintf("arn:aws:logs:%s:%s:log-group:aws-cloudtrail-logs-%s:*", o.HomeRegion, o.Management, o.Trail),
		Status: &snapshot.TrailStatus{IsLogging: true, LatestDeliveryTime: &delivered, LatestDigestDeliveryTime: &delivered,
			LatestCloudWatchLogsDeliveryTime: &delivered},
		EventSelectors: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}
	const root = "r-d3m0"
	s := &snapshot.Snapshot{Version: snapshot.SchemaVersion, TakenAt: at, Partition: "aws",
		Organization: &snapshot.Organization{ID: o.ID, ManagementAccount: o.Management, FeatureSet: "ALL", CloudTrailTrustedAccess: true},
		Bucket: &snapshot.Bucket{Name: o.Bucket, Account: o.LogArchive, Region: o.HomeRegion, Exists: true,
			Policy:     string(policy.Canonical(bucket.Doc)),
			Encryption: []snapshot.EncryptionRule{{SSEAlgorithm: "aws:kms", KMSMasterKeyID: o.KeyARN, BucketKeyEnabled: true}},
			// Planted: no server access logging, and a year of retention.
			Lifecycle:       []snapshot.LifecycleRule{{ID: "expire-after-a-year", Status: "Enabled", Prefix: o.logRoot(), ExpirationDays: days(365)}},
			ObjectOwnership: "BucketOwnerEnforced", Versioning: "Enabled", MFADelete: "Disabled",
			PublicAccessBlock: &snapshot.PublicAccessBlock{BlockPublicACLs: true, IgnorePublicACLs: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}},
		// No access log bucket yet: plan creates it.
		AccessLogTarget: &snapshot.Bucket{Name: o.Bucket + "-access-logs", Account: o.LogArchive, Region: o.HomeRegion},
		// Planted: rotation off.
		Keys: []snapshot.Key{{ARN: o.KeyARN, Account: o.LogArchive, Region: o.HomeRegion, Policy: string(policy.Canonical(key.Doc)),
			State: "Enabled", KeySpec: "SYMMETRIC_DEFAULT", KeyManager: "CUSTOMER"}},
		Readers: []snapshot.Role{{ARN: c.ReaderRoleARN(), Name: c.Readers.RoleName, Account: o.LogArchive, Exists: true,
			TrustPolicy: string(policy.Canonical(trust.Doc)),
			Inline:      []snapshot.NamedPolicy{{Name: "trailwarden-log-access", Document: string(policy.Canonical(access.Doc))}}}},
	}
	targets := []string{root}
	for _, a := range o.Accounts {
		s.Organization.Accounts = append(s.Organization.Accounts, snapshot.OrgAccount{ID: a, Status: "ACTIVE", Path: []string{root}})
		s.Accounts = append(s.Accounts, snapshot.Account{ID: a, Regions: append([]string(nil), o.Regions...), Trails: []snapshot.Trail{trail}})
		targets = append(targets, a)
	}
	const allowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`
	s.Organization.Policies = []snapshot.OrgPolicy{
		{ID: "p-FullAWSAccess", Name: "FullAWSAccess", Type: snapshot.PolicySCP, Document: allowAll, Targets: targets, AWSManaged: true},
		{ID: "p-RCPFullAWSAccess", Name: "RCPFullAWSAccess", Type: snapshot.PolicyRCP, Document: allowAll, Targets: targets, AWSManaged: true},
	}
	return s, nil
}

// logRoot is where the trail's objects start: the prefix, then AWSLogs/.
func (o *Org) logRoot() string {
	if o.Prefix == "" {
		return "AWSLogs/"
	}
	return o.Prefix + "/AWSLogs/"
}

func days(n int32) *int32 { return &n }
