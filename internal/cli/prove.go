package cli

import (
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
	"github.com/trailwarden/trailwarden/internal/texttable"
)

type proveOpts struct {
	config, format string
	wide           bool
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

Without a file flag the policy is generated from the config. A grant the
config does not intend fails the proof whoever's statement gives it: the
report names each granting statement (Sid and index, as can prints them) and
prints, for each finding, a trailwarden can line that replays the request
against the same file. To keep a foreign statement of the bucket or key policy
knowingly, list its Sid in accepted_foreign_sids.bucket_policy or .key_policy
of the config: its grants are then reported as accepted and do not fail. A
statement without a Sid cannot be accepted: give it one first.

Exit status: 0 proven (accepted grants included), 1 a finding that is not
accepted, 2 bad input.`,
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
	addWide(f, &o.wide)
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
	results, sources, failed, err := a.proveReports(o)
	if err != nil {
		return err
	}
	if o.format == "json" {
		if err := printJSON(a.stdout, results); err != nil {
			return err
		}
	} else if err := fitted(a.stdout, o.wide, func(w io.Writer) {
		for i, r := range results {
			renderReport(w, sources[i], o.config, r.Report, textWidth(o.wide))
		}
	}); err != nil {
		return err
	}
	if failed {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// policySource says where a proved policy is, so that a reproduce line
// names the real file, or first writes the policy to one.
type policySource struct {
	// label is how the header names the policy.
	label string
	// file is the path `can` reads the policy from.
	file string
	// produce, when set, is a command that writes file first.
	produce string
	// unsaved, when set, says how to save the policy as file first: nothing
	// can write it again (a policy read from standard input).
	unsaved string
	// linesOf names the file that statement line numbers refer to.
	linesOf string
	// indexOf names the policy that statement indexes refer to when it is
	// not linesOf (a merge: lines are in the existing file, indexes in the
	// merged policy).
	indexOf string
}

// fileSource is a policy file the user gave.
func fileSource(path string) policySource {
	if path == "-" {
		return policySource{label: "standard input", file: "policy.json", linesOf: "standard input",
			unsaved: "the policy was read from standard input: save it as policy.json to run the reproduce lines"}
	}
	return policySource{label: path, file: path, linesOf: path}
}

// generatedSource is a policy generated from the config (merged into
// existing when set); produce writes it to a file for `can` to read, with
// --allow-unproven when the policy would otherwise be refused.
func generatedSource(t proof.Target, configPath, existing string, allowUnproven bool) policySource {
	file := "trailwarden-" + string(t) + ".json"
	for file == existing || file == configPath {
		file = "new-" + file
	}
	src := policySource{label: "generated from " + configPath, file: file}
	if existing == "-" {
		src.label, src.linesOf, src.indexOf = "merged into standard input", "standard input", "the merged policy"
		src.unsaved = "the existing policy was read from standard input: save the printed policy as " + file + " to run the reproduce lines"
		return src
	}
	parts := []string{"trailwarden policy", string(t), "--config", shellQuote(configPath)}
	if existing != "" {
		src.label = "merged into " + existing
		src.linesOf, src.indexOf = existing, "the merged policy"
		parts = append(parts, "--existing", shellQuote(existing))
	}
	if allowUnproven {
		parts = append(parts, "--allow-unproven")
	}
	src.produce = strings.Join(append(parts, "-o", shellQuote(file)), " ")
	return src
}

func renderReport(w io.Writer, src policySource, configPath string, rep *proof.Report, width int) {
	verdict := "PROVEN"
	switch {
	case rep.Failed():
		verdict = "NOT PROVEN"
	case rep.AcceptedCount() > 0:
		verdict = "PROVEN with accepted exceptions"
	}
	counts := fmt.Sprintf("%d finding(s)", len(rep.Findings))
	if n := rep.AcceptedCount(); n > 0 {
		counts += fmt.Sprintf(", %d accepted", n)
	}
	fmt.Fprintf(w, "%s policy (%s): %s, %d requests probed, %s\n", rep.Target, src.label, verdict, rep.Requests, counts)
	rows := append([]proof.Row(nil), rep.Matrix...)
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Principal < rows[j].Principal })
	t := texttable.Table{Prefix: "  ", Columns: []texttable.Column{{Name: "WHO"}, {Name: "ACTION", Min: 15}, {Name: "RESOURCE"}, {Name: "ALLOWED", Min: 1 << 10}}}
	for _, r := range rows {
		mark := ""
		switch {
		case r.Allowed > 0 && !r.Intended:
			mark = "  UNINTENDED"
		case r.Allowed == 0 && r.Intended:
			mark = "  MISSING"
		}
		t.Add(r.Principal, r.Action, r.Resource, fmt.Sprintf("%d/%d%s", r.Allowed, r.Probed, mark))
	}
	_ = t.Render(w, width)
	if len(rep.Unintended) > 0 {
		fmt.Fprintln(w, "  statements that grant requests the config does not intend:")
		for _, g := range rep.Unintended {
			fmt.Fprintf(w, "    %s: %d unintended grant(s); %s\n", statementName(g.Grant, src), g.Findings, statementAdvice(g.Grant, rep.AcceptedSetting, configPath))
		}
	}
	for _, sid := range rep.StaleAccepted {
		fmt.Fprintf(w, "  %s\n", staleNote(rep.AcceptedSetting, sid, src))
	}
	if src.unsaved != "" && len(rep.Findings) > 0 {
		fmt.Fprintf(w, "  note: %s\n", src.unsaved)
	}
	for _, f := range rep.Findings {
		writeFinding(w, f, rep.AcceptedSetting)
	}
	fmt.Fprintln(w)
}

// statementName names a statement as `can` prints it: its index, its Sid
// and its line, saying which file each refers to.
func statementName(g proof.Grant, src policySource) string {
	s := fmt.Sprintf("statement %d", g.Statement)
	if src.indexOf != "" {
		s += " of " + src.indexOf
	}
	if g.Sid != "" {
		s += " (" + g.Sid + ")"
	}
	if g.Line > 0 {
		if src.indexOf != "" {
			s += ","
		}
		s += fmt.Sprintf(" at line %d", g.Line)
		if src.linesOf != "" {
			s += " of " + src.linesOf
		}
	}
	return s
}

// statementAdvice says what a statement granting unintended access is and
// what to do about it.
func statementAdvice(g proof.Grant, setting, configPath string) string {
	switch {
	case g.Owned:
		return "a statement trailwarden writes: generate the policy again, or fix the statement"
	case g.Accepted:
		return "foreign statement, accepted in " + setting + " of " + configPath
	case setting == "":
		return "foreign statement: trailwarden writes this policy whole and accepts no foreign statement in it; remove it"
	case g.Sid == "":
		return "foreign statement without a Sid, so it cannot be accepted by Sid: change or remove it, " +
			"or give it a Sid and list that Sid in " + setting + " of " + configPath + " to keep it knowingly"
	}
	return fmt.Sprintf("foreign statement, not accepted: change or remove it, or list %q in %s of %s to keep it knowingly", g.Sid, setting, configPath)
}

func staleNote(setting, sid string, src policySource) string {
	if src.produce != "" && src.linesOf == "" {
		return fmt.Sprintf("note: %s lists %q, but a generated policy has no foreign statement; prove the deployed policy from a file to use it", setting, sid)
	}
	return fmt.Sprintf("note: %s lists %q, but no statement of this policy has that Sid (stale: remove it from the config if the statement is gone)", setting, sid)
}

func writeFinding(w io.Writer, f proof.Finding, setting string) {
	level := "blocking"
	switch {
	case f.Kind == proof.KindMissing:
	case f.Accepted:
		level = "accepted: foreign statement listed in " + setting
	case f.Foreign:
		level = "blocking: foreign statement, not accepted"
	default:
		level = "blocking: trailwarden's statement"
	}
	fmt.Fprintf(w, "  %s (%s): %s\n", strings.ToUpper(f.Kind), level, f.Principal)
	fmt.Fprintf(w, "    %s on %s: %s", f.Request.Action, f.Request.Resource, f.Decision)
	if len(f.Statements) > 0 {
		fmt.Fprintf(w, " by %s", strings.Join(f.Statements, ", "))
	}
	fmt.Fprintln(w)
	// A decision that rests on a case AWS's documentation does not settle
	// says so, as `can` does (docs/evaluator.md).
	for _, j := range f.Judgements {
		fmt.Fprintf(w, "    judgement call: %s (%s); read the other way, the decision is %s\n", j.Summary, j.ID, j.Otherwise)
	}
	if f.Reproduce != "" {
		fmt.Fprintf(w, "    reproduce: %s\n", f.Reproduce)
	}
}

// allowAllJSON stands for the caller's own identity policy when the proof
// assumed it allows everything.
const allowAllJSON = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`

// reproduce is the shell line that replays a finding's request with `can`
// against the policy of src: it pastes and runs as printed.
func reproduce(f proof.Finding, src policySource) string {
	p := f.Request.Principal
	who := p.ARN
	switch {
	case p.Service != "":
		who = p.Service
	case p.Kind == eval.KindAnonymous:
		who = "anonymous"
	}
	parts := []string{"trailwarden can", "--principal", shellQuote(who)}
	if p.IssuerARN != "" {
		if plain, err := eval.ParsePrincipal(p.ARN); err != nil || plain.IssuerARN != p.IssuerARN {
			parts = append(parts, "--principal-role-arn", shellQuote(p.IssuerARN))
		}
	}
	parts = append(parts, "--action", shellQuote(f.Request.Action), "--resource", shellQuote(f.Request.Resource),
		"--resource-account", shellQuote(f.Request.ResourceAccount))
	switch f.Target {
	case proof.TargetKey:
		parts = append(parts, "--resource-kind", "kms-key")
	case proof.TargetTrust:
		parts = append(parts, "--resource-kind", "role-trust")
	}
	if p.OrgID != "" {
		parts = append(parts, "--org", shellQuote(p.OrgID))
	}
	keys := make([]string, 0, len(f.Request.Context))
	for k := range f.Request.Context {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range f.Request.Context[k] {
			parts = append(parts, "--context", shellQuote(k+"="+v))
		}
	}
	parts = append(parts, "--"+flagFor(f.Target), shellQuote(src.file))
	line := strings.Join(parts, " ")
	if f.CallerAllowsAll {
		// The caller's own permissions were assumed to allow everything, so
		// that only this policy decides.
		line = "echo " + shellQuote(allowAllJSON) + " | " + line + " --identity-policy -"
	}
	if src.produce != "" {
		line = src.produce + "; " + line
	}
	return line
}

var shellSafe = regexp.MustCompile(`^[A-Za-z0-9_@%+=:,./-]+$`)

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if shellSafe.MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func flagFor(t proof.Target) string {
	if t == proof.TargetAccess {
		return "identity-policy"
	}
	return "resource-policy"
}

// proveReports is policy prove's library call for each policy of the
// config (generated, or the files given); serve and report make the same
// call. failed is true when any policy is not proven.
func (a *app) proveReports(o proveOpts) ([]provedPolicy, []policySource, bool, error) {
	c, err := loadConfig(a, o.config)
	if err != nil {
		return nil, nil, false, err
	}
	var results []provedPolicy
	var sources []policySource
	failed := false
	for _, target := range generator.Targets(c) {
		var doc *policy.Document
		src := generatedSource(target, o.config, "", true)
		if path := *o.files[target]; path != "" {
			if doc, err = loadPolicy(a, path); err != nil {
				return nil, nil, false, err
			}
			src = fileSource(path)
		}
		rep, err := generator.ProveDoc(c, target, doc)
		if err != nil {
			return nil, nil, false, err
		}
		for i := range rep.Findings {
			rep.Findings[i].Reproduce = reproduce(rep.Findings[i], src)
		}
		failed = failed || rep.Failed()
		results = append(results, provedPolicy{src.label, rep})
		sources = append(sources, src)
	}
	return results, sources, failed, nil
}
