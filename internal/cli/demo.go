package cli

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/safefile"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

type demoOpts struct {
	out, s3, keysOut, start string
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
  trailwarden demo --s3 s3://demo-bucket/prefix --endpoint http://127.0.0.1:9000 --public-keys-out keys.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDemo(cmd, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "write into this folder (created if missing)")
	f.StringVar(&o.s3, "s3", "", "write into this bucket instead: s3://BUCKET[/PREFIX]")
	f.StringVar(&o.src.endpoint, "endpoint", "", "S3-compatible endpoint for --s3, e.g. http://127.0.0.1:9000")
	f.StringVar(&o.src.profile, "profile", "", "AWS shared-config profile for --s3")
	timeoutFlag(f, &o.src.timeout)
	f.IntVar(&o.opt.Accounts, "accounts", 5, "number of accounts (the first two are the management and log-archive accounts)")
	f.StringSliceVar(&o.regions, "regions", []string{"us-east-1", "eu-west-1"}, "regions; the first is the trail's home region")
	f.IntVar(&o.opt.Days, "days", 1, "days of logs")
	f.StringVar(&o.start, "start", demo.DefaultStart.Format("2006-01-02"), "first day (UTC), YYYY-MM-DD")
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
	start, err := time.Parse("2006-01-02", o.start)
	if err != nil {
		return badInput(fmt.Errorf("--start %q: %w", o.start, err), "write the day as YYYY-MM-DD")
	}
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
	defer op.close()
	if o.s3 != "" {
		o.opt.Bucket, o.opt.Prefix = op.bucket, op.prefix
	}
	p := newProgress(a.stderr, "demo")
	o.opt.Progress = func(pr demo.Progress) {
		p.update(fmt.Sprintf("%d/%d chains, %d files, %s", pr.ChainsDone, pr.Chains, pr.Files, mb(pr.Bytes)))
	}
	res, err := demo.Generate(ctx, op.store, o.opt)
	p.done()
	if err != nil {
		return err
	}
	if err := demo.Apply(ctx, op.store, res.Manifest, tampers); err != nil {
		return err
	}
	var mbuf bytes.Buffer
	if err := printJSON(&mbuf, res.Manifest); err != nil {
		return err
	}
	manifest := bytes.TrimSuffix(mbuf.Bytes(), []byte("\n"))
	if err := a.saveDemoFiles(ctx, o, op, res.PublicKeys, manifest); err != nil {
		return err
	}
	if op.dir != "" {
		if err := saveDemoLive(op.dir, res.Manifest); err != nil {
			return err
		}
	}
	if o.format == "json" {
		fmt.Fprintf(a.stdout, "%s\n", manifest)
		return nil
	}
	m := res.Manifest
	fmt.Fprintf(a.stdout, "demo organization %s: %d accounts x %d regions x %d days in %s\n", m.Org.ID, len(m.Org.Accounts), len(m.Org.Regions), o.opt.Days, op.store)
	fmt.Fprintf(a.stdout, "  %d log files (%s compressed), %d events (%d delivered twice), %d digest files\n", m.LogFiles, mb(m.LogBytes), m.Events, m.Duplicates, m.DigestFiles)
	fmt.Fprintf(a.stdout, "  %d pipeline-tampering events planted (listed in the manifest)\n", len(m.PipelineEvents))
	for _, t := range m.Tampered {
		fmt.Fprintf(a.stdout, "  tampered: %s %s", t.Kind, t.Key)
		if t.MovedTo != "" {
			fmt.Fprintf(a.stdout, " -> %s", t.MovedTo)
		}
		fmt.Fprintln(a.stdout)
	}
	keys := o.keysOut
	if keys == "" && op.dir != "" {
		keys = filepath.Join(op.dir, publicKeysFile)
	}
	fmt.Fprintf(a.stdout, "verify it with:\n  trailwarden verify --source %s --public-keys %s --start %s --end %s\n",
		o.src.source, keys, m.Start.Format(time.RFC3339), m.End.Format(time.RFC3339))
	if op.dir != "" {
		cfg, snap := filepath.Join(op.dir, demoConfigFile), filepath.Join(op.dir, snapshotFile)
		fmt.Fprintf(a.stdout, "audit and plan its configuration offline (%d findings planted) with:\n", len(demo.Planted))
		fmt.Fprintf(a.stdout, "  trailwarden audit --config %s --snapshot %s --profile baseline\n", cfg, snap)
		fmt.Fprintf(a.stdout, "  trailwarden plan --config %s --snapshot %s\n", cfg, snap)
	}
	return nil
}

// saveDemoLive writes the demo organization's trailwarden.yaml and a
// snapshot of its configuration, taken when its logs end, so audit and
// plan can be tried offline.
func saveDemoLive(dir string, m *demo.Manifest) error {
	if err := safefile.Write(filepath.Join(dir, demoConfigFile), config.Render(m.Org.Config()), 0o644); err != nil {
		return err
	}
	s, err := m.Org.Snapshot(m.End)
	if err != nil {
		return err
	}
	return snapshot.WriteFile(filepath.Join(dir, snapshotFile), s)
}

// saveDemoFiles writes the public keys and the manifest: into the folder's
// .trailwarden/ directory, or beside the objects in a bucket.
func (a *app) saveDemoFiles(ctx context.Context, o demoOpts, op *opened, keys, manifest []byte) error {
	if op.dir != "" {
		if err := os.MkdirAll(filepath.Join(op.dir, ".trailwarden"), 0o750); err != nil {
			return err
		}
		if err := safefile.Write(filepath.Join(op.dir, publicKeysFile), keys, 0o644); err != nil {
			return err
		}
		if err := safefile.Write(filepath.Join(op.dir, manifestFile), manifest, 0o644); err != nil {
			return err
		}
	} else {
		root := op.prefix
		if root != "" {
			root += "/"
		}
		for name, body := range map[string][]byte{publicKeysFile: keys, manifestFile: manifest} {
			if err := op.store.Put(ctx, root+name, bytes.NewReader(body), int64(len(body)), nil); err != nil {
				return err
			}
		}
	}
	if o.keysOut != "" {
		return safefile.Write(o.keysOut, keys, 0o644)
	}
	return nil
}

func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
