package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/objstore/source"
	"github.com/trailwarden/trailwarden/internal/pull"
	"github.com/trailwarden/trailwarden/internal/query/duckdb"
)

type pullOpts struct {
	src             sourceOpts
	db, keys, since string
	until           string
	jobs            int
	noVerify        bool
	format          string
	sinceSet        bool
}

func newPullCmd(a *app) *cobra.Command {
	var o pullOpts
	cmd := &cobra.Command{
		Use:   "pull",
		Short: "Pull every account's logs into an embedded DuckDB store, verified against their digests",
		Long: `pull copies the log files of a central CloudTrail bucket into a DuckDB file
(no server to run). It lists by account, region and day, downloads with
--jobs workers, and checks each file against its signed digest from the same
bytes it parses (--no-verify skips that, and says so). A file's events are
kept only once its digest vouches for it. Events are deduplicated on event id
and recipient account. Every field is kept: typed columns for the common ones,
JSON for request and response bodies, and "extra" for anything else.

Pulling again reads only new files, and only the digests from the oldest new
file on (none when nothing is new). The store records each file in the same
transaction as its events, so a killed pull resumes without loss or
duplicates. Files newer than the latest digest wait for the next pull.

Memory stays bounded whatever the files' sizes: about 450 MB at most with the
default --jobs. Files over 8 MB compressed are downloaded to the store's
temporary folder (the --db path with .tmp added, 0700) and streamed; a
killed pull's leftovers there are removed by the next pull, and the folder
itself when a pull ends. The store file is created 0600. GOMEMLIMIT, if set, replaces the pull's own soft limit
for Go's heap (144 MiB).

Evidence of deletion fails the pull: a log file that a valid digest lists
but the bucket lacks ("not found"), a log file that no digest lists once its
digest should have come (CloudTrail delivers digests within about an hour:
"not listed in any digest"), and a chain whose digests end before the
window's end, or before the other chains' newest digest ("chain ends
early"). Files newer than that wait for the next pull.

A file with a record over 1 MiB (CloudTrail writes at most 256 KB an event)
is a bad file, named with the record and its largest field. A file the store
refuses is named with the store's reason, and the rest is loaded. A record
that repeats a top-level key is loaded (the last value in its column, the
earlier ones in extra) and named under "duplicate key".

When no log file falls in the window, pull says which window it listed and
the newest log file it found, and leaves no store behind. A pull that fails
before loading anything removes the store file it created.

Exit status: 0 when every listed file was loaded, already there or waiting
for its digest; 1 when some files were bad or missing, a chain has a gap
(all listed in the summary), the window held no log file, or another
process holds the store (the message names it); 2 for bad input; 130 when
interrupted (SIGINT or SIGTERM), after which pulling again resumes.`,
		Example: `  trailwarden pull --source ./demo-bucket --db ./trail.duckdb
  trailwarden pull --source s3://acme-org-cloudtrail/prefix --since 7d --db ./trail.duckdb
  trailwarden pull --source s3://acme-org-cloudtrail/prefix --region eu-west-1 --since 2026-11-01 --until 2026-11-08 \
    --accounts 333333333333,444444444444 --regions us-east-1 --db ./trail.duckdb
  trailwarden pull --source s3://demo-bucket --endpoint-url http://127.0.0.1:9000 --public-keys keys.json --db trail.duckdb --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.sinceSet = cmd.Flags().Changed("since")
			return a.runPull(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	o.src.awsFlags(f, "the bucket to pull from")
	f.StringVar(&o.db, "db", "trail.duckdb", "the DuckDB file to load into (created if missing)")
	f.StringVar(&o.keys, "public-keys", "", "public keys JSON (default: CloudTrail ListPublicKeys on AWS, or a demo folder's own)")
	f.StringVar(&o.since, "since", "7d", "start of the window: "+windowHelp)
	f.StringVar(&o.until, "until", "", "end of the window, in the same forms (default: now)")
	o.src.scopeFlags(f)
	o.src.filterFlags(f)
	f.IntVar(&o.jobs, "jobs", 8, "concurrent downloads")
	f.BoolVar(&o.noVerify, "no-verify", false, "load without checking digests (reported in the summary)")
	f.StringVar(&o.format, "format", "text", "text or json (the summary)")
	return cmd
}

func (a *app) runPull(ctx context.Context, o pullOpts) (rerr error) {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	if err := checkJobs(o.jobs); err != nil {
		return err
	}
	op, err := o.src.open(ctx, false)
	if err != nil {
		return err
	}
	defer op.Close()
	bucket, prefix := o.src.trail(op)
	opt := pull.Options{Bucket: bucket, Prefix: prefix, OrgID: o.src.org, Accounts: o.src.accounts, Regions: o.src.regions,
		NoVerify: o.noVerify, Jobs: o.jobs, Loaders: duckdb.MaxWriters}
	// A duration is back from now, for --since as for --until.
	if opt.Since, opt.Until, err = parseWindow(o.since, o.until, time.Now()); err != nil {
		return err
	}
	if opt.Until.IsZero() {
		opt.Until = time.Now().UTC()
		if !opt.Until.After(opt.Since) {
			return badInput(fmt.Errorf("--since %s is in the future", opt.Since.Format(time.RFC3339)), "give a --since before now")
		}
	}
	if start, end, ok := op.DemoWindow(); ok && o.until == "" && !o.sinceSet {
		// A demo folder: its own range, unless the user chose one. Its
		// last log files are delivered before its end, and the digests
		// that list them end at it.
		opt.Since, opt.Until = start, end
	}
	if !o.noVerify {
		if opt.Keys, opt.KeysFor, err = publicKeys(ctx, o.keys, op, opt.Since, opt.Until); err != nil {
			return err
		}
	}
	sink, err := duckdb.OpenSink(ctx, o.db)
	if errors.Is(err, duckdb.ErrLocked) || errors.Is(err, duckdb.ErrNotStore) {
		return storeError(err, o.db)
	}
	if errors.Is(err, duckdb.ErrEventsLost) {
		return err // not bad input: the store is not what it records
	}
	if err != nil {
		return badInput(err, "pass a DuckDB file written by trailwarden with --db")
	}
	opt.TempDir = sink.TempDir()
	defer func() {
		if err := sink.Close(ctx, rerr != nil); err != nil {
			fmt.Fprintf(a.stderr, "warning: %v\n", err)
		}
	}()
	p := newProgress(a.stderr, "pull")
	opt.Progress = func(pr pull.Progress) {
		elapsed := time.Since(pr.Started).Seconds()
		eta := ""
		if pr.FilesDone > 0 && elapsed > 0 {
			rest := time.Duration(float64(pr.FilesTotal-pr.FilesDone) / float64(pr.FilesDone) * elapsed * float64(time.Second))
			eta = ", ETA " + rest.Round(time.Second).String()
		}
		p.update(fmt.Sprintf("%d/%d files, %s, %d events, %.1f MB/s%s", pr.FilesDone, pr.FilesTotal, mb(pr.Bytes), pr.Events,
			float64(pr.Bytes)/1e6/max(elapsed, 0.001), eta))
	}
	sum, err := pull.Run(ctx, op.Store, sink, opt)
	p.done()
	if err != nil {
		return err
	}
	if o.format == "json" {
		if err := printJSON(a.stdout, sum); err != nil {
			return err
		}
	} else {
		renderPull(a, o.db, op, sum)
	}
	if !sum.OK {
		return &exitError{code: ExitFailure}
	}
	return nil
}

func renderPull(a *app, db string, op *source.Source, s *pull.Summary) {
	if s.Listed == 0 {
		renderEmptyPull(a, op, s)
		return
	}
	secs := s.Elapsed.Seconds()
	fmt.Fprintf(a.stdout, "pulled into %s: %d new files (%s), %d events, %d duplicates dropped, in %s (%.0f events/s)\n",
		db, s.Loaded, mb(s.Bytes), s.Events, s.Duplicates, s.Elapsed.Round(time.Millisecond), float64(s.Events)/max(secs, 0.001))
	fmt.Fprintf(a.stdout, "  %d files listed, %d already in the store", s.Listed, s.AlreadyLoaded)
	if s.Unverified > 0 {
		fmt.Fprintf(a.stdout, ", %d waiting for their digest", s.Unverified)
	}
	fmt.Fprintln(a.stdout)
	if !s.Verified {
		fmt.Fprintln(a.stdout, "  NOT VERIFIED: --no-verify loaded files without checking their digests")
	}
	for _, b := range s.Bad {
		fmt.Fprintf(a.stdout, "  bad: %s: %s\n", b.Key, b.Problem)
	}
	for _, g := range s.Gaps {
		fmt.Fprintf(a.stdout, "  gap: %s\n", gapText(g))
	}
	for _, r := range s.RepeatedKeys {
		for _, k := range r.First {
			fmt.Fprintf(a.stdout, "  duplicate key %s in record %d of %s\n", k.Key, k.Record, r.Key)
		}
		if more := r.Records - len(r.First); more > 0 {
			fmt.Fprintf(a.stdout, "  duplicate keys in %s more of %s\n", plural(more, "record"), r.Key)
		}
	}
	if len(s.RepeatedKeys) > 0 {
		fmt.Fprintln(a.stdout, "  (a record that repeats a key is stored with its last value in the column, the earlier ones in extra)")
	}
	if s.Digests != nil {
		if u := chainsEndText(s.Digests); u != "" {
			fmt.Fprintf(a.stdout, "  %s\n", u)
		}
	}
}

// renderEmptyPull says that the window held no log file, which window was
// listed, where the newest log file is and how to reach it.
func renderEmptyPull(a *app, op *source.Source, s *pull.Summary) {
	fmt.Fprintf(a.stdout, "nothing pulled: no log file was delivered between %s and %s (the window listed)\n",
		s.Since.Format(time.RFC3339), s.Until.Format(time.RFC3339))
	n := s.Newest
	switch {
	case n == nil:
		fmt.Fprintln(a.stdout, "  no log file found in any account and region folder")
	case n.Time.Before(s.Since):
		fmt.Fprintf(a.stdout, "  the newest log file is %s, delivered %s\n", op.Location(n.Key), n.Time.Format(time.RFC3339))
		fmt.Fprintf(a.stdout, "  to include it: --since %s (or earlier)\n", n.Time.UTC().Truncate(24*time.Hour).Format(time.RFC3339))
	default:
		fmt.Fprintf(a.stdout, "  the newest log file is %s, delivered %s, after the window\n", op.Location(n.Key), n.Time.Format(time.RFC3339))
		fmt.Fprintf(a.stdout, "  to include it: --until %s (or later), with --since before it\n",
			n.Time.UTC().Truncate(time.Minute).Add(time.Minute).Format(time.RFC3339))
	}
}
