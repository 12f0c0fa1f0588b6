package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// LifecycleRuleID is the ID of the lifecycle rule trailwarden owns; rules
// whose ID starts with LifecycleRulePrefix are trailwarden's and replaced.
const (
	LifecycleRulePrefix = "Trailwarden"
	LifecycleRuleID     = LifecycleRulePrefix + "LogRetention"
	// AbortIncompleteUploadDays is when trailwarden's rule aborts
	// incomplete multipart uploads, on a bucket without versioning, where
	// it would otherwise have no action.
	AbortIncompleteUploadDays = 7
)

// MergeLifecycle merges the rule that keeps log objects (under logRoot)
// at least days into the user's rules. The user's rules are kept as they
// are, except that a rule expiring noncurrent log versions sooner than
// days is raised to days (a noncurrent version is the only copy left of
// a deleted log file). Trailwarden's rule never shortens a retention: it
// expires current versions only when a user rule already does, at the
// longest such expiration and at least days; with nothing expiring them
// they stay kept indefinitely. With versioning it expires noncurrent
// versions after the same period; without, its only action is to abort
// incomplete multipart uploads after AbortIncompleteUploadDays. It returns
// the merged rules, what it changed in the user's rules, and the user rules
// that would still expire log objects sooner than days: S3 applies the
// earliest expiration, so they override trailwarden's rule.
func MergeLifecycle(rules []snapshot.LifecycleRule, logRoot string, days int32, versioned bool) (merged []snapshot.LifecycleRule, raised, overriding []string) {
	keep, expires := days, false
	for _, r := range rules {
		if strings.HasPrefix(r.ID, LifecycleRulePrefix) {
			continue
		}
		r = cloneRule(r)
		applies := r.Status == "Enabled" && (strings.HasPrefix(logRoot, r.Prefix) || strings.HasPrefix(r.Prefix, logRoot))
		if applies {
			if r.ExpirationDays != nil {
				if *r.ExpirationDays < days {
					overriding = append(overriding, fmt.Sprintf("rule %q expires current versions after %d days", ruleID(r), *r.ExpirationDays))
				} else {
					keep, expires = max(keep, *r.ExpirationDays), true
				}
			}
			if r.ExpirationDate != nil {
				overriding = append(overriding, fmt.Sprintf("rule %q expires current versions on %s", ruleID(r), r.ExpirationDate.Format("2006-01-02")))
			}
			if r.NoncurrentExpirationDays != nil && *r.NoncurrentExpirationDays < days &&
				(r.NewerNoncurrentVersions == nil || *r.NewerNoncurrentVersions < 1) {
				raised = append(raised, fmt.Sprintf("rule %q: noncurrent versions expire after %d days instead of %d", ruleID(r), days, *r.NoncurrentExpirationDays))
				d := days
				r.NoncurrentExpirationDays = &d
			}
		}
		merged = append(merged, r)
	}
	own := snapshot.LifecycleRule{ID: LifecycleRuleID, Status: "Enabled", Prefix: logRoot}
	if expires {
		own.ExpirationDays = &keep
	}
	if versioned {
		nc := keep
		own.NoncurrentExpirationDays = &nc
	} else {
		abort := int32(AbortIncompleteUploadDays)
		own.AbortIncompleteUploadDays = &abort
	}
	merged = append(merged, own)
	return merged, raised, overriding
}

func ruleID(r snapshot.LifecycleRule) string {
	if r.ID == "" {
		return "(no id)"
	}
	return r.ID
}

func cloneRule(r snapshot.LifecycleRule) snapshot.LifecycleRule {
	cp := func(p *int32) *int32 {
		if p == nil {
			return nil
		}
		v := *p
		return &v
	}
	r.ExpirationDays, r.NoncurrentExpirationDays, r.NewerNoncurrentVersions, r.AbortIncompleteUploadDays =
		cp(r.ExpirationDays), cp(r.NoncurrentExpirationDays), cp(r.NewerNoncurrentVersions), cp(r.AbortIncompleteUploadDays)
	r.TransitionDays = slices.Clone(r.TransitionDays)
	return r
}

func lifecycleText(rules []snapshot.LifecycleRule) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "rule %s (%s) prefix %q", ruleID(r), r.Status, r.Prefix)
		for _, k := range sortedTagKeys(r.Tags) {
			fmt.Fprintf(&b, " tag %s=%s", k, r.Tags[k])
		}
		b.WriteString("\n")
		num := func(name string, v *int32) {
			if v != nil {
				fmt.Fprintf(&b, "  %s: %d\n", name, *v)
			}
		}
		num("expiration days", r.ExpirationDays)
		if r.ExpirationDate != nil {
			fmt.Fprintf(&b, "  expiration date: %s\n", r.ExpirationDate.Format("2006-01-02"))
		}
		num("noncurrent expiration days", r.NoncurrentExpirationDays)
		num("newer noncurrent versions kept", r.NewerNoncurrentVersions)
		num("abort incomplete uploads after days", r.AbortIncompleteUploadDays)
	}
	return b.String()
}

func sortedTagKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func lifecycleStep(st Step, c *config.Config, b *snapshot.Bucket, d config.DesiredBucket, act func(Op) Action, p *Plan) Step {
	versioned := b.Versioning == "Enabled" || d.Versioning
	merged, raised, overriding := MergeLifecycle(b.Lifecycle, c.LogRoot()+"AWSLogs/", d.RetentionDays, versioned)
	for _, r := range b.Lifecycle {
		// The snapshot keeps a transition's day but not its storage
		// class: rewriting the rule would lose it.
		if len(r.TransitionDays) > 0 {
			st.Change = Update
			st.Predicted = append(st.Predicted, Prediction{Code: LiveStateUnknown,
				Message: fmt.Sprintf("lifecycle rule %q has transitions, whose storage classes the snapshot does not record; rewriting the lifecycle would lose them", ruleID(r)),
				Fix:     fmt.Sprintf("add trailwarden's rule yourself: ID %s, prefix %q, expiration and noncurrent expiration %d days (aws s3api put-bucket-lifecycle-configuration)", LifecycleRuleID, c.LogRoot()+"AWSLogs/", d.RetentionDays)})
			return st
		}
	}
	if lifecycleText(merged) == lifecycleText(b.Lifecycle) && slices.EqualFunc(merged, b.Lifecycle, sameRule) {
		return st
	}
	st.Change, st.Diff = Update, settingDiff(lifecycleText(b.Lifecycle), lifecycleText(merged))
	do := act(OpPutBucketLifecycle)
	do.Lifecycle = merged
	undo := act(OpDeleteBucketLifecycle)
	if len(b.Lifecycle) > 0 {
		undo = act(OpPutBucketLifecycle)
		undo.Lifecycle = b.Lifecycle
	} else {
		st.Change = Create
	}
	st.Calls = []Call{{Do: do, Undo: []Action{undo}}}
	for _, r := range raised {
		p.Notes = append(p.Notes, "lifecycle of s3://"+c.Bucket+": "+r+", so no log version is deleted sooner than the retention")
	}
	if len(overriding) > 0 {
		st.Predicted = append(st.Predicted, Prediction{Code: "LifecycleRuleOverrides",
			Message: strings.Join(overriding, "; ") + fmt.Sprintf(", sooner than %d days; S3 applies the earliest expiration, so trailwarden's rule would not keep the logs", d.RetentionDays),
			Fix:     fmt.Sprintf("raise that rule's expiration to at least %d days or narrow its filter so it excludes %q, then plan again", d.RetentionDays, c.LogRoot()+"AWSLogs/")})
	}
	return st
}

func sameRule(a, b snapshot.LifecycleRule) bool {
	return lifecycleText([]snapshot.LifecycleRule{a}) == lifecycleText([]snapshot.LifecycleRule{b}) &&
		a.ExpiredObjectDeleteMarker == b.ExpiredObjectDeleteMarker && slices.Equal(a.TransitionDays, b.TransitionDays) &&
		ptrEq(a.ObjectSizeGreaterThan, b.ObjectSizeGreaterThan) && ptrEq(a.ObjectSizeLessThan, b.ObjectSizeLessThan)
}

func ptrEq[T comparable](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
