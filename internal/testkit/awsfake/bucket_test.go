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
