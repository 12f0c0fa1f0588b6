package cli

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/query/athena"
)

type athenaDDLOpts struct {
	since   string
	regions []string
	exp     expectOpts
	a       athenaOpts
}

func newAthenaCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "athena",
		Short: "Query the central bucket at organization scale with Amazon Athena",
		Long: `athena prints or creates the CloudTrail table over the central bucket, with
partition projection over account, region and day, so Athena never needs
partitions added. Then "trailwarden query --engine athena" runs the same
questions as the local store, at organization scale.

The table projects every account that delivers. For an organization trail
that is every active account of the organization: from --accounts, from
--snapshot, or read live with Organizations ListAccounts from the management
account (through the config's aws.access_role; --profile picks the
credentials). When none of these can say, ddl and setup stop with exit 2
rather than create a table that silently skips the member accounts.`,
	}
	cmd.AddCommand(newAthenaDDLCmd(a, false), newAthenaDDLCmd(a, true))
	return cmd
}

func newAthenaDDLCmd(a *app, setup bool) *cobra.Command {
	var o athenaDDLOpts
	use, short := "ddl", "Print the CREATE TABLE statement with partition projection"
	example := "  trailwarden athena ddl --config trailwarden.yaml > cloudtrail.sql"
	if setup {
		use, short = "setup", "Create the database and the CloudTrail table in Athena"
		example = "  trailwarden athena setup --config trailwarden.yaml --athena-results s3://acme-athena-results/trailwarden/\n" +
			"  trailwarden athena setup --config trailwarden.yaml --region eu-west-1 --since 2025-01-01 --accounts 111111111111,222222222222"
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Example: example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAthena(cmd.Context(), o, setup) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.exp.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	f.StringVar(&o.since, "since", "2020-01-01", "first day the table projects: "+windowHelp+"; a time counts from its day")
	f.StringSliceVar(&o.exp.accounts, "accounts", nil, "accounts to project (default: the organization's active accounts for an organization trail, from --snapshot or read live; else the config's source_accounts)")
	regionsFlag(f, &o.regions, "regions", "regions to project, comma-separated (repeatable) (default: every region of the partition)")
	f.StringVar(&o.exp.snapshot, "snapshot", "", "a snapshot file (trailwarden snapshot) to take the organization's accounts from")
	f.StringVar(&o.exp.endpoint, "endpoint-url", "", "send AWS calls to this URL (tests, or a private endpoint)")
	timeoutFlag(f, &o.exp.timeout)
	if setup {
		o.a.flags(cmd)
	} else {
		f.StringVar(&o.a.database, "database", "trailwarden", "Glue database of the table")
		f.StringVar(&o.a.table, "table", "cloudtrail_logs", "name of the table")
		f.StringVar(&o.a.profile, "profile", "", "AWS shared-config profile for reading the organization's accounts")
	}
	return cmd
}

func (a *app) runAthena(ctx context.Context, o athenaDDLOpts, setup bool) error {
	since, _, err := parseWindow(o.since, "", time.Now())
	if err != nil {
		return err
	}
	o.exp.profile = o.a.profile
	c, exp, err := a.athenaAccounts(ctx, o.exp)
	if err != nil {
		return err
	}
	ddl, err := athena.DDL(c, athena.DDLOptions{Database: o.a.database, Table: o.a.table, Accounts: exp.IDs(), Regions: o.regions,
		Since: since.Format("2006/01/02")})
	if err != nil {
		return badInput(err, "")
	}
	fmt.Fprintf(a.stderr, "projecting %d accounts: %s\n", len(exp.Accounts), exp.AccountsDetail)
	for _, l := range exp.Left {
		fmt.Fprintf(a.stderr, "left out %s: %s\n", l.Account, l.Reason)
	}
	if !setup {
		fmt.Fprintln(a.stdout, strings.TrimRight(ddl, "\n")+";")
		return nil
	}
	opt := o.a.options()
	opt.Endpoint, opt.Timeout = o.exp.endpoint, o.exp.timeout
	if opt.Region == "" {
		opt.Region = c.HomeRegion
	}
	cl, err := athena.New(ctx, opt)
	if err != nil {
		return badInput(err, "check --region, --athena-results and the AWS credentials")
	}
	if err := cl.Setup(ctx, ddl, o.a.database); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "created %s.%s in %s; try: trailwarden query --engine athena --config %s --named root-activity\n",
		o.a.database, o.a.table, opt.Region, o.exp.config)
	return nil
}

// athenaAccounts loads the config and resolves the accounts a table must
// project (accounts only: the table projects every region of the
// partition unless told otherwise).
func (a *app) athenaAccounts(ctx context.Context, o expectOpts) (*config.Config, *coverage.Expected, error) {
	c, snap, snapName, err := a.expectSources(o, nil)
	if err != nil {
		return nil, nil, err
	}
	exp, err := a.expected(ctx, o, coverageInput(c, snap, snapName, c.Bucket, c.KeyPrefix), true)
	if err != nil {
		return nil, nil, err
	}
	return c, exp, nil
}
