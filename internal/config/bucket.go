package config

import "strings"

// BucketSettings are the central bucket's settings that plan and apply
// manage as desired state. Every field has a default per standard; a
// field left out of trailwarden.yaml takes it.
type BucketSettings struct {
	// Versioning keeps every version of a log object: "enabled" (the
	// default) or "unmanaged".
	Versioning string `yaml:"versioning,omitempty"`
	// PublicAccessBlock turns on all four settings of the bucket's public
	// access block: "enabled" (the default) or "unmanaged".
	PublicAccessBlock string `yaml:"public_access_block,omitempty"`
	// ObjectOwnership is "BucketOwnerEnforced" (the default: ACLs
	// disabled, as the AMS Accelerate onboarding guide requires) or
	// "unmanaged".
	ObjectOwnership string `yaml:"object_ownership,omitempty"`
	// Encryption is the bucket's default encryption: "sse-kms" (with
	// kms_key_arn and S3 Bucket Keys; the default when kms_key_arn is
	// set), "sse-s3" (the default otherwise) or "unmanaged".
	Encryption string `yaml:"encryption,omitempty"`
	// RetentionDays is the least number of days a log object is kept;
	// the lifecycle rule trailwarden owns never expires logs (current or
	// noncurrent) sooner. 0 takes the standard's period (548 days, 18
	// months, under accelerate; unmanaged under the others); -1 leaves
	// the lifecycle unmanaged.
	RetentionDays int `yaml:"retention_days,omitempty"`
	// AccessLogging sends the bucket's server access logs to
	// access_log_bucket: "enabled" (the default) or "unmanaged".
	AccessLogging string `yaml:"access_logging,omitempty"`
	// ObjectLock is a default Object Lock retention for new log objects;
	// unset leaves Object Lock alone. Turning it on can never be undone.
	ObjectLock ObjectLock `yaml:"object_lock,omitempty"`
}

// ObjectLock is the bucket's default Object Lock retention: mode
// COMPLIANCE (no one, the root user included, can delete a locked version
// or shorten its retention) or GOVERNANCE, for days or years.
type ObjectLock struct {
	Mode  string `yaml:"mode,omitempty"`
	Days  int    `yaml:"days,omitempty"`
	Years int    `yaml:"years,omitempty"`
}

// Object Lock modes.
const (
	ObjectLockCompliance = "COMPLIANCE"
	ObjectLockGovernance = "GOVERNANCE"
)

// Bucket setting values.
const (
	SettingEnabled             = "enabled"
	SettingUnmanaged           = "unmanaged"
	OwnershipBucketOwnerForced = "BucketOwnerEnforced"
	EncryptionSSES3            = "sse-s3"
	EncryptionSSEKMS           = "sse-kms"
)

// AccelerateRetentionDays is the AMS Accelerate onboarding guide's
// retention: 18 months.
const AccelerateRetentionDays = 548

// DesiredBucket is the bucket settings with the standard's defaults
// filled in; a field "unmanaged" (or RetentionDays 0) is left alone.
type DesiredBucket struct {
	Versioning        bool
	PublicAccessBlock bool
	// ObjectOwnership is "" when unmanaged.
	ObjectOwnership string
	// Encryption is EncryptionSSES3, EncryptionSSEKMS or "" when
	// unmanaged; KMSKeyARN is the key of sse-kms.
	Encryption string
	KMSKeyARN  string
	// RetentionDays is 0 when the lifecycle is unmanaged.
	RetentionDays int32
	// AccessLogBucket is the server access logs' target bucket, ""
	// when access logging is unmanaged; AccessLogPrefix is the prefix
	// the logs are written under.
	AccessLogBucket, AccessLogPrefix string
	// ObjectLockMode is "" when Object Lock is unmanaged, else
	// COMPLIANCE or GOVERNANCE with ObjectLockDays or ObjectLockYears.
	ObjectLockMode                  string
	ObjectLockDays, ObjectLockYears int32
}

// AccessLogTarget is access_log_bucket, by default <bucket>-access-logs.
func (c *Config) AccessLogTarget() string {
	if c.AccessLogBucket != "" {
		return c.AccessLogBucket
	}
	return c.Bucket + "-access-logs"
}

// MaxRetentionDays bounds retention_days (100 years).
const MaxRetentionDays = 36500

// Desired resolves the bucket settings against the standard.
func (c *Config) Desired() DesiredBucket {
	s := c.BucketSettings
	d := DesiredBucket{
		Versioning:        !strings.EqualFold(s.Versioning, SettingUnmanaged),
		PublicAccessBlock: !strings.EqualFold(s.PublicAccessBlock, SettingUnmanaged),
		ObjectOwnership:   OwnershipBucketOwnerForced,
	}
	if strings.EqualFold(s.ObjectOwnership, SettingUnmanaged) {
		d.ObjectOwnership = ""
	}
	switch {
	case strings.EqualFold(s.Encryption, SettingUnmanaged):
	case strings.EqualFold(s.Encryption, EncryptionSSES3):
		d.Encryption = EncryptionSSES3
	case strings.EqualFold(s.Encryption, EncryptionSSEKMS) || c.KMSKeyARN != "":
		d.Encryption, d.KMSKeyARN = EncryptionSSEKMS, c.KMSKeyARN
	default:
		d.Encryption = EncryptionSSES3
	}
	if !strings.EqualFold(s.AccessLogging, SettingUnmanaged) {
		d.AccessLogBucket, d.AccessLogPrefix = c.AccessLogTarget(), c.Bucket+"/"
	}
	if s.ObjectLock.Mode != "" {
		d.ObjectLockMode = strings.ToUpper(s.ObjectLock.Mode)
		d.ObjectLockDays = int32(min(max(s.ObjectLock.Days, 0), MaxRetentionDays))       //nolint:gosec // bounded
		d.ObjectLockYears = int32(min(max(s.ObjectLock.Years, 0), MaxRetentionDays/365)) //nolint:gosec // bounded
	}
	switch {
	case s.RetentionDays > 0:
		d.RetentionDays = int32(min(s.RetentionDays, MaxRetentionDays)) //nolint:gosec // bounded by MaxRetentionDays
	case s.RetentionDays == 0 && c.Profile == ProfileAccelerate:
		d.RetentionDays = AccelerateRetentionDays
	}
	return d
}

func (c *Config) validateBucketSettings(add func(field, msg string)) {
	s := c.BucketSettings
	oneOf := func(field, v string, allowed ...string) {
		if v == "" {
			return
		}
		for _, a := range allowed {
			if strings.EqualFold(v, a) {
				return
			}
		}
		add("bucket_settings."+field, "unknown value "+quote(v)+"; choose one of "+strings.Join(allowed, ", "))
	}
	oneOf("versioning", s.Versioning, SettingEnabled, SettingUnmanaged)
	oneOf("public_access_block", s.PublicAccessBlock, SettingEnabled, SettingUnmanaged)
	oneOf("object_ownership", s.ObjectOwnership, OwnershipBucketOwnerForced, SettingUnmanaged)
	oneOf("encryption", s.Encryption, EncryptionSSES3, EncryptionSSEKMS, SettingUnmanaged)
	oneOf("access_logging", s.AccessLogging, SettingEnabled, SettingUnmanaged)
	if c.AccessLogBucket != "" && c.AccessLogBucket == c.Bucket {
		add("access_log_bucket", "must not be the central bucket itself: each access log delivery would be logged again")
	}
	if strings.EqualFold(s.Encryption, EncryptionSSEKMS) && c.KMSKeyARN == "" {
		add("bucket_settings.encryption", "sse-kms needs kms_key_arn")
	}
	if s.RetentionDays > MaxRetentionDays {
		add("bucket_settings.retention_days", "at most 36500 days (100 years)")
	}
	if s.RetentionDays < -1 {
		add("bucket_settings.retention_days", "must be a number of days, 0 for the standard's period or -1 for unmanaged")
	}
	if l := s.ObjectLock; l != (ObjectLock{}) {
		switch {
		case l.Mode == "":
			add("bucket_settings.object_lock.mode", "required with days or years; choose one of COMPLIANCE, GOVERNANCE")
		case !strings.EqualFold(l.Mode, ObjectLockCompliance) && !strings.EqualFold(l.Mode, ObjectLockGovernance):
			add("bucket_settings.object_lock.mode", "unknown value "+quote(l.Mode)+"; choose one of COMPLIANCE, GOVERNANCE")
		}
		switch {
		case (l.Days > 0) == (l.Years > 0):
			add("bucket_settings.object_lock", "give exactly one of days and years, a positive number")
		case l.Days > MaxRetentionDays || l.Years > MaxRetentionDays/365:
			add("bucket_settings.object_lock", "at most 36500 days (100 years)")
		case l.Days < 0 || l.Years < 0:
			add("bucket_settings.object_lock", "days and years are positive")
		}
		if strings.EqualFold(s.Versioning, SettingUnmanaged) {
			add("bucket_settings.versioning", "Object Lock needs versioning: it cannot be unmanaged when object_lock is set")
		}
	}
	if c.Profile == ProfileAccelerate && s.RetentionDays > 0 && s.RetentionDays < AccelerateRetentionDays {
		add("bucket_settings.retention_days", "the AMS Accelerate onboarding guide requires at least 548 days (18 months)")
	}
}
