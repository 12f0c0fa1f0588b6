// Package iac renders the desired state that plan and apply manage as
// infrastructure as code: Terraform (HCL or JSON) and CloudFormation. The
// policies in it are the proven documents `trailwarden policy` prints, and
// resources that already exist are imported and retained, never recreated.
// It only returns files; the CLI writes them.
package iac

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

// Format is an output format.
type Format string

// The output formats.
const (
	Terraform      Format = "terraform"
	TerraformJSON  Format = "terraform-json"
	CloudFormation Format = "cloudformation"
)

// Formats are the names of every format, for help and validation.
func Formats() []string {
	return []string{string(Terraform), string(TerraformJSON), string(CloudFormation)}
}

// Resources that may already exist and are then imported.
const (
	ResourceBucket    = "bucket"
	ResourceKey       = "key"
	ResourceRole      = "role"
	ResourceTrail     = "trail"
	ResourceAccessLog = "access-log-bucket"
)

// ImportableResources are the resources Options.Existing may name.
func ImportableResources() []string {
	return []string{ResourceBucket, ResourceKey, ResourceRole, ResourceTrail, ResourceAccessLog}
}

// DefaultExisting are the resources taken to exist: trailwarden never
// creates the central bucket or the key, and the role and trail(s) usually
// exist when a pipeline moves to infrastructure as code.
func DefaultExisting() []string {
	return []string{ResourceBucket, ResourceKey, ResourceRole, ResourceTrail}
}

// Options say what to render.
type Options struct {
	Format Format
	// Existing names the resources (ImportableResources) that already
	// exist: they are imported, never created.
	Existing []string
}

// File is one file of the output, by its slash-separated path under the
// output folder.
type File struct {
	Path string
	Data []byte
}

// Output is the rendered files, in writing order.
type Output struct {
	Files []File
}

// ErrFormat is the error of an unknown format.
var ErrFormat = errors.New("unknown infrastructure-as-code format")

// ErrResource is the error of an unknown resource in Options.Existing.
var ErrResource = errors.New("unknown importable resource")

// UnprovenError is returned when a policy's proof blocks it: iac emits no
// policy that `trailwarden policy` would refuse to print.
type UnprovenError struct {
	Target   proof.Target
	Findings []proof.Finding
}

func (e *UnprovenError) Error() string {
	return fmt.Sprintf("iac %s: the proof refuses the policy (%d finding(s)): it grants more (or less) than the config intends", e.Target, len(e.Findings))
}

// prove is generator.Prove; tests replace it to see a refusal.
var prove = generator.Prove

// model is everything a renderer needs: the config, plan's desired state and
// the proven policies.
type model struct {
	c        *config.Config
	d        plan.DesiredState
	policies map[proof.Target]*policy.Document
	existing map[string]bool
}

// Generate renders the config's desired state in o.Format.
func Generate(c *config.Config, o Options) (*Output, error) {
	if !slices.Contains(Formats(), string(o.Format)) {
		return nil, fmt.Errorf("iac %q: %w", o.Format, ErrFormat)
	}
	m, err := newModel(c, o.Existing)
	if err != nil {
		return nil, err
	}
	switch o.Format {
	case CloudFormation:
		return m.cloudFormation()
	case TerraformJSON:
		return m.terraform(true)
	}
	return m.terraform(false)
}

func newModel(c *config.Config, existing []string) (*model, error) {
	m := &model{c: c, policies: map[proof.Target]*policy.Document{}, existing: map[string]bool{}}
	for _, e := range existing {
		if !slices.Contains(ImportableResources(), e) {
			return nil, fmt.Errorf("iac %q: %w", e, ErrResource)
		}
		m.existing[e] = true
	}
	var err error
	if m.d, err = plan.Desired(c); err != nil {
		return nil, fmt.Errorf("iac desired state: %w", err)
	}
	for _, t := range generator.Targets(c) {
		pr, err := prove(c, t, nil)
		if err != nil {
			return nil, fmt.Errorf("iac %s: %w", t, err)
		}
		if len(pr.Refused) > 0 {
			return nil, &UnprovenError{Target: t, Findings: pr.Refused}
		}
		m.policies[t] = pr.Doc
	}
	return m, nil
}

// PolicyFiles maps each proof target to the file the Terraform output
// keeps its policy in, as `trailwarden policy <target>` prints it.
var PolicyFiles = map[proof.Target]string{
	proof.TargetBucket: "policies/bucket-policy.json",
	proof.TargetKey:    "policies/key-policy.json",
	proof.TargetTrust:  "policies/reader-trust.json",
	proof.TargetAccess: "policies/reader-access.json",
}

// AccessLogPolicyFile holds the access log bucket's policy.
const AccessLogPolicyFile = "policies/access-log-bucket-policy.json"

// keyRegion and keyAccount are the KMS key's, from its ARN.
func (m *model) keyRegion() string  { return arnField(m.c.KMSKeyARN, 3) }
func (m *model) keyAccount() string { return arnField(m.c.KMSKeyARN, 4) }

// keyID is the key id at the end of the key's ARN.
func (m *model) keyID() string {
	_, id, _ := strings.Cut(arnField(m.c.KMSKeyARN, 5), "key/")
	return id
}

func arnField(arn string, i int) string {
	parts := strings.SplitN(arn, ":", 6)
	if i < len(parts) {
		return parts[i]
	}
	return ""
}

// trailPolicies are the targets a trail needs in place before it is
// created: CloudTrail checks the bucket (and key) policy when it is.
func (m *model) trailPolicies() []proof.Target {
	if m.c.KMSKeyARN != "" {
		return []proof.Target{proof.TargetBucket, proof.TargetKey}
	}
	return []proof.Target{proof.TargetBucket}
}
