// Package generator turns a config into the policies of a centralized
// CloudTrail pipeline: the bucket policy, the KMS key policy, and the reader
// role's trust and permissions. Every statement it writes carries a Sid that
// marks it as trailwarden's, so merge can tell its statements from others.
package generator

import (
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// SidPrefix starts the Sid of every statement trailwarden owns.
const SidPrefix = config.SidPrefix

// The Sids of the AMS Accelerate onboarding guide, owned under the
// accelerate profile.
const (
	SidAMSConfigAudit = config.SidAMSConfigAudit
	SidAMSListBucket  = config.SidAMSListBucket
	SidAMSGetObject   = config.SidAMSGetObject
	SidAMSDecrypt     = config.SidAMSDecrypt
)

// Owned reports whether a statement Sid belongs to trailwarden under the
// config's profile (config.OwnsSid).
func Owned(c *config.Config) func(sid string) bool { return c.OwnsSid }

// Service principals and values that appear in generated statements.
const (
	cloudTrailService = "cloudtrail.amazonaws.com"
	athenaService     = "athena.amazonaws.com"
	ownerFullControl  = "bucket-owner-full-control"
)

func cond(op, key string, values ...string) policy.Condition {
	o := policy.Operator{Base: op}
	if set, base, ok := strings.Cut(op, ":"); ok {
		o = policy.Operator{Set: policy.SetQualifier(set), Base: base}
	}
	return policy.Condition{Operator: o, Key: key, Values: values}
}

func service(name string) *policy.Principal { return &policy.Principal{Service: []string{name}} }

func awsPrincipals(arns ...string) *policy.Principal { return &policy.Principal{AWS: arns} }

func allow(sid string, p *policy.Principal, actions, resources []string, conds ...policy.Condition) policy.Statement {
	return policy.Statement{Sid: sid, Effect: policy.Allow, Principal: p, Action: actions, Resource: resources, Condition: conds}
}

func list(xs ...string) []string { return xs }

// readerConds are the conditions every reader grant carries: Athena-only
// when configured.
func readerConds(c *config.Config) []policy.Condition {
	if c.Readers.AthenaOnly {
		return []policy.Condition{cond("ForAnyValue:StringEquals", "aws:CalledVia", athenaService)}
	}
	return nil
}

// patternConds scope a Principal "*" grant to the organization and the
// role-name pattern, the way the AMS Accelerate onboarding guide does.
func patternConds(c *config.Config, extraARNs ...string) []policy.Condition {
	return []policy.Condition{
		cond("StringEquals", "aws:PrincipalOrgID", c.OrganizationID),
		cond("ArnLike", "aws:PrincipalArn", append([]string{c.ReaderPatternARN()}, extraARNs...)...),
	}
}

func withConds(base []policy.Condition, more ...policy.Condition) []policy.Condition {
	out := make([]policy.Condition, 0, len(base)+len(more))
	out = append(out, base...)
	return append(out, more...)
}

func document(statements ...policy.Statement) *policy.Document {
	return &policy.Document{Version: policy.Version2012, Statements: statements}
}
