package config

import (
	"bytes"
	"strconv"
	"strings"
	"text/template"
)

// Render writes c as a commented trailwarden.yaml. Every value is quoted so
// that account ids keep their leading zeros whatever the reader's YAML parser.
func Render(c *Config) []byte {
	var b bytes.Buffer
	if err := renderTmpl.Execute(&b, c); err != nil {
		// The template is fixed and the data is a plain struct: an error here
		// is a programming error, caught by the round-trip test.
		panic(err)
	}
	return b.Bytes()
}

func quote(s string) string { return strconv.Quote(s) }

func quoteList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = strconv.Quote(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

var renderTmpl = template.Must(template.New("config").Funcs(template.FuncMap{
	"q": quote, "ql": quoteList,
}).Parse(`# trailwarden.yaml: one centralized CloudTrail pipeline (schema: docs/config.md)
version: {{.Version}}

# AWS Organizations id; leave empty when the accounts are not in an organization.
organization_id: {{q .OrganizationID}}
# The organization's management account (owner of an organization trail).
management_account: {{q .ManagementAccount}}
# The account that owns the central log bucket (and the reader role).
log_archive_account: {{q .LogArchiveAccount}}
# Accounts whose trails deliver here: required for per-account trails; with an
# organization trail, a non-empty list restricts delivery to these accounts.
source_accounts: {{ql .SourceAccounts}}

# The central bucket, its region (default: home_region) and optional key prefix
# (no leading or trailing slash; must not contain AWSLogs/).
bucket: {{q .Bucket}}
bucket_region: {{q .BucketRegion}}
key_prefix: {{q .KeyPrefix}}

# The region where the trail is created (its ARN names it).
home_region: {{q .HomeRegion}}
trail:
  name: {{q .Trail.Name}}
  # true: one organization trail in the management account;
  # false: a trail of this name in every source account.
  organization: {{.Trail.Organization}}
  # Also send the trail's events to CloudWatch Logs (required by the cis
  # standard): a log group and the role CloudTrail assumes to write to it,
  # each a name (resolved in every trail's account and home region) or an ARN.
  # Empty leaves the trail's CloudWatch Logs integration as it is.
  cloudwatch_logs:
    log_group: {{q .Trail.CloudWatchLogs.LogGroup}}
    role: {{q .Trail.CloudWatchLogs.Role}}

# SSE-KMS key for log files (a key ARN, not an alias); empty for SSE-S3.
kms_key_arn: {{q .KMSKeyARN}}

# Target of the bucket's server access logs, in the bucket's region; apply
# creates it when missing. Empty means <bucket>-access-logs.
access_log_bucket: {{q .AccessLogBucket}}
# The bucket settings plan and apply keep as the standard requires; set one to
# "unmanaged" to leave it alone (see docs/config.md).
bucket_settings:
  versioning: {{q .BucketSettings.Versioning}}
  public_access_block: {{q .BucketSettings.PublicAccessBlock}}
  object_ownership: {{q .BucketSettings.ObjectOwnership}}
  encryption: {{q .BucketSettings.Encryption}}
  access_logging: {{q .BucketSettings.AccessLogging}}
  # Least days log objects are kept: 0 takes the standard's period (548 days,
  # 18 months, under accelerate; none otherwise); -1 leaves the lifecycle alone.
  retention_days: {{.BucketSettings.RetentionDays}}
  # Default Object Lock retention of new log objects (mode COMPLIANCE or
  # GOVERNANCE, and days or years). Empty leaves Object Lock alone. Turning it
  # on CANNOT BE UNDONE; apply asks separately unless --allow-irreversible.
  object_lock:
    mode: {{q .BucketSettings.ObjectLock.Mode}}
    days: {{.BucketSettings.ObjectLock.Days}}
    years: {{.BucketSettings.ObjectLock.Years}}

readers:
  # Reader role created in the log-archive account.
  role_name: {{q .Readers.RoleName}}
  # Exact role ARNs that may read the logs and assume the reader role.
  roles: {{ql .Readers.Roles}}
  # A role-name pattern (e.g. ams-access-*) allowed in any organization account.
  role_pattern: {{q .Readers.RolePattern}}
  # true: readers may read only through Amazon Athena (aws:CalledVia).
  athena_only: {{.Readers.AthenaOnly}}
  # Required in the reader role's trust policy when set.
  external_id: {{q .Readers.ExternalID}}

# Requirement standard: baseline, accelerate (the AMS Accelerate onboarding
# guide's requirements and statements) or cis.
standard: {{q .Profile}}
# How delivery is scoped: auto, per-account, account-list or organization.
delivery_scope: {{q .DeliveryScope}}

# Statements of the existing bucket and key policies that trailwarden does not
# own and that grant more than this file intends, kept knowingly (by Sid):
# "trailwarden policy prove" reports their grants as accepted, not as findings.
accepted_foreign_sids:
  bucket_policy: {{ql .AcceptedForeignSids.BucketPolicy}}
  key_policy: {{ql .AcceptedForeignSids.KeyPolicy}}

aws:
  # Role assumed in each account to read and change it (snapshot, audit,
  # apply); empty uses your own credentials in every account.
  access_role: {{q .AWS.AccessRole}}
  # Regions to read; empty means every region enabled in each account.
  regions: {{ql .AWS.Regions}}
  # Where apply saves every policy before it replaces it.
  backup_dir: {{q .AWS.BackupDir}}
`))
