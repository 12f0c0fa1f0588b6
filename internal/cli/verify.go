package cli

import (
	"context"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/objstore/source"
	"github.com/trailwarden/trailwarden/internal/verify"
)

type verifyOpts struct {
	src                sourceOpts
	exp                expectOpts
	keys, since, until string
	jobs               int
	format             string
	verbose, wide      bool
}

func newVerifyCmd(a *app) *cobra.Command {
	var o verifyOpts
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Verify every account's and region's logs against the signed digest chain",
		Long: `verify checks a central CloudTrail bucket exactly as "aws cloudtrail
validate-logs" does: it walks each digest chain backwards, checks that each
digest is where it was written, verifies its RSA signature (over the end time,
its location, the SHA-256 of its content and the previous digest's signature)
with the public key of its fingerprint, and checks the SHA-256 of every log
file it lists; trailing data after the first gzip member is invalid. Unlike
validate-logs it does this for every account and region at once, chains and
files in parallel (--jobs), and also checks each digest's
previousDigestHashValue when that digest's own signature holds (a replaced
digest is invalid but does not condemn a predecessor whose signature holds).

Results use validate-logs' words: valid, INVALID: not found, INVALID: hash
value doesn't match, INVALID: has been moved from its original location,
INVALID: signature verification failed, and gaps ("No log files were delivered
by CloudTrail between X and Y").

verify also finds what validate-logs cannot see. It lists the log folders of
the range and names each log file that no digest lists ("INVALID: not listed
in any digest") once its digest should have come: CloudTrail delivers digests
within about an hour. A chain whose newest valid digest ends an hour or more
before the others' newest, or before the end of the range (no later than an
hour ago), has lost its newest digests or never got them: a gap ("the chain
ends early"). When the range reaches past every chain, verify says from when
nothing is known.

Public keys come from --public-keys FILE, the JSON "aws cloudtrail
list-public-keys" prints (timestamps as ISO 8601 strings or epoch numbers).
Without it, an s3:// source on AWS gets each region's keys from CloudTrail's
ListPublicKeys (permission cloudtrail:ListPublicKeys), and a demo folder uses
its own keys.

What should be there: with --accounts/--regions, --config or --snapshot (a
demo folder's own config and snapshot by default), every expected account and
region is checked to have digests in the range; one with none at all is a gap
over the whole range and fails the run, where verify alone would only see the
files that are left. The expected set is resolved as coverage resolves it
("trailwarden coverage --help"); "trailwarden coverage" also finds the missing
hours within a chain.

Exit status: 0 when every file is valid, no chain has a gap and every expected
account and region has digests, 1 otherwise, 2 for bad input.`,
		Example: `  trailwarden verify --source ./demo-bucket --public-keys ./demo-bucket/.trailwarden/public-keys.json \
    --since 2026-11-20 --until 2026-11-23
  trailwarden verify --source s3://acme-org-cloudtrail/prefix --region eu-west-1 --since 7d \
    --accounts 333333333333 --regions us-east-1 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runVerify(cmd, o) },
	}
	f := cmd.Flags()
	o.src.awsFlags(f, "the bucket to verify")
	f.StringVar(&o.keys, "public-keys", "", "public keys JSON (aws cloudtrail list-public-keys --start-time ... --end-time ... > keys.json)")
	f.StringVar(&o.since, "since", "", "start of the window: "+windowHelp+" (default: 24 hours before --until, or the demo's start)")
	f.StringVar(&o.until, "until", "", "end of the window, in the same forms (default: now, or the demo's end)")
	o.src.scopeFlags(f)
	f.StringVarP(&o.exp.config, "config", "c", "", "trailwarden.yaml: the accounts and regions that should have digests")
	o.exp.expectFlags(f, "each must have digests in the range (also scopes the run)")
	f.IntVar(&o.jobs, "jobs", 16, "concurrent requests")
	f.StringVar(&o.format, "format", "text", "text or json")
	f.BoolVar(&o.verbose, "verbose", false, "also print every valid file")
	addWide(f, &o.wide)
	return cmd
}

func (a *app) runVerify(cmd *cobra.Command, o verifyOpts) error {
	ctx := cmd.Context()
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	op, rep, exp, missing, err := a.verifyReport(ctx, o)
	if err != nil {
		return err
	}
	defer op.Close()
	ok := rep.OK() && len(missing) == 0
	if o.format == "json" {
		if err := printJSON(a.stdout, struct {
			OK bool `json:"ok"`
			*verify.Report
			Expected *coverage.Expected `json:"expected,omitempty"`
			Missing  []verify.Gap       `json:"missing,omitempty"`
		}{ok, rep, exp, missing}); err != nil {
			return err
		}
	} else {
		shown := *rep
		if len(missing) > 0 {
			// The missing pairs get their own lines below.
			shown.Gaps = shown.Gaps[:0:0]
			for _, g := range rep.Gaps {
				if !slices.Contains(missing, g) {
					shown.Gaps = append(shown.Gaps, g)
				}
			}
		}
		if err := fitted(a.stdout, o.wide, func(w io.Writer) {
			renderVerify(w, op, &shown)
			if exp != nil {
				renderMissing(w, exp, missing)
			}
		}); err != nil {
			return err
		}
	}
	if !ok {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// verifyExpected resolves what should be there when the flags (or a demo
// folder) say: nil without any. Explicit --accounts and --regions also
// scope the run.
func (a *app) verifyExpected(ctx context.Context, o verifyOpts, op *source.Source, opt *verify.Options) (*coverage.Expected, []verify.Expected, error) {
	cfg, snap, snapName, err := a.expectSources(o.exp, op)
	if err != nil {
		return nil, nil, err
	}
	if cfg == nil && snap == nil && len(o.exp.accounts) == 0 && len(o.exp.regions) == 0 {
		return nil, nil, nil
	}
	o.exp.profile, o.exp.timeout = o.src.profile, o.src.timeout
	exp, err := a.expected(ctx, o.exp, coverageInput(cfg, snap, snapName, opt.Bucket, opt.Prefix), false)
	if err != nil {
		return nil, nil, err
	}
	if len(opt.Accounts) == 0 && len(o.exp.accounts) > 0 {
		opt.Accounts = exp.IDs()
	}
	if len(opt.Regions) == 0 && len(o.exp.regions) > 0 {
		opt.Regions = exp.Regions()
	}
	if opt.OrgID == "" && cfg != nil && cfg.Trail.Organization {
		opt.OrgID = cfg.OrganizationID
	}
	expected := make([]verify.Expected, len(exp.Accounts))
	for i, e := range exp.Accounts {
		expected[i] = verify.Expected{Account: e.ID, Regions: e.Regions}
	}
	return exp, expected, nil
}

// renderMissing names the expected accounts and regions without any digest.
func renderMissing(w io.Writer, exp *coverage.Expected, missing []verify.Gap) {
	describeExpected(w, exp)
	for _, g := range missing {
		fmt.Fprintf(w, "MISSING: account %s, region %s: expected, and no digest file at all between %s and %s\n",
			g.Account, g.Region, g.From.Format(time.RFC3339), g.To.Format(time.RFC3339))
	}
	if len(missing) > 0 {
		fmt.Fprintf(w, "%d expected account-regions have no digests\n", len(missing))
	}
}

func (o verifyOpts) window(op *source.Source) (time.Time, time.Time, error) {
	start, end, err := parseWindow(o.since, o.until, time.Now())
	if err != nil {
		return start, end, err
	}
	if ds, de, ok := op.DemoWindow(); ok {
		if start.IsZero() {
			start = ds
		}
		if end.IsZero() {
			end = de
		}
	}
	if end.IsZero() {
		end = time.Now().UTC()
	}
	if start.IsZero() {
		start = end.Add(-24 * time.Hour)
	}
	if !end.After(start) {
		return start, end, badInput(fmt.Errorf("--until %s is not after --since %s", end.Format(time.RFC3339), start.Format(time.RFC3339)), "")
	}
	return start, end, nil
}

func renderVerify(w io.Writer, op *source.Source, r *verify.Report) {
	fmt.Fprintf(w, "Results requested for %s to %s\n", r.Start.Format(time.RFC3339), r.End.Format(time.RFC3339))
	fmt.Fprintf(w, "%-14s %-16s %-10s %-12s %-5s %s\n", "ACCOUNT", "REGION", "DIGESTS", "LOG FILES", "GAPS", "STATUS")
	for _, c := range r.Chains {
		status := "valid"
		switch {
		case !c.Valid():
			status = "INVALID"
		case c.Gaps > 0:
			status = "GAP"
		}
		fmt.Fprintf(w, "%-14s %-16s %-10s %-12s %-5d %s\n", c.Account, c.Region,
			fmt.Sprintf("%d/%d", c.DigestsValid, c.Digests), fmt.Sprintf("%d/%d", c.LogFilesValid, c.LogFiles), c.Gaps, status)
	}
	for _, f := range r.Invalid {
		prefix := ""
		if f.Backfill {
			prefix = "(backfill) "
		}
		fmt.Fprintf(w, "%s%s\t%s\tINVALID: %s\n", prefix, f.Type, op.Location(f.Key), f.Problem)
	}
	for _, g := range r.Gaps {
		fmt.Fprintln(w, gapText(g))
	}
	if u := chainsEndText(r); u != "" {
		fmt.Fprintln(w, u)
	}
	fmt.Fprintf(w, "%d/%d digest files valid, %d/%d log files valid", r.DigestsValid, r.Digests, r.LogFilesValid, r.LogFiles)
	if n := unvouched(r); n > 0 {
		fmt.Fprintf(w, ", %s not listed in any digest", plural(n, "log file"))
	}
	if len(r.Gaps) > 0 {
		fmt.Fprintf(w, ", %s", plural(len(r.Gaps), "gap"))
	}
	fmt.Fprintf(w, ", %s read in %s", mb(r.Bytes), r.Elapsed.Round(time.Millisecond))
	if secs := r.Elapsed.Seconds(); secs > 0 {
		fmt.Fprintf(w, " (%.1f MB/s)", float64(r.Bytes)/1e6/secs)
	}
	fmt.Fprintln(w)
}

func unvouched(r *verify.Report) int {
	n := 0
	for _, c := range r.Chains {
		n += c.Unvouched
	}
	return n
}

// gapText says what a gap is: validate-logs' words for a chain that was
// restarted, and what is missing for a chain that ends early.
func gapText(g verify.Gap) string {
	from, to := g.From.Format(time.RFC3339), g.To.Format(time.RFC3339)
	switch g.Reason {
	case verify.GapEndsEarly:
		return fmt.Sprintf("No valid digest from %s to %s (account %s, %s): the chain ends early, its newest digests deleted or never written",
			from, to, g.Account, g.Region)
	case verify.GapNoDigest:
		return fmt.Sprintf("No valid digest from %s to %s (account %s, %s): none in the window", from, to, g.Account, g.Region)
	}
	return fmt.Sprintf("No log files were delivered by CloudTrail between %s and %s (account %s, %s)", from, to, g.Account, g.Region)
}

// chainsEndText says, when every chain ends early together, what that
// means and how to check a copy only up to its end.
func chainsEndText(r *verify.Report) string {
	if r.ChainsEnd.IsZero() {
		return ""
	}
	return fmt.Sprintf("Every chain ends by %s, before %s: logging stopped (or its newest digests were deleted) everywhere, or the source is a copy that ends there; to check only up to its end, give a window that ends at %s",
		r.ChainsEnd.Format(time.RFC3339), r.ExpectedEnd.Format(time.RFC3339), r.ChainsEnd.Format(time.RFC3339))
}

// verifyReport is verify's one library call with what it needs (the
// source, the window, the keys and, when known, the expected set); serve
// and report make the same call. The caller closes the source.
func (a *app) verifyReport(ctx context.Context, o verifyOpts) (*source.Source, *verify.Report, *coverage.Expected, []verify.Gap, error) {
	if err := checkJobs(o.jobs); err != nil {
		return nil, nil, nil, nil, err
	}
	op, err := o.src.open(ctx, false)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			op.Close()
		}
	}()
	bucket, prefix := o.src.trail(op)
	opt := verify.Options{Bucket: bucket, Prefix: prefix, OrgID: o.src.org, Accounts: o.src.accounts, Regions: o.src.regions, Jobs: o.jobs}
	if opt.Start, opt.End, err = o.window(op); err != nil {
		return nil, nil, nil, nil, err
	}
	if opt.Keys, opt.KeysFor, err = publicKeys(ctx, o.keys, op, opt.Start, opt.End); err != nil {
		return nil, nil, nil, nil, err
	}
	p := newProgress(a.stderr, "verify")
	opt.Progress = func(pr verify.Progress) {
		p.update(fmt.Sprintf("%d/%d chains walked, %d files checked, %s", pr.ChainsDone, pr.Chains, pr.Files, mb(pr.Bytes)))
	}
	if o.verbose && o.format == "text" {
		opt.OnFile = func(r verify.FileResult) {
			if r.Valid {
				fmt.Fprintf(a.stdout, "%s\t%s\tvalid\n", r.Type, op.Location(r.Key))
			}
		}
	}
	exp, expected, err := a.verifyExpected(ctx, o, op, &opt)
	if err != nil {
		p.done()
		return nil, nil, nil, nil, err
	}
	var rep *verify.Report
	var missing []verify.Gap
	if exp != nil {
		rep, missing, err = verify.RunExpected(ctx, op.Store, opt, expected)
	} else {
		rep, err = verify.Run(ctx, op.Store, opt)
	}
	p.done()
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ok = true
	return op, rep, exp, missing, nil
}
