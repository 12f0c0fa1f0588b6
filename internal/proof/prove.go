package proof

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
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

// Finding kinds.
const (
	KindUnintended = "unintended-grant"
	KindMissing    = "missing-grant"
	KindUnproven   = "unproven-grant"
)

// Grant is one statement of the proved policy that allows a finding's
// request.
type Grant struct {
	// Statement is the 0-based index in the policy's Statement list, as the
	// evaluator's reasons number it.
	Statement int    `json:"statement"`
	Sid       string `json:"sid,omitempty"`
	Line      int    `json:"line,omitempty"`
	// Owned is true for a statement trailwarden writes.
	Owned bool `json:"owned"`
	// Accepted is true for a foreign statement whose Sid the config lists
	// as accepted for this policy.
	Accepted bool `json:"accepted"`
}

// Name is how the statement is named to people: its Sid, or its index.
func (g Grant) Name() string {
	if g.Sid != "" {
		return g.Sid
	}
	return fmt.Sprintf("statement %d", g.Statement)
}

// Finding is a concrete request on which the policy and the config disagree.
type Finding struct {
	Target Target `json:"target"`
	// Kind is KindUnintended (allowed, not intended), KindMissing
	// (intended, not allowed) or KindUnproven (intended, and allowed only
	// through a judgement call of the evaluator: AWS's documentation does
	// not settle it, so the proof cannot count on it).
	Kind      string              `json:"kind"`
	Principal string              `json:"principal"`
	Request   eval.Request        `json:"request"`
	Context   map[string][]string `json:"context"`
	Decision  eval.Decision       `json:"decision"`
	// Statements are the names (Sid, or "statement N") of the allowing
	// statements; Grants describes each.
	Statements []string `json:"statements,omitempty"`
	Grants     []Grant  `json:"grants,omitempty"`
	// Foreign is true when only statements trailwarden does not own grant
	// it: not trailwarden's to fix, but a finding all the same.
	Foreign bool `json:"foreign"`
	// Accepted is true when every statement that grants it is a foreign
	// statement the config accepts: reported, but not a failure.
	Accepted bool `json:"accepted"`
	// CallerAllowsAll is true when the request was decided with the
	// caller's own identity policy allowing everything, so that only the
	// proved policy could refuse it (a caller from another account needs
	// both sides).
	CallerAllowsAll bool `json:"caller_allows_all"`
	// Reproduce is a command line that replays the request. The proof
	// leaves it empty: only the caller knows where the policy is stored.
	Reproduce string `json:"reproduce,omitempty"`
	// Judgements are the evaluator's judgement calls the decision rests on
	// (docs/evaluator.md), when it rests on any.
	Judgements []eval.Judgement `json:"judgements,omitempty"`
}

// StatementGrants is one statement that grants requests the config does
// not intend, with how many findings it takes part in.
type StatementGrants struct {
	Grant
	Findings int `json:"findings"`
	// Example is the index in Report.Findings of its first finding.
	Example int `json:"example"`
}

// Report is the result of proving one policy.
type Report struct {
	Target Target `json:"target"`
	// Proven is true when no finding fails the proof: every intended
	// request is allowed, and every unintended grant comes only from
	// accepted foreign statements.
	Proven   bool      `json:"proven"`
	Requests int       `json:"requests"`
	Matrix   []Row     `json:"matrix"`
	Findings []Finding `json:"findings"`
	// Unintended lists, in policy order, each statement that grants a
	// request the config does not intend.
	Unintended []StatementGrants `json:"unintended_statements,omitempty"`
	// AcceptedSetting is the config setting that lists the accepted foreign
	// Sids of this policy; "" when the policy has none (trailwarden writes
	// it whole).
	AcceptedSetting string `json:"accepted_setting,omitempty"`
	// StaleAccepted are accepted Sids that no statement of the policy has.
	StaleAccepted []string `json:"stale_accepted_sids,omitempty"`
}

// Blocking reports whether a finding makes the proof fail: a missing or
// unproven grant, or a grant beyond the config unless every statement
// giving it is an accepted foreign statement.
func (f Finding) Blocking() bool {
	return f.Kind == KindMissing || f.Kind == KindUnproven || !f.Accepted
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

// AcceptedCount is the number of findings reported as accepted.
func (r *Report) AcceptedCount() int {
	n := 0
	for _, f := range r.Findings {
		if !f.Blocking() {
			n++
		}
	}
	return n
}

// AcceptedSetting names the config setting that lists the accepted
// foreign Sids of target's policy, or "" when its policy takes none.
func AcceptedSetting(t Target) string {
	switch t {
	case TargetBucket:
		return config.SettingAcceptedBucketSids
	case TargetKey:
		return config.SettingAcceptedKeySids
	}
	return ""
}

func acceptedSids(c *config.Config, t Target) []string {
	switch t {
	case TargetBucket:
		return c.AcceptedForeignSids.BucketPolicy
	case TargetKey:
		return c.AcceptedForeignSids.KeyPolicy
	}
	return nil
}

// Prove evaluates the policy over the representative requests of the
// config's universe and compares every decision with the intended access.
func Prove(c *config.Config, in Input) (*Report, error) {
	evPlain, evCaller, err := evaluators(in.Target, in.Doc)
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
	rep := &Report{Target: in.Target, AcceptedSetting: AcceptedSetting(in.Target)}
	accepted := map[string]bool{}
	for _, sid := range acceptedSids(c, in.Target) {
		accepted[sid] = true
	}
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
						f := grantFinding(in, accepted, p, req, full, out)
						f.CallerAllowsAll = ev == evCaller
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
	rep.Unintended = unintendedStatements(rep.Findings)
	rep.StaleAccepted = stale(in.Doc, acceptedSids(c, in.Target))
	rep.Proven = !rep.Failed()
	return rep, nil
}

// unintendedStatements groups the unintended grants by statement.
func unintendedStatements(findings []Finding) []StatementGrants {
	byIndex := map[int]*StatementGrants{}
	for i, f := range findings {
		if f.Kind != KindUnintended {
			continue
		}
		for _, g := range f.Grants {
			if s := byIndex[g.Statement]; s != nil {
				s.Findings++
				continue
			}
			byIndex[g.Statement] = &StatementGrants{Grant: g, Findings: 1, Example: i}
		}
	}
	out := make([]StatementGrants, 0, len(byIndex))
	for _, s := range byIndex {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Statement < out[j].Statement })
	return out
}

// stale lists the accepted Sids that no statement of doc has.
func stale(doc *policy.Document, accepted []string) []string {
	have := map[string]bool{}
	if doc != nil {
		for _, s := range doc.Statements {
			have[s.Sid] = true
		}
	}
	var out []string
	for _, sid := range accepted {
		if !have[sid] {
			out = append(out, sid)
		}
	}
	return out
}

// evaluators compiles the policy set of target with doc: plain, and with
// the caller's own permissions standing in (access.WithCaller).
func evaluators(t Target, doc *policy.Document) (plain, caller *eval.Evaluator, err error) {
	cache := access.NewCache()
	if plain, err = cache.Target(t, doc, false); err != nil {
		return nil, nil, err
	}
	if caller, err = cache.Target(t, doc, true); err != nil {
		return nil, nil, err
	}
	return plain, caller, nil
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

func grantFinding(in Input, accepted map[string]bool, p probe, req eval.Request, full map[string][]string, out eval.Result) Finding {
	f := Finding{Target: in.Target, Kind: KindUnintended, Principal: p.label, Request: req, Context: full, Decision: out.Decision, Foreign: true,
		Judgements: out.Judgements}
	allAccepted := true
	for _, r := range out.Reasons {
		if !r.Matched || r.Effect != policy.Allow || r.Policy == access.CallerPermissions {
			continue
		}
		g := Grant{Statement: r.Statement, Sid: r.Sid, Line: r.Line}
		g.Owned = in.Owned != nil && in.Owned(r.Sid)
		g.Accepted = !g.Owned && r.Sid != "" && accepted[r.Sid]
		f.Grants = append(f.Grants, g)
		f.Statements = append(f.Statements, g.Name())
		if g.Owned {
			f.Foreign = false
		}
		allAccepted = allAccepted && g.Accepted
	}
	// A grant no statement explains cannot be accepted by Sid.
	f.Accepted = len(f.Grants) > 0 && allAccepted
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
		kind := KindMissing
		switch {
		case res.Decision == eval.Allowed && len(res.Judgements) == 0:
			continue
		case res.Decision == eval.Allowed:
			kind = KindUnproven
		}
		out = append(out, Finding{Target: in.Target, Kind: kind, Principal: it.Description, Request: it.Request,
			Context: eval.DeriveContext(it.Request), Decision: res.Decision, CallerAllowsAll: ev == caller, Judgements: res.Judgements})
	}
	return out, nil
}
