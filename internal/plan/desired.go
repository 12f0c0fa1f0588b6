package plan

import (
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// DesiredState is what the config asks to exist, with no live state to
// merge into: the settings Build puts on a bucket that has none of its
// own, for renderers (iac) that describe the pipeline rather than change
// it. The policies are generator's; Desired holds only what plan decides.
type DesiredState struct {
	// Bucket is the config's bucket settings with the standard's defaults.
	Bucket config.DesiredBucket
	// Encryption is the default-encryption rule (nil when unmanaged).
	Encryption []snapshot.EncryptionRule
	// Lifecycle is the lifecycle configuration of a bucket with no rules
	// of its own: trailwarden's rule alone (nil when unmanaged).
	Lifecycle []snapshot.LifecycleRule
	// AccessLogPolicy is the policy plan gives an access log bucket it
	// creates (nil when access logging is unmanaged).
	AccessLogPolicy *policy.Document
	// Trail and Selectors are the settings and event selectors every trail
	// shares; Trail has no CloudWatch Logs (see TrailFor).
	Trail     TrailSettings
	Selectors Selectors
	// Trails are each owner's trail settings: the CloudWatch Logs log
	// group and role differ by account when the config names them.
	Trails map[string]TrailSettings
	// TrailOwners are the accounts that own a trail.
	TrailOwners []string
}

// Desired returns the desired state of c, as Build would put it on a
// bucket, key, role and trails that have no settings of their own.
func Desired(c *config.Config) (DesiredState, error) {
	d := c.Desired()
	out := DesiredState{Bucket: d, Trail: DesiredTrail(c, ""), TrailOwners: c.TrailOwners(),
		Selectors: DesiredSelectors(), Trails: map[string]TrailSettings{}}
	out.Trail.CloudWatchLogs = nil
	for _, o := range out.TrailOwners {
		out.Trails[o] = DesiredTrail(c, o)
	}
	if d.Encryption != "" {
		out.Encryption = desiredEncryption(d)
	}
	if d.RetentionDays > 0 {
		out.Lifecycle, _, _ = MergeLifecycle(nil, c.LogRoot()+"AWSLogs/", d.RetentionDays, d.Versioning)
	}
	if d.AccessLogBucket != "" {
		stmt, err := accessLogStatement(c, d, c.LogArchiveAccount)
		if err != nil {
			return out, err
		}
		out.AccessLogPolicy = &policy.Document{Version: "2012-10-17", Statements: []policy.Statement{stmt}}
	}
	return out, nil
}
