package cli

import (
	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/safefile"
)

func newInitCmd(a *app) *cobra.Command {
	c := config.Default()
	var perAccount bool
	var out string
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Write a commented trailwarden.yaml from flags",
		Long: `init writes a trailwarden.yaml describing one centralized CloudTrail pipeline.
It validates every value first and writes nothing when one is wrong.

With --org the trail is an organization trail in the management account;
with --per-account-trails (or without --org) every source account has its own
trail of the same name, and --source-account lists them.`,
		Example: `  trailwarden init --org o-a1b2c3d4e5 --management-account 111111111111 \
    --log-archive-account 222222222222 --bucket acme-org-cloudtrail \
    --region us-east-1 --trail org-trail > trailwarden.yaml

  trailwarden init --log-archive-account 222222222222 --bucket acme-logs \
    --region eu-west-1 --trail audit --source-account 333333333333 \
    --source-account 444444444444 --reader-role arn:aws:iam::555555555555:role/siem \
    --out trailwarden.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c.Trail.Organization = c.OrganizationID != "" && !perAccount
			if c.Profile == config.ProfileAccelerate && c.Readers.RolePattern == "" {
				c.Readers.RolePattern = config.AccelerateRolePattern
			}
			if err := c.Validate(); err != nil {
				return badInput(err, "fix the flags named above; see trailwarden init --help")
			}
			data := config.Render(&c)
			if out == "" || out == "-" {
				_, err := a.stdout.Write(data)
				return err
			}
			return safefile.Write(out, data, 0o644)
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.OrganizationID, "org", "", "AWS Organizations id (o-...); implies an organization trail")
	f.StringVar(&c.ManagementAccount, "management-account", "", "management account id (owner of an organization trail)")
	f.StringVar(&c.LogArchiveAccount, "log-archive-account", "", "account that owns the central bucket")
	f.StringArrayVar(&c.SourceAccounts, "source-account", nil, "account whose trail delivers here (repeatable)")
	f.StringVar(&c.Bucket, "bucket", "", "central S3 bucket name")
	regionFlag(f, &c.BucketRegion, "bucket-region", "bucket region (default: --region)")
	f.StringVar(&c.KeyPrefix, "prefix", "", "S3 key prefix of the trail (no leading or trailing slash)")
	regionFlag(f, &c.HomeRegion, "region", "home region of the trail (where it is created, as aws cloudtrail create-trail --region)")
	f.StringVar(&c.Trail.Name, "trail", "", "trail name")
	f.BoolVar(&perAccount, "per-account-trails", false, "one trail per source account even with --org")
	f.StringVar(&c.KMSKeyARN, "kms-key", "", "KMS key ARN for SSE-KMS log files")
	f.StringVar(&c.AccessLogBucket, "access-log-bucket", "", "bucket for the central bucket's server access logs, created by apply when missing (default: <bucket>-access-logs)")
	f.StringVar(&c.Readers.RoleName, "reader-role-name", c.Readers.RoleName, "name of the reader role in the log-archive account")
	f.StringArrayVar(&c.Readers.Roles, "reader-role", nil, "role ARN allowed to read the logs (repeatable)")
	f.StringVar(&c.Readers.RolePattern, "reader-pattern", "", "role-name pattern allowed to read in any organization account, e.g. ams-access-*")
	f.BoolVar(&c.Readers.AthenaOnly, "athena-only", false, "readers may read only through Amazon Athena")
	f.StringVar(&c.Readers.ExternalID, "reader-external-id", "", "sts:ExternalId the reader role's trust policy requires of whoever assumes it "+
		"(the value readers pass as --external-id with --role-arn to pull, verify or coverage)")
	f.StringVar(&c.Profile, "standard", c.Profile, "the requirements to generate and audit for: baseline, accelerate (the AMS Accelerate onboarding guide) or cis")
	f.StringVar(&c.DeliveryScope, "delivery-scope", c.DeliveryScope, "auto, per-account, account-list or organization")
	f.StringVarP(&out, "out", "o", "", "write to this file (atomically) instead of stdout")
	return cmd
}
