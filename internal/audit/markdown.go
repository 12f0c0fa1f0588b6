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

- **accelerate**: every requirement of the AMS Accelerate onboarding guide:
  an AWS Organization, the nine trail and bucket requirements and its bucket
  and key statements, present or equivalent. Onboarding stops on any of
  them, so every rule of this profile is high or critical here: any failure
  exits 1 at the default ` + "`--fail-on high`" + `.
- **cis**: the CloudTrail controls of the CIS AWS Foundations Benchmark and
  Security Hub that a snapshot can decide (CloudTrail.1, .2, .4, .5, .6, .7,
  S3 object-level logging, MFA delete, key rotation), evaluated for the
  central bucket from the log-archive side; each rule names its CIS (v3.0 and
  v1.4) and Security Hub ids.
- **baseline**: trailwarden's recommended least-privilege setup.

Delivery is judged from the trails as deployed, never from the config alone:
for every account whose logs should arrive, each trail that delivers them
builds CloudTrail's requests from its own bucket, prefix, KMS key, ARN and
organization flag. Every key that encrypts log objects (the config's, each
trail's, and the bucket's default-encryption key) is checked for the readers
and, under accelerate, for the onboarding guide's key statement.

Access questions (can CloudTrail deliver, can the readers read, is anything
public) are decided by trailwarden's IAM evaluator over the snapshot's real
bucket, key, identity and trust policies, SCPs and RCPs, never by comparing
policy text: a statement written differently that grants the same access
passes.

A finding is ` + "`pass`, `fail` or `unknown`" + `. Unknown means the snapshot lacks
the data because a call failed; the finding names the failed call. Exit
status: 1 when a failing finding at or above ` + "`--fail-on`" + ` (default high)
exists, 2 for bad input, 0 otherwise.

Output formats (` + "`--format`" + `): ` + "`text`" + `, ` + "`json`" + ` (snake_case keys), ` + "`csv`" + ` (one row per
finding: rule, title, severity, status, account, resource, message,
remediation, evidence), ` + "`sarif`" + ` and ` + "`asff`" + `. SARIF 2.1.0 is shaped for GitHub
code scanning: each result has a ` + "`physicalLocation`" + ` at the line of
trailwarden.yaml that holds the setting its rule is about (organization_id for
TW-ORG, trail for TW-TRL, bucket for TW-BKT, TW-ACC-01 and -03, readers for
TW-RDR and TW-ACC-02, kms_key_arn for TW-KEY and TW-ACC-04), the snapshot as a
related location, a ` + "`partialFingerprints`" + ` entry made of the rule, account and
resource (the same from run to run), and each rule a ` + "`security-severity`" + `
(critical 9.5, high 8.0, medium 5.5, low 3.0, info 1.0), tags and a
` + "`helpUri`" + ` to its section below. ASFF is the AWS Security Finding Format
(SchemaVersion 2018-10-08) as ` + "`aws securityhub batch-import-findings`" + ` takes
it: every finding, Compliance.Status PASSED, FAILED or NOT_AVAILABLE (unknown),
Severity.Label from the rule (INFORMATIONAL when passed), the ProductArn of the
default product in the finding's own account (Security Hub accepts such a
finding only from that account), an Id stable across runs.

| Rule | Severity | Profiles | Title |
|---|---|---|---|
`)
	for _, r := range catalogue {
		fmt.Fprintf(&b, "| [%s](#%s) | %s | %s | %s |\n", r.ID, strings.ToLower(r.ID), severityText(&r), strings.Join(r.Profiles, ", "), r.Title)
	}
	for _, r := range catalogue {
		fmt.Fprintf(&b, "\n## %s\n\n**%s**. Severity %s; profiles %s.\n\n", r.ID, r.Title, severityText(&r), strings.Join(r.Profiles, ", "))
		fmt.Fprintf(&b, "Checks: %s\n\nRemediation: %s\n\nReferences: %s.\n", r.Checks, r.Fix, strings.Join(r.References, "; "))
	}
	return b.String()
}

// severityText is the rule's severity, with the profiles that raise it.
func severityText(r *Rule) string {
	out := string(r.Severity)
	for _, p := range r.Profiles {
		if s := r.SeverityIn(p); s != r.Severity {
			out += fmt.Sprintf(" (%s under %s)", s, p)
		}
	}
	return out
}
