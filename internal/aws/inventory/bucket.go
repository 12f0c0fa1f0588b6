package inventory

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// notConfigured are the S3 errors that mean "this setting is not set".
var notConfigured = []string{"NoSuchBucketPolicy", "ServerSideEncryptionConfigurationNotFoundError", "NoSuchLifecycleConfiguration",
	"OwnershipControlsNotFoundError", "NoSuchPublicAccessBlockConfiguration", "ObjectLockConfigurationNotFoundError"}

// bucket reads the central bucket from the log-archive account.
func (r *reader) bucket(ctx context.Context) *snapshot.Bucket {
	if r.cfg.Bucket == "" {
		return nil
	}
	return r.bucketNamed(ctx, r.cfg.Bucket)
}

// accessLogTarget reads the bucket the config sends server access logs
// to, which plan creates or completes; nil when access logging is not
// managed.
func (r *reader) accessLogTarget(ctx context.Context) *snapshot.Bucket {
	if r.cfg.Bucket == "" || r.cfg.Desired().AccessLogBucket == "" {
		return nil
	}
	return r.bucketNamed(ctx, r.cfg.Desired().AccessLogBucket)
}

// bucketNamed reads one bucket of the log-archive account.
func (r *reader) bucketNamed(ctx context.Context, bucketName string) *snapshot.Bucket {
	acct, region := r.cfg.LogArchiveAccount, r.cfg.EffectiveBucketRegion()
	b := &snapshot.Bucket{Name: bucketName, Account: acct, Region: region}
	cfg, ok := r.at(ctx, acct, region)
	if !ok {
		return b
	}
	c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = r.endpoint != "" })
	name := aws.String(b.Name)
	ce := func(op string) snapshot.CallError {
		return snapshot.CallError{Account: acct, Region: region, Service: "s3", Operation: op, Resource: b.Name}
	}
	// try runs one Get call: a "not configured" answer is no error.
	try := func(op string, err error) bool {
		if err == nil {
			return true
		}
		if !isCode(err, notConfigured...) {
			r.fail(err, ce(op))
		}
		return false
	}

	_, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: name})
	switch {
	case isCode(err, "NotFound", "NoSuchBucket"):
		return b // Exists stays false
	case err != nil:
		r.fail(err, ce("HeadBucket")) // e.g. 403: it exists, we may still read parts
	}
	b.Exists = true
	if loc, err := c.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: name}); try("GetBucketLocation", err) {
		b.Region = bucketRegion(string(loc.LocationConstraint))
	}
	if p, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: name}); try("GetBucketPolicy", err) {
		b.Policy = aws.ToString(p.Policy)
	}
	if e, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: name}); try("GetBucketEncryption", err) && e.ServerSideEncryptionConfiguration != nil {
		for _, rule := range e.ServerSideEncryptionConfiguration.Rules {
			er := snapshot.EncryptionRule{BucketKeyEnabled: aws.ToBool(rule.BucketKeyEnabled)}
			if d := rule.ApplyServerSideEncryptionByDefault; d != nil {
				er.SSEAlgorithm, er.KMSMasterKeyID = string(d.SSEAlgorithm), aws.ToString(d.KMSMasterKeyID)
			}
			b.Encryption = append(b.Encryption, er)
		}
	}
	if l, err := c.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: name}); try("GetBucketLogging", err) && l.LoggingEnabled != nil {
		b.Logging = &snapshot.Logging{TargetBucket: aws.ToString(l.LoggingEnabled.TargetBucket), TargetPrefix: aws.ToString(l.LoggingEnabled.TargetPrefix)}
	}
	if l, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: name}); try("GetBucketLifecycleConfiguration", err) {
		for _, rule := range l.Rules {
			b.Lifecycle = append(b.Lifecycle, lifecycleRule(rule))
		}
	}
	if o, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: name}); try("GetBucketOwnershipControls", err) && o.OwnershipControls != nil {
		for _, rule := range o.OwnershipControls.Rules {
			b.ObjectOwnership = string(rule.ObjectOwnership)
		}
	}
	if v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: name}); try("GetBucketVersioning", err) {
		b.Versioning, b.MFADelete = string(v.Status), string(v.MFADelete)
	}
	if ol, err := c.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: name}); try("GetObjectLockConfiguration", err) && ol.ObjectLockConfiguration != nil {
		lock := &snapshot.ObjectLock{Enabled: ol.ObjectLockConfiguration.ObjectLockEnabled == s3types.ObjectLockEnabledEnabled}
		if rule := ol.ObjectLockConfiguration.Rule; rule != nil && rule.DefaultRetention != nil {
			lock.Mode = string(rule.DefaultRetention.Mode)
			lock.Days, lock.Years = aws.ToInt32(rule.DefaultRetention.Days), aws.ToInt32(rule.DefaultRetention.Years)
		}
		b.ObjectLock = lock
	}
	if p, err := c.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: name}); try("GetPublicAccessBlock", err) && p.PublicAccessBlockConfiguration != nil {
		pc := p.PublicAccessBlockConfiguration
		b.PublicAccessBlock = &snapshot.PublicAccessBlock{BlockPublicACLs: aws.ToBool(pc.BlockPublicAcls), IgnorePublicACLs: aws.ToBool(pc.IgnorePublicAcls),
			BlockPublicPolicy: aws.ToBool(pc.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(pc.RestrictPublicBuckets)}
	}
	b.AccountPublicAccessBlock = r.accountPublicAccessBlock(ctx, cfg, acct, region)
	if p, err := c.GetBucketRequestPayment(ctx, &s3.GetBucketRequestPaymentInput{Bucket: name}); try("GetBucketRequestPayment", err) {
		b.RequesterPays = p.Payer == s3types.PayerRequester
	}
	if acl, err := c.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: name}); try("GetBucketAcl", err) {
		for _, g := range acl.Grants {
			gr := snapshot.Grant{Permission: string(g.Permission)}
			if g.Grantee != nil {
				gr.GranteeType, gr.GranteeID, gr.GranteeURI = string(g.Grantee.Type), aws.ToString(g.Grantee.ID), aws.ToString(g.Grantee.URI)
				if gr.GranteeID == "" {
					gr.GranteeID = aws.ToString(g.Grantee.EmailAddress)
				}
			}
			b.ACLGrants = append(b.ACLGrants, gr)
		}
	}
	return b
}

// accountPublicAccessBlock reads the bucket owner's account-level block
// (S3 Control), which applies to every bucket of the account; nil when none
// is set or the call failed.
func (r *reader) accountPublicAccessBlock(ctx context.Context, cfg aws.Config, acct, region string) *snapshot.PublicAccessBlock {
	c := s3control.NewFromConfig(cfg, func(o *s3control.Options) {
		if r.endpoint != "" {
			// A custom endpoint (tests) is one host: S3 Control's rules
			// would put the account id in front of it.
			o.EndpointResolverV2 = fixedEndpoint(r.endpoint)
		}
	})
	p, err := c.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(acct)})
	if err != nil {
		if !isCode(err, "NoSuchPublicAccessBlockConfiguration") {
			r.fail(err, snapshot.CallError{Account: acct, Region: region, Service: "s3control", Operation: "GetPublicAccessBlock", Resource: "account:" + acct})
		}
		return nil
	}
	pc := p.PublicAccessBlockConfiguration
	if pc == nil {
		return nil
	}
	return &snapshot.PublicAccessBlock{BlockPublicACLs: aws.ToBool(pc.BlockPublicAcls), IgnorePublicACLs: aws.ToBool(pc.IgnorePublicAcls),
		BlockPublicPolicy: aws.ToBool(pc.BlockPublicPolicy), RestrictPublicBuckets: aws.ToBool(pc.RestrictPublicBuckets)}
}

// fixedEndpoint resolves every S3 Control call to one base URL.
type fixedEndpoint string

func (f fixedEndpoint) ResolveEndpoint(context.Context, s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	u, err := url.Parse(string(f))
	if err != nil {
		return smithyendpoints.Endpoint{}, fmt.Errorf("endpoint %q: %w", string(f), err)
	}
	return smithyendpoints.Endpoint{URI: *u}, nil
}

// bucketRegion maps GetBucketLocation's constraint to a region: empty is
// us-east-1 and "EU" is the legacy name of eu-west-1.
func bucketRegion(c string) string {
	switch c {
	case "":
		return "us-east-1"
	case "EU":
		return "eu-west-1"
	}
	return c
}

// lifecycleRule flattens a rule's filter (legacy Prefix, Filter.Prefix,
// Filter.Tag, Filter.And) and its actions.
func lifecycleRule(in s3types.LifecycleRule) snapshot.LifecycleRule {
	out := snapshot.LifecycleRule{ID: aws.ToString(in.ID), Status: string(in.Status), Prefix: aws.ToString(in.Prefix)} //nolint:staticcheck // the legacy Prefix is still returned for old rules
	tags := map[string]string{}
	if f := in.Filter; f != nil {
		if f.Prefix != nil {
			out.Prefix = aws.ToString(f.Prefix)
		}
		if f.Tag != nil {
			tags[aws.ToString(f.Tag.Key)] = aws.ToString(f.Tag.Value)
		}
		out.ObjectSizeGreaterThan, out.ObjectSizeLessThan = f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
		if a := f.And; a != nil {
			if a.Prefix != nil {
				out.Prefix = aws.ToString(a.Prefix)
			}
			for _, t := range a.Tags {
				tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
			}
			if a.ObjectSizeGreaterThan != nil {
				out.ObjectSizeGreaterThan = a.ObjectSizeGreaterThan
			}
			if a.ObjectSizeLessThan != nil {
				out.ObjectSizeLessThan = a.ObjectSizeLessThan
			}
		}
	}
	if len(tags) > 0 {
		out.Tags = tags
	}
	if e := in.Expiration; e != nil {
		out.ExpirationDays, out.ExpirationDate = e.Days, utc(e.Date)
		out.ExpiredObjectDeleteMarker = aws.ToBool(e.ExpiredObjectDeleteMarker)
	}
	if n := in.NoncurrentVersionExpiration; n != nil {
		out.NoncurrentExpirationDays, out.NewerNoncurrentVersions = n.NoncurrentDays, n.NewerNoncurrentVersions
	}
	if a := in.AbortIncompleteMultipartUpload; a != nil {
		out.AbortIncompleteUploadDays = a.DaysAfterInitiation
	}
	for _, t := range in.Transitions {
		if t.Days != nil {
			out.TransitionDays = append(out.TransitionDays, *t.Days)
		}
	}
	return out
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
