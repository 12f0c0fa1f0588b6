// Package eval is trailwarden's IAM policy evaluation engine: policies are
// compiled once (Compile) and evaluated many times (Evaluate) against
// concrete requests, following AWS's documented evaluation logic for
// identity, resource, boundary and session policies, SCPs and RCPs,
// same-account and cross-account access, and the KMS key policy and role
// trust policy exceptions.
//
// The package is pure: no I/O, no context, no logging. Results are data
// (Result, Reason, ConditionResult) for the CLI to render.
package eval

import (
	"strings"

	"github.com/trailwarden/trailwarden/internal/policy"
)

// defaultRCPServices are the service prefixes RCPs apply to unless
// Policies.RCPServices says otherwise: the services supported at launch (S3,
// STS, KMS, SQS, Secrets Manager) plus CloudWatch Logs, DynamoDB and ECR.
// AWS supports more; the full list is not confirmed.
var defaultRCPServices = []string{"s3", "sts", "kms", "sqs", "secretsmanager", "logs", "dynamodb", "ecr"}

// layerState accumulates the statements of one layer.
type layerState struct {
	present bool
	applies bool
	allowed bool
	denied  bool
	best    PrincipalMatch
	exact   bool // an allow names the caller itself (MatchPrincipal)
	// arnScoped: an allow to "*" narrowed by an aws:PrincipalArn condition
	// matched.
	arnScoped bool
}

// run is the per-request state of one evaluation.
type run struct {
	e           *Evaluator
	r           *Request
	ctx         reqContext
	action      string
	hasBoundary bool
	reasons     []Reason
	judge       judgeState
}

// Evaluate decides one request. It never fails: malformed requests simply
// match nothing. When the decision rests on a case AWS's documentation does
// not settle, Result.Judgements says so.
func (e *Evaluator) Evaluate(r Request) Result {
	ctx := buildContext(&r)
	res, js := e.evaluate(&r, ctx, 0)
	e.judge(&r, ctx, &res, &js)
	return res
}

// evaluate decides the request, reading the judgement classes in strict
// the other way, and returns the classes it met.
func (e *Evaluator) evaluate(r *Request, ctx reqContext, strict judgementSet) (Result, judgeState) {
	st := &run{e: e, r: r, ctx: ctx, action: strings.ToLower(r.Action), hasBoundary: e.boundary != nil,
		reasons: make([]Reason, 0, e.nStmts), judge: judgeState{strict: strict}}
	p := &r.Principal
	iam := p.Kind.isIAM()

	var identity, resource, boundary, session layerState
	identity.present, identity.applies = len(e.identity) > 0, iam
	resource.present, resource.applies = e.resource != nil, e.resource != nil
	boundary.present, boundary.applies = e.boundary != nil, iam && e.boundary != nil
	session.present = e.session != nil
	session.applies = session.present && (p.Kind.isSession() || p.Kind == KindFederatedUser)

	if identity.applies {
		for _, cp := range e.identity {
			st.evalPolicy(cp, &identity)
		}
	}
	if resource.applies {
		st.evalPolicy(e.resource, &resource)
	}
	if boundary.applies {
		st.evalPolicy(e.boundary, &boundary)
	}
	if session.applies {
		st.evalPolicy(e.session, &session)
	}

	// SCPs restrict IAM principals of member accounts: never service
	// principals or anonymous callers, never the management account.
	scpApplies, scpNote := len(e.scps) > 0, ""
	switch {
	case !scpApplies:
	case p.Kind == KindService || p.Kind == KindAnonymous:
		scpApplies, scpNote = false, "SCPs do not apply to "+strings.ToLower(string(p.Kind))+" principals"
	case e.mgmtPrin:
		scpApplies, scpNote = false, "SCPs do not affect the management account"
	}
	scps := st.evalLevels(e.scps, scpApplies)

	// RCPs apply to resources of member accounts for supported services,
	// whoever the caller is (service principals included).
	rcpApplies, rcpNote := len(e.rcps) > 0, ""
	svc, _, _ := strings.Cut(st.action, ":")
	switch {
	case !rcpApplies:
	case e.mgmtRes:
		rcpApplies, rcpNote = false, "RCPs do not affect resources in the management account"
	case !e.rcpServices[svc]:
		rcpApplies, rcpNote = false, "RCPs do not apply to service "+svc
	}
	rcps := st.evalLevels(e.rcps, rcpApplies)

	res := Result{Reasons: st.reasons}
	res.Decision, res.BlockedBy = st.decide(&identity, &resource, &boundary, &session, scps, rcps)
	res.Layers = e.summarize(&identity, &resource, &boundary, &session, scps, rcps, scpNote, rcpNote)
	return res, st.judge
}

// decide combines the layers per the documented order: any explicit deny,
// then every RCP level, every SCP level, the resource policy, the identity
// policies, the boundary and the session policy.
func (st *run) decide(identity, resource, boundary, session *layerState, scps, rcps []layerState) (Decision, Layer) {
	for i := range rcps {
		if rcps[i].denied {
			return ExplicitlyDenied, LayerRCP
		}
	}
	for i := range scps {
		if scps[i].denied {
			return ExplicitlyDenied, LayerSCP
		}
	}
	switch {
	case resource.denied:
		return ExplicitlyDenied, LayerResource
	case identity.denied:
		return ExplicitlyDenied, LayerIdentity
	case boundary.denied:
		return ExplicitlyDenied, LayerBoundary
	case session.denied:
		return ExplicitlyDenied, LayerSession
	}
	for i := range rcps {
		if rcps[i].applies && !rcps[i].allowed {
			return ImplicitlyDenied, LayerRCP
		}
	}
	for i := range scps {
		if scps[i].applies && !scps[i].allowed {
			return ImplicitlyDenied, LayerSCP
		}
	}

	p := &st.r.Principal
	// limits is the boundary and session-policy check. A federated user
	// without a session policy has no permissions [spec 1.1 step 7].
	limits := func() (bool, Layer) {
		if boundary.applies && !boundary.allowed {
			return false, LayerBoundary
		}
		if p.Kind == KindFederatedUser && !session.allowed {
			return false, LayerSession
		}
		if p.Kind.isSession() && session.applies && !session.allowed {
			return false, LayerSession
		}
		return true, ""
	}
	// principalSide is the caller's own account: identity policies within
	// the boundary and session policy. The root user needs no policy.
	principalSide := func() (bool, Layer) {
		if p.Kind == KindRoot {
			return true, ""
		}
		if !p.Kind.isIAM() || !identity.allowed {
			return false, LayerIdentity
		}
		return limits()
	}
	verdict := func(ok bool, l Layer) (Decision, Layer) {
		if ok {
			return Allowed, ""
		}
		return ImplicitlyDenied, l
	}

	// Services and anonymous callers have no identity policies: only a
	// resource policy naming them (or "*") can grant access.
	if p.Kind == KindService || p.Kind == KindAnonymous {
		return verdict(resource.allowed && resource.best.rank() == 3, LayerResource)
	}
	same := st.r.ResourceAccount == "" || st.r.ResourceAccount == p.Account
	if !same {
		// Cross-account: the resource policy must allow (an account-level
		// grant is enough) and so must the caller's own account.
		if !resource.allowed {
			return ImplicitlyDenied, LayerResource
		}
		return verdict(principalSide())
	}
	// KMS key policies and role trust policies must allow explicitly, even
	// in the same account.
	if st.e.kind != Generic && !resource.allowed {
		return ImplicitlyDenied, LayerResource
	}
	if resource.allowed {
		switch {
		case resource.exact:
			// A grant to the exact user, session or federated user is not
			// limited by implicit denies elsewhere [doc: table 1.2].
			return Allowed, ""
		case resource.best == MatchWildcard:
			// A grant to "*" names every caller, the session included.
			// "permissions boundaries or session policies, do not limit
			// permissions granted using the aws:PrincipalArn condition key
			// with a wildcard(*) in the Principal element" [doc: Principal
			// page]; without that condition (or through NotPrincipal) AWS
			// does not say (judgement call wildcard-grant-session-limits).
			ok, l := limits()
			if ok || resource.arnScoped {
				return Allowed, ""
			}
			st.noteWildcardGrant()
			if st.judge.strict.has(judgeWildcardGrant) {
				return ImplicitlyDenied, l
			}
			return Allowed, ""
		case resource.best == MatchSessionRole, resource.best == MatchSessionUser:
			// A grant to the role (or the user who federated) still needs
			// the boundary and session policy.
			return verdict(limits())
		}
	}
	// No grant, or an account-level grant that delegates to IAM policies.
	return verdict(principalSide())
}

// evalLevels evaluates SCP or RCP levels; each level needs an allow.
func (st *run) evalLevels(levels [][]*cPolicy, applies bool) []layerState {
	out := make([]layerState, len(levels))
	for i, ps := range levels {
		out[i].present, out[i].applies = true, applies
		if !applies {
			continue
		}
		for _, cp := range ps {
			st.evalPolicy(cp, &out[i])
		}
	}
	return out
}

// evalPolicy evaluates every statement of one policy into ls.
func (st *run) evalPolicy(cp *cPolicy, ls *layerState) {
	for i := range cp.stmts {
		rs := st.evalStatement(cp, &cp.stmts[i])
		if rs.Matched {
			if rs.Effect == policy.Deny {
				ls.denied = true
			} else {
				ls.allowed = true
				ls.exact = ls.exact || rs.PrincipalMatch == MatchPrincipal
				ls.arnScoped = ls.arnScoped || (rs.PrincipalMatch == MatchWildcard && cp.stmts[i].arnScoped)
				if rs.PrincipalMatch.rank() > ls.best.rank() {
					ls.best = rs.PrincipalMatch
				}
			}
		}
		st.reasons = append(st.reasons, rs)
	}
}

// evalStatement matches principal, action, resource and conditions. All
// three elements are checked so the reason shows every mismatch; conditions
// only run when the rest matched.
func (st *run) evalStatement(cp *cPolicy, s *cStatement) (rs Reason) {
	rs = Reason{
		Layer: cp.layer, Level: cp.level, Policy: cp.name, Statement: s.index, Sid: s.sid,
		Effect: s.effect, Line: s.pos.Line, Column: s.pos.Column,
	}
	pm, partial := MatchWildcard, false
	if cp.layer == LayerResource || cp.layer == LayerRCP {
		pm, partial = s.statementPrincipal(&st.r.Principal, st.hasBoundary, st.judge.strict.has(judgeNotPrincipalChain))
		rs.PrincipalMatch = pm
	}
	if partial {
		// The statement counts for the judgement only where it applies in
		// the reading being evaluated.
		defer func() {
			if rs.Matched {
				st.judge.note(judgeNotPrincipalChain, site(cp, s))
			} else {
				st.judge.seen |= judgeNotPrincipalChain
			}
		}()
	}
	rs.ActionMatched = matchAction(s.actions, st.action) != s.notAction
	var unresolved string
	rs.ResourceMatched, unresolved = st.matchResource(s)

	var notes []string
	if pm == MatchNone {
		notes = append(notes, "principal not matched")
	}
	if !rs.ActionMatched {
		notes = append(notes, "action not matched")
	}
	if !rs.ResourceMatched {
		if unresolved != "" {
			notes = append(notes, "resource not matched (policy variable "+unresolved+" has no value)")
		} else {
			notes = append(notes, "resource not matched")
		}
	}
	if len(notes) > 0 {
		rs.Note = strings.Join(notes, "; ")
		return rs
	}
	matched := true
	if len(s.conds) > 0 {
		rs.Conditions = make([]ConditionResult, len(s.conds))
		for i := range s.conds {
			rs.Conditions[i] = s.conds[i].eval(st.ctx)
			if !rs.Conditions[i].Matched {
				if matched {
					rs.Note = "condition not met: " + rs.Conditions[i].String()
				}
				matched = false
			}
		}
	}
	rs.Matched = matched
	return rs
}

// matchResource applies Resource/NotResource. An entry whose variable has no
// value matches nothing [doc: variables page].
func (st *run) matchResource(s *cStatement) (bool, string) {
	if s.anyResource {
		return true, ""
	}
	var unresolved string
	hit := false
	for i := range s.resources {
		ok, miss := s.resources[i].match(st.r.Resource, st.ctx)
		if miss != "" && unresolved == "" {
			unresolved = miss
		}
		if ok {
			hit = true
			break
		}
	}
	if s.notResource && !hit && unresolved != "" {
		// A variable without a value makes the match fail and the statement
		// invalid [doc: variables page]: a NotResource entry that cannot be
		// resolved must not turn into "every other resource".
		return false, unresolved
	}
	return hit != s.notResource, unresolved
}

// noteWildcardGrant records the resource-policy statements that grant the
// caller through "*" or NotPrincipal for judgement wildcard-grant-session-limits.
func (st *run) noteWildcardGrant() {
	st.judge.seen |= judgeWildcardGrant
	cp := st.e.resource
	for i := range st.reasons {
		rs := &st.reasons[i]
		if rs.Layer == LayerResource && rs.Matched && rs.Effect == policy.Allow && rs.PrincipalMatch == MatchWildcard {
			st.judge.note(judgeWildcardGrant, site(cp, &cp.stmts[rs.Statement]))
		}
	}
}
