package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/proof"
)

type proveOpts struct {
	config, format string
	files          map[proof.Target]*string
}

func newProveCmd(a *app) *cobra.Command {
	o := proveOpts{files: map[proof.Target]*string{}}
	cmd := &cobra.Command{
		Use:   "prove",
		Short: "Prove what the policies grant against what the config intends",
		Long: `prove evaluates each policy over representative requests built from the
config and from the constants in the policy (every trail, reader, a stranger in
the same account, another account, a foreign organization, anonymous; every
action named plus dangerous ones; witnesses of every resource pattern; every
condition key absent, at each literal and at a fresh value) and prints the
access matrix. Every allowed request the config does not intend is a finding
with a concrete counter-example, and so is every intended request that is
denied.

Without a file flag the policy is generated from the config. Findings caused
only by statements trailwarden does not own are reported but do not fail.

Exit status: 0 proven, 1 a blocking finding, 2 bad input.`,
		Example: `  trailwarden policy prove --config trailwarden.yaml
  trailwarden policy prove --config trailwarden.yaml --bucket-policy current.json --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runProve(o) },
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	for target, flag := range map[proof.Target]string{proof.TargetBucket: "bucket-policy", proof.TargetKey: "key-policy",
		proof.TargetTrust: "trust", proof.TargetAccess: "access"} {
		o.files[target] = f.String(flag, "", "prove this "+string(target)+" policy file instead of the generated one")
	}
	f.StringVar(&o.format, "format", "text", "text or json")
	return cmd
}

type provedPolicy struct {
	Source string        `json:"source"`
	Report *proof.Report `json:"report"`
}

func (a *app) runProve(o proveOpts) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	c, err := loadConfig(a, o.config)
	if err != nil {
		return err
	}
	var results []provedPolicy
	failed := false
	for _, target := range []proof.Target{proof.TargetBucket, proof.TargetKey, proof.TargetTrust, proof.TargetAccess} {
		if target == proof.TargetKey && c.KMSKeyARN == "" {
			continue
		}
		gen, err := generateFor(c, target)
		if err != nil {
			return err
		}
		doc, source := gen.Doc, "generated from "+o.config
		if path := *o.files[target]; path != "" {
			if doc, err = loadPolicy(a, path); err != nil {
				return err
			}
			source = path
		}
		rep, err := proof.Prove(c, proof.Input{Target: target, Doc: doc, Scope: gen.Scope, Owned: generator.Owned(c)})
		if err != nil {
			return err
		}
		failed = failed || rep.Failed()
		results = append(results, provedPolicy{source, rep})
	}
	if o.format == "json" {
		b, err := json.MarshalIndent(results, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "%s\n", b)
	} else {
		for _, r := range results {
			renderReport(a.stdout, r.Source, r.Report)
		}
	}
	if failed {
		return &exitError{code: ExitFailure}
	}
	return nil
}

func generateFor(c *config.Config, t proof.Target) (*generator.Output, error) {
	switch t {
	case proof.TargetBucket:
		return generator.Bucket(c, nil)
	case proof.TargetKey:
		return generator.Key(c, nil)
	case proof.TargetTrust:
		return generator.ReaderTrust(c)
	}
	return generator.ReaderAccess(c)
}

func renderReport(w io.Writer, source string, rep *proof.Report) {
	verdict := "PROVEN"
	if rep.Failed() {
		verdict = "NOT PROVEN"
	}
	fmt.Fprintf(w, "%s policy (%s): %s, %d requests probed, %d finding(s)\n", rep.Target, source, verdict, rep.Requests, len(rep.Findings))
	rows := append([]proof.Row(nil), rep.Matrix...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Principal < rows[j].Principal })
	fmt.Fprintf(w, "  %-58s %-36s %-40s %s\n", "WHO", "ACTION", "RESOURCE", "ALLOWED")
	for _, r := range rows {
		mark := ""
		switch {
		case r.Allowed > 0 && !r.Intended:
			mark = "  UNINTENDED"
		case r.Allowed == 0 && r.Intended:
			mark = "  MISSING"
		}
		fmt.Fprintf(w, "  %-58s %-36s %-40s %d/%d%s\n", truncate(r.Principal, 58), r.Action, truncate(r.Resource, 40), r.Allowed, r.Probed, mark)
	}
	for _, f := range rep.Findings {
		writeFinding(w, f)
	}
	fmt.Fprintln(w)
}

func writeFinding(w io.Writer, f proof.Finding) {
	level := "blocking"
	if !f.Blocking() {
		level = "foreign statement, not blocking"
	}
	fmt.Fprintf(w, "  %s (%s): %s\n", strings.ToUpper(f.Kind), level, f.Principal)
	fmt.Fprintf(w, "    %s on %s: %s", f.Request.Action, f.Request.Resource, f.Decision)
	if len(f.Statements) > 0 {
		fmt.Fprintf(w, " by %s", strings.Join(f.Statements, ", "))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "    reproduce: %s\n", reproduce(f))
}

// reproduce is the `can` command line that replays a finding's request.
func reproduce(f proof.Finding) string {
	p := f.Request.Principal
	who := p.ARN
	switch {
	case p.Service != "":
		who = p.Service
	case who == "":
		who = "anonymous"
	}
	parts := []string{"trailwarden can", "--principal " + who, "--action " + f.Request.Action,
		"--resource " + f.Request.Resource, "--resource-account " + f.Request.ResourceAccount}
	if p.OrgID != "" {
		parts = append(parts, "--org "+p.OrgID)
	}
	keys := make([]string, 0, len(f.Request.Context))
	for k := range f.Request.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range f.Request.Context[k] {
			parts = append(parts, "--context "+k+"="+v)
		}
	}
	parts = append(parts, "--"+flagFor(f.Target)+" <policy>")
	return strings.Join(parts, " ")
}

func flagFor(t proof.Target) string {
	if t == proof.TargetAccess {
		return "identity-policy"
	}
	return "resource-policy"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// proveBeforeEmit refuses a generated policy that grants more than the
// config intends, unless the user accepts it.
func proveBeforeEmit(c *config.Config, t proof.Target, out *generator.Output) (*proof.Report, error) {
	return proof.Prove(c, proof.Input{Target: t, Doc: out.Doc, Scope: out.Scope, Owned: generator.Owned(c)})
}
