package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

type snapshotOpts struct {
	config, out, profile, endpoint, format string
	jobs                                   int
	timeout                                time.Duration
}

func newSnapshotCmd(a *app) *cobra.Command {
	var o snapshotOpts
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Read the live pipeline (organization, trails, bucket, key, reader roles) into a snapshot file",
		Long: `snapshot reads what is live in AWS for the pipeline trailwarden.yaml describes
and writes it to one JSON file (format: docs/snapshot.md), which
"trailwarden audit --snapshot" and "trailwarden plan" read offline.

It only reads. It starts from the usual AWS credential chain (or --profile),
finds the caller's account with sts:GetCallerIdentity, and reaches every other
account by assuming aws.access_role (default OrganizationAccountAccessRole).
From the management account it reads the organization: accounts, their OU
paths, the SCPs and RCPs attached along them, and whether CloudTrail has
trusted access. In each source account (or each active organization account)
it lists the enabled regions (or takes aws.regions) and the trails in each,
then reads every distinct trail once: configuration, status, event and
insight selectors. From the log-archive account it reads the bucket's policy,
encryption, access logging, lifecycle, object ownership, versioning, Object
Lock, public access block, requester pays and ACL; then the KMS key's policy,
state and rotation, and the reader roles with their trust, inline, attached
and boundary policies.

A call that fails does not stop the others: the snapshot records it (service,
operation, account, region, code) and leaves that field empty, so audit says
what it could not decide instead of passing it. The summary groups the failed
calls and names the permission each needs. Throttling is retried.

The caller and aws.access_role need these read-only actions (check any
managed policy you rely on against this list):

  ` + strings.Join(inventory.Permissions(), "\n  ") + `

Exit status: 0 when every call succeeded, 1 when some failed (the snapshot is
still written), 2 for bad input.`,
		Example: `  trailwarden snapshot --config trailwarden.yaml --out snapshot.json
  trailwarden snapshot -c trailwarden.yaml --out - --profile audit > snapshot.json
  trailwarden audit --config trailwarden.yaml --snapshot snapshot.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runSnapshot(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	f.StringVarP(&o.out, "out", "o", "snapshot.json", "write the snapshot to this file (atomically); - for stdout")
	f.StringVar(&o.profile, "profile", "", "AWS shared-config profile of the base credentials")
	f.IntVar(&o.jobs, "jobs", inventory.DefaultJobs, "concurrent AWS calls")
	f.StringVar(&o.format, "format", "text", "summary format: text or json")
	f.StringVar(&o.endpoint, "endpoint-url", "", "send every AWS call to this URL (tests)")
	_ = f.MarkHidden("endpoint-url")
	timeoutFlag(f, &o.timeout)
	return cmd
}

func (a *app) runSnapshot(cmd *cobra.Command, o snapshotOpts) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	if err := checkJobs(o.jobs); err != nil {
		return err
	}
	if o.out == "" {
		return badInput(errors.New("--out is empty"), "pass --out snapshot.json, or --out - for stdout")
	}
	cfg, err := loadConfig(a, o.config)
	if err != nil {
		return err
	}
	snap, err := a.liveState(cmd.Context(), cfg, configPath{config: o.config}, inventory.Options{Profile: o.profile, Endpoint: o.endpoint, Jobs: o.jobs, Timeout: o.timeout}, "", "--profile")
	if err != nil {
		return err
	}
	// With the snapshot on stdout, the summary goes to stderr.
	summary := a.stdout
	if o.out == "-" {
		summary = a.stderr
		if err := snapshot.Encode(a.stdout, snap); err != nil {
			return err
		}
	} else if err := snapshot.WriteFile(o.out, snap); err != nil {
		return err
	}
	sum := summarize(snap, o.out)
	if o.format == "json" {
		if err := printJSON(summary, sum); err != nil {
			return err
		}
	} else {
		renderSnapshot(summary, sum)
	}
	if len(snap.Errors) > 0 {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// snapshotSummary is what the command prints about a snapshot.
type snapshotSummary struct {
	Out          string        `json:"out"`
	Organization string        `json:"organization,omitempty"`
	Accounts     int           `json:"accounts"`
	Regions      int           `json:"regions"` // distinct regions across accounts
	Trails       []snapTrail   `json:"trails"`
	Bucket       string        `json:"bucket,omitempty"`
	Keys         []string      `json:"keys,omitempty"`
	Readers      []string      `json:"readers,omitempty"`
	Failed       []snapFailure `json:"failed_calls"`
}

type snapTrail struct {
	ARN      string `json:"arn"`
	Accounts int    `json:"accounts"` // accounts it appears in
	Logging  string `json:"logging"`  // "yes", "no" or "unknown"
}

// snapFailure is the failed calls of one operation with one error code.
type snapFailure struct {
	Operation  string   `json:"operation"` // service:Operation
	Code       string   `json:"code"`
	Calls      int      `json:"calls"`
	Accounts   []string `json:"accounts"`
	Permission string   `json:"missing_permission,omitempty"`
	Message    string   `json:"message"` // of the first failure
}

func summarize(s *snapshot.Snapshot, out string) snapshotSummary {
	sum := snapshotSummary{Out: out, Accounts: len(s.Accounts), Trails: []snapTrail{}, Failed: []snapFailure{}}
	if out == "-" {
		sum.Out = "stdout"
	}
	if s.Organization != nil {
		sum.Organization = s.Organization.ID
	}
	regions := map[string]bool{}
	trails := map[string]*snapTrail{}
	for _, acct := range s.Accounts {
		for _, r := range acct.Regions {
			regions[r] = true
		}
		for _, t := range acct.Trails {
			tl := trails[t.ARN]
			if tl == nil {
				tl = &snapTrail{ARN: t.ARN, Logging: "unknown"}
				if t.Status != nil {
					tl.Logging = map[bool]string{true: "yes", false: "no"}[t.Status.IsLogging]
				}
				trails[t.ARN] = tl
			}
			tl.Accounts++
		}
	}
	sum.Regions = len(regions)
	for _, arn := range snapKeys(trails) {
		sum.Trails = append(sum.Trails, *trails[arn])
	}
	if b := s.Bucket; b != nil {
		state := "exists"
		if !b.Exists {
			state = "MISSING"
		}
		sum.Bucket = fmt.Sprintf("%s (account %s, %s): %s", b.Name, b.Account, b.Region, state)
	}
	for _, k := range s.Keys {
		sum.Keys = append(sum.Keys, fmt.Sprintf("%s: %s", k.ARN, snapOr(k.State, "state unknown")))
	}
	for _, r := range s.Readers {
		state := "exists"
		if !r.Exists {
			state = "MISSING"
		}
		sum.Readers = append(sum.Readers, r.ARN+": "+state)
	}
	groups := map[string]*snapFailure{}
	accounts := map[string]map[string]bool{}
	for _, e := range s.Errors {
		k := e.Service + ":" + e.Operation + " " + e.Code
		g := groups[k]
		if g == nil {
			g = &snapFailure{Operation: e.Service + ":" + e.Operation, Code: e.Code, Message: e.Message}
			if inventory.Denied(e.Code) {
				g.Permission = inventory.Permission(e.Service, e.Operation)
			}
			groups[k], accounts[k] = g, map[string]bool{}
		}
		g.Calls++
		if e.Account != "" {
			accounts[k][e.Account] = true
		}
	}
	for _, k := range snapKeys(groups) {
		g := groups[k]
		g.Accounts = snapKeys(accounts[k])
		sum.Failed = append(sum.Failed, *g)
	}
	return sum
}

func renderSnapshot(w io.Writer, s snapshotSummary) {
	fmt.Fprintf(w, "Snapshot written to %s\n", s.Out)
	if s.Organization != "" {
		fmt.Fprintf(w, "organization  %s\n", s.Organization)
	}
	fmt.Fprintf(w, "accounts      %d, %d distinct regions\n", s.Accounts, s.Regions)
	fmt.Fprintf(w, "trails        %d\n", len(s.Trails))
	for _, t := range s.Trails {
		fmt.Fprintf(w, "  %s (seen in %s, logging: %s)\n", t.ARN, plural(t.Accounts, "account"), t.Logging)
	}
	if s.Bucket != "" {
		fmt.Fprintf(w, "bucket        %s\n", s.Bucket)
	}
	for _, k := range s.Keys {
		fmt.Fprintf(w, "key           %s\n", k)
	}
	for _, r := range s.Readers {
		fmt.Fprintf(w, "reader        %s\n", r)
	}
	if len(s.Failed) == 0 {
		fmt.Fprintln(w, "every call succeeded")
		return
	}
	calls := 0
	for _, g := range s.Failed {
		calls += g.Calls
	}
	fmt.Fprintf(w, "%s failed; their fields are empty in the snapshot:\n", plural(calls, "call"))
	for _, g := range s.Failed {
		need := ""
		if g.Permission != "" {
			need = ", missing permission " + g.Permission
		}
		fmt.Fprintf(w, "  %s: %s, %s in %s%s\n", g.Operation, g.Code, plural(g.Calls, "call"), strings.Join(g.Accounts, ", "), need)
	}
}

func snapKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func snapOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// liveState reads the state the config describes, from the snapshot file
// at path or (path "") from AWS with a progress line on stderr: snapshot, a
// live audit, plan and apply all read through it, so they decide from the
// same data. The hints name the command's flags: readHint for a snapshot
// that does not read, profileFlag for credentials.
func (a *app) liveState(ctx context.Context, c *config.Config, path configPath, o inventory.Options, readHint, profileFlag string) (*snapshot.Snapshot, error) {
	if path.snapshot == "" {
		p := newProgress(a.stderr, "reading AWS")
		o.Progress = func(pr inventory.Progress) { p.update(fmt.Sprintf("%s %d/%d", pr.Step, pr.Done, pr.Total)) }
		defer p.done()
	}
	s, err := inventory.State(ctx, c, path.snapshot, o)
	var se *inventory.SnapshotError
	var st *inventory.StartError
	switch {
	case errors.As(err, &se) && se.Mismatch:
		return nil, badInput(err, "trailwarden snapshot --config "+path.config+" --out "+path.snapshot)
	case errors.As(err, &se):
		return nil, badInput(err, readHint)
	case errors.As(err, &st):
		return nil, badInput(err, "give AWS credentials of the management account: "+profileFlag+" NAME, AWS_PROFILE, or aws configure / aws sso login")
	}
	return s, err
}

// configPath names the config and snapshot files a command read, for hints.
type configPath struct{ config, snapshot string }
