package audit

import (
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Remediations quote the statements trailwarden's generator writes for the
// config, so the fix carries the real bucket, prefix, trail and readers.

// accelerateConfig is the config as the accelerate profile generates it:
// seed 003's role pattern unless the config names another.
func (e *env) accelerateConfig() *config.Config {
	c := *e.c
	c.Profile = config.ProfileAccelerate
	if c.Readers.RolePattern == "" {
		c.Readers.RolePattern = config.AccelerateRolePattern
	}
	return &c
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

// generatedBucketStatements are the delivery statements (and, with
// accelerate, seed 003's reader statements) to add to the bucket policy.
func (e *env) generatedBucketStatements(accelerate bool) string {
	c := e.baselineConfig()
	if accelerate {
		c = e.accelerateConfig()
	}
	out, err := generator.Bucket(c, nil)
	if err != nil {
		return "(" + err.Error() + ")\n" + regenerate
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
	out, err := generator.Bucket(e.baselineConfig(), nil)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return statementsJSON(out.Doc, func(s string) bool { return s == sid })
}

// generatedKeyStatements are the key policy statements to add.
func (e *env) generatedKeyStatements(accelerate bool) string {
	c := e.baselineConfig()
	if accelerate {
		c = e.accelerateConfig()
	}
	out, err := generator.Key(c, &policy.Document{Version: policy.Version2012})
	if err != nil {
		return "(" + err.Error() + ")"
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
	out, err := generator.ReaderTrust(e.baselineConfig())
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return string(policy.Compact(out.Doc))
}
