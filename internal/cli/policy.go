package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
	"github.com/trailwarden/trailwarden/internal/readlimit"
	"github.com/trailwarden/trailwarden/internal/safefile"
	"github.com/trailwarden/trailwarden/internal/textdiff"
)

type policyOpts struct {
	config        string
	existing      string
	diff          bool
	format        string
	out           string
	allowUnproven bool
}

func newPolicyCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Generate the bucket, key and reader-role policies from the config",
		Long: `policy generates the policies of the central CloudTrail pipeline from
trailwarden.yaml. Statements trailwarden writes have Sids starting with
"Trailwarden" (and, under the accelerate profile, the DONOTDELETE-AMS-* Sids
of the AMS Accelerate onboarding guide); with --existing, every other statement of the current policy is kept
where it is, and re-running gives the same bytes.

Every policy is proved before it is printed (see policy prove). A policy whose
own statements grant more or less than the config intends is refused, unless
--allow-unproven. A kept foreign statement that grants more than the config
intends is the merge you asked for: the policy is printed, with a warning on
stderr (and in the "warnings" array of --format json) that names the statement
and a trailwarden can line reproducing one such request. List its Sid in
accepted_foreign_sids of the config to keep it knowingly: it is then a note.

Exit status: 0 printed and proven (accepted foreign grants included), 1
printed with warnings or conflicts, or refused, 2 bad input.`,
	}
	cmd.AddCommand(
		newProveCmd(a),
		newPolicyKindCmd(a, proof.TargetBucket, "The central bucket's policy: CloudTrail delivery, TLS-only, readers",
			`  trailwarden policy bucket --config trailwarden.yaml > bucket.json
  aws s3api get-bucket-policy --bucket acme-org-cloudtrail --query Policy --output text > current.json
  trailwarden policy bucket --config trailwarden.yaml --existing current.json --diff`),
		newPolicyKindCmd(a, proof.TargetKey, "The KMS key policy: CloudTrail encrypt and describe, reader decrypt",
			`  aws kms get-key-policy --key-id <key arn> --policy-name default --query Policy --output text > key.json
  trailwarden policy key --config trailwarden.yaml --existing key.json`),
		newPolicyKindCmd(a, proof.TargetTrust, "The reader role's trust policy: named roles only, never an account root",
			`  trailwarden policy reader-trust --config trailwarden.yaml > trust.json`),
		newPolicyKindCmd(a, proof.TargetAccess, "The reader role's permissions: list and get logs, decrypt, nothing else",
			`  trailwarden policy reader-access --config trailwarden.yaml > reader-access.json`),
	)
	return cmd
}

func newPolicyKindCmd(a *app, target proof.Target, short, example string) *cobra.Command {
	var o policyOpts
	name := string(target)
	mergeable := generator.Mergeable(target)
	cmd := &cobra.Command{
		Use:     name,
		Short:   short,
		Example: example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.format, "text", "json"); err != nil {
				return err
			}
			if o.diff && !mergeable {
				return badInput(fmt.Errorf("--diff needs --existing, which %s does not take", name), "")
			}
			c, err := loadConfig(a, o.config)
			if err != nil {
				return err
			}
			var existing *policy.Document
			if o.existing != "" {
				if existing, err = loadPolicy(a, o.existing); err != nil {
					return err
				}
			}
			pr, err := generator.Prove(c, target, existing)
			if err != nil {
				return err
			}
			res, rep := pr.Output, pr.Report
			src := generatedSource(target, o.config, o.existing, len(pr.Refused) > 0)
			if o.out != "" && o.out != "-" && o.format == "text" && !o.diff && (len(pr.Refused) == 0 || o.allowUnproven) {
				// The file written below is the policy itself.
				src = policySource{label: o.out, file: o.out, linesOf: src.linesOf}
				if src.linesOf != "" && src.linesOf != o.out {
					src.indexOf = o.out
				}
			}
			for i := range rep.Findings {
				rep.Findings[i].Reproduce = reproduce(rep.Findings[i], src)
			}
			if len(pr.Refused) > 0 && !o.allowUnproven {
				var foreign []policyWarning
				for _, w := range policyWarnings(pr, src, o.config) {
					if w.Kind == proof.KindUnintended && !w.Owned {
						foreign = append(foreign, w)
					}
				}
				writeWarnings(a.stderr, foreign, src)
				fmt.Fprintf(a.stderr, "refusing to print the %s: it grants more (or less) than the config intends:\n", res.Kind)
				for _, f := range pr.Refused {
					writeFinding(a.stderr, f, rep.AcceptedSetting)
				}
				fmt.Fprintf(a.stderr, "Fix the statements named above, or pass --allow-unproven to print it anyway.\n")
				return &exitError{code: ExitFailure}
			}
			return a.renderPolicy(o, existing, pr, src)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	if mergeable {
		f.StringVar(&o.existing, "existing", "", "current policy JSON to merge into (- for stdin)")
		f.BoolVar(&o.diff, "diff", false, "print a diff of the change to the existing policy instead of the policy")
	}
	f.StringVar(&o.format, "format", "text", "text (policy JSON, notes on stderr) or json (policy with size, notes and changes)")
	f.BoolVar(&o.allowUnproven, "allow-unproven", false, "print the policy even when the proof finds a grant beyond the config's intent (the findings are warnings and the exit status is 1)")
	f.StringVarP(&o.out, "out", "o", "", "write the policy to this file (atomically) instead of stdout")
	return cmd
}

// policyWarning is one problem with a printed policy, for people (stderr)
// and scripts (the "warnings" array of --format json).
type policyWarning struct {
	Kind string `json:"kind"`
	// Statement, Sid and Line name the statement that grants the requests
	// (unintended grants only); Line is in the file the statement came from.
	Statement *int   `json:"statement,omitempty"`
	Sid       string `json:"sid,omitempty"`
	Line      int    `json:"line,omitempty"`
	Owned     bool   `json:"owned"`
	// Findings counts the requests of this kind the statement takes part in.
	Findings  int    `json:"findings"`
	Principal string `json:"principal"`
	Action    string `json:"action"`
	Resource  string `json:"resource"`
	Message   string `json:"message"`
	Advice    string `json:"advice,omitempty"`
	Reproduce string `json:"reproduce"`
}

// policyWarnings lists one warning per statement that grants more than the
// config intends (unless accepted), and one per missing grant that would
// have been refused.
func policyWarnings(pr *generator.Proved, src policySource, configPath string) []policyWarning {
	rep := pr.Report
	var out []policyWarning
	for _, g := range rep.Unintended {
		if g.Accepted {
			continue
		}
		ex := rep.Findings[g.Example]
		idx := g.Statement
		out = append(out, policyWarning{Kind: proof.KindUnintended, Statement: &idx, Sid: g.Sid, Line: g.Line, Owned: g.Owned, Findings: g.Findings,
			Principal: ex.Principal, Action: ex.Request.Action, Resource: ex.Request.Resource,
			Message: fmt.Sprintf("%s grants %d request(s) the config does not intend, e.g. %s: %s on %s",
				statementName(g.Grant, src), g.Findings, ex.Principal, ex.Request.Action, ex.Request.Resource),
			Advice:    statementAdvice(g.Grant, rep.AcceptedSetting, configPath),
			Reproduce: ex.Reproduce})
	}
	for _, f := range pr.Refused {
		if f.Kind != proof.KindMissing {
			continue
		}
		out = append(out, policyWarning{Kind: proof.KindMissing, Findings: 1, Principal: f.Principal, Action: f.Request.Action, Resource: f.Request.Resource,
			Message:   fmt.Sprintf("the policy does not allow what the config intends: %s (%s on %s: %s)", f.Principal, f.Request.Action, f.Request.Resource, f.Decision),
			Reproduce: f.Reproduce})
	}
	return out
}

func writeWarnings(w io.Writer, ws []policyWarning, src policySource) {
	if src.unsaved != "" && len(ws) > 0 {
		fmt.Fprintf(w, "note: %s\n", src.unsaved)
	}
	for _, x := range ws {
		fmt.Fprintf(w, "warning: %s\n", x.Message)
		if x.Advice != "" {
			fmt.Fprintf(w, "  %s\n", x.Advice)
		}
		fmt.Fprintf(w, "  reproduce: %s\n", x.Reproduce)
	}
}

// acceptedNotes say which accepted foreign statements grant more than the
// config, and which accepted Sids are stale.
func acceptedNotes(rep *proof.Report, src policySource, configPath string, merged bool) []string {
	var out []string
	for _, g := range rep.Unintended {
		if g.Accepted {
			out = append(out, fmt.Sprintf("%s grants %d request(s) beyond the config: %s",
				statementName(g.Grant, src), g.Findings, statementAdvice(g.Grant, rep.AcceptedSetting, configPath)))
		}
	}
	if merged {
		for _, sid := range rep.StaleAccepted {
			out = append(out, strings.TrimPrefix(staleNote(rep.AcceptedSetting, sid, src), "note: "))
		}
	}
	return out
}

// policyJSON is --format json of a policy command: the policy and its
// review data, with the proof's warnings.
type policyJSON struct {
	*generator.Output
	Warnings []policyWarning `json:"warnings,omitempty"`
}

func (a *app) renderPolicy(o policyOpts, existing *policy.Document, pr *generator.Proved, src policySource) error {
	res, rep := pr.Output, pr.Report
	warnings := policyWarnings(pr, src, o.config)
	res.Notes = append(res.Notes, acceptedNotes(rep, src, o.config, existing != nil)...)
	var data []byte
	switch {
	case o.format == "json":
		var b bytes.Buffer
		if err := printJSON(&b, policyJSON{res, warnings}); err != nil {
			return err
		}
		data = b.Bytes()
	case o.diff:
		data = []byte(describeChanges(existing, res))
	default:
		data = policy.Canonical(res.Doc)
		for _, n := range res.Notes {
			fmt.Fprintf(a.stderr, "note: %s\n", n)
		}
	}
	if o.out == "" || o.out == "-" {
		if _, err := a.stdout.Write(data); err != nil {
			return err
		}
	} else if err := safefile.Write(o.out, data, 0o644); err != nil {
		return err
	}
	if o.format != "json" {
		writeWarnings(a.stderr, warnings, src)
		if len(warnings) > 0 {
			fmt.Fprintf(a.stderr, "Review the statements named above before applying this %s: it grants more (or less) than the config intends.\n", res.Kind)
		}
	}
	if len(res.Conflicts) > 0 && o.format != "json" {
		fmt.Fprintf(a.stderr, "conflict: %d intended request(s) are blocked by the existing policy:\n", len(res.Conflicts))
		for _, c := range res.Conflicts {
			fmt.Fprintf(a.stderr, "  - %s\n", c)
		}
		fmt.Fprintf(a.stderr, "The merged policy keeps them. Change or remove them, then run again.\n")
	}
	if len(res.Conflicts) > 0 || len(warnings) > 0 {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// describeChanges is the human view of a merge: what happened to each
// owned statement, the notes, then a unified diff of the canonical texts.
func describeChanges(existing *policy.Document, res *generator.Output) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d of %d bytes", res.Kind, res.Size, res.Limit)
	if res.Scope != "" {
		fmt.Fprintf(&b, ", %s delivery scope", res.Scope)
	}
	fmt.Fprintf(&b, ", %d foreign statement(s) kept\n", res.Foreign)
	for _, c := range res.Changes {
		mark := map[string]string{"added": "+", "removed": "-", "updated": "~", "unchanged": "="}[c.Kind]
		fmt.Fprintf(&b, "  %s %-45s %s\n", mark, c.Sid, c.Kind)
	}
	for _, n := range res.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	d := textdiff.Unified("existing", "merged", string(policy.Canonical(existing)), string(policy.Canonical(res.Doc)), 3)
	if d == "" {
		b.WriteString("no change: the existing policy already is what trailwarden would write\n")
	}
	b.WriteString(d)
	return b.String()
}

func loadConfig(a *app, path string) (*config.Config, error) {
	r, closeFn, err := openInput(a, path)
	if err != nil {
		return nil, badInput(fmt.Errorf("read config: %w", err), "write one with `trailwarden init ... > trailwarden.yaml` or pass --config")
	}
	defer closeFn()
	c, err := config.Parse(r, path)
	if err != nil {
		return nil, badInput(err, "fix the fields named above (schema: docs/config.md)")
	}
	for _, n := range c.Notices {
		fmt.Fprintf(a.stderr, "notice: %s\n", n)
	}
	return c, nil
}

func loadPolicy(a *app, path string) (*policy.Document, error) {
	r, closeFn, err := openInput(a, path)
	if err != nil {
		return nil, badInput(fmt.Errorf("read policy: %w", err), "")
	}
	defer closeFn()
	doc, err := policy.Read(r, path)
	var le *readlimit.Error
	var pe *policy.ParseError
	switch {
	case errors.As(err, &le):
		return nil, badInput(err, "AWS's largest policy (a KMS key policy) is 32 KB: check that "+path+" is the policy document itself")
	case errors.As(err, &pe):
		return nil, badInput(fmt.Errorf("%s: %w", path, err),
			"fix the element named above; `aws s3api get-bucket-policy --query Policy --output text` prints a bucket policy as plain JSON")
	case err != nil:
		return nil, badInput(err, "")
	}
	return doc, nil
}

func openInput(a *app, path string) (io.Reader, func(), error) {
	if path == "-" {
		return a.stdin, func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { _ = f.Close() }, nil
}
