package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/texttable"
)

type auditOpts struct {
	config, standard, snapshot, format, failOn, profile, endpoint string
	timeout                                                       time.Duration
	listRules, verbose, wide                                      bool
}

func newAuditCmd(a *app) *cobra.Command {
	var o auditOpts
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Audit the live pipeline (or a snapshot) against the accelerate, cis or baseline standard",
		Long: `audit checks the pipeline trailwarden.yaml describes against one standard and
prints one finding per rule and resource: pass, fail or unknown, the evidence
it looked at, and the exact fix (a command to run or the statement to add,
with your bucket, prefix, trail and readers filled in).

Standards (--standard, default: the config's standard):
  accelerate  every requirement of the AMS Accelerate onboarding guide: an AWS
              Organization, multi-Region trail, global events, management
              events with KMS and RDS Data API, validation, bucket encryption,
              access logging, 18 months of retention, BucketOwnerEnforced, and
              its bucket and key statements, present or equivalent. Onboarding
              stops on any of them, so each is high or critical here
  cis         the CloudTrail controls of CIS and Security Hub a snapshot can
              decide (CloudTrail.1, .2, .4, .5, .6, .7, S3 object-level events,
              MFA delete, key rotation), for the central bucket too
  baseline    trailwarden's least-privilege setup: scoped delivery, TLS only,
              nothing public, named readers, no root trust, healthy delivery,
              KMS keys enabled and rotating

Delivery is judged from the trails as deployed: for every account whose logs
should arrive, each trail that delivers them builds CloudTrail's requests from
its own bucket, prefix, KMS key and ARN, and its reported delivery errors
count; a trail that differs from the config is a finding of its own. Every KMS
key that encrypts log objects (the config's, each trail's, the bucket's
default-encryption key) is checked. Access ("can CloudTrail deliver", "can
the readers read", "is anything public") is decided by evaluating the real
bucket, key, identity and trust policies, SCPs and RCPs, so a statement
written differently that grants the same access passes. Unknown means the
snapshot lacks the data because a call failed; the finding names the call.
Rules: --list-rules, or docs/audit.md.

--snapshot audits a file written by "trailwarden snapshot"; without it audit
reads the accounts live. Both decide the same findings.

--format text (grouped by account and resource; colours on a terminal unless
NO_COLOR is set), json, sarif (SARIF 2.1.0 for GitHub code scanning: each
result at the line of trailwarden.yaml its rule is about), asff (the AWS
Security Finding Format: a list for aws securityhub batch-import-findings
--findings, every finding with Compliance.Status PASSED, FAILED or
NOT_AVAILABLE; import each account's findings from that account, at most 100
a call) or csv (one row per finding).

Exit status: 1 when a failing finding at or above --fail-on (default high;
"never" disables) exists, 0 otherwise, 2 for bad input.`,
		Example: `  trailwarden audit --config trailwarden.yaml --snapshot snapshot.json
  trailwarden audit --config trailwarden.yaml --snapshot snapshot.json --standard accelerate --format sarif > audit.sarif
  trailwarden audit --config trailwarden.yaml --snapshot snapshot.json --fail-on critical --format json
  trailwarden audit --config trailwarden.yaml --snapshot snapshot.json --format asff > findings.json
  trailwarden audit --list-rules --standard cis
  trailwarden audit --config trailwarden.yaml --profile org-audit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAudit(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	f.StringVar(&o.standard, "standard", "", "the requirements to audit against: accelerate, cis or baseline (default: the config's standard)")
	f.StringVar(&o.snapshot, "snapshot", "", "audit this snapshot file instead of reading AWS")
	f.StringVar(&o.format, "format", "text", "text, json, sarif, asff or csv")
	f.StringVar(&o.failOn, "fail-on", "high", "exit 1 on a failing finding at or above: critical, high, medium, low or never")
	f.BoolVar(&o.listRules, "list-rules", false, "print the rule catalogue (of --standard, if given) and exit")
	f.BoolVar(&o.verbose, "verbose", false, "text format: also print the evidence of every finding")
	addWide(f, &o.wide)
	f.StringVar(&o.profile, "profile", "", "AWS shared-config profile of the base credentials, for a live audit")
	f.StringVar(&o.endpoint, "endpoint-url", "", "send every AWS call to this URL (tests)")
	_ = f.MarkHidden("endpoint-url")
	timeoutFlag(f, &o.timeout)
	return cmd
}

func (a *app) runAudit(cmd *cobra.Command, o auditOpts) error {
	if err := checkFormat(o.format, "text", "json", "sarif", "asff", "csv"); err != nil {
		return err
	}
	var failOn audit.Severity
	if o.failOn != "never" {
		s, err := audit.ParseSeverity(o.failOn)
		if err != nil || s == audit.Info {
			return badInput(fmt.Errorf("unknown --fail-on %q", o.failOn), "use one of: critical, high, medium, low, never")
		}
		failOn = s
	}
	// --profile once named the requirement set. With --snapshot no AWS
	// call is made, so an old "--profile accelerate" would be ignored and
	// the audit would silently judge the config's standard instead.
	if o.snapshot != "" && validProfile(o.profile) {
		return badInput(fmt.Errorf("--profile %s names an AWS profile, and a --snapshot audit makes no AWS call", o.profile),
			"to audit against a requirement set, use --standard "+o.profile)
	}
	if o.standard != "" && !validProfile(o.standard) {
		return badInput(fmt.Errorf("unknown --standard %q", o.standard), "use one of: "+strings.Join(audit.Profiles, ", "))
	}
	if o.listRules {
		return a.listRules(o)
	}
	c, s, rep, err := a.auditReport(cmd.Context(), o)
	if err != nil {
		return err
	}
	switch o.format {
	case "json":
		if err := printJSON(a.stdout, rep); err != nil {
			return err
		}
	case "sarif":
		if err := printJSON(a.stdout, audit.SARIF(rep, audit.SARIFOptions{Version: buildVersion(), Config: c, ConfigFile: o.config, Snapshot: o.snapshot})); err != nil {
			return err
		}
	case "asff":
		if err := printJSON(a.stdout, audit.ASFF(rep, audit.ASFFOptions{Region: c.HomeRegion, Account: c.LogArchiveAccount, Time: s.TakenAt})); err != nil {
			return err
		}
	case "csv":
		if err := audit.WriteCSV(a.stdout, rep); err != nil {
			return err
		}
	default:
		color := colorOK(a.stdout)
		if err := fitted(a.stdout, o.wide, func(w io.Writer) { renderAudit(w, rep, o.snapshot, s, o.verbose, color, o.wide) }); err != nil {
			return err
		}
	}
	if failOn != "" && rep.FailsAt(failOn) {
		return &exitError{code: ExitFailure}
	}
	return nil
}

func validProfile(p string) bool {
	for _, v := range audit.Profiles {
		if v == p {
			return true
		}
	}
	return false
}

func (a *app) listRules(o auditOpts) error {
	rules := audit.Rules(o.standard)
	switch o.format {
	case "json":
		return printJSON(a.stdout, rules)
	case "sarif":
		return badInput(errors.New("--list-rules prints text or json"), "use --format text or --format json")
	}
	t := texttable.Table{Columns: []texttable.Column{{Name: "RULE", Min: 9}, {Name: "SEVERITY", Min: 8}, {Name: "STANDARDS"}, {Name: "TITLE"}}}
	for _, r := range rules {
		t.Add(r.ID, string(r.Severity), strings.Join(r.Profiles, ","), r.Title)
	}
	return t.Render(a.stdout, textWidth(o.wide))
}

// colorOK is true when w is a terminal and NO_COLOR is unset.
func colorOK(w io.Writer) bool {
	if _, set := os.LookupEnv("NO_COLOR"); set {
		return false
	}
	return isTerminal(w)
}

// ANSI colours by severity, used only on a terminal.
var severityColor = map[audit.Severity]string{
	audit.Critical: "\x1b[1;31m", audit.High: "\x1b[31m", audit.Medium: "\x1b[33m", audit.Low: "\x1b[36m", audit.Info: "\x1b[36m",
}

const colorReset = "\x1b[0m"

// renderAudit prints the findings grouped by account, then resource; each
// group keeps the report's order (most severe first).
func renderAudit(w io.Writer, rep *audit.Report, source string, s *snapshot.Snapshot, verbose, color, wide bool) {
	indentFix := indentFix
	if !wide {
		// Under the status column, not the message: a fix that wraps keeps
		// most of the 80 columns.
		indentFix = "      "
	}
	if source == "" {
		source = "live read"
	}
	fmt.Fprintf(w, "trailwarden audit: standard %s, %s taken %s\n", rep.Profile, source, s.TakenAt.UTC().Format("2006-01-02T15:04:05Z"))
	var accounts []string
	groups := map[string]map[string][]audit.Finding{}
	var resources = map[string][]string{}
	for _, f := range rep.Findings {
		acct := f.Account
		if acct == "" {
			acct = "(organization)"
		}
		if groups[acct] == nil {
			groups[acct] = map[string][]audit.Finding{}
			accounts = append(accounts, acct)
		}
		if groups[acct][f.Resource] == nil {
			resources[acct] = append(resources[acct], f.Resource)
		}
		groups[acct][f.Resource] = append(groups[acct][f.Resource], f)
	}
	sortStrings(accounts)
	for _, acct := range accounts {
		fmt.Fprintf(w, "\naccount %s\n", acct)
		res := resources[acct]
		sortStrings(res)
		for _, r := range res {
			fmt.Fprintf(w, "  %s\n", r)
			for _, f := range groups[acct][r] {
				status := strings.ToUpper(string(f.Status))
				sev := fmt.Sprintf("%-8s", f.Severity)
				if color {
					if f.Status == audit.Pass {
						status = "\x1b[32m" + status + colorReset
					} else {
						sev = severityColor[f.Severity] + sev + colorReset
					}
				}
				fmt.Fprintf(w, "    %-7s %s %s  %s\n", status, sev, f.Rule, f.Message)
				if verbose || f.Status != audit.Pass {
					if verbose {
						for _, e := range f.Evidence {
							fmt.Fprintf(w, "%sevidence: %s\n", indentFix, e)
						}
					}
					if f.Remediation != "" {
						fmt.Fprintf(w, "%sfix: %s\n", indentFix, strings.ReplaceAll(f.Remediation, "\n", "\n"+indentFix+"     "))
					}
				}
			}
		}
	}
	c := rep.Counts
	var failing []string
	for _, sev := range audit.Severities {
		if n := c.Failing[sev]; n > 0 {
			failing = append(failing, fmt.Sprintf("%d %s", n, sev))
		}
	}
	detail := ""
	if len(failing) > 0 {
		detail = " (" + strings.Join(failing, ", ") + ")"
	}
	fmt.Fprintf(w, "\n%d findings: %d pass, %d fail%s, %d unknown\n", len(rep.Findings), c.Pass, c.Fail, detail, c.Unknown)
}

const indentFix = "                              "

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// auditReport is audit's one library call on the config and the snapshot
// (or the live read); serve and report make the same call.
func (a *app) auditReport(ctx context.Context, o auditOpts) (*config.Config, *snapshot.Snapshot, *audit.Report, error) {
	c, err := loadConfig(a, o.config)
	if err != nil {
		return nil, nil, nil, err
	}
	profile := o.standard
	if profile == "" {
		profile = c.Profile
	}
	s, err := a.liveState(ctx, c, configPath{o.config, o.snapshot}, inventory.Options{Profile: o.profile, Endpoint: o.endpoint, Timeout: o.timeout},
		"take a snapshot with `trailwarden snapshot --config trailwarden.yaml -o snapshot.json`", "--profile")
	if err != nil {
		return nil, nil, nil, err
	}
	rep, err := audit.Run(c, s, profile)
	if err != nil {
		return nil, nil, nil, err
	}
	return c, s, rep, nil
}
