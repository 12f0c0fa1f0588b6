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

// SchemaVersion is the format version this package writes. Version 1 files
// (a single "key") are still read: their key becomes the one item of Keys.
const SchemaVersion = 2

// Snapshot is one read of the live configuration.
type Snapshot struct {
	Version int       `json:"version"`
	TakenAt time.Time `json:"takenAt"`
	// Partition is the AWS partition of every ARN ("aws", "aws-cn",
	// "aws-us-gov").
	Partition    string        `json:"partition"`
	Organization *Organization `json:"organization,omitempty"`
	// Accounts are the source accounts the config names (or the
	// organization's active accounts), each with its trails.
	Accounts []Account `json:"accounts"`
	Bucket   *Bucket   `json:"bucket,omitempty"`
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
	ManagementAccount string `json:"managementAccount"`
	// FeatureSet is "ALL" or "CONSOLIDATED_BILLING"; SCPs and RCPs apply
	// only with ALL.
	FeatureSet string `json:"featureSet,omitempty"`
	// CloudTrailTrustedAccess records whether cloudtrail.amazonaws.com is
	// an enabled service principal (needed for organization trails).
	CloudTrailTrustedAccess bool         `json:"cloudTrailTrustedAccess"`
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
	AWSManaged bool `json:"awsManaged,omitempty"`
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
	HomeRegion                 string `json:"homeRegion"`
	S3BucketName               string `json:"s3BucketName"`
	S3KeyPrefix                string `json:"s3KeyPrefix,omitempty"`
	IsMultiRegion              bool   `json:"isMultiRegion"`
	IsOrganization             bool   `json:"isOrganization"`
	IncludeGlobalServiceEvents bool   `json:"includeGlobalServiceEvents"`
	LogFileValidationEnabled   bool   `json:"logFileValidationEnabled"`
	KMSKeyID                   string `json:"kmsKeyId,omitempty"`
	CloudWatchLogsLogGroupARN  string `json:"cloudWatchLogsLogGroupArn,omitempty"`
	HasInsightSelectors        bool   `json:"hasInsightSelectors"`

	Status *TrailStatus `json:"status,omitempty"`
	// EventSelectors and AdvancedEventSelectors are what
	// GetEventSelectors returned; a trail uses one kind or the other.
	EventSelectors         []EventSelector         `json:"eventSelectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"advancedEventSelectors,omitempty"`
	// InsightTypes are the enabled insight types (ApiCallRateInsight,
	// ApiErrorRateInsight).
	InsightTypes []string `json:"insightTypes,omitempty"`
}

// TrailStatus is GetTrailStatus.
type TrailStatus struct {
	IsLogging                         bool       `json:"isLogging"`
	LatestDeliveryError               string     `json:"latestDeliveryError,omitempty"`
	LatestDigestDeliveryError         string     `json:"latestDigestDeliveryError,omitempty"`
	LatestDeliveryTime                *time.Time `json:"latestDeliveryTime,omitempty"`
	LatestDigestDeliveryTime          *time.Time `json:"latestDigestDeliveryTime,omitempty"`
	LatestCloudWatchLogsDeliveryTime  *time.Time `json:"latestCloudWatchLogsDeliveryTime,omitempty"`
	LatestCloudWatchLogsDeliveryError string     `json:"latestCloudWatchLogsDeliveryError,omitempty"`
}

// EventSelector is a basic event selector.
type EventSelector struct {
	ReadWriteType                 string         `json:"readWriteType"` // ReadOnly, WriteOnly, All
	IncludeManagementEvents       bool           `json:"includeManagementEvents"`
	ExcludeManagementEventSources []string       `json:"excludeManagementEventSources,omitempty"`
	DataResources                 []DataResource `json:"dataResources,omitempty"`
}

// DataResource is a basic selector's data-event resource.
type DataResource struct {
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"`
}

// AdvancedEventSelector is one advanced event selector.
type AdvancedEventSelector struct {
	Name           string          `json:"name,omitempty"`
	FieldSelectors []FieldSelector `json:"fieldSelectors"`
}

// FieldSelector is one condition of an advanced event selector.
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	NotEquals     []string `json:"notEquals,omitempty"`
	StartsWith    []string `json:"startsWith,omitempty"`
	NotStartsWith []string `json:"notStartsWith,omitempty"`
	EndsWith      []string `json:"endsWith,omitempty"`
	NotEndsWith   []string `json:"notEndsWith,omitempty"`
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
	ObjectOwnership   string             `json:"objectOwnership,omitempty"`
	Versioning        string             `json:"versioning,omitempty"` // Enabled, Suspended, "" never enabled
	MFADelete         string             `json:"mfaDelete,omitempty"`  // Enabled, Disabled
	ObjectLock        *ObjectLock        `json:"objectLock,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"publicAccessBlock,omitempty"`
	// AccountPublicAccessBlock is the bucket owner's account-level block.
	AccountPublicAccessBlock *PublicAccessBlock `json:"accountPublicAccessBlock,omitempty"`
	RequesterPays            bool               `json:"requesterPays"`
	ACLGrants                []Grant            `json:"aclGrants,omitempty"`
}

// EncryptionRule is one default-encryption rule.
type EncryptionRule struct {
	SSEAlgorithm     string `json:"sseAlgorithm"` // AES256, aws:kms, aws:kms:dsse
	KMSMasterKeyID   string `json:"kmsMasterKeyId,omitempty"`
	BucketKeyEnabled bool   `json:"bucketKeyEnabled"`
}

// Logging is server access logging.
type Logging struct {
	TargetBucket string `json:"targetBucket"`
	TargetPrefix string `json:"targetPrefix,omitempty"`
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
	ObjectSizeGreaterThan *int64            `json:"objectSizeGreaterThan,omitempty"`
	ObjectSizeLessThan    *int64            `json:"objectSizeLessThan,omitempty"`

	ExpirationDays            *int32     `json:"expirationDays,omitempty"`
	ExpirationDate            *time.Time `json:"expirationDate,omitempty"`
	ExpiredObjectDeleteMarker bool       `json:"expiredObjectDeleteMarker,omitempty"`
	NoncurrentExpirationDays  *int32     `json:"noncurrentExpirationDays,omitempty"`
	NewerNoncurrentVersions   *int32     `json:"newerNoncurrentVersions,omitempty"`
	AbortIncompleteUploadDays *int32     `json:"abortIncompleteUploadDays,omitempty"`
	// Transitions only move objects; they are kept so the record is whole.
	TransitionDays []int32 `json:"transitionDays,omitempty"`
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
	BlockPublicACLs       bool `json:"blockPublicAcls"`
	IgnorePublicACLs      bool `json:"ignorePublicAcls"`
	BlockPublicPolicy     bool `json:"blockPublicPolicy"`
	RestrictPublicBuckets bool `json:"restrictPublicBuckets"`
}

// Grant is one ACL grant.
type Grant struct {
	GranteeType string `json:"granteeType"` // CanonicalUser, Group, AmazonCustomerByEmail
	GranteeID   string `json:"granteeId,omitempty"`
	GranteeURI  string `json:"granteeUri,omitempty"`
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
	KeySpec         string `json:"keySpec,omitempty"`
	KeyManager      string `json:"keyManager,omitempty"` // CUSTOMER, AWS
	MultiRegion     bool   `json:"multiRegion"`
	RotationEnabled bool   `json:"rotationEnabled"`
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
	TrustPolicy string        `json:"trustPolicy,omitempty"`
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
