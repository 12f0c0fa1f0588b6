package audit

import (
	"fmt"
	"strings"
)

// Markdown renders the rule catalogue as docs/audit.md. A test fails when
// the committed file differs, so the docs cannot drift from the rules.
func Markdown() string {
	var b strings.Builder
	b.WriteString(`# trailwarden audit: rules

<!-- Generated from internal/audit/catalogue.go by
     go test ./internal/audit -run TestDocs -update; do not edit by hand. -->

` + "`trailwarden audit`" + ` checks a snapshot of the live pipeline (or reads one live)
against one profile and reports one finding per rule and resource, with the
evidence it looked at and the exact fix.

- **accelerate**: every requirement of the AMS Accelerate onboarding page
  (seed 003): the nine trail and bucket requirements and its bucket and key
  statements, present or equivalent.
- **cis**: the CloudTrail controls of the CIS AWS Foundations Benchmark and
  Security Hub (CloudTrail.1, .2, .4, .5, .6, .7), evaluated for the central
  bucket from the log-archive side.
- **baseline**: trailwarden's recommended least-privilege setup.

Access questions (can CloudTrail deliver, can the readers read, is anything
public) are decided by trailwarden's IAM evaluator over the snapshot's real
bucket, key, identity and trust policies, SCPs and RCPs, never by comparing
policy text: a statement written differently that grants the same access
passes.

A finding is ` + "`pass`, `fail` or `unknown`" + `. Unknown means the snapshot lacks
the data because a call failed; the finding names the failed call. Exit
status: 1 when a failing finding at or above ` + "`--fail-on`" + ` (default high)
exists, 2 for bad input, 0 otherwise.

| Rule | Severity | Profiles | Title |
|---|---|---|---|
`)
	for _, r := range catalogue {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID), r.Severity, strings.Join(r.Profiles, ", "), r.Title)
	}
	for _, r := range catalogue {
		fmt.Fprintf(&b, "\n## %s\n\n**%s**. Severity %s; profiles %s.\n\n", r.ID, r.Title, r.Severity, strings.Join(r.Profiles, ", "))
		fmt.Fprintf(&b, "Checks: %s\n\nRemediation: %s\n\nReferences: %s.\n", r.Checks, r.Fix, strings.Join(r.References, "; "))
	}
	return b.String()
}
