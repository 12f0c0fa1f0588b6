// Package config is trailwarden.yaml: the typed description of one
// centralized CloudTrail pipeline, its parsing with line numbers, defaults
// and validation. Only the CLI reads files; this package takes readers.
package config

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/awsid"
)

// SchemaVersion is the version of trailwarden.yaml this build writes and reads.
const SchemaVersion = 1

// Profiles name the requirement sets of the generator and auditor.
const (
	ProfileBaseline   = "baseline"
	ProfileAccelerate = "accelerate"
	ProfileCIS        = "cis"
)

// Delivery scopes decide how the bucket policy limits CloudTrail's writes.
const (
	ScopeAuto         = "auto"
	ScopePerAccount   = "per-account"
	ScopeAccountList  = "account-list"
	ScopeOrganization = "organization"
)

// DefaultReaderRole is the name of the reader role in the log-archive account.
const DefaultReaderRole = "trailwarden-log-reader"

// AccelerateRolePattern is the uniformly named role of the AMS Accelerate onboarding guide.
const AccelerateRolePattern = "ams-access-*"

// Config is trailwarden.yaml.
type Config struct {
	Version           int      `yaml:"version"`
	OrganizationID    string   `yaml:"organization_id,omitempty"`
	ManagementAccount string   `yaml:"management_account,omitempty"`
	LogArchiveAccount string   `yaml:"log_archive_account"`
	SourceAccounts    []string `yaml:"source_accounts,omitempty"`
	Bucket            string   `yaml:"bucket"`
	BucketRegion      string   `yaml:"bucket_region,omitempty"`
	KeyPrefix         string   `yaml:"key_prefix,omitempty"`
	HomeRegion        string   `yaml:"home_region"`
	Trail             Trail    `yaml:"trail"`
	KMSKeyARN         string   `yaml:"kms_key_arn,omitempty"`
	Readers           Readers  `yaml:"readers"`
	// BucketSettings are the bucket's settings plan and apply manage.
	BucketSettings BucketSettings `yaml:"bucket_settings,omitempty"`
	// AccessLogBucket is the target of the bucket's server access logs
	// (default <bucket>-access-logs), created when it does not exist.
	AccessLogBucket string `yaml:"access_log_bucket,omitempty"`
	// Profile is the standard (the setting "standard"): the requirement
	// set of the generator and the auditor.
	Profile string `yaml:"standard"`
	// LegacyProfile is the old name of "standard", still read: Parse
	// moves it to Profile and says so in Notices.
	LegacyProfile string `yaml:"profile,omitempty"`
	DeliveryScope string `yaml:"delivery_scope"`
	// AcceptedForeignSids are statements trailwarden does not own that grant
	// more than this config intends and that the user keeps knowingly.
	AcceptedForeignSids AcceptedSids `yaml:"accepted_foreign_sids"`
	AWS                 AWS          `yaml:"aws"`
	// Detect tunes `trailwarden detect`.
	Detect Detect `yaml:"detect,omitempty"`

	// Notices are what Parse has to say about a file it accepted, such
	// as a setting under its old name, for the caller to show.
	Notices []string `yaml:"-"`
	// source is where Parse read the config, for Source and Line.
	source *source
}

// source is the file a config was parsed from and where its fields are.
type source struct {
	file string
	pos  positions
}

// Source is the name of the file the config was parsed from ("" for a
// config built in code).
func (c *Config) Source() string {
	if c.source == nil {
		return ""
	}
	return c.source.file
}

// Line is the line of field in the file the config was parsed from: a
// path as FieldError names it ("bucket", "trail.name", "readers.roles[0]").
// A field the file leaves out is found at its nearest parent that is in
// the file ("trail" for "trail.organization"); 0 when there is none.
func (c *Config) Line(field string) int {
	if c.source == nil {
		return 0
	}
	for field != "" {
		if p, ok := c.source.pos[field]; ok {
			return p[0]
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			break
		}
		field = field[:i]
	}
	return 0
}

// AcceptedSids lists, per policy trailwarden merges into, the Sids of
// foreign statements whose grants beyond the config are accepted: the proof
// reports them as accepted instead of failing.
type AcceptedSids struct {
	BucketPolicy []string `yaml:"bucket_policy,omitempty"`
	KeyPolicy    []string `yaml:"key_policy,omitempty"`
}

// Setting names of the accepted foreign Sids, as written in trailwarden.yaml.
const (
	SettingAcceptedBucketSids = "accepted_foreign_sids.bucket_policy"
	SettingAcceptedKeySids    = "accepted_foreign_sids.key_policy"
)

// AWS says how trailwarden reaches the accounts when it reads (snapshot,
// audit) and changes (apply, rollback) the live configuration.
type AWS struct {
	// AccessRole is the role name assumed in every account other than the
	// caller's; "" uses the caller's credentials everywhere.
	AccessRole string `yaml:"access_role,omitempty"`
	// Regions limits the regions read; empty means every region enabled in
	// each account.
	Regions []string `yaml:"regions,omitempty"`
	// BackupDir is where apply saves every policy before replacing it.
	BackupDir string `yaml:"backup_dir,omitempty"`
}

// Detect tunes the detection rules.
type Detect struct {
	// Disabled are ids of rules (built-in or the user's) that detect does
	// not run.
	Disabled []string `yaml:"disabled,omitempty"`
}

// DefaultAccessRole is the role AWS Organizations creates in every account
// it creates.
const DefaultAccessRole = "OrganizationAccountAccessRole"

// DefaultBackupDir is where apply keeps its backups unless aws.backup_dir
// says otherwise.
const DefaultBackupDir = ".trailwarden/backups"

// Trail describes the trail(s) delivering to the bucket.
type Trail struct {
	Name string `yaml:"name"`
	// Organization is true for one organization trail in the management
	// account, false for one trail of this name in every source account.
	Organization bool `yaml:"organization"`
	// CloudWatchLogs also sends the trail's events to a CloudWatch Logs
	// log group; empty leaves the trail's integration as it is.
	CloudWatchLogs CloudWatchLogs `yaml:"cloudwatch_logs,omitempty"`
}

// CloudWatchLogs names the log group a trail sends its events to and the
// role CloudTrail assumes to write them. CloudTrail accepts only a log
// group and a role of the trail's own account, so each may be a bare name,
// resolved in every trail's account and home region, or a full ARN when
// there is one trail owner.
type CloudWatchLogs struct {
	LogGroup string `yaml:"log_group,omitempty"`
	Role     string `yaml:"role,omitempty"`
}

// Configured reports whether the config names a log group.
func (w CloudWatchLogs) Configured() bool { return w.LogGroup != "" || w.Role != "" }

// CloudWatchLogGroupARN is the log group ARN the trail of owner sends its
// events to, as CloudTrail returns it (ending in ":*"); "" when
// trail.cloudwatch_logs is not set.
func (c *Config) CloudWatchLogGroupARN(owner string) string {
	g := c.Trail.CloudWatchLogs.LogGroup
	switch {
	case g == "":
		return ""
	case strings.HasPrefix(g, "arn:"):
		if !strings.HasSuffix(g, ":*") {
			g += ":*"
		}
		return g
	}
	return fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s:*", c.Partition(), c.HomeRegion, owner, g)
}

// CloudWatchRoleARN is the role CloudTrail assumes to write owner's
// trail's events to CloudWatch Logs; "" when not set.
func (c *Config) CloudWatchRoleARN(owner string) string {
	r := c.Trail.CloudWatchLogs.Role
	if r == "" || strings.HasPrefix(r, "arn:") {
		return r
	}
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition(), owner, r)
}

// Readers are the principals allowed to read the logs.
type Readers struct {
	// RoleName is the cross-account reader role created in the log-archive account.
	RoleName string `yaml:"role_name"`
	// Roles are exact role ARNs that may read (and assume the reader role).
	Roles []string `yaml:"roles,omitempty"`
	// RolePattern is a role-name pattern (e.g. ams-access-*) matched in any
	// account of the organization; it requires organization_id.
	RolePattern string `yaml:"role_pattern,omitempty"`
	// AthenaOnly limits reads to requests Athena makes on the reader's behalf.
	AthenaOnly bool `yaml:"athena_only"`
	// ExternalID is required in the reader role's trust policy when set.
	ExternalID string `yaml:"external_id,omitempty"`
}

// SidPrefix starts the Sid of every statement trailwarden writes.
const SidPrefix = "Trailwarden"

// The Sids of the AMS Accelerate onboarding guide's statements, owned by
// trailwarden under the accelerate profile.
const (
	SidAMSConfigAudit = "DONOTDELETE-AMS-ALLOWBUCKETCONFIGAUDIT"
	SidAMSListBucket  = "DONOTDELETE-AMS-ALLOWLISTBUCKET"
	SidAMSGetObject   = "DONOTDELETE-AMS-ALLOWGETOBJECT"
	SidAMSDecrypt     = "DONOTDELETE-AMS-ALLOWTRAILOBJECTDECRYPTION"
)

// OwnsSid reports whether a statement Sid belongs to trailwarden under the
// config's profile. The onboarding guide's Sids are only owned under
// accelerate, so the baseline profile never deletes an AMS statement.
func (c *Config) OwnsSid(sid string) bool {
	if strings.HasPrefix(sid, SidPrefix) {
		return true
	}
	if c.Profile != ProfileAccelerate {
		return false
	}
	switch sid {
	case SidAMSConfigAudit, SidAMSListBucket, SidAMSGetObject, SidAMSDecrypt:
		return true
	}
	return false
}

// Default returns a config with every optional field at its default.
func Default() Config {
	return Config{
		Version:       SchemaVersion,
		Profile:       ProfileBaseline,
		DeliveryScope: ScopeAuto,
		Readers:       Readers{RoleName: DefaultReaderRole},
		AWS:           AWS{AccessRole: DefaultAccessRole, BackupDir: DefaultBackupDir},
	}
}

// Partition is the ARN partition of the home region.
func (c *Config) Partition() string { return awsid.Partition(c.HomeRegion) }

// TrailARN is the ARN of the trail owned by account in the home region.
func (c *Config) TrailARN(account string) string {
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", c.Partition(), c.HomeRegion, account, c.Trail.Name)
}

// TrailOwners are the accounts whose trails deliver: the management account
// for an organization trail, every source account otherwise.
func (c *Config) TrailOwners() []string {
	if c.Trail.Organization {
		return []string{c.ManagementAccount}
	}
	return c.SourceAccounts
}

// BucketARN is the bucket's ARN.
func (c *Config) BucketARN() string { return fmt.Sprintf("arn:%s:s3:::%s", c.Partition(), c.Bucket) }

// LogRoot is the key prefix under which CloudTrail writes AWSLogs/, with
// the trailing slash, or "" without a prefix.
func (c *Config) LogRoot() string {
	if c.KeyPrefix == "" {
		return ""
	}
	return c.KeyPrefix + "/"
}

// ReaderRoleARN is the ARN of the reader role in the log-archive account.
func (c *Config) ReaderRoleARN() string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition(), c.LogArchiveAccount, c.Readers.RoleName)
}

// ReaderPatternARN is the ArnLike pattern for readers.role_pattern, or "".
func (c *Config) ReaderPatternARN() string {
	if c.Readers.RolePattern == "" {
		return ""
	}
	return fmt.Sprintf("arn:%s:iam::*:role/%s", c.Partition(), c.Readers.RolePattern)
}

// EffectiveBucketRegion is bucket_region, defaulting to the home region.
func (c *Config) EffectiveBucketRegion() string {
	if c.BucketRegion != "" {
		return c.BucketRegion
	}
	return c.HomeRegion
}
