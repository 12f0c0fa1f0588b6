package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/query/athena"
	"github.com/trailwarden/trailwarden/internal/query/duckdb"
)

type queryOpts struct {
	db, engine, named, format, config string
	memory                            string
	wide                              bool
	allowFiles                        []string
	athena                            athenaOpts
	exp                               expectOpts
}

type athenaOpts struct {
	region, profile, roleARN, workgroup, output, database, table string
}

func (o *athenaOpts) options() athena.Options {
	return athena.Options{Region: o.region, Profile: o.profile, RoleARN: o.roleARN, Workgroup: o.workgroup,
		OutputLocation: o.output, Database: o.database}
}

func newQueryCmd(a *app) *cobra.Command {
	var o queryOpts
	cmd := &cobra.Command{
		Use:   "query [SQL]",
		Short: "Ask SQL questions over every account's events, locally (DuckDB) or on Athena",
		Long: `query runs SQL over the events pulled into the DuckDB store (table "events":
typed columns such as event_time, event_name, event_source, error_code,
recipient_account_id, account, region, event_date; user_identity as a struct;
request_parameters, response_elements and the other nested fields as JSON;
"extra", a JSON object of any field without a column of its own), or, with
--engine athena, over the CloudTrail table that "trailwarden athena setup"
created. --named runs one of the common questions ("trailwarden queries"
lists them) on either engine.

The store is opened read-only and only "trailwarden pull" changes it. A
query cannot write files or change the store (ATTACH, COPY, EXPORT,
DELETE FROM events), change DuckDB's settings or extensions (SET, PRAGMA,
INSTALL, LOAD), or run a statement it hides (PREPARE, EXECUTE, EXPLAIN
ANALYZE of anything but a SELECT): such a statement is refused, exit 2,
and the statements before it in the same SQL have run. Nor can it read
files or the network (read_csv, glob, http://), except the files and
folders given with --allow-files (the statements that write stay
refused). "trailwarden export" writes the events as Parquet. SQL that
DuckDB cannot parse or bind is bad input too (exit 2). A store that a pull
by an earlier trailwarden left its loading views in is refused until a
pull into it removes them.

Output: table for people, csv, jsonl (one object per row) or json.`,
		Example: `  trailwarden query --db ./trail.duckdb "select event_name, count(*) from events group by 1 order by 2 desc limit 10"
  trailwarden query --db ./trail.duckdb --named root-activity --format json
  trailwarden query --db ./trail.duckdb --allow-files ./known-ips.csv "select * from events where source_ip_address not in (select ip from read_csv('./known-ips.csv'))"
  trailwarden query --engine athena --config trailwarden.yaml --named console-logins-without-mfa`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return a.runQuery(cmd.Context(), o, args) },
	}
	f := cmd.Flags()
	f.StringVar(&o.db, "db", "trail.duckdb", "the DuckDB store (trailwarden pull writes it)")
	f.StringVar(&o.engine, "engine", "duckdb", "duckdb or athena")
	f.StringVar(&o.named, "named", "", "run a named query instead of SQL (see trailwarden queries)")
	f.StringVar(&o.format, "format", "table", "table, csv, jsonl or json")
	addWide(f, &o.wide)
	// Queries get more room than pulls: aggregations over millions of
	// events (count distinct per principal and day) need it.
	f.StringVar(&o.memory, "memory-limit", "2GB", "DuckDB memory limit for the query")
	f.StringArrayVar(&o.allowFiles, "allow-files", nil, "a file, or a folder with everything under it, that the query may read (read_csv, read_parquet, glob...); repeatable")
	f.StringVarP(&o.config, "config", "c", "", "trailwarden.yaml (for --engine athena: the home region, and the accounts the table must project)")
	f.StringSliceVar(&o.exp.accounts, "accounts", nil, "--engine athena: the accounts the table must project (default: the organization's, from --snapshot or read live, else the config's source_accounts)")
	f.StringVar(&o.exp.snapshot, "snapshot", "", "--engine athena: a snapshot file to take the organization's accounts from")
	f.StringVar(&o.exp.endpoint, "endpoint-url", "", "--engine athena: send AWS calls to this URL (tests, or a private endpoint)")
	timeoutFlag(f, &o.exp.timeout)
	o.athena.flags(cmd)
	return cmd
}

func (o *athenaOpts) flags(cmd *cobra.Command) {
	f := cmd.Flags()
	regionFlag(f, &o.region, "region", "--engine athena: AWS region of the Athena calls (default: the config's home region)")
	f.StringVar(&o.profile, "profile", "", "AWS shared-config profile")
	f.StringVar(&o.roleARN, "role-arn", "", "role to assume for Athena")
	f.StringVar(&o.workgroup, "workgroup", "primary", "Athena workgroup")
	f.StringVar(&o.output, "athena-results", "", "where Athena writes query results, s3://bucket/path/ (default: the workgroup's result location)")
	f.StringVar(&o.database, "database", "trailwarden", "Glue database of the CloudTrail table")
	f.StringVar(&o.table, "table", "cloudtrail_logs", "name of the CloudTrail table")
}

func (a *app) engine(ctx context.Context, o queryOpts) (query.Engine, func(), error) {
	switch o.engine {
	case "duckdb":
		for _, p := range o.allowFiles {
			if _, err := os.Stat(p); err != nil {
				return nil, nil, badInput(fmt.Errorf("--allow-files: %w", err), "give a file or folder that exists")
			}
		}
		st, err := duckdb.OpenWith(ctx, o.db, duckdb.Options{ReadOnly: true, MemoryLimit: o.memory, ReadFiles: o.allowFiles})
		if errors.Is(err, duckdb.ErrLoaderViews) {
			return nil, nil, badInput(err, "pull into it once (trailwarden pull --source ... --db "+o.db+"): the pull removes them and loads only what is new")
		}
		if err != nil {
			return nil, nil, storeError(err, o.db)
		}
		return st, func() { _ = st.Close() }, nil
	case "athena":
		if len(o.allowFiles) > 0 {
			return nil, nil, badInput(errors.New("--allow-files is for the local store (--engine duckdb)"), "leave --allow-files out with --engine athena")
		}
		opt := o.athena.options()
		if opt.Region == "" && o.config != "" {
			c, err := loadConfig(a, o.config)
			if err != nil {
				return nil, nil, err
			}
			opt.Region = c.HomeRegion
		}
		opt.Endpoint, opt.Timeout = o.exp.endpoint, o.exp.timeout
		cl, err := athena.New(ctx, opt)
		if err != nil {
			return nil, nil, badInput(err, "check --region, --profile and the AWS credentials")
		}
		return cl, func() {}, nil
	}
	return nil, nil, badInput(fmt.Errorf("unknown --engine %q", o.engine), "use --engine duckdb or --engine athena")
}

func (a *app) runQuery(ctx context.Context, o queryOpts, args []string) error {
	switch o.format {
	case "table", "csv", "jsonl", "json":
	default:
		return badInput(fmt.Errorf("unknown --format %q", o.format), "use table, csv, jsonl or json")
	}
	if (len(args) == 1) == (o.named != "") {
		return badInput(fmt.Errorf("give either SQL or --named NAME"), "trailwarden queries lists the named queries")
	}
	eng, done, err := a.engine(ctx, o)
	if err != nil {
		return err
	}
	defer done()
	sql := ""
	if len(args) == 1 {
		sql = args[0]
	} else {
		n, ok := query.Lookup(o.named)
		if !ok {
			return badInput(fmt.Errorf("no named query %q", o.named), "trailwarden queries lists them")
		}
		sql = n.SQL[eng.Name()]
		if n.Name == "pipeline-tampering" {
			fmt.Fprintln(a.stderr, "note: for the log bucket, its key and the reader role, run trailwarden detect --config FILE")
		}
		if o.engine == "athena" {
			sql = athena.ForTable(sql, o.athena.database, o.athena.table)
		}
	}
	if cl, ok := eng.(*athena.Client); ok && (o.named != "" || mentions(sql, o.athena.table)) {
		if err := a.checkAthenaTable(ctx, cl, o); err != nil {
			return err
		}
	}
	rows, err := eng.Query(ctx, sql)
	if err != nil {
		return queryError(err, o)
	}
	defer func() { _ = rows.Close() }()
	if _, err = query.RenderWidth(a.stdout, rows, o.format, textWidth(o.wide)); err != nil {
		return queryError(err, o)
	}
	return a.warnLost(eng)
}

// warnLost makes an answer from a store that lost events exit 1, saying
// why after the results: they are short, and a script must not take
// them for the whole.
func (a *app) warnLost(eng any) error {
	l, ok := eng.(interface{ Lost() error })
	if !ok || l.Lost() == nil {
		return nil
	}
	fmt.Fprintf(a.stderr, "error: %v\nhint: these results are missing the lost events: pull again into a new --db, or restore the store from a copy\n", l.Lost())
	return &exitError{code: ExitFailure}
}

// queryError makes a refused statement, and SQL that DuckDB cannot
// prepare, bad input (exit 2), with what to do instead.
func queryError(err error, o queryOpts) error {
	var re *duckdb.RefusedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &re):
		hint := ""
		switch re.Why {
		case duckdb.Writes:
			hint = "only trailwarden pull changes the store; trailwarden export writes the events as Parquet (--out FOLDER)"
		case duckdb.ReadsFiles:
			hint = "reading files needs --allow-files FILE (or a folder holding it)"
			if len(o.allowFiles) > 0 {
				hint = "that file is outside --allow-files " + strings.Join(o.allowFiles, ", ") + ": add it, or its folder, with another --allow-files"
			}
		case duckdb.Settings:
			hint = "the store's settings are fixed when query opens it: --memory-limit sets DuckDB's memory limit"
			if w := strings.Fields(re.Statement); len(w) > 0 && (w[0] == "INSTALL" || w[0] == "LOAD" || w[0] == "FORCE") {
				hint = "extensions are never installed or loaded by a query; json and parquet are built in"
			}
		case duckdb.Unchecked:
			hint = "run the SELECT itself"
			if strings.HasPrefix(re.Statement, "PIVOT") {
				hint = "give the PIVOT its values: ON col IN ('a', 'b')"
			}
		}
		return badInput(err, hint)
	case errors.Is(err, duckdb.ErrBadSQL):
		return badInput(err, "")
	}
	return err
}

func newQueriesCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "queries",
		Short: "List the named queries (run one with trailwarden query --named NAME)",
		Example: `  trailwarden queries
  trailwarden queries --format json | jq -r '.[].name'
  trailwarden query --db ./trail.duckdb --named console-logins-without-mfa`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			all := query.NamedQueries()
			if format == "json" {
				return printJSON(a.stdout, all)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tQUESTION")
			for _, n := range all {
				fmt.Fprintf(tw, "%s\t%s\n", n.Name, n.Title)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json (with the SQL of each engine)")
	return cmd
}

// checkAthenaTable refuses to query a table that projects fewer accounts
// than should deliver, and says so when it cannot know which accounts
// should (exit 2) or which the table projects (a note: the query runs).
func (a *app) checkAthenaTable(ctx context.Context, cl *athena.Client, o queryOpts) error {
	if o.config == "" && !o.exp.given() {
		return badInput(errors.New("query --engine athena: the accounts the table must project are unknown, so a table that skips some could not be noticed"),
			"pass --config trailwarden.yaml (with --snapshot FILE for an organization trail), or --accounts 111111111111,222222222222")
	}
	o.exp.config, o.exp.profile = o.config, o.athena.profile
	if o.exp.config == "" && o.exp.snapshot == "" {
		// An explicit list alone needs no config.
		exp, err := a.expected(ctx, o.exp, coverage.Input{}, true)
		if err != nil {
			return err
		}
		return a.checkTable(ctx, cl, o, exp)
	}
	cfg, snap, snapName, err := a.expectSources(o.exp, nil)
	if err != nil {
		return err
	}
	in := coverageInput(cfg, snap, snapName, "", "")
	if cfg != nil {
		in.Bucket, in.Prefix = cfg.Bucket, cfg.KeyPrefix
	}
	exp, err := a.expected(ctx, o.exp, in, true)
	if err != nil {
		return err
	}
	return a.checkTable(ctx, cl, o, exp)
}

func (a *app) checkTable(ctx context.Context, cl *athena.Client, o queryOpts, exp *coverage.Expected) error {
	cctx, cancel := context.WithTimeout(ctx, inventory.ExpectedTimeout)
	defer cancel()
	known, err := cl.CheckTable(cctx, o.athena.database, o.athena.table, exp.IDs())
	var pe *athena.ProjectionError
	switch {
	case errors.As(err, &pe):
		return badInput(err, "make the table project every account: "+pe.Fix()+
			" (or DROP TABLE and run trailwarden athena setup again)")
	case err != nil:
		return err
	case !known:
		fmt.Fprintf(a.stderr, "note: table %s.%s does not list its accounts (no enum projection of account): "+
			"whether it covers the %d accounts that should deliver is unknown\n", o.athena.database, o.athena.table, len(exp.Accounts))
	}
	return nil
}

// mentions reports whether sql names table as a word.
func mentions(sql, table string) bool {
	if table == "" {
		return false
	}
	return regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(table) + `\b`).MatchString(sql)
}
