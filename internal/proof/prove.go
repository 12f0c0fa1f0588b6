package proof

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Input is the policy under proof.
type Input struct {
	Target Target
	Doc    *policy.Document
	// Scope is the delivery scope the policy was generated with; it decides
	// how wide CloudTrail's intended access is.
	Scope string
	// Owned tells trailwarden's statements from foreign ones.
	Owned func(sid string) bool
}

// Row is one cell of the access matrix: who can do what on which resource,
// and under how many of the probed contexts.
type Row struct {
	Target    Target `json:"target"`
	Principal string `json:"principal"`
	Action    string `json:"action"`
	Resource  string `json:"resource"`
	Allowed   int    `json:"allowed"`
	Probed    int    `json:"probed"`
	Intended  bool   `json:"intended"`
}

// Finding is a concrete request on which the policy and the config disagree.
type Finding struct {
	Target Target `json:"target"`
	// Kind is "unintended-grant" (allowed, not intended), "missing-grant"
	// (intended, not allowed) or "unproven-grant" (intended, and allowed
	// only through a judgement call of the evaluator: AWS's documentation
	// does not settle it, so the proof cannot count on it).
	Kind      string              `json:"kind"`
	Principal string              `json:"principal"`
	Request   eval.Request        `json:"request"`
	Context   map[string][]string `json:"context"`
	Decision  eval.Decision       `json:"decision"`
	// Statements are the Sids (or indexes) of the allowing statements.
	Statements []string `json:"statements,omitempty"`
	// Foreign is true when only statements trailwarden does not own grant
	// it: reported, but not trailwarden's to fix.
	Foreign bool `json:"foreign"`
	// Judgements are the evaluator's judgement calls the decision rests on
	// (docs/evaluator.md), when it rests on any.
	Judgements []eval.Judgement `json:"judgements,omitempty"`
}

// Report is the result of proving one policy.
type Report struct {
	Target   Target    `json:"target"`
	Requests int       `json:"requests"`
	Matrix   []Row     `json:"matrix"`
	Findings []Finding `json:"findings"`
}

// Blocking reports whether a finding makes the proof fail: a missing or
// unproven grant, or a grant beyond the config that one of trailwarden's
// statements gives.
func (f Finding) Blocking() bool {
	return f.Kind == "missing-grant" || f.Kind == "unproven-grant" || !f.Foreign
}

// Failed reports whether any finding is blocking.
func (r *Report) Failed() bool {
	for _, f := range r.Findings {
		if f.Blocking() {
			return true
		}
	}
	return false
}

// Prove evaluates the policy over the representative requests of the
// config's universe and compares every decision with the intended access.
func Prove(c *config.Config, in Input) (*Report, error) {
	ps, err := policySet(c, in)
	if err != nil {
		return nil, err
	}
	evPlain, err := eval.Compile(ps)
	if err != nil {
		return nil, fmt.Errorf("prove %s: %w", in.Target, err)
	}
	withID := ps
	withID.Identity = []eval.Named{{Name: "caller's own permissions", Doc: allowAll}}
	evCaller, err := eval.Compile(withID)
	if err != nil {
		return nil, fmt.Errorf("prove %s: %w", in.Target, err)
	}
	docs := []*policy.Document{in.Doc}
	prs, err := probes(c, docs)
	if err != nil {
		return nil, err
	}
	res := resources(c, in.Target, docs)
	resAccount, err := resourceAccount(c, in.Target)
	if err != nil {
		return nil, err
	}
	wit, pairs := keyWitnesses(c, docs)
	m := model{c: c, scope: in.Scope}
	rep := &Report{Target: in.Target}
	seenFinding := map[string]bool{}
	for _, p := range prs {
		if in.Target == TargetAccess && p.kind != probeReaderRole {
			continue // an identity policy only speaks for its own role
		}
		ev := evCaller
		if in.Target == TargetAccess || p.kind == probeCloudTrail || p.principal.Account == resAccount {
			// Services have no identity policy; same-account callers are
			// tested on what this policy alone grants them.
			ev = evPlain
		}
		for _, r := range res {
			for _, action := range actionsFor(r.typ, docs) {
				base := baseContext(c, p, action)
				row := Row{Target: in.Target, Principal: p.label, Action: action, Resource: r.label}
				for _, ctx := range variations(base, wit, pairs) {
					req := eval.Request{Principal: p.principal, Action: action, Resource: r.arn, ResourceAccount: resAccount, Context: ctx}
					out := ev.Evaluate(req)
					full := eval.DeriveContext(req)
					want := m.intended(in.Target, p, action, r, view(full))
					row.Probed++
					rep.Requests++
					if out.Decision == eval.Allowed {
						row.Allowed++
					}
					if want {
						row.Intended = true
					}
					if out.Decision == eval.Allowed && !want {
						f := grantFinding(in, p, req, full, out)
						key := p.label + "|" + action + "|" + r.label + "|" + strings.Join(f.Statements, ",")
						if !seenFinding[key] {
							seenFinding[key] = true
							rep.Findings = append(rep.Findings, f)
						}
					}
				}
				if row.Allowed > 0 || row.Intended {
					rep.Matrix = append(rep.Matrix, row)
				}
			}
		}
	}
	missing, err := missingGrants(c, in, evPlain, evCaller)
	if err != nil {
		return nil, err
	}
	rep.Findings = append(rep.Findings, missing...)
	sort.SliceStable(rep.Findings, func(i, j int) bool { return rep.Findings[i].Blocking() && !rep.Findings[j].Blocking() })
	return rep, nil
}

func policySet(c *config.Config, in Input) (eval.Policies, error) {
	named := &eval.Named{Name: string(in.Target) + " policy", Doc: in.Doc}
	switch in.Target {
	case TargetBucket:
		return eval.Policies{Resource: named}, nil
	case TargetKey:
		return eval.Policies{Resource: named, ResourceKind: eval.KMSKey}, nil
	case TargetTrust:
		return eval.Policies{Resource: named, ResourceKind: eval.RoleTrust}, nil
	case TargetAccess:
		return eval.Policies{Identity: []eval.Named{*named}}, nil
	}
	return eval.Policies{}, fmt.Errorf("prove: unknown target %q", in.Target)
}

func resourceAccount(c *config.Config, t Target) (string, error) {
	if t == TargetKey {
		key, err := awsid.KeyARN(c.KMSKeyARN)
		if err != nil {
			return "", fmt.Errorf("prove key policy: %w", err)
		}
		return key.Account, nil
	}
	return c.LogArchiveAccount, nil
}

// baseContext is what the probe naturally sends with this action.
func baseContext(c *config.Config, p probe, action string) map[string][]string {
	ctx := map[string][]string{}
	a := strings.ToLower(action)
	if p.kind == probeCloudTrail {
		ctx["aws:sourcearn"] = []string{p.trailARN}
		ctx["aws:sourceaccount"] = []string{p.trailOwner}
		if c.OrganizationID != "" && p.trailOwner != foreignAccount {
			ctx["aws:sourceorgid"] = []string{c.OrganizationID}
		}
		if a == "s3:putobject" {
			ctx["s3:x-amz-acl"] = []string{"bucket-owner-full-control"}
		}
		if strings.HasPrefix(a, "kms:") {
			ctx["kms:encryptioncontext:aws:cloudtrail:arn"] = []string{p.trailARN}
		}
		return ctx
	}
	if c.Readers.AthenaOnly || c.Profile == config.ProfileAccelerate {
		ctx["aws:calledvia"] = []string{"athena.amazonaws.com"}
	}
	switch {
	case a == "s3:listbucket":
		ctx["s3:prefix"] = []string{c.LogRoot() + "AWSLogs/"}
	case strings.HasPrefix(a, "kms:"):
		ctx["kms:viaservice"] = []string{"s3." + c.EffectiveBucketRegion() + ".amazonaws.com"}
		ctx["kms:encryptioncontext:aws:cloudtrail:arn"] = []string{c.TrailARN(firstMember(c))}
	case a == "sts:assumerole" && c.Readers.ExternalID != "":
		ctx["sts:externalid"] = []string{c.Readers.ExternalID}
	}
	return ctx
}

// variations returns the base context, then the base with each key set to
// each of its witnesses, then each pair of keys that share a statement set
// to each combination of witnesses.
func variations(base map[string][]string, wit map[string][][]string, pairs map[[2]string]bool) []map[string][]string {
	out := []map[string][]string{base}
	keys := make([]string, 0, len(wit))
	for k := range wit {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, w := range wit[k] {
			out = append(out, with(base, k, w...))
		}
	}
	for i, a := range keys {
		for _, b := range keys[i+1:] {
			if !pairs[[2]string{a, b}] {
				continue
			}
			for _, wa := range wit[a] {
				for _, wb := range wit[b] {
					out = append(out, with(with(base, a, wa...), b, wb...))
				}
			}
		}
	}
	return out
}

func grantFinding(in Input, p probe, req eval.Request, full map[string][]string, out eval.Result) Finding {
	f := Finding{Target: in.Target, Kind: "unintended-grant", Principal: p.label, Request: req, Context: full, Decision: out.Decision,
		Foreign: true, Judgements: out.Judgements}
	for _, r := range out.Reasons {
		if !r.Matched || r.Effect != policy.Allow || r.Policy == "caller's own permissions" {
			continue
		}
		name := r.Sid
		if name == "" {
			name = fmt.Sprintf("statement %d", r.Statement)
		}
		f.Statements = append(f.Statements, name)
		if in.Owned != nil && in.Owned(r.Sid) {
			f.Foreign = false
		}
	}
	return f
}

func missingGrants(c *config.Config, in Input, plain, caller *eval.Evaluator) ([]Finding, error) {
	intents, err := Intended(c, in.Target)
	if err != nil {
		return nil, err
	}
	var out []Finding
	for _, it := range intents {
		ev := caller
		if it.Request.Principal.Kind == eval.KindService || in.Target == TargetAccess {
			ev = plain
		}
		res := ev.Evaluate(it.Request)
		// An allow that rests on a judgement call cannot prove the intended
		// access works: AWS may read the case the other way.
		kind := "missing-grant"
		switch {
		case res.Decision == eval.Allowed && len(res.Judgements) == 0:
			continue
		case res.Decision == eval.Allowed:
			kind = "unproven-grant"
		}
		out = append(out, Finding{Target: in.Target, Kind: kind, Principal: it.Description, Request: it.Request,
			Context: eval.DeriveContext(it.Request), Decision: res.Decision, Judgements: res.Judgements})
	}
	return out, nil
}
