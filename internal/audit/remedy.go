package audit

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Remediations quote the statements trailwarden's generator writes for the
// config, so the fix carries the real bucket, prefix, trail and readers.

// accelerateConfig is the config as the accelerate profile generates it:
// the onboarding guide's role pattern unless the config names another, and
// the snapshot's organization when the config names none.
func (e *env) accelerateConfig() *config.Config {
	c := *e.c
	c.Profile = config.ProfileAccelerate
	if c.Readers.RolePattern == "" {
		c.Readers.RolePattern = config.AccelerateRolePattern
	}
	if c.OrganizationID == "" {
		c.OrganizationID = e.orgID()
	}
	return &c
}

// generated is the generator's output for one kind and profile of the
// remedies, made once per audit: every finding that quotes it gets the
// same statements.
type generated struct {
	out *generator.Output
	err error
}

// generate returns the generator's output of kind ("bucket", "key",
// "reader-trust") for the baseline config, or the accelerate one, once.
func (e *env) generate(kind string, accelerate bool) (*generator.Output, error) {
	k := fmt.Sprintf("%s/%t", kind, accelerate)
	if g, ok := e.generated[k]; ok {
		return g.out, g.err
	}
	c := e.baselineConfig()
	if accelerate {
		c = e.accelerateConfig()
	}
	var g generated
	switch kind {
	case "bucket":
		g.out, g.err = generator.Bucket(c, nil)
	case "key":
		g.out, g.err = generator.Key(c, &policy.Document{Version: policy.Version2012})
	default:
		g.out, g.err = generator.ReaderTrust(c)
	}
	e.generated[k] = g
	return g.out, g.err
}

func (e *env) baselineConfig() *config.Config {
	c := *e.c
	if c.Profile == config.ProfileAccelerate {
		c.Profile = config.ProfileBaseline
	}
	return &c
}

// statementsJSON renders the statements of doc whose Sid keep accepts, one
// JSON object per line.
func statementsJSON(doc *policy.Document, keep func(sid string) bool) string {
	var lines []string
	for _, st := range doc.Statements {
		if keep(st.Sid) {
			lines = append(lines, quoteJSON(st))
		}
	}
	return strings.Join(lines, ",\n")
}

const regenerate = "trailwarden policy bucket --config trailwarden.yaml --existing current-bucket-policy.json generates the whole merged policy"

// cannotGenerate is the fix when trailwarden cannot write the statements
// for this config: the command that says why, never the generator's error.
func cannotGenerate(kind string) string {
	return fmt.Sprintf("trailwarden cannot write the %s statements for this config as it stands; run `trailwarden policy %s --config trailwarden.yaml`, which says what the config is missing", kind, kind)
}

// generatedBucketStatements are the delivery statements (and, with
// accelerate, the onboarding guide's reader statements) to add to the
// bucket policy.
func (e *env) generatedBucketStatements(accelerate bool) string {
	out, err := e.generate("bucket", accelerate)
	if err != nil {
		return cannotGenerate("bucket")
	}
	return statementsJSON(out.Doc, func(sid string) bool {
		if accelerate {
			return strings.HasPrefix(sid, "DONOTDELETE-AMS-")
		}
		return sid == generator.SidACLCheck || strings.HasPrefix(sid, generator.SidWrite) || sid == generator.SidOrgWrite
	}) + "\n" + regenerate
}

// generatedStatement is one generated bucket statement by Sid.
func (e *env) generatedStatement(sid string) string {
	out, err := e.generate("bucket", false)
	if err != nil {
		return cannotGenerate("bucket")
	}
	return statementsJSON(out.Doc, func(s string) bool { return s == sid })
}

// generatedKeyStatements are the key policy statements to add.
func (e *env) generatedKeyStatements(accelerate bool) string {
	c := e.baselineConfig()
	if accelerate {
		c = e.accelerateConfig()
	}
	if c.KMSKeyARN == "" {
		return "set kms_key_arn in trailwarden.yaml, then `trailwarden policy key --config trailwarden.yaml` prints the statements"
	}
	out, err := e.generate("key", accelerate)
	if err != nil {
		return cannotGenerate("key")
	}
	return statementsJSON(out.Doc, func(sid string) bool {
		if accelerate {
			return sid == generator.SidAMSDecrypt
		}
		return sid != generator.SidKeyAdmin
	}) + "\ntrailwarden policy key --config trailwarden.yaml --existing current-key-policy.json generates the whole merged policy"
}

// generatedTrust is the reader role's trust policy.
func (e *env) generatedTrust() string {
	out, err := e.generate("reader-trust", false)
	if err != nil {
		return cannotGenerate("reader-trust")
	}
	return string(policy.Compact(out.Doc))
}
