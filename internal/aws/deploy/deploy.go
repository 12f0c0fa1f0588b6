// Package deploy carries out plan actions with the AWS SDK: bucket and key
// policies, the bucket's settings, the reader role, and trails. It is plan.Executor for real
// accounts. Each account is reached by assuming the configured access role,
// unless it is the caller's own; CloudTrail's mutating APIs are held to
// their quota of one call per second per account and region, and
// throttling is retried by the SDK's retryer.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/plan"
)

// TrailCallInterval is the gap CloudTrail's quota of one mutating call per
// second (per account and region: "All other APIs ... 1 TPS" in the
// CloudTrail quotas) asks for.
const TrailCallInterval = time.Second

// iamRegion signs IAM requests; IAM is global.
const iamRegion = "us-east-1"

// Options say how to reach the accounts.
type Options struct {
	// Profile is a shared-config profile for the base credentials.
	Profile string
	// AccessRole is the role name assumed in every account other than the
	// caller's; "" uses the base credentials everywhere.
	AccessRole string
	// Partition of the role ARNs ("aws" when empty).
	Partition string
	// Endpoint sends every request to one URL (tests; S3 path-style).
	Endpoint   string
	MaxRetries int
	// Timeout is how long a call may go without progress before it is
	// retried, then fails with session.ErrStalled; 0 means
	// session.DefaultTimeout.
	Timeout time.Duration
	// TrailInterval overrides TrailCallInterval (tests).
	TrailInterval time.Duration
	// Retryer overrides the SDK's retryer (tests).
	Retryer func() aws.Retryer
}

// Writer is a plan.Executor; it is safe for concurrent use.
type Writer struct {
	o        Options
	endpoint string
	base     aws.Config
	caller   string

	mu       sync.Mutex
	accounts map[string]aws.Config
	// limits hold CloudTrail's changes to its rate, per account and region.
	limits map[string]*tokenBucket
}

var _ plan.Executor = (*Writer)(nil)

// New loads the base credentials and asks STS whose they are, so that the
// caller's own account is used without assuming a role.
func New(ctx context.Context, o Options) (*Writer, error) {
	if o.Partition == "" {
		o.Partition = "aws"
	}
	if o.TrailInterval == 0 {
		o.TrailInterval = TrailCallInterval
	}
	base, endpoint, err := session.Load(ctx, session.Options{Profile: o.Profile, Endpoint: o.Endpoint, MaxRetries: o.MaxRetries, Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	w := &Writer{o: o, endpoint: endpoint, base: w0(base, o), accounts: map[string]aws.Config{}, limits: map[string]*tokenBucket{}}
	cfg := w.base.Copy()
	if cfg.Region == "" {
		cfg.Region = iamRegion
	}
	id, err := sts.NewFromConfig(cfg, w.stsOpts).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("identify the caller: %w", short(err))
	}
	w.caller = aws.ToString(id.Account)
	return w, nil
}

func w0(cfg aws.Config, o Options) aws.Config {
	if o.Retryer != nil {
		cfg.Retryer = o.Retryer
	}
	return cfg
}

// Caller is the account of the base credentials.
func (w *Writer) Caller() string { return w.caller }

func (w *Writer) stsOpts(o *sts.Options) {
	if w.endpoint != "" {
		o.BaseEndpoint = aws.String(w.endpoint)
	}
}

// config returns the configuration for account in region, assuming the
// access role into any account but the caller's.
func (w *Writer) config(account, region string) aws.Config {
	w.mu.Lock()
	cfg, ok := w.accounts[account]
	w.mu.Unlock()
	if !ok {
		cfg = w.base
		if account != w.caller && w.o.AccessRole != "" {
			// The role is assumed with the base credentials through the
			// same endpoint as every other call.
			base := w.base.Copy()
			if w.endpoint != "" {
				base.BaseEndpoint = aws.String(w.endpoint)
			}
			cfg = session.InAccount(base, w.o.Partition, account, w.o.AccessRole)
			cfg.BaseEndpoint = w.base.BaseEndpoint
		}
		w.mu.Lock()
		w.accounts[account] = cfg
		w.mu.Unlock()
	}
	cfg = cfg.Copy()
	cfg.Region = region
	if w.endpoint != "" {
		cfg.BaseEndpoint = aws.String(w.endpoint)
	}
	return cfg
}

// Do makes the call a describes.
func (w *Writer) Do(ctx context.Context, a plan.Action) error {
	region := a.Region
	switch a.Op {
	case plan.OpCreateRole, plan.OpUpdateAssumeRolePolicy, plan.OpPutRolePolicy, plan.OpDeleteRolePolicy, plan.OpDeleteRole:
		region = iamRegion
	}
	cfg := w.config(a.Account, region)
	var err error
	switch a.Op {
	case plan.OpPutBucketPolicy, plan.OpDeleteBucketPolicy:
		err = w.bucket(ctx, cfg, a)
	case plan.OpPutBucketVersioning, plan.OpPutPublicAccessBlock, plan.OpDeletePublicAccessBlock, plan.OpPutBucketOwnershipControls,
		plan.OpDeleteBucketOwnershipControls, plan.OpPutBucketEncryption, plan.OpDeleteBucketEncryption, plan.OpPutBucketLifecycle,
		plan.OpDeleteBucketLifecycle, plan.OpPutBucketLogging, plan.OpCreateBucket, plan.OpDeleteBucket, plan.OpPutObjectLockConfiguration:
		err = bucketSetting(ctx, w.s3(cfg), a)
	case plan.OpPutKeyPolicy:
		_, err = kms.NewFromConfig(cfg).PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(a.KeyARN), Policy: aws.String(a.Document),
			PolicyName: aws.String("default")})
	case plan.OpCreateRole, plan.OpUpdateAssumeRolePolicy, plan.OpPutRolePolicy, plan.OpDeleteRolePolicy, plan.OpDeleteRole:
		err = role(ctx, iam.NewFromConfig(cfg), a)
	default:
		key := a.Account + "/" + region
		// Every attempt, retries included, waits for its token right
		// before it is sent: what CloudTrail counts is what arrives.
		err = trail(ctx, cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) {
			o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
				return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("trailwardenPace",
					func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
						if err := w.pace(ctx, key); err != nil {
							return middleware.FinalizeOutput{}, middleware.Metadata{}, err
						}
						return next.HandleFinalize(ctx, in)
					}), middleware.After)
			})
		}), a)
	}
	return short(err)
}

func (w *Writer) s3(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = w.endpoint != "" })
}

func (w *Writer) bucket(ctx context.Context, cfg aws.Config, a plan.Action) error {
	c := w.s3(cfg)
	if a.Op == plan.OpDeleteBucketPolicy {
		_, err := c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(a.Bucket)})
		return err
	}
	_, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(a.Bucket), Policy: aws.String(a.Document)})
	return err
}

// pace waits for a token of key's bucket (one account and region).
func (w *Writer) pace(ctx context.Context, key string) error {
	w.mu.Lock()
	b := w.limits[key]
	if b == nil {
		b = newTokenBucket(w.o.TrailInterval, TrailBurst)
		w.limits[key] = b
	}
	wait := b.reserve(time.Now())
	w.mu.Unlock()
	if wait <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// TrailBurst is how many CloudTrail changes an account and region may
// make at once before the one-per-interval rate holds them back: one, as
// the documented quota is a plain one per second.
const TrailBurst = 1

// tokenBucket is a token bucket: a token every interval, at most burst
// kept. A call that finds none reserves the next one, so callers queue in
// order and the rate holds however many wait.
type tokenBucket struct {
	interval time.Duration
	burst    float64
	tokens   float64
	last     time.Time
}

func newTokenBucket(interval time.Duration, burst int) *tokenBucket {
	return &tokenBucket{interval: interval, burst: float64(burst), tokens: float64(burst)}
}

// reserve takes a token at now and returns how long to wait for it.
func (b *tokenBucket) reserve(now time.Time) time.Duration {
	if !b.last.IsZero() {
		b.tokens = min(b.burst, b.tokens+float64(now.Sub(b.last))/float64(b.interval))
	}
	b.last = now
	b.tokens--
	if b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens * float64(b.interval))
}

// APIError is AWS's error code and message, without the SDK's request
// details.
type APIError struct {
	Code, Message string
	err           error
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }
func (e *APIError) Unwrap() error { return e.err }

// short turns an SDK error into its AWS code and message.
func short(err error) error {
	var ae smithy.APIError
	if err == nil || !errors.As(err, &ae) {
		return err
	}
	return &APIError{Code: ae.ErrorCode(), Message: ae.ErrorMessage(), err: err}
}
