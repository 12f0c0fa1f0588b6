// Package inventory reads a live CloudTrail pipeline into a snapshot: the
// organization (accounts, paths, SCPs and RCPs, CloudTrail trusted access),
// every source account's trails in every enabled region, the central
// bucket's configuration, every KMS key that encrypts its log objects and
// the reader roles.
//
// It only reads. Each account other than the caller's is reached by
// assuming the config's aws.access_role. A call that fails (a missing
// permission, throttling that outlasts the retries) is recorded in
// Snapshot.Errors and leaves its field empty; it never stops the rest.
// Results are sorted, so two reads of the same configuration are equal.
package inventory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// Defaults of Options.
const (
	DefaultJobs = 8
	// DefaultMaxRetries is generous: a snapshot of a large organization
	// makes thousands of calls and control-plane APIs throttle early.
	DefaultMaxRetries = 9
)

// Options tune a read.
type Options struct {
	Profile string
	// Endpoint sends every call to one URL (tests: awsfake).
	Endpoint   string
	Jobs       int // concurrent calls; 0 = DefaultJobs
	MaxRetries int // retries per call after the first attempt; 0 = DefaultMaxRetries
	// MaxBackoff caps the retry backoff (0 = the SDK's 20s); tests cut it.
	MaxBackoff time.Duration
	// Timeout is how long a call may go without progress before it is
	// retried, then fails with session.ErrStalled; 0 means
	// session.DefaultTimeout.
	Timeout time.Duration
	// Progress, when set, is called as each step finishes.
	Progress func(Progress)
}

// Progress says how far a read is.
type Progress struct {
	Step        string // "organization", "regions", "trails", "details", "keys"
	Done, Total int
}

// Read reads the configuration cfg describes. The error is for what stops
// the whole read (no credentials, canceled context); failed calls are in
// the snapshot's Errors.
func Read(ctx context.Context, cfg *config.Config, o Options) (*snapshot.Snapshot, error) {
	r, err := newReader(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	return r.read(ctx)
}

// newReader loads the AWS configuration and finds the caller's account.
func newReader(ctx context.Context, cfg *config.Config, o Options) (*reader, error) {
	if o.Jobs < 0 || o.MaxRetries < 0 {
		return nil, fmt.Errorf("read: jobs and retries must not be negative")
	}
	if o.Jobs == 0 {
		o.Jobs = DefaultJobs
	}
	if o.MaxRetries == 0 {
		o.MaxRetries = DefaultMaxRetries
	}
	base, endpoint, err := session.Load(ctx, session.Options{Region: cfg.HomeRegion, Profile: o.Profile, Endpoint: o.Endpoint, Timeout: o.Timeout})
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		base.BaseEndpoint = aws.String(endpoint)
	}
	base.Retryer = retryer(o.MaxRetries+1, o.MaxBackoff)
	r := &reader{cfg: cfg, opts: o, base: base, endpoint: endpoint, partition: cfg.Partition(), creds: map[string]*access{}}
	id, err := sts.NewFromConfig(base).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("read: who am I (sts:GetCallerIdentity): %w", err)
	}
	r.caller = aws.ToString(id.Account)
	return r, nil
}

// retryer is the SDK's standard retryer with more attempts and without the
// client-side retry quota, which a long read under throttling would drain;
// a stalled call still stops after session.StallAttempts.
func retryer(attempts int, maxBackoff time.Duration) func() aws.Retryer {
	return func() aws.Retryer {
		var r aws.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.RateLimiter = ratelimit.None
		})
		if maxBackoff > 0 {
			r = retry.AddWithMaxBackoffDelay(r, maxBackoff)
		}
		// Throttling gets every attempt; a stalled endpoint does not, or
		// each call to it would wait attempts x the idle limit.
		return session.LimitStallRetries(r)
	}
}

type reader struct {
	cfg       *config.Config
	opts      Options
	base      aws.Config
	endpoint  string
	partition string
	caller    string

	mu    sync.Mutex
	creds map[string]*access
	errs  []snapshot.CallError
}

// access is one account's credentials, assumed once.
type access struct {
	once sync.Once
	cfg  aws.Config
	ok   bool
}

// account returns the configuration that acts in account, assuming the
// access role unless it is the caller's own account. A failed AssumeRole
// is recorded once and the account's calls are skipped.
func (r *reader) account(ctx context.Context, account string) (aws.Config, bool) {
	r.mu.Lock()
	a := r.creds[account]
	if a == nil {
		a = &access{}
		r.creds[account] = a
	}
	r.mu.Unlock()
	a.once.Do(func() {
		a.cfg = r.base.Copy()
		if account == r.caller || r.cfg.AWS.AccessRole == "" {
			a.ok = true
			return
		}
		role := fmt.Sprintf("arn:%s:iam::%s:role/%s", r.partition, account, r.cfg.AWS.AccessRole)
		a.cfg = session.InAccount(r.base, r.partition, account, r.cfg.AWS.AccessRole)
		if _, err := a.cfg.Credentials.Retrieve(ctx); err != nil {
			r.fail(err, snapshot.CallError{Account: account, Service: "sts", Operation: "AssumeRole", Resource: role})
			return
		}
		a.ok = true
	})
	return a.cfg, a.ok
}

// at is account's configuration in region.
func (r *reader) at(ctx context.Context, account, region string) (aws.Config, bool) {
	c, ok := r.account(ctx, account)
	c.Region = region
	return c, ok
}

// globalRegion is where the partition's global services (IAM,
// Organizations, Account) are signed.
func (r *reader) globalRegion() string {
	switch r.partition {
	case "aws-cn":
		return "cn-northwest-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	}
	return "us-east-1"
}

// fail records a failed call. Context cancellation is not a call error.
func (r *reader) fail(err error, ce snapshot.CallError) {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	ce.Code, ce.Message = errorCode(err)
	r.mu.Lock()
	r.errs = append(r.errs, ce)
	r.mu.Unlock()
}

// errorCode is the AWS error code and message of err.
func errorCode(err error) (string, string) {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg := ae.ErrorMessage()
		if msg == "" {
			msg = ae.Error()
		}
		return ae.ErrorCode(), msg
	}
	return "RequestError", err.Error()
}

// isCode reports whether err is an AWS error with one of codes.
func isCode(err error, codes ...string) bool {
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode() == c {
			return true
		}
	}
	return false
}

// each runs fn for 0..n-1 with at most Jobs at once. fn records its own
// call errors; each returns only the context's error.
func (r *reader) each(ctx context.Context, step string, n int, fn func(ctx context.Context, i int)) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.opts.Jobs)
	var mu sync.Mutex
	done := 0
	for i := 0; i < n; i++ {
		g.Go(func() error {
			if gctx.Err() != nil {
				return gctx.Err()
			}
			fn(gctx, i)
			if r.opts.Progress != nil {
				mu.Lock()
				done++
				r.opts.Progress(Progress{Step: step, Done: done, Total: n})
				mu.Unlock()
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func (r *reader) read(ctx context.Context) (*snapshot.Snapshot, error) {
	s := &snapshot.Snapshot{Version: snapshot.SchemaVersion, TakenAt: time.Now().UTC().Truncate(time.Second), Partition: r.partition}
	var err error
	if s.Organization, err = r.organization(ctx); err != nil {
		return nil, err
	}
	if s.Accounts, err = r.trails(ctx, r.sourceAccounts(s.Organization)); err != nil {
		return nil, err
	}
	var bucket, logTarget *snapshot.Bucket
	var readers []snapshot.Role
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		bucket = r.bucket(gctx)
		if gctx.Err() == nil {
			logTarget = r.accessLogTarget(gctx)
		}
		return gctx.Err()
	})
	g.Go(func() error {
		var err error
		readers, err = r.readers(gctx)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	s.Bucket, s.AccessLogTarget, s.Readers = bucket, logTarget, readers
	if s.Keys, err = r.keys(ctx, r.keyRefs(s.Accounts, s.Bucket)); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.Errors = r.sortedErrors()
	return s, nil
}

// sourceAccounts are the config's source accounts, or the organization's
// active accounts, plus the accounts that own the trails.
func (r *reader) sourceAccounts(org *snapshot.Organization) []string {
	set := map[string]bool{}
	for _, a := range r.cfg.SourceAccounts {
		set[a] = true
	}
	if len(set) == 0 && org != nil {
		for _, a := range org.Accounts {
			if a.Status == "" || a.Status == "ACTIVE" {
				set[a.ID] = true
			}
		}
	}
	for _, a := range r.cfg.TrailOwners() {
		if a != "" {
			set[a] = true
		}
	}
	if len(set) == 0 {
		set[r.caller] = true
	}
	return sortedSet(set)
}

func (r *reader) sortedErrors() []snapshot.CallError {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := append([]snapshot.CallError(nil), r.errs...)
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		return strings.Join([]string{a.Account, a.Region, a.Service, a.Operation, a.Resource, a.Code, a.Message}, "\x00") <
			strings.Join([]string{b.Account, b.Region, b.Service, b.Operation, b.Resource, b.Code, b.Message}, "\x00")
	})
	return out
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
