// Package plan turns a config and a snapshot of the live configuration into
// an ordered list of changes: what each resource becomes (with a diff),
// which requests gain or lose access, the AWS calls that make each change
// and the calls that undo it, and the CreateTrail/UpdateTrail errors AWS
// would return, predicted with the evaluator before any call is made. It
// also runs a plan through an Executor with backups and rollback.
//
// The package makes no AWS call itself: internal/aws/deploy implements the
// Executor.
package plan

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// Kind names a resource kind, in the order apply changes them.
type Kind string

// Resource kinds.
const (
	KindBucketPolicy Kind = "bucket-policy"
	KindKeyPolicy    Kind = "key-policy"
	KindReaderRole   Kind = "reader-role"
	KindTrail        Kind = "trail"
	// Bucket settings, applied after the trails: nothing depends on them.
	KindBucketVersioning  Kind = "bucket-versioning"
	KindPublicAccessBlock Kind = "bucket-public-access-block"
	KindObjectOwnership   Kind = "bucket-object-ownership"
	KindBucketEncryption  Kind = "bucket-encryption"
	KindBucketLifecycle   Kind = "bucket-lifecycle"
	KindAccessLogTarget   Kind = "access-log-bucket"
	KindBucketLogging     Kind = "bucket-access-logging"
	KindObjectLock        Kind = "bucket-object-lock"
)

// Change is what a step does to its resource.
type Change string

// Changes.
const (
	Create Change = "create"
	Update Change = "update"
	NoOp   Change = "no-op"
)

// Plan is everything apply would do, in order.
type Plan struct {
	// Steps are in apply order: bucket policy, key policy, reader role,
	// trails. Steps that change nothing are kept so the plan shows every
	// resource it looked at.
	Steps []Step `json:"steps"`
	// Access lists the representative requests whose decision changes.
	Access []AccessChange `json:"access_changes"`
	// Notes are things a reviewer should know (scoping switched, foreign
	// statements kept, ...).
	Notes []string `json:"notes,omitempty"`
}

// Changes reports whether any step changes something.
func (p *Plan) Changes() bool {
	for _, s := range p.Steps {
		if s.Change != NoOp {
			return true
		}
	}
	return false
}

// Irreversible returns the changing, unblocked steps that cannot be undone.
func (p *Plan) Irreversible() []Step {
	var out []Step
	for _, s := range p.Steps {
		if s.Irreversible != "" && s.Change != NoOp && len(s.Predicted) == 0 {
			out = append(out, s)
		}
	}
	return out
}

// Blocked returns the steps that have a predicted error.
func (p *Plan) Blocked() []Step {
	var out []Step
	for _, s := range p.Steps {
		if len(s.Predicted) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// Step changes one resource.
type Step struct {
	Kind    Kind   `json:"kind"`
	Account string `json:"account"`
	Region  string `json:"region,omitempty"`
	// Name is the bucket, key ARN, role name or trail name.
	Name   string `json:"name"`
	Change Change `json:"change"`
	// Diff is a unified diff of the policies (live then desired), or of the
	// trail's settings; "" for a no-op.
	Diff string `json:"diff,omitempty"`
	// Calls are the AWS calls, in order, each with the calls that undo it.
	Calls []Call `json:"calls,omitempty"`
	// Predicted are the errors AWS would return; a step with one is not
	// applied.
	Predicted []Prediction `json:"predicted,omitempty"`
	// Irreversible says why the step cannot be undone ("" when it can):
	// apply makes it only when confirmed separately, and rollback leaves
	// it in place.
	Irreversible string `json:"irreversible,omitempty"`
}

// Title names the step's resource for people.
func (s Step) Title() string {
	switch s.Kind {
	case KindBucketPolicy:
		return "bucket policy of s3://" + s.Name
	case KindKeyPolicy:
		return "key policy of " + s.Name
	case KindReaderRole:
		return "reader role " + s.Name + " in " + s.Account
	case KindBucketVersioning:
		return "versioning of s3://" + s.Name
	case KindPublicAccessBlock:
		return "public access block of s3://" + s.Name
	case KindObjectOwnership:
		return "Object Ownership of s3://" + s.Name
	case KindBucketEncryption:
		return "default encryption of s3://" + s.Name
	case KindBucketLifecycle:
		return "lifecycle of s3://" + s.Name
	case KindAccessLogTarget:
		return "access log bucket s3://" + s.Name
	case KindBucketLogging:
		return "server access logging of s3://" + s.Name
	case KindObjectLock:
		return "Object Lock of s3://" + s.Name
	}
	return "trail " + s.Name + " in " + s.Account + " " + s.Region
}

// Call is one AWS call and its inverse, computed from the live state.
type Call struct {
	Do Action `json:"do"`
	// Undo restores what Do changed, in order; empty when a later undo
	// (deleting the trail or role Do created) covers it.
	Undo []Action `json:"undo,omitempty"`
}

// Op is an AWS API operation an Executor performs.
type Op string

// Operations.
const (
	OpPutBucketPolicy        Op = "PutBucketPolicy"
	OpDeleteBucketPolicy     Op = "DeleteBucketPolicy"
	OpPutKeyPolicy           Op = "PutKeyPolicy"
	OpCreateRole             Op = "CreateRole"
	OpUpdateAssumeRolePolicy Op = "UpdateAssumeRolePolicy"
	OpPutRolePolicy          Op = "PutRolePolicy"
	OpDeleteRolePolicy       Op = "DeleteRolePolicy"
	OpDeleteRole             Op = "DeleteRole"
	OpCreateTrail            Op = "CreateTrail"
	OpUpdateTrail            Op = "UpdateTrail"
	OpPutEventSelectors      Op = "PutEventSelectors"
	OpStartLogging           Op = "StartLogging"
	OpStopLogging            Op = "StopLogging"
	OpDeleteTrail            Op = "DeleteTrail"

	OpPutBucketVersioning           Op = "PutBucketVersioning"
	OpPutPublicAccessBlock          Op = "PutPublicAccessBlock"
	OpDeletePublicAccessBlock       Op = "DeletePublicAccessBlock"
	OpPutBucketOwnershipControls    Op = "PutBucketOwnershipControls"
	OpDeleteBucketOwnershipControls Op = "DeleteBucketOwnershipControls"
	OpPutBucketEncryption           Op = "PutBucketEncryption"
	OpDeleteBucketEncryption        Op = "DeleteBucketEncryption"
	OpPutBucketLifecycle            Op = "PutBucketLifecycleConfiguration"
	OpDeleteBucketLifecycle         Op = "DeleteBucketLifecycle"
	OpPutBucketLogging              Op = "PutBucketLogging"
	OpCreateBucket                  Op = "CreateBucket"
	OpDeleteBucket                  Op = "DeleteBucket"
	OpPutObjectLockConfiguration    Op = "PutObjectLockConfiguration"
)

// Action is one AWS call with everything it needs. Which fields are set
// depends on Op.
type Action struct {
	Op      Op     `json:"op"`
	Account string `json:"account"`
	Region  string `json:"region,omitempty"`
	// Bucket is set for bucket policy calls.
	Bucket string `json:"bucket,omitempty"`
	// KeyARN is set for PutKeyPolicy.
	KeyARN string `json:"key_arn,omitempty"`
	// Role and PolicyName are set for IAM calls.
	Role       string `json:"role,omitempty"`
	PolicyName string `json:"policy_name,omitempty"`
	// Document is the policy JSON to put.
	Document string `json:"document,omitempty"`
	// Trail is the trail name for trail calls; Settings for create and
	// update; Selectors for PutEventSelectors.
	Trail     string         `json:"trail,omitempty"`
	Settings  *TrailSettings `json:"settings,omitempty"`
	Selectors *Selectors     `json:"selectors,omitempty"`
	// Bucket settings, each set for its Put call: Versioning is Enabled
	// or Suspended; Encryption and Lifecycle are the whole configuration.
	Versioning        string                      `json:"versioning,omitempty"`
	PublicAccessBlock *snapshot.PublicAccessBlock `json:"public_access_block,omitempty"`
	ObjectOwnership   string                      `json:"object_ownership,omitempty"`
	Encryption        []snapshot.EncryptionRule   `json:"encryption,omitempty"`
	Lifecycle         []snapshot.LifecycleRule    `json:"lifecycle,omitempty"`
	// Logging is PutBucketLogging's target; nil turns logging off.
	Logging *snapshot.Logging `json:"logging,omitempty"`
	// ObjectLock is PutObjectLockConfiguration's configuration.
	ObjectLock *snapshot.ObjectLock `json:"object_lock,omitempty"`
}

// String is the call for progress lines; it never includes documents.
func (a Action) String() string {
	target := a.Bucket + a.KeyARN + a.Role + a.Trail
	if a.PolicyName != "" {
		target += " " + a.PolicyName
	}
	where := a.Account
	if a.Region != "" {
		where += " " + a.Region
	}
	return string(a.Op) + " " + target + " (" + where + ")"
}

// TrailSettings are the trail properties CreateTrail and UpdateTrail set.
type TrailSettings struct {
	Name                       string `json:"name"`
	S3BucketName               string `json:"s3_bucket_name"`
	S3KeyPrefix                string `json:"s3_key_prefix,omitempty"`
	IsMultiRegion              bool   `json:"is_multi_region"`
	IncludeGlobalServiceEvents bool   `json:"include_global_service_events"`
	LogFileValidationEnabled   bool   `json:"log_file_validation_enabled"`
	KMSKeyID                   string `json:"kms_key_id,omitempty"`
	IsOrganization             bool   `json:"is_organization"`
	// CloudWatchLogs is the trail's CloudWatch Logs integration; nil
	// leaves it as it is (the config names none), empty ARNs remove it.
	CloudWatchLogs *CloudWatchLogs `json:"cloud_watch_logs,omitempty"`
}

// CloudWatchLogs is where a trail also sends its events: a log group and
// the role CloudTrail assumes to write to it.
type CloudWatchLogs struct {
	LogGroupARN string `json:"log_group_arn"`
	RoleARN     string `json:"role_arn"`
}

// Equal reports whether two trail settings are the same.
func (t TrailSettings) Equal(o TrailSettings) bool {
	a, b := t, o
	a.CloudWatchLogs, b.CloudWatchLogs = nil, nil
	return a == b && ptrEq(t.CloudWatchLogs, o.CloudWatchLogs)
}

// Selectors are a trail's event selectors: basic or advanced, never both.
type Selectors struct {
	Basic    []snapshot.EventSelector         `json:"basic,omitempty"`
	Advanced []snapshot.AdvancedEventSelector `json:"advanced,omitempty"`
}

// Prediction is an error AWS would return for a step, with the fix.
type Prediction struct {
	// Code is the AWS error code (e.g. InsufficientS3BucketPolicyException),
	// or LiveStateUnknown when the snapshot could not read the resource.
	Code    string `json:"code"`
	Message string `json:"message"`
	Fix     string `json:"fix"`
}

// LiveStateUnknown is the code of a prediction that stops a step because
// the snapshot does not say what it would overwrite.
const LiveStateUnknown = "LiveStateUnknown"

// AccessChange is a representative request whose decision differs between
// the live and the desired policies.
type AccessChange struct {
	Target      string        `json:"target"`
	Description string        `json:"description"`
	Principal   string        `json:"principal"`
	Action      string        `json:"action"`
	Resource    string        `json:"resource"`
	Before      eval.Decision `json:"before"`
	After       eval.Decision `json:"after"`
}

// Gained reports whether the request becomes allowed.
func (a AccessChange) Gained() bool { return a.After == eval.Allowed }

// Lost reports whether the request stops being allowed.
func (a AccessChange) Lost() bool { return a.Before == eval.Allowed }

// ErrDrifted is a plan made from a snapshot that the live state no longer
// gives: applying it would not do what was reviewed.
var ErrDrifted = errors.New("plan: the live configuration plans other changes than the reviewed plan")

// CheckDrift builds the plan of c over live and returns ErrDrifted when
// its steps are not those of reviewed, the plan made from a snapshot:
// backups must hold what is live, so only the reviewed plan is applied,
// and only while AWS still matches it.
func CheckDrift(c *config.Config, reviewed *Plan, live *snapshot.Snapshot) error {
	now, err := Build(c, live)
	if err != nil {
		return err
	}
	was, errA := json.Marshal(reviewed.Steps)
	is, errB := json.Marshal(now.Steps)
	if err := errors.Join(errA, errB); err != nil {
		return fmt.Errorf("plan: compare plans: %w", err)
	}
	if !bytes.Equal(was, is) {
		return ErrDrifted
	}
	return nil
}
