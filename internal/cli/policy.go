package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
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
"Trailwarden" (and, under the accelerate profile, seed 003's DONOTDELETE-AMS-*
Sids); with --existing, every other statement of the current policy is kept
where it is, and re-running gives the same bytes.`,
	}
	cmd.AddCommand(
		newProveCmd(a),
		newPolicyKindCmd(a, proof.TargetBucket, "The central bucket's policy: CloudTrail delivery, TLS-only, readers",
			`  trailwarden policy bucket --config trailwarden.yaml > bucket.json
  aws s3api get-bucket-policy --bucket acme-org-cloudtrail --query Policy --output text > current.json
  trailwarden policy bucket --config trailwarden.yaml --existing current.json --diff`, true,
			func(c *config.Config, existing *policy.Document) (*generator.Output, error) {
				return generator.Bucket(c, existing)
			}),
		newPolicyKindCmd(a, proof.TargetKey, "The KMS key policy: CloudTrail encrypt and describe, reader decrypt",
			`  aws kms get-key-policy --key-id <key arn> --policy-name default --query Policy --output text > key.json
  trailwarden policy key --config trailwarden.yaml --existing key.json`, true,
			func(c *config.Config, existing *policy.Document) (*generator.Output, error) {
				return generator.Key(c, existing)
			}),
		newPolicyKindCmd(a, proof.TargetTrust, "The reader role's trust policy: named roles only, never an account root",
			`  trailwarden policy reader-trust --config trailwarden.yaml > trust.json`, false,
			func(c *config.Config, _ *policy.Document) (*generator.Output, error) {
				return generator.ReaderTrust(c)
			}),
		newPolicyKindCmd(a, proof.TargetAccess, "The reader role's permissions: list and get logs, decrypt, nothing else",
			`  trailwarden policy reader-access --config trailwarden.yaml > reader-access.json`, false,
			func(c *config.Config, _ *policy.Document) (*generator.Output, error) {
				return generator.ReaderAccess(c)
			}),
	)
	return cmd
}

func newPolicyKindCmd(a *app, target proof.Target, short, example string, mergeable bool,
	gen func(*config.Config, *policy.Document) (*generator.Output, error)) *cobra.Command {
	var o policyOpts
	name := string(target)
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
			res, err := gen(c, existing)
			if err != nil {
				return err
			}
			rep, err := proveBeforeEmit(c, target, res)
			if err != nil {
				return err
			}
			// A grant that a foreign Deny removes is already reported, more
			// precisely, as a conflict.
			var blocking []proof.Finding
			for _, f := range rep.Findings {
				if f.Blocking() && (f.Kind != "missing-grant" || len(res.Conflicts) == 0) {
					blocking = append(blocking, f)
				}
			}
			if len(blocking) > 0 && !o.allowUnproven {
				fmt.Fprintf(a.stderr, "refusing to print the %s: it grants more (or less) than the config intends:\n", res.Kind)
				for _, f := range blocking {
					writeFinding(a.stderr, f)
				}
				fmt.Fprintf(a.stderr, "Fix the statements named above, or pass --allow-unproven to print it anyway.\n")
				return &exitError{code: ExitFailure}
			}
			return a.renderPolicy(o, existing, res)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	if mergeable {
		f.StringVar(&o.existing, "existing", "", "current policy JSON to merge into (- for stdin)")
		f.BoolVar(&o.diff, "diff", false, "print a diff of the change to the existing policy instead of the policy")
	}
	f.StringVar(&o.format, "format", "text", "text (policy JSON, notes on stderr) or json (policy with size, notes and changes)")
	f.BoolVar(&o.allowUnproven, "allow-unproven", false, "print the policy even when the proof finds a grant beyond the config's intent")
	f.StringVarP(&o.out, "out", "o", "", "write the policy to this file (atomically) instead of stdout")
	return cmd
}

func (a *app) renderPolicy(o policyOpts, existing *policy.Document, res *generator.Output) error {
	var data []byte
	switch {
	case o.format == "json":
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		data = append(b, '\n')
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
	if len(res.Conflicts) == 0 {
		return nil
	}
	if o.format != "json" {
		fmt.Fprintf(a.stderr, "conflict: %d intended request(s) are blocked by the existing policy:\n", len(res.Conflicts))
		for _, c := range res.Conflicts {
			fmt.Fprintf(a.stderr, "  - %s\n", c)
		}
		fmt.Fprintf(a.stderr, "The merged policy keeps them. Change or remove them, then run again.\n")
	}
	return &exitError{code: ExitFailure}
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
	return c, nil
}

// maxPolicyFile bounds a policy file read; AWS's largest policy is 32 KB.
const maxPolicyFile = 1 << 20

func loadPolicy(a *app, path string) (*policy.Document, error) {
	r, closeFn, err := openInput(a, path)
	if err != nil {
		return nil, badInput(fmt.Errorf("read policy: %w", err), "")
	}
	defer closeFn()
	data, err := io.ReadAll(io.LimitReader(r, maxPolicyFile+1))
	if err != nil {
		return nil, badInput(fmt.Errorf("read policy %s: %w", path, err), "")
	}
	doc, err := policy.Parse(data)
	if err != nil {
		return nil, badInput(fmt.Errorf("%s: %w", path, err),
			"fix the element named above; `aws s3api get-bucket-policy --query Policy --output text` prints a bucket policy as plain JSON")
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
