package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/athena"
)

type athenaDDLOpts struct {
	config, since     string
	accounts, regions []string
	a                 athenaOpts
}

func newAthenaCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "athena",
		Short: "Query the central bucket at organization scale with Amazon Athena",
		Long: `athena prints or creates the CloudTrail table over the central bucket, with
partition projection over account, region and day, so Athena never needs
partitions added. Then "trailwarden query --engine athena" runs the same
questions as the local store, at organization scale.`,
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
		example = "  trailwarden athena setup --config trailwarden.yaml --output s3://acme-athena-results/trailwarden/"
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Example: example, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAthena(cmd.Context(), o, setup) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	f.StringVar(&o.since, "since", "2020/01/01", "first day the table projects, yyyy/MM/dd")
	f.StringSliceVar(&o.accounts, "accounts", nil, "accounts to project (default: the config's)")
	f.StringSliceVar(&o.regions, "regions", nil, "regions to project (default: every region of the partition)")
	if setup {
		o.a.flags(cmd)
	} else {
		f.StringVar(&o.a.database, "database", "trailwarden", "Glue database of the table")
		f.StringVar(&o.a.table, "table", "cloudtrail_logs", "name of the table")
	}
	return cmd
}

func (a *app) runAthena(ctx context.Context, o athenaDDLOpts, setup bool) error {
	c, err := loadConfig(a, o.config)
	if err != nil {
		return err
	}
	ddl, err := athena.DDL(c, athena.DDLOptions{Database: o.a.database, Table: o.a.table, Accounts: o.accounts, Regions: o.regions, Since: o.since})
	if err != nil {
		return badInput(err, "")
	}
	if !setup {
		fmt.Fprintln(a.stdout, strings.TrimRight(ddl, "\n")+";")
		return nil
	}
	opt := o.a.options()
	if opt.Region == "" {
		opt.Region = c.HomeRegion
	}
	cl, err := athena.New(ctx, opt)
	if err != nil {
		return badInput(err, "check --athena-region, --output and the AWS credentials")
	}
	if err := cl.Setup(ctx, ddl, o.a.database); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "created %s.%s in %s; try: trailwarden query --engine athena --config %s --named root-activity\n",
		o.a.database, o.a.table, opt.Region, o.config)
	return nil
}
