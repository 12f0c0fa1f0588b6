package eval

import (
	"errors"
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/policy"
)

// Named is a policy document with the name reasons refer to.
type Named struct {
	Name string
	Doc  *policy.Document
}

// ResourceKind selects a service's special trust rule.
type ResourceKind string

// Resource kinds. KMS key policies and role trust policies must allow
// explicitly, even in the same account [doc: evaluation-logic page].
const (
	Generic   ResourceKind = "Generic"
	KMSKey    ResourceKind = "KMSKey"
	RoleTrust ResourceKind = "RoleTrust"
)

// Policies is everything that takes part in one decision.
type Policies struct {
	Identity []Named
	Resource *Named
	Boundary *Named
	Session  *Named
	// SCPs are the principal's account path, root → OU… → account; every
	// level must allow.
	SCPs [][]Named
	// RCPs are the resource's account path, same shape. AWS attaches
	// RCPFullAWSAccess at every level and it cannot be detached, so the
	// evaluator adds it to each level unless NoImplicitRCPFullAccess is set.
	RCPs                    [][]Named
	NoImplicitRCPFullAccess bool
	// RCPServices lists the service prefixes (lower-case, e.g. "s3") RCPs
	// apply to; nil means s3, sts, kms, sqs, secretsmanager, logs, dynamodb
	// and ecr (AWS supports more; its full list is not confirmed).
	RCPServices                  []string
	ResourceKind                 ResourceKind
	PrincipalIsManagementAccount bool
	ResourceInManagementAccount  bool
}

// Evaluator is a compiled policy set; it is immutable and safe for
// concurrent use.
type Evaluator struct {
	identity    []*cPolicy
	resource    *cPolicy
	boundary    *cPolicy
	session     *cPolicy
	scps        [][]*cPolicy
	rcps        [][]*cPolicy
	kind        ResourceKind
	mgmtPrin    bool
	mgmtRes     bool
	rcpServices map[string]bool
	nStmts      int // every statement, to size Result.Reasons once
}

// CompileError locates a policy AWS would reject.
type CompileError struct {
	Policy    string
	Statement int // 0-based; -1 for document-level errors
	Sid       string
	Pos       policy.Position
	Err       error
}

func (e *CompileError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "compile policy %q", e.Policy)
	if e.Statement >= 0 {
		fmt.Fprintf(&b, " statement %d", e.Statement)
		if e.Sid != "" {
			fmt.Fprintf(&b, " (%s)", e.Sid)
		}
	}
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, " at %d:%d", e.Pos.Line, e.Pos.Column)
	}
	return b.String() + ": " + e.Err.Error()
}

func (e *CompileError) Unwrap() error { return e.Err }

// cPolicy is one compiled document.
type cPolicy struct {
	name  string
	layer Layer
	level int
	stmts []cStatement
}

// cStatement is one compiled statement.
type cStatement struct {
	index        int
	sid          string
	effect       policy.Effect
	pos          policy.Position
	principal    *cPrincipal // nil when the element is absent
	notPrincipal bool
	actions      []glob
	notAction    bool
	resources    []arnTemplate
	notResource  bool
	anyResource  bool // no Resource element: trust policies
	conds        []cCondition
	// arnScoped is a grant to "*" narrowed by a positive condition on
	// aws:PrincipalArn, which boundaries and session policies do not limit
	// [doc: Principal page].
	arnScoped bool
}

// rcpFullAWSAccess is the AWS-managed RCP attached at every level.
var rcpFullAWSAccess = &cPolicy{name: "RCPFullAWSAccess", layer: LayerRCP, stmts: []cStatement{{
	effect:      policy.Allow,
	principal:   &cPrincipal{wildcard: true},
	actions:     []glob{{kind: globAny}},
	anyResource: true,
}}}

// Compile checks and compiles every policy once, so Evaluate does no parsing.
func Compile(p Policies) (*Evaluator, error) {
	e := &Evaluator{kind: p.ResourceKind, mgmtPrin: p.PrincipalIsManagementAccount, mgmtRes: p.ResourceInManagementAccount}
	svcs := p.RCPServices
	if svcs == nil {
		svcs = defaultRCPServices
	}
	e.rcpServices = make(map[string]bool, len(svcs))
	for _, s := range svcs {
		e.rcpServices[strings.ToLower(s)] = true
	}
	switch e.kind {
	case "":
		e.kind = Generic
	case Generic, KMSKey, RoleTrust:
	default:
		return nil, fmt.Errorf("compile policies: unknown resource kind %q", p.ResourceKind)
	}
	var errs []error
	one := func(n *Named, layer Layer, level int) *cPolicy {
		if n == nil {
			return nil
		}
		cp, err := compilePolicy(n, layer, level)
		if err != nil {
			errs = append(errs, err)
		}
		return cp
	}
	for i := range p.Identity {
		e.identity = append(e.identity, one(&p.Identity[i], LayerIdentity, 0))
	}
	e.resource = one(p.Resource, LayerResource, 0)
	e.boundary = one(p.Boundary, LayerBoundary, 0)
	e.session = one(p.Session, LayerSession, 0)
	for lvl, ps := range p.SCPs {
		var level []*cPolicy
		for i := range ps {
			level = append(level, one(&ps[i], LayerSCP, lvl+1))
		}
		e.scps = append(e.scps, level)
	}
	for lvl, ps := range p.RCPs {
		var level []*cPolicy
		if !p.NoImplicitRCPFullAccess {
			full := *rcpFullAWSAccess
			full.level = lvl + 1
			level = append(level, &full)
		}
		for i := range ps {
			level = append(level, one(&ps[i], LayerRCP, lvl+1))
		}
		e.rcps = append(e.rcps, level)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	for _, cp := range e.all() {
		e.nStmts += len(cp.stmts)
	}
	return e, nil
}

func compilePolicy(n *Named, layer Layer, level int) (*cPolicy, error) {
	if n.Doc == nil {
		return nil, &CompileError{Policy: n.Name, Statement: -1, Err: errors.New("document is nil")}
	}
	// Policy variables exist only in version 2012-10-17; in older documents
	// "${" is literal text [doc: variables page].
	vars := n.Doc.Version == policy.Version2012
	cp := &cPolicy{name: n.Name, layer: layer, level: level, stmts: make([]cStatement, 0, len(n.Doc.Statements))}
	for i := range n.Doc.Statements {
		st := &n.Doc.Statements[i]
		cs, err := compileStatement(st, i, layer, vars)
		if err != nil {
			return nil, &CompileError{Policy: n.Name, Statement: i, Sid: st.Sid, Pos: st.Pos, Err: err}
		}
		cp.stmts = append(cp.stmts, cs)
	}
	return cp, nil
}

func compileStatement(st *policy.Statement, idx int, layer Layer, vars bool) (cStatement, error) {
	cs := cStatement{index: idx, sid: st.Sid, effect: st.Effect, pos: st.Pos}
	if st.Effect != policy.Allow && st.Effect != policy.Deny {
		return cs, fmt.Errorf("effect %q is neither Allow nor Deny", st.Effect)
	}

	switch {
	case st.Principal != nil && st.NotPrincipal != nil:
		return cs, errors.New("statement has both Principal and NotPrincipal")
	case st.Principal != nil:
		pr, err := compilePrincipal(st.Principal)
		if err != nil {
			return cs, fmt.Errorf("principal: %w", err)
		}
		cs.principal = pr
	case st.NotPrincipal != nil:
		pr, err := compilePrincipal(st.NotPrincipal)
		if err != nil {
			return cs, fmt.Errorf("not principal: %w", err)
		}
		cs.principal, cs.notPrincipal = pr, true
	case layer == LayerResource:
		return cs, errors.New("a resource-based policy statement needs Principal or NotPrincipal")
	}

	actions := st.Action
	if st.NotAction != nil {
		if st.Action != nil {
			return cs, errors.New("statement has both Action and NotAction")
		}
		actions, cs.notAction = st.NotAction, true
	}
	if actions == nil {
		return cs, errors.New("statement has neither Action nor NotAction")
	}
	for _, a := range actions {
		cs.actions = append(cs.actions, compileGlob(parseTemplate(strings.ToLower(a), false, true)))
	}

	resources := st.Resource
	if st.NotResource != nil {
		if st.Resource != nil {
			return cs, errors.New("statement has both Resource and NotResource")
		}
		resources, cs.notResource = st.NotResource, true
	}
	cs.anyResource = resources == nil
	for _, r := range resources {
		t, err := compileResource(r, vars)
		if err != nil {
			return cs, fmt.Errorf("resource %q: %w", r, err)
		}
		cs.resources = append(cs.resources, t)
	}

	for _, c := range st.Condition {
		cc, err := compileCondition(c, vars)
		if err != nil {
			return cs, fmt.Errorf("condition %s %s: %w", c.Operator, c.Key, err)
		}
		cs.conds = append(cs.conds, cc)
		if cc.lkey == "aws:principalarn" && !cc.spec.negated && cc.spec.fam != famNull && !cc.ifExists && cc.set == policy.NoSet {
			cs.arnScoped = cs.principal != nil && cs.principal.wildcard && !cs.notPrincipal
		}
	}
	return cs, nil
}

// compileResource checks the rules of the Resource element: variables only
// in the resource part (after the fifth colon) and no wildcard in the
// service segment [doc: Resource and variables pages].
func compileResource(r string, vars bool) (arnTemplate, error) {
	toks := parseTemplate(r, vars, true)
	segs := splitSegments(toks)
	last := len(segs) - 1
	if len(segs) < 6 {
		last = len(segs) // no resource part: variables are nowhere allowed
	}
	for i := 0; i < last && i < len(segs); i++ {
		if hasVar(segs[i]) {
			return arnTemplate{}, fmt.Errorf("policy variable %s outside the resource part of the ARN", firstVar(segs[i]))
		}
	}
	if len(segs) > 2 {
		for _, t := range segs[2] {
			if t.kind == tokStar || t.kind == tokQuest {
				return arnTemplate{}, errors.New("wildcard in the service segment")
			}
		}
	}
	return newARNTemplate(toks), nil
}

// all lists every compiled policy.
func (e *Evaluator) all() []*cPolicy {
	out := append([]*cPolicy(nil), e.identity...)
	for _, cp := range []*cPolicy{e.resource, e.boundary, e.session} {
		if cp != nil {
			out = append(out, cp)
		}
	}
	for _, lvl := range e.scps {
		out = append(out, lvl...)
	}
	for _, lvl := range e.rcps {
		out = append(out, lvl...)
	}
	return out
}
