// Package snapshot is the typed, versioned record of a live CloudTrail
// pipeline's configuration: the organization, every account's trails in
// every region, the central bucket, the KMS keys that encrypt its log objects
// and the reader roles. It
// holds exactly what audit and plan need, as AWS returned it (policies are
// kept as the JSON text the API gave), so that `audit --snapshot` decides
// the same as a live audit and an auditor can re-run it offline.
//
// The JSON format is documented in docs/snapshot.md. It is read strictly:
// unknown fields and a newer schema version are errors, not silently lost.
package snapshot

import (
	"strings"
	"time"
)

// SchemaVersion is the format version this package writes. Version 3 has
// snake_case keys, as every JSON trailwarden writes. Versions 1 and 2
// (camelCase keys) are still read; a version 1 file's single "key" becomes
// the one item of Keys.
const SchemaVersion = 3

// Snapshot is one read of the live configuration.
type Snapshot struct {
	Version int       `json:"version"`
	TakenAt time.Time `json:"taken_at"`
	// Partition is the AWS partition of every ARN ("aws", "aws-cn",
	// "aws-us-gov").
	Partition    string        `json:"partition"`
	Organization *Organization `json:"organization,omitempty"`
	// Accounts are the source accounts the config names (or the
	// organization's active accounts), each with its trails.
	Accounts []Account `json:"accounts"`
	Bucket   *Bucket   `json:"bucket,omitempty"`
	// AccessLogTarget is the bucket the central bucket's server access
	// logs should go to (the config's access_log_bucket), when read.
	AccessLogTarget *Bucket `json:"access_log_target,omitempty"`
	// Keys are the KMS keys that encrypt (or are meant to encrypt) log
	// objects: the config's kms_key_arn, every key a trail delivering to
	// the bucket names, and the bucket's default-encryption key, each once,
	// sorted by ARN.
	Keys    []Key  `json:"keys,omitempty"`
	Readers []Role `json:"readers,omitempty"`
	// Errors are the calls that failed (missing permissions, throttling
	// that outlasted retries, ...). A failed call leaves its field empty;
	// audit reports the finding it cannot decide instead of a false pass.
	Errors []CallError `json:"errors,omitempty"`
}

// CallError is one API call that failed while the snapshot was taken.
type CallError struct {
	Account   string `json:"account,omitempty"`
	Region    string `json:"region,omitempty"`
	Service   string `json:"service"`   // "cloudtrail", "s3", "kms", "iam", "organizations", ...
	Operation string `json:"operation"` // the API name, e.g. "GetBucketPolicy"
	Resource  string `json:"resource,omitempty"`
	Code      string `json:"code"` // AWS error code, e.g. "AccessDenied"
	Message   string `json:"message"`
}

// Organization is what AWS Organizations says about the organization.
type Organization struct {
	ID                string `json:"id"`
	ManagementAccount string `json:"management_account"`
	// FeatureSet is "ALL" or "CONSOLIDATED_BILLING"; SCPs and RCPs apply
	// only with ALL.
	FeatureSet string `json:"feature_set,omitempty"`
	// CloudTrailTrustedAccess records whether cloudtrail.amazonaws.com is
	// an enabled service principal (needed for organization trails).
	CloudTrailTrustedAccess bool         `json:"cloud_trail_trusted_access"`
	Accounts                []OrgAccount `json:"accounts,omitempty"`
	// Policies are the SCPs and RCPs attached anywhere on an account's
	// path, each once.
	Policies []OrgPolicy `json:"policies,omitempty"`
}

// OrgAccount is one member account and where it sits in the organization.
type OrgAccount struct {
	ID     string `json:"id"`
	Name   string `json:"name,omitempty"`
	Status string `json:"status,omitempty"` // ACTIVE, SUSPENDED, PENDING_CLOSURE
	// Path is the chain of parents from the root to the account's OU,
	// root first ("r-ab12", "ou-ab12-11111111", ...). Policies attach to
	// these ids or to the account id itself.
	Path []string `json:"path,omitempty"`
}

// Organization policy types.
const (
	PolicySCP = "SERVICE_CONTROL_POLICY"
	PolicyRCP = "RESOURCE_CONTROL_POLICY"
)

// OrgPolicy is one SCP or RCP with the targets it is attached to.
type OrgPolicy struct {
	ID       string   `json:"id"`
	Name     string   `json:"name,omitempty"`
	Type     string   `json:"type"`
	Document string   `json:"document"`
	Targets  []string `json:"targets"` // root, OU or account ids
	// AWSManaged marks FullAWSAccess and RCPFullAWSAccess.
	AWSManaged bool `json:"aws_managed,omitempty"`
}

// Account is one source account and the trails visible in it.
type Account struct {
	ID string `json:"id"`
	// Regions are the regions enabled in the account; trails are listed
	// in each.
	Regions []string `json:"regions"`
	// Trails are the account's trails, each once by ARN, including the
	// organization trail that applies to it (shadow trails are folded into
	// the trail they shadow).
	Trails []Trail `json:"trails"`
}

// Trail is one CloudTrail trail with its status and selectors.
type Trail struct {
	ARN                        string `json:"arn"`
	Name                       string `json:"name"`
	HomeRegion                 string `json:"home_region"`
	S3BucketName               string `json:"s3_bucket_name"`
	S3KeyPrefix                string `json:"s3_key_prefix,omitempty"`
	IsMultiRegion              bool   `json:"is_multi_region"`
	IsOrganization             bool   `json:"is_organization"`
	IncludeGlobalServiceEvents bool   `json:"include_global_service_events"`
	LogFileValidationEnabled   bool   `json:"log_file_validation_enabled"`
	KMSKeyID                   string `json:"kms_key_id,omitempty"`
	CloudWatchLogsLogGroupARN  string `json:"cloud_watch_logs_log_group_arn,omitempty"`
	CloudWatchLogsRoleARN      string `json:"cloud_watch_logs_role_arn,omitempty"`
	HasInsightSelectors        bool   `json:"has_insight_selectors"`

	Status *TrailStatus `json:"status,omitempty"`
	// EventSelectors and AdvancedEventSelectors are what
	// GetEventSelectors returned; a trail uses one kind or the other.
	EventSelectors         []EventSelector         `json:"event_selectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"advanced_event_selectors,omitempty"`
	// InsightTypes are the enabled insight types (ApiCallRateInsight,
	// ApiErrorRateInsight).
	InsightTypes []string `json:"insight_types,omitempty"`
}

// TrailStatus is GetTrailStatus.
type TrailStatus struct {
	IsLogging                         bool       `json:"is_logging"`
	LatestDeliveryError               string     `json:"latest_delivery_error,omitempty"`
	LatestDigestDeliveryError         string     `json:"latest_digest_delivery_error,omitempty"`
	LatestDeliveryTime                *time.Time `json:"latest_delivery_time,omitempty"`
	LatestDigestDeliveryTime          *time.Time `json:"latest_digest_delivery_time,omitempty"`
	LatestCloudWatchLogsDeliveryTime  *time.Time `json:"latest_cloud_watch_logs_delivery_time,omitempty"`
	LatestCloudWatchLogsDeliveryError string     `json:"latest_cloud_watch_logs_delivery_error,omitempty"`
}

// EventSelector is a basic event selector.
type EventSelector struct {
	ReadWriteType                 string         `json:"read_write_type"` // ReadOnly, WriteOnly, All
	IncludeManagementEvents       bool           `json:"include_management_events"`
	ExcludeManagementEventSources []string       `json:"exclude_management_event_sources,omitempty"`
	DataResources                 []DataResource `json:"data_resources,omitempty"`
}

// DataResource is a basic selector's data-event resource.
type DataResource struct {
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"`
}

// AdvancedEventSelector is one advanced event selector.
type AdvancedEventSelector struct {
	Name           string          `json:"name,omitempty"`
	FieldSelectors []FieldSelector `json:"field_selectors"`
}

// FieldSelector is one condition of an advanced event selector.
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	NotEquals     []string `json:"not_equals,omitempty"`
	StartsWith    []string `json:"starts_with,omitempty"`
	NotStartsWith []string `json:"not_starts_with,omitempty"`
	EndsWith      []string `json:"ends_with,omitempty"`
	NotEndsWith   []string `json:"not_ends_with,omitempty"`
}

// Bucket is the central log bucket's configuration.
type Bucket struct {
	Name    string `json:"name"`
	Account string `json:"account"`
	Region  string `json:"region"`
	// Exists is false when HeadBucket/GetBucketLocation said NoSuchBucket.
	Exists bool `json:"exists"`
	// Policy is the bucket policy text; "" when the bucket has none.
	Policy     string           `json:"policy,omitempty"`
	Encryption []EncryptionRule `json:"encryption,omitempty"`
	// Logging is server access logging; nil when disabled.
	Logging   *Logging        `json:"logging,omitempty"`
	Lifecycle []LifecycleRule `json:"lifecycle,omitempty"`
	// ObjectOwnership is BucketOwnerEnforced, BucketOwnerPreferred or
	// ObjectWriter; "" when no ownership controls are set.
	ObjectOwnership   string             `json:"object_ownership,omitempty"`
	Versioning        string             `json:"versioning,omitempty"` // Enabled, Suspended, "" never enabled
	MFADelete         string             `json:"mfa_delete,omitempty"` // Enabled, Disabled
	ObjectLock        *ObjectLock        `json:"object_lock,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block,omitempty"`
	// AccountPublicAccessBlock is the bucket owner's account-level block.
	AccountPublicAccessBlock *PublicAccessBlock `json:"account_public_access_block,omitempty"`
	RequesterPays            bool               `json:"requester_pays"`
	ACLGrants                []Grant            `json:"acl_grants,omitempty"`
}

// EncryptionRule is one default-encryption rule.
type EncryptionRule struct {
	SSEAlgorithm     string `json:"sse_algorithm"` // AES256, aws:kms, aws:kms:dsse
	KMSMasterKeyID   string `json:"kms_master_key_id,omitempty"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
}

// Logging is server access logging.
type Logging struct {
	TargetBucket string `json:"target_bucket"`
	TargetPrefix string `json:"target_prefix,omitempty"`
}

// LifecycleRule is one lifecycle rule, with its filter flattened. Day
// counts are nil when the rule does not set them.
type LifecycleRule struct {
	ID     string `json:"id,omitempty"`
	Status string `json:"status"` // Enabled, Disabled
	// Prefix is the filter's prefix (the legacy top-level Prefix, the
	// Filter's Prefix, or the And's Prefix).
	Prefix                string            `json:"prefix,omitempty"`
	Tags                  map[string]string `json:"tags,omitempty"`
	ObjectSizeGreaterThan *int64            `json:"object_size_greater_than,omitempty"`
	ObjectSizeLessThan    *int64            `json:"object_size_less_than,omitempty"`

	ExpirationDays            *int32     `json:"expiration_days,omitempty"`
	ExpirationDate            *time.Time `json:"expiration_date,omitempty"`
	ExpiredObjectDeleteMarker bool       `json:"expired_object_delete_marker,omitempty"`
	NoncurrentExpirationDays  *int32     `json:"noncurrent_expiration_days,omitempty"`
	NewerNoncurrentVersions   *int32     `json:"newer_noncurrent_versions,omitempty"`
	AbortIncompleteUploadDays *int32     `json:"abort_incomplete_upload_days,omitempty"`
	// Transitions only move objects; they are kept so the record is whole.
	TransitionDays []int32 `json:"transition_days,omitempty"`
}

// ObjectLock is the bucket's Object Lock configuration.
type ObjectLock struct {
	Enabled bool   `json:"enabled"`
	Mode    string `json:"mode,omitempty"` // GOVERNANCE, COMPLIANCE
	Days    int32  `json:"days,omitempty"`
	Years   int32  `json:"years,omitempty"`
}

// PublicAccessBlock is an S3 public access block.
type PublicAccessBlock struct {
	BlockPublicACLs       bool `json:"block_public_acls"`
	IgnorePublicACLs      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

// Grant is one ACL grant.
type Grant struct {
	GranteeType string `json:"grantee_type"` // CanonicalUser, Group, AmazonCustomerByEmail
	GranteeID   string `json:"grantee_id,omitempty"`
	GranteeURI  string `json:"grantee_uri,omitempty"`
	Permission  string `json:"permission"`
}

// Key is a KMS key that encrypts log objects.
type Key struct {
	ARN string `json:"arn"`
	// Refs are the other names the configuration uses for this key (a bare
	// key id or an alias in the bucket's default encryption, such as
	// alias/aws/s3 for the AWS managed key), so a reference resolves to it.
	Refs    []string `json:"refs,omitempty"`
	Account string   `json:"account"`
	Region  string   `json:"region"`
	Policy  string   `json:"policy,omitempty"`
	// State is Enabled, Disabled, PendingDeletion, ...
	State           string `json:"state,omitempty"`
	KeySpec         string `json:"key_spec,omitempty"`
	KeyManager      string `json:"key_manager,omitempty"` // CUSTOMER, AWS
	MultiRegion     bool   `json:"multi_region"`
	RotationEnabled bool   `json:"rotation_enabled"`
}

// KeyFor returns the key that ref names (a key ARN, a bare key id, an alias
// name or alias ARN recorded in Refs), or nil when the snapshot has none.
func (s *Snapshot) KeyFor(ref string) *Key {
	if ref == "" {
		return nil
	}
	for i := range s.Keys {
		k := &s.Keys[i]
		if k.ARN == ref {
			return k
		}
		for _, r := range k.Refs {
			if r == ref {
				return k
			}
		}
	}
	// A bare key id names the key whose ARN ends in it.
	if !strings.Contains(ref, ":") && !strings.HasPrefix(ref, "alias/") {
		for i := range s.Keys {
			if strings.HasSuffix(s.Keys[i].ARN, ":key/"+ref) {
				return &s.Keys[i]
			}
		}
	}
	return nil
}

// Role is an IAM role: a reader role, with everything that decides what it
// can do.
type Role struct {
	ARN     string `json:"arn"`
	Name    string `json:"name"`
	Account string `json:"account"`
	// Exists is false when GetRole said NoSuchEntity.
	Exists      bool          `json:"exists"`
	TrustPolicy string        `json:"trust_policy,omitempty"`
	Inline      []NamedPolicy `json:"inline,omitempty"`
	Attached    []NamedPolicy `json:"attached,omitempty"`
	Boundary    *NamedPolicy  `json:"boundary,omitempty"`
}

// NamedPolicy is an identity policy document with its name (inline) or ARN
// (managed).
type NamedPolicy struct {
	Name     string `json:"name"`
	ARN      string `json:"arn,omitempty"`
	Document string `json:"document"`
}

// AWSManagedS3Key is the alias of the AWS managed key S3 uses when the
// bucket's default encryption is aws:kms without a key id.
const AWSManagedS3Key = "alias/aws/s3"

// EncryptionKeys are the KMS keys the bucket's default encryption names,
// as the configuration names them (an ARN, key id or alias), in rule
// order: AWSManagedS3Key for aws:kms without a key id. Audit and the live
// read share it, so both look at the same keys.
func (b *Bucket) EncryptionKeys() []string {
	if b == nil {
		return nil
	}
	var out []string
	for _, r := range b.Encryption {
		if r.SSEAlgorithm != "aws:kms" && r.SSEAlgorithm != "aws:kms:dsse" {
			continue
		}
		ref := r.KMSMasterKeyID
		if ref == "" {
			ref = AWSManagedS3Key
		}
		out = append(out, ref)
	}
	return out
}
