package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/objstore/source"
	"github.com/trailwarden/trailwarden/internal/verify"
)

type coverageOpts struct {
	src          sourceOpts
	exp          expectOpts
	keys         string
	since, until string
	jobs         int
	format       string
	wide         bool
}

func newCoverageCmd(a *app) *cobra.Command {
	var o coverageOpts
	cmd := &cobra.Command{
		Use:   "coverage",
		Short: "Set every account and region that should deliver against the digests that arrived, hour by hour",
		Long: `coverage answers "does every account deliver?" for a window of hours.

CloudTrail writes a digest file for every hour of every account and region a
trail logs, with or without log files. So coverage takes the set that should
deliver, and for each expected account x region x hour looks for a digest
that vouches for that hour (a digest ending at 11:00 or 11:01:31 vouches for
the deliveries of 10:00-10:59). An expected hour with no digest is a gap; an
hour whose digest is not due yet (it ends about an hour later and arrives
within about another hour) is pending, not a gap. Every digest is checked as
verify checks it (signature, location, chain), but no log file is read, so
coverage costs listings and one small GET per digest.

The expected accounts are --accounts; else, for an organization trail, the
organization's active accounts, from --snapshot or read live with
Organizations ListAccounts from the management account (through the config's
aws.access_role); else the config's source_accounts. The expected regions are
--regions; else the home region of a single-Region trail; else the regions
enabled in each account (from --snapshot, the config's aws.regions, or read
live with account ListRegions). When that cannot be known, coverage stops
with exit 2 and says what to pass: it never takes the set from what happens
to be in the bucket. Accounts and regions found in the bucket that are not
expected are listed, and counted as nobody's coverage.

A demo folder's own .trailwarden/trailwarden.yaml and snapshot.json are the
defaults for --config and --snapshot.

--since and --until take a duration back from now (36h, 7d), a date
(2026-11-20, midnight UTC) or an RFC 3339 time; the window is whole hours,
--until exclusive. Default: the demo's days, else the last 24 hours.

Exit status: 0 when every due hour of every expected account and region has a
valid digest, 1 when there is any gap or invalid digest, 2 for bad input
(including an expected set that cannot be known).`,
		Example: `  trailwarden coverage --source ./demo-bucket
  trailwarden coverage --source s3://acme-org-cloudtrail/org --config trailwarden.yaml --snapshot snapshot.json \
    --since 2026-11-20T00:00:00Z --until 2026-11-21T00:00:00Z --public-keys keys.json
  trailwarden coverage --source s3://acme-org-cloudtrail --accounts 111111111111,222222222222 --regions us-east-1,eu-west-1 --since 7d --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCoverage(cmd, o) },
	}
	f := cmd.Flags()
	o.src.awsFlags(f, "the log bucket")
	f.StringVarP(&o.exp.config, "config", "c", "", "trailwarden.yaml of the pipeline (the trail, organization, source accounts and regions)")
	o.exp.expectFlags(f, "each must have a digest every due hour")
	f.StringVar(&o.keys, "public-keys", "", "public keys JSON (aws cloudtrail list-public-keys --start-time ... --end-time ... > keys.json)")
	f.StringVar(&o.since, "since", "", "start of the window: "+windowHelp+" (default: 24h before --until)")
	f.StringVar(&o.until, "until", "", "end of the window, exclusive, in the same forms (default: now)")
	f.IntVar(&o.jobs, "jobs", 16, "concurrent requests")
	f.StringVar(&o.format, "format", "text", "text or json")
	f.BoolVar(&o.wide, "wide", false, "text: also the last log file and the hours pending, missing and invalid, and every value in full (by default text fits 80 columns)")
	return cmd
}

func (a *app) runCoverage(cmd *cobra.Command, o coverageOpts) error {
	ctx := cmd.Context()
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	op, rep, err := a.coverageReport(ctx, o)
	if err != nil {
		return err
	}
	defer op.Close()
	if o.format == "json" {
		if err := printJSON(a.stdout, struct {
			OK bool `json:"ok"`
			*coverage.Report
			ElapsedSeconds float64 `json:"elapsed_seconds"`
		}{rep.OK(), rep, rep.Elapsed.Seconds()}); err != nil {
			return err
		}
	} else {
		if err := fitted(a.stdout, o.wide, func(w io.Writer) { renderCoverage(w, op, rep, o.wide) }); err != nil {
			return err
		}
	}
	if !rep.OK() {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// coverageReport is coverage's one library call with everything it needs
// (the source, the expected set, the window and the keys); serve and
// report make the same call. The caller closes the source.
func (a *app) coverageReport(ctx context.Context, o coverageOpts) (*source.Source, *coverage.Report, error) {
	if err := checkJobs(o.jobs); err != nil {
		return nil, nil, err
	}
	o.exp.profile, o.exp.endpoint, o.exp.timeout = o.src.profile, o.src.endpoint, o.src.timeout
	if o.src.source == "" && o.exp.config != "" {
		c, err := loadConfig(a, o.exp.config)
		if err != nil {
			return nil, nil, err
		}
		o.src.source = "s3://" + c.Bucket + "/" + c.KeyPrefix
	}
	// --endpoint-url reaches AWS for the organization too, so a folder
	// source does not refuse it.
	open := o.src
	if !strings.Contains(open.source, "://") {
		open.endpoint = ""
	}
	op, err := open.open(ctx, false)
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			op.Close()
		}
	}()
	cfg, snap, snapName, err := a.expectSources(o.exp, op)
	if err != nil {
		return nil, nil, err
	}
	bucket, prefix := o.src.trail(op)
	orgID := ""
	if cfg != nil {
		if bucket == "" && op.Dir != "" {
			bucket, prefix = cfg.Bucket, cfg.KeyPrefix
		}
		if cfg.Trail.Organization {
			orgID = cfg.OrganizationID
		}
	}
	exp, err := a.expected(ctx, o.exp, coverageInput(cfg, snap, snapName, bucket, prefix), false)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now().UTC()
	opt := coverage.Options{Expected: exp, Now: now, Bucket: bucket, Prefix: prefix, OrgID: orgID, Jobs: o.jobs}
	if opt.Since, opt.Until, err = window(o.since, o.until, op, now); err != nil {
		return nil, nil, err
	}
	opt.Since, opt.Until = coverage.Window(opt.Since, opt.Until)
	if opt.Keys, opt.KeysFor, err = publicKeys(ctx, o.keys, op, opt.Since, opt.Until); err != nil {
		return nil, nil, err
	}
	p := newProgress(a.stderr, "coverage")
	opt.Progress = func(pr verify.Progress) {
		p.update(fmt.Sprintf("%d/%d account-regions listed, %d digests checked", pr.ChainsDone, pr.Chains, pr.Files))
	}
	rep, err := coverage.Run(ctx, op.Store, opt)
	p.done()
	if err != nil {
		return nil, nil, err
	}
	ok = true
	return op, rep, nil
}

// window reads --since and --until: a duration back from now, a date or an
// RFC 3339 time. Without them, a demo folder's own days, else the last 24
// hours.
func window(since, until string, op *source.Source, now time.Time) (time.Time, time.Time, error) {
	s, u, err := parseWindow(since, until, now)
	if err != nil {
		return s, u, err
	}
	if since == "" && until == "" {
		if ds, du, ok := op.DemoWindow(); ok {
			s, u = ds, du
		}
	}
	if u.IsZero() {
		u = now
	}
	if s.IsZero() {
		s = u.Add(-24 * time.Hour)
	}
	if !u.After(s) {
		return s, u, badInput(fmt.Errorf("--until %s is not after --since %s", u.Format(time.RFC3339), s.Format(time.RFC3339)), "")
	}
	return s, u, nil
}

func renderCoverage(w io.Writer, op *source.Source, r *coverage.Report, wide bool) {
	oneDay := r.Until.Sub(r.Since) <= 24*time.Hour && r.Since.Truncate(24*time.Hour).Equal(r.Until.Add(-time.Nanosecond).Truncate(24*time.Hour))
	fmt.Fprintf(w, "Coverage of %s from %s to %s (%d hours)\n", r.Source, r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339),
		int(r.Until.Sub(r.Since)/time.Hour))
	describeExpected(w, r.Expected)
	if wide {
		fmt.Fprintf(w, "%-12s  %-14s  %-17s  %-17s  %-7s  %-7s  %-4s  %-4s  %-4s  %s\n", "ACCOUNT", "REGION", "LAST DIGEST", "LAST LOG FILE",
			"HOURS", "DIGESTS", "MISS", "INV", "PEND", "STATUS")
	} else {
		fmt.Fprintf(w, "%-12s  %-14s  %-17s  %-7s  %-7s  %s\n", "ACCOUNT", "REGION", "LAST DELIVERY", "HOURS", "DIGESTS", "STATUS")
	}
	for _, c := range r.Cells {
		hours := fmt.Sprintf("%d/%d", c.HoursCovered, c.Due())
		digests := fmt.Sprintf("%d/%d", c.DigestsValid, c.Digests)
		if wide {
			fmt.Fprintf(w, "%-12s  %-14s  %-17s  %-17s  %-7s  %-7s  %-4d  %-4d  %-4d  %s\n", c.Account, c.Region, stamp(c.LastDigest), stamp(c.LastLogFile),
				hours, digests, c.HoursMissing, c.HoursInvalid, c.HoursPending, c.Status)
		} else {
			fmt.Fprintf(w, "%-12s  %-14s  %-17s  %-7s  %-7s  %s\n", c.Account, c.Region, stamp(c.LastDigest), hours, digests, c.Status)
		}
	}
	if len(r.Gaps) > 0 {
		fmt.Fprintf(w, "Gaps: expected hours with no digest at all\n")
		for _, g := range r.Gaps {
			fmt.Fprintf(w, "  %s %s: no delivery %s\n", g.Account, g.Region, hourRange(g.Start, g.End, oneDay))
		}
	}
	for _, f := range r.Invalid {
		prefix := ""
		if f.Backfill {
			prefix = "(backfill) "
		}
		fmt.Fprintf(w, "%s%s\t%s\tINVALID: %s\n", prefix, f.Type, op.Location(f.Key), f.Problem)
	}
	for _, l := range r.Expected.Left {
		name := ""
		if l.Name != "" {
			name = " (" + l.Name + ")"
		}
		fmt.Fprintf(w, "Left out: %s%s: %s\n", l.Account, name, l.Reason)
	}
	if len(r.Unexpected) > 0 {
		var ps []string
		for _, p := range r.Unexpected {
			ps = append(ps, p.Account+" "+p.Region)
		}
		fmt.Fprintf(w, "Not expected, found in the bucket (counted as nobody's coverage): %s\n", strings.Join(ps, ", "))
	}
	t := r.Totals
	verdict := "complete"
	if !r.OK() {
		verdict = "INCOMPLETE"
	}
	fmt.Fprintf(w, "%s: %d/%d account-regions complete, %d/%d due hours covered\n", verdict, t.CellsOK, t.Cells, t.HoursCovered, t.Hours-t.HoursPending)
	fmt.Fprintf(w, "%d hours missing in %d gaps, %d invalid digests", t.HoursMissing, len(r.Gaps), len(r.Invalid))
	if t.HoursPending > 0 {
		fmt.Fprintf(w, ", %d hours pending (not due at %s)", t.HoursPending, r.Now.Format("2006-01-02 15:04Z"))
	}
	fmt.Fprintf(w, "; %d digests read in %s\n", t.Digests, r.Elapsed.Round(time.Millisecond))
}

// stamp is a time to the minute, or "-".
func stamp(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04Z")
}

// hourRange prints [start, end) as whole hours, the last one inclusive:
// 10:00-13:59Z (within a one-day window), else with the dates.
func hourRange(start, end time.Time, oneDay bool) string {
	last := end.Add(-time.Minute)
	if oneDay {
		return start.Format("15:04") + "-" + last.Format("15:04") + "Z"
	}
	if start.Truncate(24 * time.Hour).Equal(last.Truncate(24 * time.Hour)) {
		return start.Format("2006-01-02 15:04") + "-" + last.Format("15:04") + "Z"
	}
	return start.Format("2006-01-02 15:04") + " - " + last.Format("2006-01-02 15:04") + "Z"
}
