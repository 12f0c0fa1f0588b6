package audit

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// minRetentionDays is the onboarding guide's 18 months, counted as 548 days (18 mean
// Gregorian months of 30.44 days, rounded up) so no month choice can
// shorten it.
const minRetentionDays = 548

// retention is the shortest time a log object survives, and the rule that
// decides it.
type retention struct {
	days int // math.MaxInt when no rule expires log objects
	rule string
	kind string
	// conditional is set when the rule applies only to objects with some
	// tags or sizes: it may or may not apply to log files.
	conditional string
}

// shortestRetention computes, from every enabled lifecycle rule that can
// expire or delete objects under logRoot, how long a log object is kept:
// current versions by Expiration (days or date), and noncurrent versions
// by NoncurrentVersionExpiration when versioning is enabled (after a
// delete or an expiration the noncurrent version is the only copy left).
func shortestRetention(b *snapshot.Bucket, logRoot string, at time.Time) (retention, []string) {
	best := retention{days: math.MaxInt}
	var ev []string
	consider := func(r snapshot.LifecycleRule, days int, kind, cond string) {
		ev = append(ev, fmt.Sprintf("rule %q (prefix %q%s): %s after %d days", ruleName(r), r.Prefix, condSuffix(cond), kind, days))
		if days < best.days {
			best = retention{days: days, rule: ruleName(r), kind: kind, conditional: cond}
		}
	}
	for _, r := range b.Lifecycle {
		if r.Status != "Enabled" {
			ev = append(ev, fmt.Sprintf("rule %q: status %s, ignored", ruleName(r), r.Status))
			continue
		}
		if !strings.HasPrefix(logRoot, r.Prefix) && !strings.HasPrefix(r.Prefix, logRoot) {
			ev = append(ev, fmt.Sprintf("rule %q: prefix %q does not overlap the log root %q", ruleName(r), r.Prefix, logRoot))
			continue
		}
		cond := conditions(r)
		if r.ExpirationDays != nil {
			consider(r, int(*r.ExpirationDays), "current versions expire", cond)
		}
		if r.ExpirationDate != nil {
			days := int(math.Ceil(r.ExpirationDate.Sub(at).Hours() / 24))
			consider(r, max(days, 0), "current versions expire on "+r.ExpirationDate.Format("2006-01-02")+", i.e.", cond)
		}
		if r.NoncurrentExpirationDays != nil {
			switch {
			case b.Versioning != "Enabled":
				ev = append(ev, fmt.Sprintf("rule %q: noncurrent expiration ignored, versioning is %s", ruleName(r), orNone(b.Versioning)))
			case r.NewerNoncurrentVersions != nil && *r.NewerNoncurrentVersions >= 1:
				// A log file has at most one noncurrent version, and the
				// rule keeps that many newest ones.
				ev = append(ev, fmt.Sprintf("rule %q: keeps %d newer noncurrent versions, so a log file's only noncurrent version stays", ruleName(r), *r.NewerNoncurrentVersions))
			default:
				consider(r, int(*r.NoncurrentExpirationDays), "noncurrent versions are deleted", cond)
			}
		}
	}
	return best, ev
}

func ruleName(r snapshot.LifecycleRule) string {
	if r.ID == "" {
		return "(no id)"
	}
	return r.ID
}

// conditions describes a rule's tag and size filters; audit cannot know
// the tags or sizes of future log files, so such a rule counts as applying.
func conditions(r snapshot.LifecycleRule) string {
	var cs []string
	if len(r.Tags) > 0 {
		cs = append(cs, "tag filter")
	}
	if r.ObjectSizeGreaterThan != nil || r.ObjectSizeLessThan != nil {
		cs = append(cs, "size filter")
	}
	return strings.Join(cs, " and ")
}

func condSuffix(cond string) string {
	if cond == "" {
		return ""
	}
	return ", " + cond + ": may apply"
}

// checkLifecycle: log objects are kept at least 18 months.
func checkLifecycle(e *env, _ *Rule) []Finding {
	b, fs := e.bucket("GetBucketLifecycleConfiguration", "GetBucketVersioning")
	if fs != nil {
		return fs
	}
	arn := e.c.BucketARN()
	best, ev := shortestRetention(b, e.c.LogRoot()+"AWSLogs/", e.s.TakenAt)
	ev = append([]string{fmt.Sprintf("log root %q, versioning %s, %d lifecycle rules", e.logRoot(), orNone(b.Versioning), len(b.Lifecycle))}, ev...)
	if best.days == math.MaxInt {
		return []Finding{{Status: Pass, Account: e.c.LogArchiveAccount, Resource: arn, Evidence: ev,
			Message: "no enabled lifecycle rule expires log objects: they are kept indefinitely"}}
	}
	if best.days >= minRetentionDays {
		return []Finding{{Status: Pass, Account: e.c.LogArchiveAccount, Resource: arn, Evidence: ev,
			Message: fmt.Sprintf("log objects are kept at least %d days (rule %q), at least 18 months", best.days, best.rule)}}
	}
	msg := fmt.Sprintf("log objects are kept only %d days: rule %q (%s); 18 months is %d days", best.days, best.rule, best.kind, minRetentionDays)
	if best.conditional != "" {
		msg += " (the rule has a " + best.conditional + " and may apply to log files)"
	}
	return []Finding{{Status: Fail, Account: e.c.LogArchiveAccount, Resource: arn, Evidence: ev, Message: msg,
		Remediation: fmt.Sprintf("aws s3api get-bucket-lifecycle-configuration --bucket %s > lifecycle.json\n"+
			"set rule %q's Expiration Days (and NoncurrentVersionExpiration NoncurrentDays) to at least %d, or narrow its Filter so it excludes %s\n"+
			"aws s3api put-bucket-lifecycle-configuration --bucket %s --lifecycle-configuration file://lifecycle.json",
			e.c.Bucket, best.rule, minRetentionDays, e.logRoot(), e.c.Bucket)}}
}
