package deploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// bucketSetting makes one bucket setting call.
func bucketSetting(ctx context.Context, c *s3.Client, a plan.Action) error {
	b := aws.String(a.Bucket)
	var err error
	switch a.Op {
	case plan.OpPutBucketVersioning:
		_, err = c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: b,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatus(a.Versioning)}})
	case plan.OpPutPublicAccessBlock:
		p := a.PublicAccessBlock
		if p == nil {
			return fmt.Errorf("PutPublicAccessBlock %s: no configuration", a.Bucket)
		}
		_, err = c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: b, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(p.BlockPublicACLs), IgnorePublicAcls: aws.Bool(p.IgnorePublicACLs),
			BlockPublicPolicy: aws.Bool(p.BlockPublicPolicy), RestrictPublicBuckets: aws.Bool(p.RestrictPublicBuckets)}})
	case plan.OpDeletePublicAccessBlock:
		_, err = c.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: b})
	case plan.OpPutBucketOwnershipControls:
		_, err = c.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{Bucket: b, OwnershipControls: &s3types.OwnershipControls{
			Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnership(a.ObjectOwnership)}}}})
	case plan.OpDeleteBucketOwnershipControls:
		_, err = c.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: b})
	case plan.OpPutBucketEncryption:
		if len(a.Encryption) == 0 {
			return fmt.Errorf("PutBucketEncryption %s: no rules", a.Bucket)
		}
		cfg := &s3types.ServerSideEncryptionConfiguration{}
		for _, r := range a.Encryption {
			d := &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryption(r.SSEAlgorithm)}
			if r.KMSMasterKeyID != "" {
				d.KMSMasterKeyID = aws.String(r.KMSMasterKeyID)
			}
			cfg.Rules = append(cfg.Rules, s3types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: d, BucketKeyEnabled: aws.Bool(r.BucketKeyEnabled)})
		}
		_, err = c.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: b, ServerSideEncryptionConfiguration: cfg})
	case plan.OpDeleteBucketEncryption:
		_, err = c.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: b})
	case plan.OpPutBucketLifecycle:
		if len(a.Lifecycle) == 0 {
			return fmt.Errorf("PutBucketLifecycleConfiguration %s: no rules", a.Bucket)
		}
		rules := make([]s3types.LifecycleRule, 0, len(a.Lifecycle))
		for _, r := range a.Lifecycle {
			rules = append(rules, lifecycleRule(r))
		}
		_, err = c.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{Bucket: b,
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules}})
	case plan.OpDeleteBucketLifecycle:
		_, err = c.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: b})
	case plan.OpPutBucketLogging:
		status := &s3types.BucketLoggingStatus{}
		if l := a.Logging; l != nil {
			status.LoggingEnabled = &s3types.LoggingEnabled{TargetBucket: aws.String(l.TargetBucket), TargetPrefix: aws.String(l.TargetPrefix)}
		}
		_, err = c.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: b, BucketLoggingStatus: status})
	case plan.OpCreateBucket:
		in := &s3.CreateBucketInput{Bucket: b}
		if a.ObjectOwnership != "" {
			in.ObjectOwnership = s3types.ObjectOwnership(a.ObjectOwnership)
		}
		// us-east-1 is the one region named by no location constraint.
		if a.Region != "" && a.Region != "us-east-1" {
			in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(a.Region)}
		}
		_, err = c.CreateBucket(ctx, in)
	case plan.OpDeleteBucket:
		_, err = c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: b})
	case plan.OpPutObjectLockConfiguration:
		l := a.ObjectLock
		if l == nil || !l.Enabled {
			return fmt.Errorf("PutObjectLockConfiguration %s: Object Lock cannot be turned off", a.Bucket)
		}
		cfg := &s3types.ObjectLockConfiguration{ObjectLockEnabled: s3types.ObjectLockEnabledEnabled}
		if l.Mode != "" {
			r := &s3types.DefaultRetention{Mode: s3types.ObjectLockRetentionMode(l.Mode)}
			if l.Days > 0 {
				r.Days = aws.Int32(l.Days)
			}
			if l.Years > 0 {
				r.Years = aws.Int32(l.Years)
			}
			cfg.Rule = &s3types.ObjectLockRule{DefaultRetention: r}
		}
		_, err = c.PutObjectLockConfiguration(ctx, &s3.PutObjectLockConfigurationInput{Bucket: b, ObjectLockConfiguration: cfg})
	default:
		return fmt.Errorf("deploy: unknown operation %q", a.Op)
	}
	return err
}

// lifecycleRule is the SDK form of a rule, its filter rebuilt from the
// flattened prefix, tags and sizes. Transitions are never written: plan
// refuses to rewrite a lifecycle that has them.
func lifecycleRule(r snapshot.LifecycleRule) s3types.LifecycleRule {
	out := s3types.LifecycleRule{Status: s3types.ExpirationStatus(r.Status)}
	if r.ID != "" {
		out.ID = aws.String(r.ID)
	}
	var tags []s3types.Tag
	for k, v := range r.Tags {
		tags = append(tags, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	conds := len(tags)
	if r.ObjectSizeGreaterThan != nil {
		conds++
	}
	if r.ObjectSizeLessThan != nil {
		conds++
	}
	f := &s3types.LifecycleRuleFilter{}
	switch {
	case conds == 0:
		f.Prefix = aws.String(r.Prefix)
	case conds == 1 && r.Prefix == "" && len(tags) == 1:
		f.Tag = &tags[0]
	case conds == 1 && r.Prefix == "":
		f.ObjectSizeGreaterThan, f.ObjectSizeLessThan = r.ObjectSizeGreaterThan, r.ObjectSizeLessThan
	default:
		f.And = &s3types.LifecycleRuleAndOperator{Tags: tags, ObjectSizeGreaterThan: r.ObjectSizeGreaterThan, ObjectSizeLessThan: r.ObjectSizeLessThan}
		if r.Prefix != "" {
			f.And.Prefix = aws.String(r.Prefix)
		}
	}
	out.Filter = f
	if r.ExpirationDays != nil || r.ExpirationDate != nil || r.ExpiredObjectDeleteMarker {
		e := &s3types.LifecycleExpiration{Days: r.ExpirationDays, Date: r.ExpirationDate}
		if r.ExpiredObjectDeleteMarker {
			e.ExpiredObjectDeleteMarker = aws.Bool(true)
		}
		out.Expiration = e
	}
	if r.NoncurrentExpirationDays != nil || r.NewerNoncurrentVersions != nil {
		out.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{NoncurrentDays: r.NoncurrentExpirationDays, NewerNoncurrentVersions: r.NewerNoncurrentVersions}
	}
	if r.AbortIncompleteUploadDays != nil {
		out.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{DaysAfterInitiation: r.AbortIncompleteUploadDays}
	}
	return out
}
