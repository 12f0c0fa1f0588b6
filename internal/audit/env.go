package audit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// env is what every check reads: the config, the snapshot and the parsed
// policies, parsed once.
type env struct {
	c       *config.Config
	s       *snapshot.Snapshot
	profile string

	bucketDoc *policy.Document
	bucketErr error
	keyDoc    *policy.Document
	keyErr    error
}

func newEnv(c *config.Config, s *snapshot.Snapshot, profile string) *env {
	e := &env{c: c, s: s, profile: profile}
	if b := s.Bucket; b != nil && b.Policy != "" {
		e.bucketDoc, e.bucketErr = policy.Parse([]byte(b.Policy))
	}
	if k := s.KeyFor(c.KMSKeyARN); k != nil && k.Policy != "" {
		e.keyDoc, e.keyErr = policy.Parse([]byte(k.Policy))
	}
	return e
}

// callErr returns the snapshot error of a failed call to one of ops on
// service, for the named resource or account when the error names one.
func (e *env) callErr(service, resource, account string, ops ...string) *snapshot.CallError {
	for i := range e.s.Errors {
		ce := &e.s.Errors[i]
		if ce.Service != service || notConfigured[ce.Code] {
			continue
		}
		match := false
		for _, op := range ops {
			if strings.EqualFold(ce.Operation, op) {
				match = true
			}
		}
		if !match {
			continue
		}
		if resource != "" && ce.Resource != "" && !strings.Contains(ce.Resource, resource) {
			continue
		}
		if account != "" && ce.Account != "" && ce.Account != account {
			continue
		}
		return ce
	}
	return nil
}

// notConfigured are the error codes S3 returns for a setting that is simply
// absent; they are answers, not failed reads.
var notConfigured = map[string]bool{
	"NoSuchLifecycleConfiguration":                   true,
	"ServerSideEncryptionConfigurationNotFoundError": true,
	"OwnershipControlsNotFoundError":                 true,
	"NoSuchPublicAccessBlockConfiguration":           true,
	"NoSuchBucketPolicy":                             true,
	"ObjectLockConfigurationNotFoundError":           true,
}

// unknown is a finding for data the snapshot lacks.
func unknown(account, resource string, ce *snapshot.CallError, what string) Finding {
	f := Finding{Status: Unknown, Account: account, Resource: resource, Error: ce}
	if ce != nil {
		f.Message = fmt.Sprintf("cannot decide: %s %s failed (%s: %s)", ce.Service, ce.Operation, ce.Code, ce.Message)
		f.Remediation = fmt.Sprintf("allow %s:%s to the role that takes the snapshot, then take it again: trailwarden snapshot --config trailwarden.yaml", ce.Service, ce.Operation)
	} else {
		f.Message = "cannot decide: the snapshot has no " + what
		f.Remediation = "take the snapshot again with `trailwarden snapshot --config trailwarden.yaml`"
	}
	return f
}

// bucket returns the central bucket, or an unknown or failing finding
// when the snapshot cannot answer bucket questions.
func (e *env) bucket(ops ...string) (*snapshot.Bucket, []Finding) {
	arn := e.c.BucketARN()
	b := e.s.Bucket
	if ce := e.callErr("s3", e.c.Bucket, e.c.LogArchiveAccount, ops...); ce != nil {
		return nil, []Finding{unknown(e.c.LogArchiveAccount, arn, ce, "bucket data")}
	}
	if b == nil {
		return nil, []Finding{unknown(e.c.LogArchiveAccount, arn, e.callErr("s3", e.c.Bucket, "", "HeadBucket", "GetBucketLocation"), "bucket "+e.c.Bucket)}
	}
	if !b.Exists {
		return nil, []Finding{{Status: Fail, Account: e.c.LogArchiveAccount, Resource: arn,
			Message:     "the central bucket " + b.Name + " does not exist",
			Evidence:    []string{"bucket.exists = false"},
			Remediation: fmt.Sprintf("aws s3api create-bucket --bucket %s --region %s%s", b.Name, e.c.EffectiveBucketRegion(), locationConstraint(e.c.EffectiveBucketRegion()))}}
	}
	return b, nil
}

func locationConstraint(region string) string {
	if region == "us-east-1" {
		return ""
	}
	return " --create-bucket-configuration LocationConstraint=" + region
}

// bucketPolicy returns the parsed bucket policy (nil when the bucket has
// none), or findings when it cannot be read or parsed.
func (e *env) bucketPolicy() (*policy.Document, []Finding) {
	if _, fs := e.bucket("GetBucketPolicy"); fs != nil {
		return nil, fs
	}
	if e.bucketErr != nil {
		return nil, []Finding{{Status: Unknown, Account: e.c.LogArchiveAccount, Resource: e.c.BucketARN(),
			Message:     "cannot decide: the bucket policy does not parse: " + e.bucketErr.Error(),
			Remediation: fmt.Sprintf("aws s3api get-bucket-policy --bucket %s --query Policy --output text", e.c.Bucket)}}
	}
	return e.bucketDoc, nil
}

// key returns the snapshot's KMS key and parsed key policy, or findings.
func (e *env) key(ops ...string) (*snapshot.Key, *policy.Document, []Finding) {
	arn := e.c.KMSKeyARN
	account := keyAccount(arn)
	if ce := e.callErr("kms", arn, account, ops...); ce != nil {
		return nil, nil, []Finding{unknown(account, arn, ce, "key data")}
	}
	k := e.s.KeyFor(arn)
	if k == nil {
		return nil, nil, []Finding{unknown(account, arn, e.callErr("kms", arn, "", "DescribeKey"), "KMS key "+arn)}
	}
	if e.keyErr != nil {
		return nil, nil, []Finding{{Status: Unknown, Account: k.Account, Resource: k.ARN,
			Message: "cannot decide: the key policy does not parse: " + e.keyErr.Error()}}
	}
	return k, e.keyDoc, nil
}

// keyAccount is the account of a key ARN ("" when it is not one).
func keyAccount(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// trailRef is one trail delivering to the central bucket, once per ARN,
// with the accounts whose trail list shows it.
type trailRef struct {
	t        *snapshot.Trail
	owner    string
	accounts []string
}

// trails lists the trails that deliver to the central bucket, each once,
// sorted by ARN. An organization trail appears in every member's list.
func (e *env) trails() []trailRef {
	byARN := map[string]*trailRef{}
	for ai := range e.s.Accounts {
		a := &e.s.Accounts[ai]
		for ti := range a.Trails {
			t := &a.Trails[ti]
			if t.S3BucketName != e.c.Bucket {
				continue
			}
			r := byARN[t.ARN]
			if r == nil {
				r = &trailRef{t: t, owner: keyAccount(t.ARN)}
				byARN[t.ARN] = r
			}
			r.accounts = append(r.accounts, a.ID)
		}
	}
	out := make([]trailRef, 0, len(byARN))
	for _, r := range byARN {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t.ARN < out[j].t.ARN })
	return out
}

// expectedTrailARN is the trail that should cover account.
func (e *env) expectedTrailARN(account string) string {
	if e.c.Trail.Organization && e.c.ManagementAccount != "" {
		return e.c.TrailARN(e.c.ManagementAccount)
	}
	return e.c.TrailARN(account)
}

// logRoot is where CloudTrail writes in the bucket: "<prefix>/AWSLogs/".
func (e *env) logRoot() string { return e.c.LogRoot() + "AWSLogs/" }

func quoteJSON(st policy.Statement) string {
	b, err := st.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}
