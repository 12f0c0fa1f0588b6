package awsfake_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

// The bucket settings apply changes round-trip through the SDK: Get
// returns what Put set, Delete makes it "not configured" again, and a
// bucket created through the API has its region, ACLs disabled, its
// public access blocked, and is gone after DeleteBucket.
func TestS3_BucketSettingsAreStateful(t *testing.T) {
	w := awsfake.New()
	w.SetBucketPolicy("logs", "")
	w.SetBucketPolicy("target", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::target/*"}]}`)
	s := awsfake.Start(t, w)
	ctx := context.Background()
	c := s3.NewFromConfig(s.Config("eu-west-1"), func(o *s3.Options) { o.UsePathStyle = true })
	b := aws.String("logs")

	if _, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b}); code(err) != "ServerSideEncryptionConfigurationNotFoundError" {
		t.Fatalf("encryption before any put: %v", err)
	}
	if _, err := c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
		Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{
			SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("arn:aws:kms:eu-west-1:1:key/k")}, BucketKeyEnabled: aws.Bool(true)}}}}); err != nil {
		t.Fatal(err)
	}
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b})
	if err != nil {
		t.Fatal(err)
	}
	r := enc.ServerSideEncryptionConfiguration.Rules[0]
	if r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms || !aws.ToBool(r.BucketKeyEnabled) ||
		aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "arn:aws:kms:eu-west-1:1:key/k" {
		t.Errorf("encryption read back %+v", r)
	}
	if _, err := c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: b}); code(err) != "ServerSideEncryptionConfigurationNotFoundError" {
		t.Errorf("encryption after delete: %v", err)
	}
	if _, err := c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: b, BucketLoggingStatus: &s3types.BucketLoggingStatus{
		LoggingEnabled: &s3types.LoggingEnabled{TargetBucket: aws.String("target"), TargetPrefix: aws.String("logs/")}}}); err != nil {
		t.Fatal(err)
	}
	if l, err := c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: b}); err != nil || l.LoggingEnabled == nil || aws.ToString(l.LoggingEnabled.TargetBucket) != "target" {
		t.Errorf("logging read back %+v %v", l, err)
	}

	nb := aws.String("created")
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: nb, CreateBucketConfiguration: &s3types.CreateBucketConfiguration{
		LocationConstraint: s3types.BucketLocationConstraintEuWest1}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: nb}); code(err) != "BucketAlreadyOwnedByYou" {
		t.Errorf("second create: %v", err)
	}
	if loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: nb}); err != nil || loc.LocationConstraint != "eu-west-1" {
		t.Errorf("location %+v %v", loc, err)
	}
	if o, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: nb}); err != nil ||
		o.OwnershipControls.Rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership of a new bucket %+v %v", o, err)
	}
	if _, err := c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: nb}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: nb}); err == nil {
		t.Error("the deleted bucket still exists")
	}
}

// TestS3_RefusesAsS3Does: the writes S3 refuses are refused with S3's code
// and change nothing.
func TestS3_RefusesAsS3Does(t *testing.T) {
	const ns = `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`
	logOK := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}]}`
	w := awsfake.New()
	w.SetBucketPolicy("central", "")
	w.SetBucketPolicy("no-permission", "")
	w.SetBucketPolicy("far", logOK)
	w.SetBucketPolicy("near", logOK)
	w.Record(awsfake.Key{Service: "s3", Operation: "GetBucketLocation", Resource: "far", Region: "us-east-1"},
		awsfake.Response{Body: `<LocationConstraint ` + ns + `>ap-south-1</LocationConstraint>`})
	w.SetBucketConfig("central", "BucketAcl", `<AccessControlPolicy `+ns+`><Owner><ID>`+awsfake.OwnerCanonicalID+`</ID></Owner><AccessControlList>`+
		`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>`+awsfake.OwnerCanonicalID+`</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>`+
		`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>`+
		`</AccessControlList></AccessControlPolicy>`)
	s := awsfake.Start(t, w)
	ctx := context.Background()
	c := s3.NewFromConfig(s.Config("eu-west-1"), func(o *s3.Options) { o.UsePathStyle = true })
	central := aws.String("central")

	enforce := &s3.PutBucketOwnershipControlsInput{Bucket: central, OwnershipControls: &s3types.OwnershipControls{
		Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}}
	if _, err := c.PutBucketOwnershipControls(ctx, enforce); code(err) != "InvalidBucketAclWithObjectOwnership" {
		t.Errorf("BucketOwnerEnforced with an AllUsers grant: %v", err)
	}
	if w.BucketConfig("central", "BucketOwnershipControls") != "" {
		t.Error("the refused ownership controls were stored")
	}
	if _, err := c.PutBucketAcl(ctx, &s3.PutBucketAclInput{Bucket: central, ACL: s3types.BucketCannedACLPrivate}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketOwnershipControls(ctx, enforce); err != nil {
		t.Errorf("BucketOwnerEnforced after the ACL was reset: %v", err)
	}

	logTo := func(target string) error {
		_, err := c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: central, BucketLoggingStatus: &s3types.BucketLoggingStatus{
			LoggingEnabled: &s3types.LoggingEnabled{TargetBucket: aws.String(target), TargetPrefix: aws.String("central/")}}})
		return err
	}
	for target, want := range map[string]string{"missing": "InvalidTargetBucketForLogging", "far": "CrossLocationLoggingProhibitted",
		"no-permission": "InvalidTargetBucketForLogging", "near": ""} {
		if err := logTo(target); code(err) != want {
			t.Errorf("logging to %s: %v, want %q", target, err, want)
		}
	}

	lock := &s3.PutObjectLockConfigurationInput{Bucket: central, ObjectLockConfiguration: &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled,
		Rule: &s3types.ObjectLockRule{DefaultRetention: &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionModeCompliance, Days: aws.Int32(365)}}}}
	if _, err := c.PutObjectLockConfiguration(ctx, lock); code(err) != "InvalidBucketState" {
		t.Errorf("Object Lock without versioning: %v", err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: central, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObjectLockConfiguration(ctx, lock); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: central})
	if err != nil || got.ObjectLockConfiguration.Rule.DefaultRetention.Mode != s3types.ObjectLockRetentionModeCompliance {
		t.Fatalf("Object Lock read back %+v %v", got, err)
	}
	if _, err := c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: central, VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}); code(err) != "InvalidBucketState" {
		t.Errorf("suspending versioning under Object Lock: %v", err)
	}
}
