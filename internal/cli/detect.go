package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/detect"
	"github.com/trailwarden/trailwarden/internal/query/athena"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

type detectOpts struct {
	q                    queryOpts
	rules, disable       []string
	accounts, regions    []string
	since, until, failOn string
	noBuiltin, listRules bool
}

func newDetectCmd(a *app) *cobra.Command {
	var o detectOpts
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Run detection rules (built-in and Sigma) over the events, locally (DuckDB) or on Athena",
		Long: `detect runs detection rules over the events pulled into the DuckDB store, or,
with --engine athena, over the CloudTrail table that "trailwarden athena setup"
created. It only reads.

The built-in rules (Sigma files under rules/builtin in trailwarden's
repository, embedded in the binary) watch the logging pipeline the config
describes: StopLogging, DeleteTrail or an UpdateTrail that moves or narrows
the trail; its event and Insights selectors; the log bucket's policy, ACL,
lifecycle, versioning, encryption, public access block, ownership, logging,
replication and Object Lock, and deletion of log objects; DisableKey,
ScheduleKeyDeletion, PutKeyPolicy and grants on the key; the reader role's
trust and permissions; an account leaving the organization. The config's
trail, bucket, prefix, key and reader role fill the rules' placeholders, so
the same calls on other trails, buckets and keys do not fire. Without
--config these rules cannot run, and the result is unknown. The other
built-in rules are identity threats: root use, console sign-in without MFA,
root access keys, 20 failed console sign-ins from one address within 5
minutes, 20 AccessDenied for one principal within 10 minutes, the usual IAM
privilege-escalation calls, GuardDuty, Security Hub or Config disabled.

--rules adds folders of Sigma rules (e.g. SigmaHQ's
rules/cloud/aws/cloudtrail); rules for other log sources are skipped and
counted, and a rule that uses something unsupported is listed with the
reason (--list-rules). Disable rules by id with --disable or the config's
detect: {disabled: [ID, ...]}.

Each detection names the rule, level, time, account, region, principal,
source address and the event ids it rests on. --format text (grouped by
rule, most severe first), json, or sarif (SARIF 2.1.0; what the run could
not know is in the invocation's notifications).

Exit status: 1 when a detection at or above --fail-on (default high) exists,
or when the answer is unknown: no events in the window, an account the
config names without events in it, or rules that could not run (the
output says which). 0 only when every rule ran over every expected
account's events and found nothing at or above --fail-on. --fail-on never
exits 0 whatever was found. 2 for bad input.`,
		Example: `  trailwarden detect --db ./trail.duckdb --config trailwarden.yaml
  trailwarden detect --db ./trail.duckdb --config trailwarden.yaml --rules ./sigma/rules/cloud/aws/cloudtrail --rules ./our-rules
  trailwarden detect --db ./trail.duckdb --config trailwarden.yaml --since 24h --format json
  trailwarden detect --db ./trail.duckdb --config trailwarden.yaml --format sarif > detections.sarif
  trailwarden detect --engine athena --config trailwarden.yaml --since 7d
  trailwarden detect --list-rules --config trailwarden.yaml --rules ./our-rules`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDetect(cmd.Context(), o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.q.db, "db", "trail.duckdb", "the DuckDB store (trailwarden pull writes it)")
	f.StringVar(&o.q.engine, "engine", "duckdb", "duckdb or athena")
	f.StringVarP(&o.q.config, "config", "c", "", "trailwarden.yaml: the pipeline the built-in rules watch, and the accounts whose events should be there")
	f.StringArrayVar(&o.rules, "rules", nil, "a folder of Sigma rules to run too (repeatable)")
	f.StringSliceVar(&o.disable, "disable", nil, "ids of rules not to run, comma-separated (repeatable)")
	f.BoolVar(&o.noBuiltin, "no-builtin", false, "run only the --rules folders")
	f.StringVar(&o.since, "since", "", "start of the window: "+windowHelp+" (default: everything in the store; on Athena the last 30 days)")
	f.StringVar(&o.until, "until", "", "end of the window: "+windowHelp+" (default: now)")
	f.StringSliceVar(&o.accounts, "accounts", nil, "only these accounts, comma-separated (each must have events in the window)")
	regionsFlag(f, &o.regions, "regions", "only these regions, comma-separated (repeatable)")
	f.StringVar(&o.q.format, "format", "text", "text, json or sarif")
	f.StringVar(&o.failOn, "fail-on", "high", "exit 1 on a detection at or above: informational, low, medium, high, critical, or never")
	f.BoolVar(&o.listRules, "list-rules", false, "list the rules (id, level, title, origin, and whether they compiled) instead of running them")
	f.StringVar(&o.q.memory, "memory-limit", "2GB", "DuckDB memory limit")
	f.StringVar(&o.q.exp.snapshot, "snapshot", "", "--engine athena: a snapshot file to take the organization's accounts from")
	f.StringVar(&o.q.exp.endpoint, "endpoint-url", "", "--engine athena: send AWS calls to this URL (tests, or a private endpoint)")
	timeoutFlag(f, &o.q.exp.timeout)
	o.q.athena.flags(cmd)
	return cmd
}

func (a *app) runDetect(ctx context.Context, o detectOpts) error {
	if err := checkFormat(o.q.format, "text", "json", "sarif"); err != nil {
		return err
	}
	failOn := o.failOn
	if failOn != "never" {
		l, err := detect.ParseLevel(failOn)
		if err != nil {
			return badInput(fmt.Errorf("unknown --fail-on %q", o.failOn), "use one of: informational, low, medium, high, critical, never")
		}
		failOn = l
	}
	if o.q.engine != "duckdb" && o.q.engine != "athena" {
		return badInput(fmt.Errorf("unknown --engine %q", o.q.engine), "use --engine duckdb or --engine athena")
	}
	since, until, err := parseWindow(o.since, o.until, time.Now())
	if err != nil {
		return err
	}
	var cfg *config.Config
	if o.q.config != "" {
		if cfg, err = loadConfig(a, o.q.config); err != nil {
			return err
		}
	}
	opt := detect.Options{Config: cfg, Load: detect.LoadOptions{NoBuiltin: o.noBuiltin, Disabled: o.disable},
		Scope: detect.Scope{Since: since, Until: until, Accounts: o.accounts, Regions: o.regions, Table: o.q.athena.table}}
	for _, d := range o.rules {
		st, err := os.Stat(d)
		if err != nil || !st.IsDir() {
			return badInput(fmt.Errorf("--rules %s: not a folder", d), "give a folder of Sigma rules (.yml files)")
		}
		opt.Load.Dirs = append(opt.Load.Dirs, detect.Dir{Name: d, FS: os.DirFS(d)})
	}
	if o.listRules {
		d := sigma.DuckDB
		if o.q.engine == "athena" {
			d = sigma.Athena
		}
		cat, err := detect.Prepare(opt, d)
		if err != nil {
			return detectError(err)
		}
		return a.listDetectRules(cat, o.q.format, cfg == nil)
	}
	eng, done, err := a.engine(ctx, o.q)
	if err != nil {
		return err
	}
	defer done()
	if o.q.engine == "athena" {
		if o.q.config == "" {
			return badInput(errors.New("detect --engine athena: the accounts the table must project are unknown"), "pass --config trailwarden.yaml (with --snapshot FILE for an organization trail)")
		}
		if cl, ok := eng.(*athena.Client); ok {
			if err := a.checkAthenaTable(ctx, cl, o.q); err != nil {
				return err
			}
		}
	}
	cat, rep, err := detect.Detect(ctx, eng, opt)
	if err != nil {
		return queryError(detectError(err), o.q)
	}
	switch o.q.format {
	case "json":
		out := struct {
			*detect.Report
			FailOn  string `json:"fail_on"`
			Verdict string `json:"verdict"`
		}{rep, failOn, verdict(rep, failOn)}
		if err := printJSON(a.stdout, out); err != nil {
			return err
		}
	case "sarif":
		if err := printJSON(a.stdout, detect.SARIF(rep, cat, buildVersion())); err != nil {
			return err
		}
	default:
		renderDetections(a.stdout, rep, cat, failOn, cfg == nil)
	}
	if failOn != "never" && verdict(rep, failOn) != "clear" {
		return &exitError{code: ExitFailure}
	}
	return nil
}

func verdict(rep *detect.Report, failOn string) string {
	if failOn == "never" {
		failOn = "critical"
		if rep.AtOrAbove(failOn) || len(rep.Detections) > 0 {
			return "detections"
		}
	}
	return rep.Verdict(failOn)
}

// detectError makes the rule loader's errors bad input.
func detectError(err error) error {
	var ue *detect.UnknownRulesError
	var pe *sigma.ParseError
	switch {
	case errors.As(err, &ue):
		return badInput(err, "trailwarden detect --list-rules shows the rules' ids; fix --disable or the config's detect.disabled")
	case errors.As(err, &pe):
		return badInput(err, "fix the rule file, or leave its folder out of --rules")
	}
	return err
}

// textPerRule is how many detections of one rule the text lists.
const textPerRule = 5

// levelOrder sorts the most severe first.
func levelOrder(l string) int { return -detect.LevelRank(l) }

// renderDetections prints detections grouped by rule, the most severe
// rule first, within 80 columns (an ARN may run over), then what is
// unknown and a summary line.
func renderDetections(w io.Writer, rep *detect.Report, cat *detect.Catalog, failOn string, noConfig bool) {
	c := rep.Rules
	window := "all events in the store"
	if rep.Engine == "athena" && rep.Since == nil {
		window = fmt.Sprintf("the last %d days", detect.AthenaDefaultDays)
	}
	if rep.Since != nil || rep.Until != nil {
		s, u := "the start", "now"
		if rep.Since != nil {
			s = rep.Since.Format(time.RFC3339)
		}
		if rep.Until != nil {
			u = rep.Until.Format(time.RFC3339)
		}
		window = s + " to " + u
	}
	fmt.Fprintf(w, "detect (%s): %d rules, %d events, %d accounts, %s\n",
		rep.Engine, c[detect.StatusReady], rep.Events, len(rep.Accounts), window)
	groups := map[string][]detect.Detection{}
	var ids []string
	for _, d := range rep.Detections {
		if _, ok := groups[d.RuleID]; !ok {
			ids = append(ids, d.RuleID)
		}
		groups[d.RuleID] = append(groups[d.RuleID], d)
	}
	sort.SliceStable(ids, func(i, j int) bool {
		a, b := groups[ids[i]][0], groups[ids[j]][0]
		if levelOrder(a.Level) != levelOrder(b.Level) {
			return levelOrder(a.Level) < levelOrder(b.Level)
		}
		return a.Time.Before(b.Time)
	})
	for _, id := range ids {
		ds := groups[id]
		first := ds[0]
		fmt.Fprintf(w, "\n%s  %s\n", strings.ToUpper(first.Level), first.Rule)
		fmt.Fprintf(w, "  rule %s (%s), %d detection(s)\n", id, first.Origin, len(ds))
		if i := strings.Index(first.Description, "What to do:"); i >= 0 {
			wrap(w, "  ", first.Description[i:], 78)
		}
		shown := ds
		if len(shown) > textPerRule {
			shown = shown[:textPerRule]
		}
		for _, d := range shown {
			fmt.Fprintf(w, "  - %s  %s %s  %s\n", d.Time.UTC().Format("2006-01-02 15:04:05Z"), d.Account, d.Region, d.EventName)
			if d.Count > 1 {
				fmt.Fprintf(w, "    %d events to %s\n", d.Count, d.LastTime.UTC().Format("2006-01-02 15:04:05Z"))
			}
			by := "    by " + d.Principal
			if d.SourceIP != "" {
				by += " from " + d.SourceIP
			}
			fmt.Fprintln(w, by)
			if d.Group != "" {
				fmt.Fprintf(w, "    group %s\n", d.Group)
			}
			evs := d.EventIDs
			more := ""
			if len(evs) > 1 {
				more = fmt.Sprintf(" and %d more", len(evs)-1)
				evs = evs[:1]
			}
			fmt.Fprintf(w, "    event %s%s\n", strings.Join(evs, ", "), more)
		}
		if len(ds) > len(shown) {
			fmt.Fprintf(w, "  ... and %d more (--format json lists every one)\n", len(ds)-len(shown))
		}
	}
	if len(rep.Unknown) > 0 {
		fmt.Fprintln(w, "\nunknown:")
		for _, u := range rep.Unknown {
			wrap(w, "  - ", u, 78)
		}
		if noConfig {
			fmt.Fprintln(w, "  (pass --config trailwarden.yaml so the pipeline rules can run)")
		}
	}
	var lv []string
	for _, d := range rep.Detections {
		lv = append(lv, d.Level)
	}
	summary := fmt.Sprintf("\n%d detections", len(rep.Detections))
	if c := detect.LevelCounts(lv); c != "" {
		summary += " (" + c + ")"
	}
	switch verdict(rep, failOn) {
	case "unknown":
		summary += "; unknown: no detections is not an all-clear (see above)"
	case "clear":
		summary += fmt.Sprintf("; nothing at or above %s", failOn)
	}
	fmt.Fprintln(w, summary)
}

// wrap prints text after prefix, wrapped at width, continuing lines
// indented like the prefix.
func wrap(w io.Writer, prefix, text string, width int) {
	indent := strings.Repeat(" ", len(prefix))
	line := prefix
	for _, word := range strings.Fields(text) {
		if len(line) > len(indent) && len(line)+1+len(word) > width {
			fmt.Fprintln(w, line)
			line = indent
		}
		if len(line) > len(indent) {
			line += " "
		}
		line += word
	}
	if strings.TrimSpace(line) != "" {
		fmt.Fprintln(w, line)
	}
}

// listDetectRules prints each rule: id, level, status, then its title and
// where it comes from, and why it does not run.
func (a *app) listDetectRules(cat *detect.Catalog, format string, noConfig bool) error {
	if format == "json" {
		type row struct {
			ID          string   `json:"id"`
			Name        string   `json:"name,omitempty"`
			Title       string   `json:"title"`
			Level       string   `json:"level"`
			Tags        []string `json:"tags"`
			Origin      string   `json:"origin"`
			Source      string   `json:"source"`
			Correlation bool     `json:"correlation"`
			Status      string   `json:"status"`
			Reason      string   `json:"reason,omitempty"`
		}
		out := []row{}
		for _, r := range cat.Rules {
			tags := r.Tags
			if tags == nil {
				tags = []string{}
			}
			out = append(out, row{r.ID, r.Name, r.Title, r.Level, tags, r.Origin, r.Source, r.Correlation, r.Status, r.Reason})
		}
		return printJSON(a.stdout, out)
	}
	if format == "sarif" {
		return badInput(errors.New("--list-rules prints text or json"), "use --format text or --format json")
	}
	w := a.stdout
	for _, r := range cat.Rules {
		fmt.Fprintf(w, "%-36s  %-13s  %s\n", r.ID, r.Level, r.Status)
		kind := ""
		if r.Correlation {
			kind = ", correlation"
		}
		fmt.Fprintf(w, "  %s\n  %s: %s%s\n", r.Title, r.Origin, r.Source, kind)
		if r.Reason != "" && r.Status != detect.StatusDisabled {
			wrap(w, "  why: ", r.Reason, 78)
		}
	}
	c := cat.Counts()
	fmt.Fprintf(w, "\n%d rules: %d ready, %d counted by correlations only, %d disabled,\n  %d not compiled, %d skipped\n",
		len(cat.Rules), c[detect.StatusReady], c[detect.StatusReferenced], c[detect.StatusDisabled], c[detect.StatusNotCompiled], c[detect.StatusSkipped])
	if noConfig && c[detect.StatusNotCompiled] > 0 {
		fmt.Fprintln(w, "the pipeline rules need the config's trail, bucket, key and reader role:\n  pass --config trailwarden.yaml")
	}
	return nil
}
