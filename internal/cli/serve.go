package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/dashboard"
	"github.com/trailwarden/trailwarden/internal/detect"
	"github.com/trailwarden/trailwarden/internal/proof"
	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/safefile"
)

// DefaultListen is where serve listens unless told otherwise: loopback
// only, so nothing else on the network sees the logs.
const DefaultListen = "127.0.0.1:8931"

// dashOpts are the inputs serve and report share.
type dashOpts struct {
	src                sourceOpts
	db, config, snap   string
	keys, since, until string
	standard, failOn   string
	memory             string
	jobs               int
}

func (o *dashOpts) flags(f *pflag.FlagSet) {
	f.StringVar(&o.db, "db", "", "the DuckDB store (trailwarden pull --db): named queries and the SQL console, read-only")
	f.StringVarP(&o.config, "config", "c", "", "trailwarden.yaml: the audit, the access matrix and the accounts and regions that should deliver")
	f.StringVar(&o.snap, "snapshot", "", "audit this snapshot file (trailwarden snapshot --out FILE) instead of reading AWS now")
	o.src.awsFlags(f, "the log bucket (coverage and digest verification)")
	f.StringVar(&o.keys, "public-keys", "", "public keys JSON (aws cloudtrail list-public-keys ...); a demo folder has its own")
	f.StringVar(&o.since, "since", "", "start of the coverage window: "+windowHelp+" (default: 24h before --until, or the demo's start)")
	f.StringVar(&o.until, "until", "", "end of the window, exclusive, in the same forms (default: now, or the demo's end)")
	f.StringVar(&o.standard, "standard", "", "audit against this requirement set: accelerate, cis or baseline (default: the config's)")
	f.StringVar(&o.failOn, "fail-on", "high", "the audit fails on a failing finding at or above: critical, high, medium or low (as audit --fail-on)")
	f.StringVar(&o.memory, "memory-limit", "", "DuckDB memory limit for the store, e.g. 2GB (default: DuckDB's)")
	f.IntVar(&o.jobs, "jobs", 16, "concurrent requests to the bucket")
}

const dashExamples = `
Every page is one library call's result, the same the commands print:
coverage (trailwarden coverage), verify, audit, policy prove, and the named
queries. An input that is not given makes its answer "unknown", with the
reason, never a pass.`

func newServeCmd(a *app) *cobra.Command {
	var o dashOpts
	var listen string
	var reqTimeout time.Duration
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "A local dashboard: delivery, integrity, audit, access and SQL in a browser",
		Long: `serve computes coverage, digest verification, the audit, the access
matrix and the detections once, then serves them as a dashboard: an overview
answering "is every account delivering, are the logs intact, does the audit
pass, any detections", a coverage heat map (account x region x day, with the
hours and files behind each cell), the audit findings with their evidence and
exact fix, the access matrix of policy prove, the detections of the built-in
rules (as trailwarden detect) with the events behind each, the named queries
and a read-only SQL console with paging and CSV download.
` + dashExamples + `

It listens on ` + DefaultListen + ` (loopback) unless --listen names another
address; then every request needs the random access token printed at start.
Only GET exists, the store is opened read-only (DuckDB refuses writes, files
and the network), every response carries a strict Content-Security-Policy
and no script, and every request has a deadline (--request-timeout).

Exit status: 0 after Ctrl-C, 2 for bad input.`,
		Example: `  trailwarden serve --db trail.duckdb --config trailwarden.yaml --snapshot snapshot.json --source ./demo-bucket
  trailwarden serve --db trail.duckdb --config trailwarden.yaml --source s3://acme-org-cloudtrail/org --since 7d
  trailwarden serve --db trail.duckdb --listen 0.0.0.0:8931   # prints an access token`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runServe(cmd.Context(), o, listen, reqTimeout) },
	}
	f := cmd.Flags()
	o.flags(f)
	f.StringVar(&listen, "listen", DefaultListen, "address to listen on; anything but loopback requires the access token printed at start")
	f.DurationVar(&reqTimeout, "request-timeout", 30*time.Second, "the longest a page (or a query) may take")
	return cmd
}

func newReportCmd(a *app) *cobra.Command {
	var o dashOpts
	var out string
	cmd := &cobra.Command{
		Use:   "report",
		Short: "One self-contained HTML report of delivery, integrity, audit and access, to hand over",
		Long: `report writes the dashboard's pages as one HTML file: the overview's four
answers, the coverage heat map of every account and region with the hours of
each one that has a problem, the audit findings with evidence and fix, and the
access matrix. Style and charts are inline and there is no script and no link
to anything outside the file, so it opens offline.
` + dashExamples + `

The file is written atomically and readable by its owner only (0600).

Exit status: 0 when the report was written, 2 for bad input.`,
		Example: `  trailwarden report --db trail.duckdb --config trailwarden.yaml --snapshot snapshot.json --source ./demo-bucket --out report.html
  trailwarden report --config trailwarden.yaml --snapshot snapshot.json -o audit-report.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runReport(cmd.Context(), o, out) },
	}
	f := cmd.Flags()
	o.flags(f)
	f.StringVarP(&out, "out", "o", "", "write the report to this file (required)")
	return cmd
}

// dashboardInputs makes each command's library call. An input that is
// missing, or a call that fails, leaves its answer unknown with the
// reason (also printed to stderr); bad input stops here.
func (a *app) dashboardInputs(ctx context.Context, o dashOpts) (*dashboard.Inputs, func(), error) {
	in := &dashboard.Inputs{Generated: time.Now().UTC()}
	var closers []func()
	cleanup := func() {
		for _, c := range closers {
			c()
		}
	}
	failOn, err := audit.ParseSeverity(o.failOn)
	if err != nil || failOn == audit.Info {
		return nil, nil, badInput(fmt.Errorf("unknown --fail-on %q", o.failOn), "use one of: critical, high, medium, low")
	}
	if o.standard != "" && !validProfile(o.standard) {
		return nil, nil, badInput(fmt.Errorf("unknown --standard %q", o.standard), "use one of: accelerate, cis, baseline")
	}
	in.FailOn = failOn
	note := func(what string, err error) string {
		fmt.Fprintf(a.stderr, "trailwarden: %s: %v\n", what, err)
		return err.Error()
	}
	if o.src.source != "" {
		in.Sources = append(in.Sources, "source "+o.src.source)
		cov := coverageOpts{src: o.src, exp: expectOpts{config: o.config, snapshot: o.snap}, keys: o.keys, since: o.since, until: o.until, jobs: o.jobs}
		if op, rep, err := a.coverageReport(ctx, cov); err != nil {
			in.CoverageWhy = note("coverage", err)
		} else {
			op.Close()
			in.Coverage = rep
		}
		ver := verifyOpts{src: o.src, exp: expectOpts{config: o.config, snapshot: o.snap}, keys: o.keys, since: o.since, until: o.until, jobs: o.jobs, format: "json"}
		if op, rep, _, missing, err := a.verifyReport(ctx, ver); err != nil {
			in.VerifyWhy = note("verify", err)
		} else {
			op.Close()
			in.Verify, in.VerifyMissing = rep, missing
		}
	} else {
		in.CoverageWhy = "no log bucket was given (--source s3://BUCKET/PREFIX or a folder)"
		in.VerifyWhy = in.CoverageWhy
	}
	if o.config != "" {
		in.Sources = append(in.Sources, "config "+o.config)
		if o.snap != "" {
			in.Sources = append(in.Sources, "snapshot "+o.snap)
		}
		aud := auditOpts{config: o.config, snapshot: o.snap, standard: o.standard, profile: o.src.profile, timeout: o.src.timeout}
		if _, _, rep, err := a.auditReport(ctx, aud); err != nil {
			in.AuditWhy = note("audit", err)
		} else {
			in.Audit = rep
		}
		pr := proveOpts{config: o.config, files: map[proof.Target]*string{}}
		for _, t := range []proof.Target{proof.TargetBucket, proof.TargetKey, proof.TargetTrust, proof.TargetAccess} {
			pr.files[t] = new(string)
		}
		if results, _, _, err := a.proveReports(pr); err != nil {
			in.AccessWhy = note("policy prove", err)
		} else {
			for _, r := range results {
				in.Access = append(in.Access, dashboard.Access{Label: r.Source, Report: r.Report})
			}
		}
	} else {
		in.AuditWhy = "no config was given (--config trailwarden.yaml)"
		in.AccessWhy = in.AuditWhy
	}
	if o.db != "" {
		in.Sources = append(in.Sources, "store "+o.db)
		eng, done, err := a.engine(ctx, queryOpts{engine: "duckdb", db: o.db, memory: o.memory})
		if err != nil {
			in.StoreWhy = note("store", err)
		} else {
			closers = append(closers, done)
			in.Store = eng
			in.Detections = a.dashDetections(ctx, eng, o, note)
		}
	} else {
		in.StoreWhy = "no store was given (--db trail.duckdb)"
	}
	return in, cleanup, nil
}

func (a *app) runServe(ctx context.Context, o dashOpts, listen string, reqTimeout time.Duration) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return badInput(fmt.Errorf("--listen %q: %w", listen, err), "give HOST:PORT, e.g. "+DefaultListen)
	}
	token := ""
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		// Anyone who can reach the address could read the logs: a random
		// token stands between them and every page.
		b := make([]byte, 16)
		if _, err := rand.Read(b); err != nil {
			return fmt.Errorf("serve: access token: %w", err)
		}
		token = hex.EncodeToString(b)
	}
	in, cleanup, err := a.dashboardInputs(ctx, o)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := dashboard.NewServer(in, dashboard.Options{Token: token, Timeout: reqTimeout})
	if err != nil {
		return err
	}
	// The first page of every named query, before the first request.
	if d := srv.Warm(ctx); d > time.Second {
		fmt.Fprintf(a.stderr, "named queries answered in %s\n", d.Round(100*time.Millisecond))
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return badInput(fmt.Errorf("serve: %w", err), "choose another --listen address or stop what uses it")
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: reqTimeout + 10*time.Second, IdleTimeout: 2 * time.Minute}
	addr := "http://" + ln.Addr().String() + "/"
	if token != "" {
		fmt.Fprintf(a.stdout, "trailwarden dashboard at %s?token=%s (Ctrl-C to stop)\n", addr, token)
		fmt.Fprintf(a.stdout, "access token: %s (every request needs it; it changes each start)\n", token)
	} else {
		fmt.Fprintf(a.stdout, "trailwarden dashboard at %s (Ctrl-C to stop)\n", addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: shutdown: %w", err)
	}
	return nil
}

func (a *app) runReport(ctx context.Context, o dashOpts, out string) error {
	if out == "" {
		return badInput(errors.New("report needs a file to write"), "give --out report.html")
	}
	in, cleanup, err := a.dashboardInputs(ctx, o)
	if err != nil {
		return err
	}
	defer cleanup()
	srv, err := dashboard.NewServer(in, dashboard.Options{})
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := srv.Report(&b); err != nil {
		return err
	}
	if err := safefile.Write(out, b.Bytes(), 0o600); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "report written to %s (%d KB); open it in a browser, it needs no network\n", out, (b.Len()+1023)/1024)
	return nil
}

// dashDetections runs the built-in rules as trailwarden detect does (the
// config fills the pipeline rules' placeholders; without one they do not
// run and the answer is unknown). A failure leaves the answer unknown
// with the reason.
func (a *app) dashDetections(ctx context.Context, eng query.Engine, o dashOpts, note func(string, error) string) *dashboard.Detections {
	opt := detect.Options{}
	if o.config != "" {
		cfg, err := loadConfig(a, o.config)
		if err != nil {
			return &dashboard.Detections{Why: note("detect", err)}
		}
		opt.Config = cfg
	}
	since, until, err := parseWindow(o.since, o.until, time.Now())
	if err != nil {
		return &dashboard.Detections{Why: note("detect", err)}
	}
	opt.Scope = detect.Scope{Since: since, Until: until}
	_, rep, err := detect.Detect(ctx, eng, opt)
	if err != nil {
		return &dashboard.Detections{Why: note("detect", err)}
	}
	return dashboard.FromDetect(rep)
}
