package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/textdiff"
)

// AccessPolicyName is the name of the reader role's inline permissions
// policy.
const AccessPolicyName = "trailwarden-log-access"

// desired holds the documents the plan puts, or the live ones where a
// resource does not change; predictions and the access diff read them.
type desired struct {
	bucket, key, trust, access *policy.Document
	// evals compiles each document's policy set once for the predictions
	// and the access diff.
	evals *access.Cache
}

// live holds the parsed live documents (nil when there is none).
type live = desired

// Build compares what the config wants with the snapshot and returns the
// plan. It fails only when the config cannot be generated or a live policy
// does not parse; a resource the snapshot could not read becomes a blocked
// step instead.
func Build(c *config.Config, s *snapshot.Snapshot) (*Plan, error) {
	if s == nil {
		return nil, fmt.Errorf("plan: no snapshot of the live configuration")
	}
	p := &Plan{}
	evals := access.NewCache()
	want, was := desired{evals: evals}, live{evals: evals}

	step, err := bucketStep(c, s, p, &want, &was)
	if err != nil {
		return nil, err
	}
	p.Steps = append(p.Steps, step)
	if c.KMSKeyARN != "" {
		if step, err = keyStep(c, s, p, &want, &was); err != nil {
			return nil, err
		}
		p.Steps = append(p.Steps, step)
	}
	if step, err = roleStep(c, s, &want, &was); err != nil {
		return nil, err
	}
	p.Steps = append(p.Steps, step)
	// A trail depends on the policies before it: when one of them is
	// blocked, CloudTrail would check the trail against the old policy.
	var dep []string
	for _, st := range p.Steps {
		if st.Kind != KindReaderRole && len(st.Predicted) > 0 {
			dep = append(dep, st.Title())
		}
	}
	if c.Profile == config.ProfileCIS && !c.Trail.CloudWatchLogs.Configured() {
		p.Notes = append(p.Notes, "the cis standard wants each trail to send its events to CloudWatch Logs too (TW-TRL-07), and the config names no log group: "+
			"create a log group and a role CloudTrail can assume in each trail account, name them in trail.cloudwatch_logs, and plan again")
	}
	for _, owner := range c.TrailOwners() {
		t := trailStep(c, s, owner, want)
		if len(dep) > 0 && t.Change != NoOp {
			t.Predicted = append(t.Predicted, Prediction{Code: "DependencyBlocked",
				Message: "the trail needs " + strings.Join(dep, " and ") + ", which is blocked", Fix: "fix the blocked step above first"})
		}
		p.Steps = append(p.Steps, t)
	}
	// The bucket's settings come last: no other step depends on them.
	settings, err := settingSteps(c, s, p, evals)
	if err != nil {
		return nil, err
	}
	p.Steps = append(p.Steps, settings...)
	if p.Access, err = accessDiff(c, was, want); err != nil {
		return nil, err
	}
	return p, nil
}

// parseLive parses a live policy; "" is no policy.
func parseLive(what, text string) (*policy.Document, error) {
	if strings.TrimSpace(text) == "" {
		return nil, nil
	}
	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("plan: live %s does not parse: %w", what, err)
	}
	return doc, nil
}

// canonical renders a document for diffs; nil is the empty text.
func canonical(d *policy.Document) string {
	if d == nil {
		return ""
	}
	return string(policy.Canonical(d))
}

func policyDiff(was, want *policy.Document) string {
	return textdiff.Unified("live", "desired", canonical(was), canonical(want), 3)
}

func compact(d *policy.Document) string { return string(policy.Compact(d)) }

func unknown(what string, s *snapshot.Snapshot, service string) Prediction {
	msg := "the snapshot has no record of the " + what
	for _, e := range s.Errors {
		if e.Service == service {
			msg += fmt.Sprintf("; %s %s failed: %s", e.Operation, e.Resource, e.Code)
			break
		}
	}
	return Prediction{Code: LiveStateUnknown, Message: msg + ", so trailwarden will not overwrite what it cannot see",
		Fix: "grant the read permissions listed in `trailwarden snapshot --help` and plan again"}
}

// readFailed returns the snapshot's error for a read of resource (matched
// as a prefix) by one of ops, or nil. A policy that failed to read looks like
// no policy; putting one over it would lose the live statements.
func readFailed(s *snapshot.Snapshot, service, resource string, ops ...string) *snapshot.CallError {
	for i, e := range s.Errors {
		if e.Service == service && strings.HasPrefix(e.Resource, resource) && slices.Contains(ops, e.Operation) {
			return &s.Errors[i]
		}
	}
	return nil
}

// bucketReadFailed is readFailed for one bucket by its exact name (a
// prefix would also match <bucket>-access-logs).
func bucketReadFailed(s *snapshot.Snapshot, bucket string, ops ...string) *snapshot.CallError {
	for i, e := range s.Errors {
		if e.Service == "s3" && e.Resource == bucket && slices.Contains(ops, e.Operation) {
			return &s.Errors[i]
		}
	}
	return nil
}

func failedRead(what string, e *snapshot.CallError) Prediction {
	return Prediction{Code: LiveStateUnknown,
		Message: fmt.Sprintf("the snapshot could not read the %s (%s: %s), so trailwarden will not overwrite it", what, e.Operation, e.Code),
		Fix:     fmt.Sprintf("grant %s:%s to the reading role and take the snapshot again", e.Service, e.Operation)}
}

func bucketStep(c *config.Config, s *snapshot.Snapshot, p *Plan, want, was *desired) (Step, error) {
	st := Step{Kind: KindBucketPolicy, Account: c.LogArchiveAccount, Region: c.EffectiveBucketRegion(), Name: c.Bucket, Change: NoOp}
	b := s.Bucket
	if b == nil || b.Name != c.Bucket {
		st.Predicted = append(st.Predicted, unknown("bucket "+c.Bucket, s, "s3"))
	} else if !b.Exists {
		st.Predicted = append(st.Predicted, Prediction{Code: "NoSuchBucket",
			Message: "bucket " + c.Bucket + " does not exist", Fix: "create the bucket in account " + c.LogArchiveAccount + " (trailwarden does not create buckets), then plan again"})
	}
	if e := readFailed(s, "s3", c.Bucket, "GetBucketPolicy"); e != nil {
		st.Predicted = append(st.Predicted, failedRead("bucket policy of "+c.Bucket, e))
	}
	var existing *policy.Document
	if b != nil && b.Name == c.Bucket {
		var err error
		if existing, err = parseLive("bucket policy", b.Policy); err != nil {
			return st, err
		}
		st.Account = b.Account
	}
	out, err := generator.Bucket(c, existing)
	if err != nil {
		return st, fmt.Errorf("plan bucket policy: %w", err)
	}
	p.Notes = append(p.Notes, out.Notes...)
	was.bucket, want.bucket = existing, out.Doc
	if existing != nil && policy.Equal(existing, out.Doc) {
		return st, nil
	}
	st.Change, st.Diff = Update, policyDiff(existing, out.Doc)
	if existing == nil {
		st.Change = Create
	}
	undo := Action{Op: OpDeleteBucketPolicy, Account: st.Account, Region: st.Region, Bucket: c.Bucket}
	if existing != nil {
		undo = Action{Op: OpPutBucketPolicy, Account: st.Account, Region: st.Region, Bucket: c.Bucket, Document: b.Policy}
	}
	st.Calls = []Call{{Do: Action{Op: OpPutBucketPolicy, Account: st.Account, Region: st.Region, Bucket: c.Bucket, Document: compact(out.Doc)},
		Undo: []Action{undo}}}
	return st, nil
}

func keyStep(c *config.Config, s *snapshot.Snapshot, p *Plan, want, was *desired) (Step, error) {
	region, account := arnPart(c.KMSKeyARN, 3), arnPart(c.KMSKeyARN, 4)
	st := Step{Kind: KindKeyPolicy, Account: account, Region: region, Name: c.KMSKeyARN, Change: NoOp}
	k := s.KeyFor(c.KMSKeyARN)
	if k == nil {
		st.Predicted = append(st.Predicted, unknown("key "+c.KMSKeyARN, s, "kms"))
		// Without the live policy there is nothing safe to merge into.
		out, err := generator.Key(c, nil)
		if err != nil {
			return st, fmt.Errorf("plan key policy: %w", err)
		}
		want.key = out.Doc
		return st, nil
	}
	if e := readFailed(s, "kms", c.KMSKeyARN, "GetKeyPolicy"); e != nil {
		st.Predicted = append(st.Predicted, failedRead("key policy of "+c.KMSKeyARN, e))
	}
	existing, err := parseLive("key policy", k.Policy)
	if err != nil {
		return st, err
	}
	out, err := generator.Key(c, existing)
	if err != nil {
		return st, fmt.Errorf("plan key policy: %w", err)
	}
	p.Notes = append(p.Notes, out.Notes...)
	was.key, want.key = existing, out.Doc
	if existing != nil && policy.Equal(existing, out.Doc) {
		return st, nil
	}
	st.Change, st.Diff = Update, policyDiff(existing, out.Doc)
	do := Action{Op: OpPutKeyPolicy, Account: account, Region: region, KeyARN: c.KMSKeyARN, Document: compact(out.Doc)}
	// Every KMS key has a policy; an empty one in the snapshot means it
	// could not be read, and there is nothing to restore.
	if existing == nil {
		if len(st.Predicted) == 0 {
			st.Predicted = append(st.Predicted, unknown("key policy of "+c.KMSKeyARN, s, "kms"))
		}
		st.Calls = []Call{{Do: do}}
		return st, nil
	}
	undo := do
	undo.Document = k.Policy
	st.Calls = []Call{{Do: do, Undo: []Action{undo}}}
	return st, nil
}

// arnPart returns the i-th colon-separated field of an ARN.
func arnPart(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 6)
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

func findRole(s *snapshot.Snapshot, arn string) *snapshot.Role {
	for i := range s.Readers {
		if s.Readers[i].ARN == arn {
			return &s.Readers[i]
		}
	}
	return nil
}

func inline(r *snapshot.Role, name string) (string, bool) {
	for _, p := range r.Inline {
		if p.Name == name {
			return p.Document, true
		}
	}
	return "", false
}

func roleStep(c *config.Config, s *snapshot.Snapshot, want, was *desired) (Step, error) {
	name, acct := c.Readers.RoleName, c.LogArchiveAccount
	st := Step{Kind: KindReaderRole, Account: acct, Name: name, Change: NoOp}
	trust, err := generator.ReaderTrust(c)
	if err != nil {
		return st, fmt.Errorf("plan reader trust policy: %w", err)
	}
	access, err := generator.ReaderAccess(c)
	if err != nil {
		return st, fmt.Errorf("plan reader permissions: %w", err)
	}
	want.trust, want.access = trust.Doc, access.Doc
	role := findRole(s, c.ReaderRoleARN())
	if role == nil {
		st.Predicted = append(st.Predicted, unknown("role "+c.ReaderRoleARN(), s, "iam"))
		return st, nil
	}
	if e := readFailed(s, "iam", c.ReaderRoleARN(), "GetRole", "ListRolePolicies", "GetRolePolicy"); e != nil {
		st.Predicted = append(st.Predicted, failedRead("role "+c.ReaderRoleARN(), e))
	}
	iam := func(op Op) Action { return Action{Op: op, Account: acct, Role: name} }
	putAccess := iam(OpPutRolePolicy)
	putAccess.PolicyName, putAccess.Document = AccessPolicyName, compact(access.Doc)
	if !role.Exists {
		create := iam(OpCreateRole)
		create.Document = compact(trust.Doc)
		delPolicy := iam(OpDeleteRolePolicy)
		delPolicy.PolicyName = AccessPolicyName
		st.Change = Create
		st.Diff = textdiff.Unified("live", "desired", "", "trust policy:\n"+canonical(trust.Doc), 3) +
			textdiff.Unified("live", "desired", "", "inline policy "+AccessPolicyName+":\n"+canonical(access.Doc), 3)
		st.Calls = []Call{{Do: create, Undo: []Action{iam(OpDeleteRole)}}, {Do: putAccess, Undo: []Action{delPolicy}}}
		return st, nil
	}
	liveTrust, err := parseLive("trust policy of "+name, role.TrustPolicy)
	if err != nil {
		return st, err
	}
	liveText, had := inline(role, AccessPolicyName)
	liveAccess, err := parseLive("inline policy "+AccessPolicyName, liveText)
	if err != nil {
		return st, err
	}
	was.trust, was.access = liveTrust, liveAccess
	if liveTrust == nil || !policy.Equal(liveTrust, trust.Doc) {
		do := iam(OpUpdateAssumeRolePolicy)
		do.Document = compact(trust.Doc)
		undo := do
		undo.Document = role.TrustPolicy
		st.Diff += textdiff.Unified("live trust policy", "desired trust policy", canonical(liveTrust), canonical(trust.Doc), 3)
		st.Calls = append(st.Calls, Call{Do: do, Undo: []Action{undo}})
	}
	if liveAccess == nil || !policy.Equal(liveAccess, access.Doc) {
		undo := putAccess
		undo.Document = liveText
		if !had {
			undo = iam(OpDeleteRolePolicy)
			undo.PolicyName = AccessPolicyName
		}
		st.Diff += textdiff.Unified("live "+AccessPolicyName, "desired "+AccessPolicyName, canonical(liveAccess), canonical(access.Doc), 3)
		st.Calls = append(st.Calls, Call{Do: putAccess, Undo: []Action{undo}})
	}
	if len(st.Calls) > 0 {
		st.Change = Update
	}
	return st, nil
}
