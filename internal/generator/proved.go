package generator

import (
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

// Targets are the policies the config has: the bucket's, the key's (when
// kms_key_arn is set) and the reader role's trust and permissions.
func Targets(c *config.Config) []proof.Target {
	out := make([]proof.Target, 0, 4)
	for _, t := range []proof.Target{proof.TargetBucket, proof.TargetKey, proof.TargetTrust, proof.TargetAccess} {
		if t == proof.TargetKey && c.KMSKeyARN == "" {
			continue
		}
		out = append(out, t)
	}
	return out
}

// Mergeable reports whether target's policy merges into an existing one
// (the bucket's and the key's); the reader role's are written whole.
func Mergeable(t proof.Target) bool { return t == proof.TargetBucket || t == proof.TargetKey }

// For generates target's policy, merged into existing when target's
// policy merges (nil: a new policy).
func For(c *config.Config, t proof.Target, existing *policy.Document) (*Output, error) {
	switch t {
	case proof.TargetBucket:
		return Bucket(c, existing)
	case proof.TargetKey:
		return Key(c, existing)
	case proof.TargetTrust:
		return ReaderTrust(c)
	}
	return ReaderAccess(c)
}

// Proved is a generated policy with its proof, sorted into what refuses
// the policy and what only warns about it.
type Proved struct {
	*Output
	Report *proof.Report
	// Refused are the findings that stop the policy from being used: a
	// grant beyond the config by trailwarden's own statements, and an
	// intended request the policy denies (unless a foreign statement the
	// merge kept blocks it: Output.Conflicts then says so more precisely).
	Refused []proof.Finding
	// Foreign is true when a kept foreign statement grants more than the
	// config intends and the config does not accept it: the merge the
	// caller asked for, printed with a warning.
	Foreign bool
}

// Prove generates target's policy (merged into existing, see For) and
// proves it against the config's intent: one call for what a policy
// command prints.
func Prove(c *config.Config, t proof.Target, existing *policy.Document) (*Proved, error) {
	out, err := For(c, t, existing)
	if err != nil {
		return nil, err
	}
	rep, err := proof.Prove(c, proof.Input{Target: t, Doc: out.Doc, Scope: out.Scope, Owned: Owned(c)})
	if err != nil {
		return nil, err
	}
	return Judge(out, rep), nil
}

// Judge sorts the findings of rep, the proof of out, into a Proved.
func Judge(out *Output, rep *proof.Report) *Proved {
	p := &Proved{Output: out, Report: rep}
	for _, f := range rep.Findings {
		switch {
		case !f.Blocking():
		case f.Kind == proof.KindMissing:
			// The merge's conflict check and the proof see the same
			// denied request; the conflict names the statement.
			if len(out.Conflicts) == 0 {
				p.Refused = append(p.Refused, f)
			}
		case f.Foreign:
			p.Foreign = true
		default:
			p.Refused = append(p.Refused, f)
		}
	}
	return p
}

// ProveDoc proves doc as target's policy under the delivery scope the
// config generates with; a nil doc proves the generated policy.
func ProveDoc(c *config.Config, t proof.Target, doc *policy.Document) (*proof.Report, error) {
	out, err := For(c, t, nil)
	if err != nil {
		return nil, err
	}
	if doc == nil {
		doc = out.Doc
	}
	return proof.Prove(c, proof.Input{Target: t, Doc: doc, Scope: out.Scope, Owned: Owned(c)})
}
