package cli

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/objstore/source"
	"github.com/trailwarden/trailwarden/internal/safefile"
)

type demoOpts struct {
	out, s3, keysOut, since string
	src                     sourceOpts
	opt                     demo.Options
	regions, tamper         []string
	seed                    uint64
	format                  string
}

func newDemoCmd(a *app) *cobra.Command {
	var o demoOpts
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Create a synthetic organization's CloudTrail bucket to try everything offline",
		Long: `demo writes what a central CloudTrail bucket of an organization holds: hourly log
files per account and region with varied records (every identity type, console
sign-ins with and without MFA, Athena reads, service events, AccessDenied errors,
data events, duplicates), pipeline-tampering events at known times, and hourly
digest files chained and signed with RSA keys derived from --seed. The public
keys are written as the JSON "aws cloudtrail list-public-keys" prints, to
.trailwarden/public-keys.json in the folder (or --public-keys-out).

The same flags and --seed give the same bytes. --tamper damages the result the
way an attacker would, for trying verify and pull: modify (a log file), delete
(a log file), move (a digest), break-chain (delete a digest), truncate (delete
a chain's newest digest); add =KEY to choose the file.

Digest signatures are S3 object metadata (x-amz-meta-signature). In a folder
they are kept in .trailwarden/meta/<key>.json beside the objects.

A folder also gets .trailwarden/trailwarden.yaml, the organization's config,
and .trailwarden/snapshot.json, a snapshot of its configuration as
"trailwarden snapshot" would take it (trailwarden's own policies, with three
problems planted for audit to find), so audit and plan can be tried offline.`,
		Example: `  trailwarden demo --out ./demo-bucket --accounts 20 --regions us-east-1,eu-west-1,ap-southeast-2 --days 3
  trailwarden demo --out ./tampered --tamper modify --tamper break-chain
  trailwarden demo --out ./recent --since 3d --days 3
  trailwarden demo --s3 s3://demo-bucket/prefix --endpoint-url http://127.0.0.1:9000 --public-keys-out keys.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDemo(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.out, "out", "o", "", "write into this folder (created if missing)")
	f.StringVar(&o.s3, "s3", "", "write into this bucket instead: s3://BUCKET[/PREFIX]")
	f.StringVar(&o.src.endpoint, "endpoint-url", "", "--s3: send the S3 calls to this URL, e.g. an S3-compatible endpoint http://127.0.0.1:9000 (path-style)")
	regionFlag(f, &o.src.region, "region", "--s3: AWS region of the calls, the bucket's (default: from the AWS configuration)")
	f.StringVar(&o.src.profile, "profile", "", "--s3: AWS shared-config profile")
	timeoutFlag(f, &o.src.timeout)
	f.IntVar(&o.opt.Accounts, "accounts", 5, "number of accounts (the first two are the management and log-archive accounts)")
	regionsFlag(f, &o.regions, "regions", "regions, comma-separated (repeatable); the first is the trail's home region", "us-east-1", "eu-west-1")
	f.IntVar(&o.opt.Days, "days", 1, "days of logs")
	f.StringVar(&o.since, "since", demo.DefaultStart.Format(time.DateOnly), "the first day of logs (UTC): "+windowHelp+"; a time counts from its day's midnight")
	f.Uint64Var(&o.seed, "seed", 1, "seed: the same seed and flags give the same bucket")
	f.StringVar(&o.opt.Bucket, "bucket", "demo-bucket", "bucket name written into digests (taken from --s3 when given)")
	f.StringVar(&o.opt.Prefix, "prefix", "", "trail key prefix (taken from --s3 when given)")
	f.StringVar(&o.opt.Trail, "trail", "org-trail", "organization trail name")
	f.IntVar(&o.opt.EventsPerHour, "events-per-hour", 24, "average events per account, region and hour")
	f.StringArrayVar(&o.tamper, "tamper", nil, "tamper after writing: modify, delete, move, break-chain or truncate, optionally =KEY (repeatable)")
	f.StringVar(&o.keysOut, "public-keys-out", "", "also write the public keys JSON here")
	f.IntVar(&o.opt.Jobs, "jobs", 4, "parallel writers")
	f.StringVar(&o.format, "format", "text", "text or json (the manifest)")
	return cmd
}

func (a *app) runDemo(cmd *cobra.Command, o demoOpts) error {
	ctx := cmd.Context()
	if (o.out == "") == (o.s3 == "") {
		return badInput(fmt.Errorf("give exactly one of --out DIR and --s3 s3://BUCKET/PREFIX"), "")
	}
	start, _, err := parseWindow(o.since, "", time.Now())
	if err != nil {
		return err
	}
	start = start.Truncate(24 * time.Hour)
	o.opt.Start, o.opt.Seed, o.opt.Regions = start, o.seed, o.regions
	var tampers []demo.Tamper
	for _, t := range o.tamper {
		tp, err := demo.ParseTamper(t)
		if err != nil {
			return badInput(err, "")
		}
		tampers = append(tampers, tp)
	}
	o.src.source = o.out
	if o.s3 != "" {
		o.src.source = o.s3
	}
	op, err := o.src.open(ctx, true)
	if err != nil {
		return err
	}
	defer op.Close()
	if o.s3 != "" {
		o.opt.Bucket, o.opt.Prefix = op.Bucket, op.Prefix
	}
	p := newProgress(a.stderr, "demo")
	o.opt.Progress = func(pr demo.Progress) {
		p.update(fmt.Sprintf("%d/%d chains, %d files, %s", pr.ChainsDone, pr.Chains, pr.Files, mb(pr.Bytes)))
	}
	res, err := demo.Generate(ctx, op.Store, o.opt)
	p.done()
	if err != nil {
		return err
	}
	if err := demo.Apply(ctx, op.Store, res.Manifest, tampers); err != nil {
		return err
	}
	manifest, err := json.MarshalIndent(res.Manifest, "", "  ")
	if err != nil {
		return err
	}
	if err := op.SaveDemo(ctx, res); err != nil {
		return err
	}
	if o.keysOut != "" {
		if err := safefile.Write(o.keysOut, res.PublicKeys, 0o644); err != nil {
			return err
		}
	}
	if o.format == "json" {
		fmt.Fprintf(a.stdout, "%s\n", manifest)
		return nil
	}
	m := res.Manifest
	fmt.Fprintf(a.stdout, "demo organization %s: %d accounts x %d regions x %d days in %s\n", m.Org.ID, len(m.Org.Accounts), len(m.Org.Regions), o.opt.Days, op.Store)
	fmt.Fprintf(a.stdout, "  %d log files (%s compressed), %d events (%d delivered twice), %d digest files\n", m.LogFiles, mb(m.LogBytes), m.Events, m.Duplicates, m.DigestFiles)
	fmt.Fprintf(a.stdout, "  planted for detect (listed in the manifest): %d pipeline-tampering events, %d identity-threat events, %d look-alikes that must not fire\n",
		len(m.PipelineEvents), len(m.ThreatEvents), len(m.LookAlikes))
	for _, t := range m.Tampered {
		fmt.Fprintf(a.stdout, "  tampered: %s %s", t.Kind, t.Key)
		if t.MovedTo != "" {
			fmt.Fprintf(a.stdout, " -> %s", t.MovedTo)
		}
		fmt.Fprintln(a.stdout)
	}
	keys := o.keysOut
	if keys == "" && op.Dir != "" {
		keys = filepath.Join(op.Dir, source.PublicKeysFile)
	}
	endpoint := ""
	if o.src.endpoint != "" {
		endpoint = " --endpoint-url " + o.src.endpoint
	}
	fmt.Fprintf(a.stdout, "verify it with:\n  trailwarden verify --source %s%s --public-keys %s --since %s --until %s\n",
		o.src.source, endpoint, keys, m.Start.Format(time.RFC3339), m.End.Format(time.RFC3339))
	if op.Dir != "" {
		cfg, snap := filepath.Join(op.Dir, source.ConfigFile), filepath.Join(op.Dir, source.SnapshotFile)
		fmt.Fprintf(a.stdout, "audit and plan its configuration offline (%d findings planted) with:\n", len(demo.Planted))
		fmt.Fprintf(a.stdout, "  trailwarden audit --config %s --snapshot %s --standard baseline\n", cfg, snap)
		fmt.Fprintf(a.stdout, "  trailwarden plan --config %s --snapshot %s\n", cfg, snap)
	}
	return nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
