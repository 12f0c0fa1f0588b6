package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/trailwarden/trailwarden/internal/awsid"
)

// Validate checks every field and the rules between fields, returning one
// *FieldError per problem joined together.
func (c *Config) Validate() error { return c.validate("", nil) }

func (c *Config) validate(file string, pos positions) error {
	var errs []error
	add := func(field, msg string) {
		e := &FieldError{File: file, Field: field, Msg: msg}
		if p, ok := pos[field]; ok {
			e.Line, e.Column = p[0], p[1]
		}
		errs = append(errs, e)
	}
	check := func(field string, err error) {
		if err != nil {
			add(field, err.Error())
		}
	}
	required := func(field, value, example string) bool {
		if value == "" {
			add(field, "required; for example "+example)
			return false
		}
		return true
	}

	if c.Version != SchemaVersion {
		add("version", fmt.Sprintf("schema version %d is not supported by this build, which reads version %d", c.Version, SchemaVersion))
	}
	if c.OrganizationID != "" {
		check("organization_id", awsid.Organization(c.OrganizationID))
	}
	if c.ManagementAccount != "" {
		check("management_account", awsid.Account(c.ManagementAccount))
	}
	if required("log_archive_account", c.LogArchiveAccount, `"222222222222"`) {
		check("log_archive_account", awsid.Account(c.LogArchiveAccount))
	}
	seen := map[string]int{}
	for i, a := range c.SourceAccounts {
		field := fmt.Sprintf("source_accounts[%d]", i)
		if err := awsid.Account(a); err != nil {
			add(field, err.Error())
			continue
		}
		if j, dup := seen[a]; dup {
			add(field, fmt.Sprintf("account %s is listed twice (also source_accounts[%d])", a, j))
		}
		seen[a] = i
	}
	if required("bucket", c.Bucket, "acme-org-cloudtrail") {
		check("bucket", awsid.Bucket(c.Bucket))
	}
	check("key_prefix", awsid.KeyPrefix(c.KeyPrefix))
	if required("home_region", c.HomeRegion, "us-east-1") {
		check("home_region", awsid.Region(c.HomeRegion))
	}
	if c.BucketRegion != "" {
		check("bucket_region", awsid.Region(c.BucketRegion))
	}
	if required("trail.name", c.Trail.Name, "org-trail") {
		check("trail.name", awsid.TrailName(c.Trail.Name))
	}
	if c.Trail.Organization {
		if c.OrganizationID == "" {
			add("trail.organization", "an organization trail needs organization_id (aws organizations describe-organization prints it); set trail.organization: false for per-account trails")
		}
		if c.ManagementAccount == "" {
			add("management_account", "required for an organization trail: the trail lives in the management account and its ARN names it")
		}
	} else if len(c.SourceAccounts) == 0 {
		add("source_accounts", "per-account trails need the list of source accounts; or set trail.organization: true for an organization trail")
	}
	c.validateKey(add)
	c.validateCloudWatch(add)
	c.validateReaders(add, check)
	c.validateAccepted(add)
	c.validateBucketSettings(add)
	if c.AWS.AccessRole != "" {
		check("aws.access_role", awsid.RoleName(c.AWS.AccessRole))
	}
	for i, r := range c.AWS.Regions {
		check(fmt.Sprintf("aws.regions[%d]", i), awsid.Region(r))
	}

	switch c.Profile {
	case ProfileBaseline, ProfileCIS:
	case ProfileAccelerate:
		if c.OrganizationID == "" {
			add("standard", "the accelerate standard scopes readers to the organization and needs organization_id")
		}
		if c.Readers.RolePattern == "" {
			add("readers.role_pattern", "the accelerate standard grants a uniformly named role; set role_pattern: "+AccelerateRolePattern)
		}
	default:
		add("standard", fmt.Sprintf("unknown standard %q; choose one of baseline, accelerate, cis", c.Profile))
	}
	switch c.DeliveryScope {
	case ScopeAuto, ScopePerAccount, ScopeAccountList:
	case ScopeOrganization:
		if c.OrganizationID == "" {
			add("delivery_scope", "organization scoping conditions on aws:SourceOrgID and needs organization_id")
		}
	default:
		add("delivery_scope", fmt.Sprintf("unknown scope %q; choose one of auto, per-account, account-list, organization", c.DeliveryScope))
	}
	return errors.Join(errs...)
}

func (c *Config) validateKey(add func(field, msg string)) {
	if c.KMSKeyARN == "" {
		return
	}
	key, err := awsid.KeyARN(c.KMSKeyARN)
	if err != nil {
		add("kms_key_arn", err.Error())
		return
	}
	if c.HomeRegion != "" && key.Region != c.EffectiveBucketRegion() {
		add("kms_key_arn", fmt.Sprintf("the key is in %s but the bucket is in %s; CloudTrail needs the key in the bucket's region (KmsKeyNotFoundException)", key.Region, c.EffectiveBucketRegion()))
	}
	if key.Partition != c.Partition() {
		add("kms_key_arn", fmt.Sprintf("the key is in partition %s but home_region %s is in %s", key.Partition, c.HomeRegion, c.Partition()))
	}
}

func (c *Config) validateReaders(add func(field, msg string), check func(string, error)) {
	r := c.Readers
	if r.RoleName == "" {
		add("readers.role_name", "required; for example "+DefaultReaderRole)
	} else {
		check("readers.role_name", awsid.RoleName(r.RoleName))
	}
	seen := map[string]bool{}
	for i, arn := range r.Roles {
		field := fmt.Sprintf("readers.roles[%d]", i)
		a, err := awsid.RoleARN(arn)
		if err != nil {
			add(field, err.Error())
			continue
		}
		if seen[arn] {
			add(field, "listed twice")
		}
		seen[arn] = true
		if a.Partition != c.Partition() && c.HomeRegion != "" {
			add(field, fmt.Sprintf("role is in partition %s but the trail is in %s", a.Partition, c.Partition()))
		}
		if arn == c.ReaderRoleARN() {
			add(field, "this is the reader role itself (readers.role_name); list the roles that may assume it")
		}
	}
	if r.RolePattern != "" {
		check("readers.role_pattern", awsid.RolePattern(r.RolePattern))
		if c.OrganizationID == "" {
			add("readers.role_pattern", "a role-name pattern matches roles in any account, so it is scoped to the organization and needs organization_id")
		}
	}
	if r.ExternalID != "" {
		check("readers.external_id", awsid.ExternalID(r.ExternalID))
	}
	if strings.TrimSpace(r.ExternalID) != r.ExternalID {
		add("readers.external_id", "remove the surrounding spaces")
	}
}

// validateAccepted checks the accepted foreign Sids: each a Sid, listed
// once, and never one of trailwarden's own (its statements are proven, not
// accepted).
func (c *Config) validateAccepted(add func(field, msg string)) {
	for _, list := range []struct {
		setting string
		sids    []string
	}{{SettingAcceptedBucketSids, c.AcceptedForeignSids.BucketPolicy}, {SettingAcceptedKeySids, c.AcceptedForeignSids.KeyPolicy}} {
		seen := map[string]int{}
		for i, sid := range list.sids {
			field := fmt.Sprintf("%s[%d]", list.setting, i)
			switch {
			case sid == "":
				add(field, "empty; list the Sid of a statement of the existing policy (a statement without a Sid cannot be accepted: give it one)")
				continue
			case strings.TrimSpace(sid) != sid:
				add(field, fmt.Sprintf("%q has surrounding spaces; a Sid is matched exactly", sid))
				continue
			case c.OwnsSid(sid):
				add(field, fmt.Sprintf("%q is a Sid trailwarden writes (under standard %s); only statements trailwarden does not own can be accepted, its own are proven", sid, c.Profile))
				continue
			}
			if j, dup := seen[sid]; dup {
				add(field, fmt.Sprintf("Sid %q is listed twice (also %s[%d])", sid, list.setting, j))
				continue
			}
			seen[sid] = i
		}
	}
}

// logGroupRE is a CloudWatch Logs log group name.
var logGroupRE = regexp.MustCompile(`^[\w\-./#]{1,512}$`)

// logGroupARNRE is a log group ARN, with or without the ":*" CloudTrail
// returns.
var logGroupARNRE = regexp.MustCompile(`^arn:([a-z-]+):logs:([a-z0-9-]+):(\d{12}):log-group:([\w\-./#]{1,512})(:\*)?$`)

// validateCloudWatch checks trail.cloudwatch_logs: both or neither, and
// the log group and role in the account and region of every trail, as
// CloudTrail requires (InvalidCloudWatchLogsLogGroupArnException,
// InvalidCloudWatchLogsRoleArnException).
func (c *Config) validateCloudWatch(add func(field, msg string)) {
	w := c.Trail.CloudWatchLogs
	if !w.Configured() {
		return
	}
	if w.LogGroup == "" || w.Role == "" {
		add("trail.cloudwatch_logs", "give both log_group and role: CloudTrail needs the role to write to the log group")
		return
	}
	owners := c.TrailOwners()
	sameAccount := func(field, what, account string) {
		for _, o := range owners {
			if o != account {
				add(field, fmt.Sprintf("the %s is in account %s but the trail of account %s can only use one of its own account; give a name instead of an ARN so that each account's trail uses its own", what, account, o))
				return
			}
		}
	}
	if strings.HasPrefix(w.LogGroup, "arn:") {
		m := logGroupARNRE.FindStringSubmatch(w.LogGroup)
		switch {
		case m == nil:
			add("trail.cloudwatch_logs.log_group", "not a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME) or a log group name")
		case c.HomeRegion != "" && m[2] != c.HomeRegion:
			add("trail.cloudwatch_logs.log_group", fmt.Sprintf("the log group is in %s but the trail's home region is %s; CloudTrail sends events only to a log group in its home region", m[2], c.HomeRegion))
		default:
			sameAccount("trail.cloudwatch_logs.log_group", "log group", m[3])
		}
	} else if !logGroupRE.MatchString(w.LogGroup) {
		add("trail.cloudwatch_logs.log_group", "a log group name has 1 to 512 letters, digits and _ - . / #")
	}
	if strings.HasPrefix(w.Role, "arn:") {
		a, err := awsid.RoleARN(w.Role)
		if err != nil {
			add("trail.cloudwatch_logs.role", err.Error())
		} else {
			sameAccount("trail.cloudwatch_logs.role", "role", a.Account)
		}
	} else if err := awsid.RoleName(w.Role); err != nil {
		add("trail.cloudwatch_logs.role", err.Error())
	}
}
