package difftest

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// knownFile is testdata/known_differences.yaml.
type knownFile struct {
	Classes []knownClass `yaml:"classes"`
}

// knownClass is one listed difference between trailwarden and the oracle.
type knownClass struct {
	ID       string `yaml:"id"`
	Kind     string `yaml:"kind"`     // oracle-defect, deliberate, judgement-call or suspected-trailwarden-bug
	Handling string `yaml:"handling"` // classified or adapted
	// Judgement is the evaluator's judgement id (eval.JudgementClasses) a
	// judgement-call class rests on.
	Judgement string `yaml:"judgement"`
	Spec      string `yaml:"spec"`
	Summary   string `yaml:"summary"`
	// DocSupports is the side the AWS documentation supports: trailwarden,
	// oracle, or neither (a judgement call); Why says how.
	DocSupports string `yaml:"documentation_supports"`
	Why         string `yaml:"why"`
	Oracle      string `yaml:"oracle"`
	Trailwarden string `yaml:"trailwarden"`
	Rule        string `yaml:"rule"`
	AWSDoc      struct {
		URL   string `yaml:"url"`
		Quote string `yaml:"quote"`
	} `yaml:"aws_doc"`
}

const (
	handlingClassified = "classified"
	handlingAdapted    = "adapted"
)

func (k *knownFile) has(id string) bool {
	for _, c := range k.Classes {
		if c.ID == id && c.Handling == handlingClassified {
			return true
		}
	}
	return false
}

func loadKnown(t testing.TB) *knownFile {
	t.Helper()
	data, err := os.ReadFile("testdata/known_differences.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var k knownFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&k); err != nil {
		t.Fatalf("known_differences.yaml: %v", err)
	}
	return &k
}

// phase says when a rule may be part of an explanation.
type phase int

const (
	// phaseDropped: the oracle dropped context keys the policies use, so it
	// judged a different request; such a case is never a plain agreement and
	// its explanation must include the rule.
	phaseDropped phase = iota + 1
	// phaseRejected: trailwarden rejected a policy of the set; the
	// explanation must include the rule.
	phaseRejected
	// phaseDisagree: may explain a difference of decisions.
	phaseDisagree
	// phaseAdapted: the harness adapts the input for the oracle; such cases
	// are compared normally and only counted.
	phaseAdapted
)

// input is what trailwarden evaluates while a case is being explained: the
// set and the request, whose context holds every key explicitly (derived
// keys included), so that emulations can change it key by key.
type input struct {
	set *policySet
	req eval.Request
}

// rule is the Go side of a known class. emulate changes trailwarden's
// input so that trailwarden behaves as the oracle does for this class, and
// reports false when the class does not concern that input (nothing to
// change). A case is explained by a set of rules when trailwarden, with all
// of them emulated, decides exactly what the oracle decided.
type rule struct {
	phase   phase
	emulate func(v *verdict, in input) (input, bool)
	// after, when set, adjusts the decision d reached on the emulated input
	// (res is trailwarden's result there), for differences in how the layers
	// combine.
	after   func(in input, res eval.Result, d eval.Decision) eval.Decision
	adapted func(c *tcase) bool
}

// setRule is a rule whose emulation is a fixed rewrite of the policy set.
func setRule(id string, f func(*policySet) (*policySet, bool)) rule {
	return rule{phase: phaseDisagree, emulate: func(_ *verdict, in input) (input, bool) {
		vs, ok := in.set.variant(id, f)
		if ok {
			in.set = vs
		}
		return in, ok
	}}
}

// rules holds one entry per class of known_differences.yaml.
var rules = map[string]rule{
	"oracle-defect-2-encryption-context": {phase: phaseDropped,
		emulate: func(v *verdict, in input) (input, bool) {
			return withoutKeys(v, in, func(k string) bool { return strings.HasPrefix(k, "kms:encryptioncontext:") })
		}},
	"oracle-defect-5-ignored-key": {phase: phaseDropped,
		emulate: func(v *verdict, in input) (input, bool) {
			return withoutKeys(v, in, func(k string) bool { return !strings.HasPrefix(k, "kms:encryptioncontext:") })
		}},
	"unknown-operator": {phase: phaseRejected,
		emulate: func(v *verdict, in input) (input, bool) {
			if v.twErr == nil || !strings.Contains(v.twErr.Error(), "unknown condition operator") {
				return in, false
			}
			vs, ok := in.set.variant("unknown-operator", neutralizeUnknownOperators)
			if ok {
				in.set = vs
			}
			return in, ok
		}},
	"policy-variables-version-2008": setRule("policy-variables-version-2008", variablesIn2008),
	"oracle-defect-1-arn-variable":  setRule("oracle-defect-1-arn-variable", neverMatchArnVariables),
	"root-user-full-access": {phase: phaseAdapted,
		adapted: func(c *tcase) bool { return c.req.Principal.Kind == eval.KindRoot }},
	"oracle-notprincipal-deny-names-account": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			// The oracle exempts the caller from a Deny as soon as the
			// NotPrincipal names its account (or role): list the caller's
			// whole chain there instead.
			return withWholeChain(in, "oracle-notprincipal-deny-names-account", func(st *policy.Statement, l chainListing) bool {
				return st.Effect == policy.Deny && !l.own
			})
		}},
	"judgement-notprincipal-partial-chain": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			// trailwarden reads an Allow whose NotPrincipal lists part of the
			// caller's chain as reaching the caller and says so; the oracle
			// exempts the caller: list the whole chain there instead.
			if !judged(in, "notprincipal-partial-chain") {
				return in, false
			}
			return withWholeChain(in, "judgement-notprincipal-partial-chain", func(st *policy.Statement, _ chainListing) bool {
				return st.Effect == policy.Allow
			})
		}},
	"federated-user-without-session-policy": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			if in.req.Principal.Kind != eval.KindFederatedUser || in.set.session != nil {
				return in, false
			}
			in.set, _ = in.set.variant("federated-user-without-session-policy", func(ps *policySet) (*policySet, bool) {
				c := ps.clone()
				c.session = &allowAllSession
				return c, true
			})
			return in, true
		}},
	"oracle-session-policy-limits-session-grant": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			return in, isSession(in.req.Principal) && in.set.session != nil && in.set.resource != nil
		},
		after: func(_ input, res eval.Result, d eval.Decision) eval.Decision {
			// The oracle also requires the session policy to allow when the
			// resource policy names the calling session itself.
			if d == eval.Allowed && grants(res).exact && layerOutcome(res, eval.LayerSession) == eval.OutcomeImplicitlyDenied {
				return eval.ImplicitlyDenied
			}
			return d
		}},
	"oracle-session-policy-limits-principalarn-grant": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			return in, isSession(in.req.Principal) && in.set.session != nil && in.set.resource != nil
		},
		after: func(_ input, res eval.Result, d eval.Decision) eval.Decision {
			// The oracle requires the session policy to allow a grant to "*"
			// narrowed by aws:PrincipalArn, which trailwarden, as documented,
			// allows without a judgement call.
			g := grants(res)
			if d == eval.Allowed && !g.exact && g.wildcard && len(res.Judgements) == 0 &&
				layerOutcome(res, eval.LayerSession) == eval.OutcomeImplicitlyDenied {
				return eval.ImplicitlyDenied
			}
			return d
		}},
	"judgement-wildcard-grant-session-policy": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			return in, isSession(in.req.Principal) && in.set.session != nil && in.set.resource != nil &&
				judged(in, "wildcard-grant-session-limits")
		},
		after: func(_ input, res eval.Result, d eval.Decision) eval.Decision {
			// The oracle requires the session policy to allow a grant to "*"
			// (or through NotPrincipal) too; trailwarden's judgement call
			// reads such a grant as naming the session itself.
			g := grants(res)
			if d == eval.Allowed && !g.exact && g.wildcard && layerOutcome(res, eval.LayerSession) == eval.OutcomeImplicitlyDenied {
				return eval.ImplicitlyDenied
			}
			return d
		}},
	"judgement-role-caller-notprincipal-grant": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			ps := in.set
			return in, in.req.Principal.Kind == eval.KindRole && ps.resource != nil && ps.resource.d != nil &&
				(ps.boundary != nil || ps.session != nil) && judged(in, "wildcard-grant-session-limits")
		},
		after: func(in input, res eval.Result, d eval.Decision) eval.Decision {
			// The oracle takes a role ARN caller for the role itself: a grant
			// it gets through a NotPrincipal that does not exclude it is a
			// grant to the role, limited by the boundary and session policy.
			// Only a grant to "*" bypasses them.
			if d != eval.Allowed {
				return d
			}
			granted, bypass, limited := false, false, false
			stmts := in.set.resource.d.Statements
			for _, r := range res.Reasons {
				if r.Layer == eval.LayerResource && r.Matched && r.Effect == policy.Allow && r.Statement < len(stmts) {
					granted = true
					if r.PrincipalMatch == eval.MatchPrincipal || (r.PrincipalMatch == eval.MatchWildcard && stmts[r.Statement].NotPrincipal == nil) {
						bypass = true
					}
				}
			}
			for _, l := range res.Layers {
				if (l.Layer == eval.LayerBoundary || l.Layer == eval.LayerSession) && l.Outcome == eval.OutcomeImplicitlyDenied {
					limited = true
				}
			}
			if granted && !bypass && limited {
				return eval.ImplicitlyDenied
			}
			return d
		}},
	"oracle-notipaddress-bare-address-family": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			vs, ok := bareAddressVariant(in.set, in.req.Context)
			if ok {
				in.set = vs
			}
			return in, ok
		}},
	"oracle-foranyvalue-ifexists": setRule("oracle-foranyvalue-ifexists", dropForAnyValueIfExists),
	"negated-arn-condition-unresolved-variable": {phase: phaseDisagree,
		emulate: func(_ *verdict, in input) (input, bool) {
			vs, ok := unresolvedNegatedVariant(in.set, in.req.Context)
			if ok {
				in.set = vs
			}
			return in, ok
		}},
	"oracle-defect-4-scp-service-principal": {phase: phaseAdapted,
		adapted: func(c *tcase) bool {
			k := c.req.Principal.Kind
			return len(c.set.scps) > 0 && (k == eval.KindService || k == eval.KindAnonymous)
		}},
}

var allowAllSession = mustJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

// ruleOrder is the order in which rules are applied when combined (rules
// that rewrite documents wholesale first); it also fixes the order of ids
// in a combined class name.
var ruleOrder = []string{
	"oracle-defect-2-encryption-context", "oracle-defect-5-ignored-key", "unknown-operator",
	"policy-variables-version-2008", "oracle-defect-1-arn-variable",
	"oracle-notprincipal-deny-names-account", "judgement-notprincipal-partial-chain",
	"federated-user-without-session-policy", "oracle-session-policy-limits-session-grant",
	"oracle-session-policy-limits-principalarn-grant", "judgement-wildcard-grant-session-policy",
	"judgement-role-caller-notprincipal-grant",
	"oracle-notipaddress-bare-address-family", "oracle-foranyvalue-ifexists",
	"negated-arn-condition-unresolved-variable",
}

// maxCombined bounds how many known differences may explain one case.
const maxCombined = 3

// classify assigns the verdict's class: classAgree, the id of the known
// class that explains the difference, or several ids joined with "+" when
// only their combination does. Every rule is checked on the case itself;
// nothing depends on the case id.
func classify(v *verdict, known *knownFile) {
	if len(v.ans.Errors) > 0 || v.ans.Decision == "" {
		return // an oracle error is never explained
	}
	dropped := len(droppedKeys(v)) > 0
	if !dropped && v.twErr == nil && string(v.tw.Decision) == v.ans.Decision {
		v.class = classAgree
		return
	}
	base := input{set: v.c.set, req: v.c.req}
	base.req.Context = cloneContext(v.derived)
	// Rules of the dropped-key and rejected phases are required whenever they
	// concern the case: without them the two evaluators did not judge the
	// same input.
	var required, optional []string
	for _, id := range ruleOrder {
		if !known.has(id) {
			continue
		}
		switch rules[id].phase {
		case phaseDropped, phaseRejected:
			if _, ok := rules[id].emulate(v, base); ok {
				required = append(required, id)
			}
		case phaseDisagree:
			optional = append(optional, id)
		}
	}
	if (dropped || v.twErr != nil) && len(required) == 0 {
		return
	}
	for size := 0; size <= maxCombined && size <= len(optional); size++ {
		for _, extra := range combinations(optional, size) {
			combo := append(slices.Clone(required), extra...)
			if len(combo) == 0 {
				continue
			}
			slices.SortFunc(combo, func(a, b string) int {
				return slices.Index(ruleOrder, a) - slices.Index(ruleOrder, b)
			})
			if d, ok := emulateAll(v, base, combo); ok && string(d) == v.ans.Decision {
				v.class, v.emu = strings.Join(combo, "+"), d
				return
			}
		}
	}
}

// emulateAll applies the rules in order and evaluates; ok is false when a
// rule does not concern the input it gets (the combination is then not an
// explanation) or trailwarden rejects the emulated set.
func emulateAll(v *verdict, in input, combo []string) (eval.Decision, bool) {
	for _, id := range combo {
		var ok bool
		if in, ok = rules[id].emulate(v, in); !ok {
			return "", false
		}
	}
	res, err := in.set.evaluate(in.req)
	if err != nil {
		return "", false
	}
	d := res.Decision
	for _, id := range combo {
		if after := rules[id].after; after != nil {
			d = after(in, res, d)
		}
	}
	return d, true
}

// combinations returns the size-k subsets of ids, keeping their order.
func combinations(ids []string, k int) [][]string {
	if k == 0 {
		return [][]string{nil}
	}
	var out [][]string
	for i := 0; i+k <= len(ids); i++ {
		for _, rest := range combinations(ids[i+1:], k-1) {
			out = append(out, append([]string{ids[i]}, rest...))
		}
	}
	return out
}

// droppedKeys are the context keys the oracle ignored that a policy of the
// set uses, lower-cased.
func droppedKeys(v *verdict) []string {
	if len(v.ans.IgnoredContextKeys) == 0 {
		return nil
	}
	used := v.c.set.referencedKeys()
	var out []string
	for _, k := range v.ans.IgnoredContextKeys {
		if lk := strings.ToLower(k); used[lk] && !slices.Contains(out, lk) {
			out = append(out, lk)
		}
	}
	slices.Sort(out)
	return out
}

// withoutKeys removes from the request the keys the oracle ignored that a
// policy uses and pick selects: the request as the oracle saw it. An
// explicit empty value also removes a key trailwarden would derive.
func withoutKeys(v *verdict, in input, pick func(lower string) bool) (input, bool) {
	var keys []string
	for _, k := range droppedKeys(v) {
		if pick(k) {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return in, false
	}
	in.req.Context = cloneContext(in.req.Context)
	for ck := range in.req.Context {
		if slices.Contains(keys, strings.ToLower(ck)) {
			delete(in.req.Context, ck)
		}
	}
	for _, k := range keys {
		in.req.Context[k] = nil
	}
	return in, true
}

func cloneContext(m map[string][]string) map[string][]string {
	out := make(map[string][]string, len(m)+1)
	for k, v := range m {
		out[k] = slices.Clone(v)
	}
	return out
}

func isSession(p eval.Principal) bool {
	return p.Kind == eval.KindAssumedRoleSession || p.Kind == eval.KindRole || p.Kind == eval.KindFederatedUser
}

// mapConditions copies the set, applying f to every condition of every
// parsed document; ok is false when f changed nothing.
func mapConditions(ps *policySet, f func(d *policy.Document, c *policy.Condition) bool) (*policySet, bool) {
	changed := false
	rewrite := func(d doc) doc {
		if d.d == nil {
			return d
		}
		c := d.d.Clone()
		hit := false
		for si := range c.Statements {
			for ci := range c.Statements[si].Condition {
				if f(c, &c.Statements[si].Condition[ci]) {
					hit = true
				}
			}
		}
		if !hit {
			return d
		}
		changed = true
		return fromDoc(c)
	}
	out := ps.clone()
	for i := range out.identity {
		out.identity[i] = rewrite(out.identity[i])
	}
	for _, p := range []**doc{&out.resource, &out.boundary, &out.session} {
		if *p != nil {
			d := rewrite(**p)
			*p = &d
		}
	}
	for _, ls := range [][][]doc{out.scps, out.rcps} {
		for l := range ls {
			for i := range ls[l] {
				ls[l][i] = rewrite(ls[l][i])
			}
		}
	}
	return out, changed
}

// dropForAnyValueIfExists is the set as the oracle reads it: IfExists has no
// effect under ForAnyValue (an absent key fails ForAnyValue first). With the
// key present IfExists changes nothing, so dropping it is exact.
func dropForAnyValueIfExists(ps *policySet) (*policySet, bool) {
	return mapConditions(ps, func(d *policy.Document, c *policy.Condition) bool {
		if c.Operator.Set == policy.ForAnyValue && c.Operator.IfExists {
			c.Operator.IfExists = false
			return true
		}
		return false
	})
}

// bareAddressVariant is the set as the oracle reads it for this request:
// under NotIpAddress, a bare address (no prefix length) of the other IP
// family than the request's aws:SourceIp counts as containing it. The
// emulation replaces such values by the whole address space of the
// request's family.
func bareAddressVariant(ps *policySet, ctx map[string][]string) (*policySet, bool) {
	var ip []string
	for k, v := range ctx {
		if strings.EqualFold(k, "aws:SourceIp") {
			ip = v
		}
	}
	if len(ip) != 1 {
		return nil, false
	}
	v6 := strings.Contains(ip[0], ":")
	all := "0.0.0.0/0"
	if v6 {
		all = "::/0"
	}
	vs, ok := ps.variant("oracle-notipaddress-bare-address-family:"+all, func(ps *policySet) (*policySet, bool) {
		return mapConditions(ps, func(d *policy.Document, c *policy.Condition) bool {
			if c.Operator.Base != "NotIpAddress" || !strings.EqualFold(c.Key, "aws:SourceIp") {
				return false
			}
			hit := false
			for i, val := range c.Values {
				if !strings.Contains(val, "/") && strings.Contains(val, ":") != v6 {
					c.Values[i] = all
					hit = true
				}
			}
			return hit
		})
	})
	return vs, ok
}

// variablesIn2008 is the set as the oracle reads it: documents of version
// 2008-10-17 (or without Version) that contain "${" are evaluated as
// 2012-10-17, with their policy variables substituted.
func variablesIn2008(ps *policySet) (*policySet, bool) {
	changed := false
	rewrite := func(d doc) doc {
		if d.d == nil || d.d.Version == policy.Version2012 || !strings.Contains(string(d.text), "${") {
			return d
		}
		c := d.d.Clone()
		c.Version = policy.Version2012
		changed = true
		return fromDoc(c)
	}
	out := ps.clone()
	for i := range out.identity {
		out.identity[i] = rewrite(out.identity[i])
	}
	for _, p := range []**doc{&out.resource, &out.boundary, &out.session} {
		if *p != nil {
			d := rewrite(**p)
			*p = &d
		}
	}
	for _, ls := range [][][]doc{out.scps, out.rcps} {
		for l := range ls {
			for i := range ls[l] {
				ls[l][i] = rewrite(ls[l][i])
			}
		}
	}
	return out, changed
}

// negatedOperators are the negated ARN operators (values must all fail to
// match), with the literal that replaces an unresolvable value. trailwarden
// makes such a condition false when a value has a variable without a value;
// the oracle does so for negated string operators too, but not for ARN ones.
var negatedOperators = map[string]string{"ArnNotEquals": neverMatchARN, "ArnNotLike": neverMatchARN}

// unresolvedNegatedVariant is the set as the oracle reads it for this
// request: under a negated operator, a value whose variable has no value
// simply does not match (so the negated test holds for it). The emulation
// replaces such values by a literal that matches nothing.
func unresolvedNegatedVariant(ps *policySet, ctx map[string][]string) (*policySet, bool) {
	var missing []string
	ps.each(func(_ string, d *doc) {
		if d.d == nil || d.d.Version != policy.Version2012 {
			return
		}
		for _, st := range d.d.Statements {
			for _, c := range st.Condition {
				if _, neg := negatedOperators[c.Operator.Base]; !neg {
					continue
				}
				for _, val := range c.Values {
					if unresolvedVariable(val, ctx) && !slices.Contains(missing, val) {
						missing = append(missing, val)
					}
				}
			}
		}
	})
	if len(missing) == 0 {
		return nil, false
	}
	slices.Sort(missing)
	return ps.variant("negated-arn-condition-unresolved-variable:"+strings.Join(missing, "|"), func(ps *policySet) (*policySet, bool) {
		return mapConditions(ps, func(d *policy.Document, c *policy.Condition) bool {
			lit, neg := negatedOperators[c.Operator.Base]
			if !neg || d.Version != policy.Version2012 {
				return false
			}
			hit := false
			for i, val := range c.Values {
				if slices.Contains(missing, val) {
					c.Values[i] = lit
					hit = true
				}
			}
			return hit
		})
	})
}

// multivalued are the keys trailwarden types as multivalued (they never
// resolve as policy variables); mirrors internal/eval.
var multivalued = map[string]bool{
	"aws:principalorgpaths": true, "aws:principalservicenameslist": true, "aws:vpceorgpaths": true,
	"aws:resourceorgpaths": true, "aws:calledvia": true, "aws:tagkeys": true, "aws:sourceorgpaths": true,
	"kms:encryptioncontextkeys": true,
}

// unresolvedVariable reports whether s has a policy variable without a
// default whose key has no single value in ctx.
func unresolvedVariable(s string, ctx map[string][]string) bool {
	lower := map[string][]string{}
	for k, v := range ctx {
		lower[strings.ToLower(k)] = v
	}
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			return false
		}
		s = s[i+2:]
		j := strings.Index(s, "}")
		if j < 0 {
			return false
		}
		body := s[:j]
		s = s[j+1:]
		name, _, hasDefault := strings.Cut(body, ",")
		name = strings.ToLower(strings.TrimSpace(name))
		if hasDefault || name == "*" || name == "?" || name == "$" {
			continue
		}
		if len(lower[name]) != 1 || multivalued[name] {
			return true
		}
	}
}

// stmtRef names one statement of a set: the document's printout name and
// the statement index.
type stmtRef struct {
	doc  string
	stmt int
}

// rewriteStatements applies f to each listed statement.
func rewriteStatements(ps *policySet, refs []stmtRef, f func(*policy.Statement)) *policySet {
	return editDocs(ps, refs, func(c *policy.Document, idx []int) {
		for _, i := range idx {
			f(&c.Statements[i])
		}
	})
}

// editDocs copies the set and applies edit to a clone of every document
// named in refs, with the indexes of its listed statements.
func editDocs(ps *policySet, refs []stmtRef, edit func(*policy.Document, []int)) *policySet {
	out := ps.clone()
	byDoc := map[string][]int{}
	for _, r := range refs {
		byDoc[r.doc] = append(byDoc[r.doc], r.stmt)
	}
	fix := func(name string, d doc) doc {
		idx, ok := byDoc[name]
		if !ok || d.d == nil {
			return d
		}
		c := d.d.Clone()
		edit(c, idx)
		return fromDoc(c)
	}
	// Names follow policySet.each.
	for i := range out.identity {
		out.identity[i] = fix(fmt.Sprintf("identity-%d", i+1), out.identity[i])
	}
	for name, p := range map[string]**doc{"resource": &out.resource, "boundary": &out.boundary, "session": &out.session} {
		if *p != nil {
			d := fix(name, **p)
			*p = &d
		}
	}
	for l := range out.scps {
		for i := range out.scps[l] {
			out.scps[l][i] = fix(fmt.Sprintf("scp-level%d-%d", l+1, i+1), out.scps[l][i])
		}
	}
	for l := range out.rcps {
		for i := range out.rcps[l] {
			out.rcps[l][i] = fix(fmt.Sprintf("rcp-level%d-%d", l+1, i+1), out.rcps[l][i])
		}
	}
	return out
}

// callerChain is every identity AWS may check a NotPrincipal against for
// the caller: its account, its own ARN and, for a session or federated
// user, what it was issued from.
func callerChain(p eval.Principal) []string {
	out := []string{"arn:aws:iam::" + p.Account + ":root"}
	for _, a := range []string{p.ARN, p.IssuerARN} {
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// chainListing says which identities of the caller's chain a NotPrincipal
// lists: its own (the caller's ARN, or the account for a root caller) and
// the ones above it (account; role or IAM user it was issued from).
type chainListing struct {
	own, someUp, allUp bool
}

// listing reads a NotPrincipal element for the caller.
func listing(np *policy.Principal, p eval.Principal) chainListing {
	chain := callerChain(p)
	names := func(id string) bool {
		if slices.Contains(np.AWS, id) {
			return true
		}
		// An account id stands for the account root ARN.
		return id == chain[0] && slices.Contains(np.AWS, p.Account)
	}
	if p.Kind == eval.KindRoot {
		return chainListing{own: names(chain[0]), allUp: true}
	}
	l := chainListing{own: names(p.ARN), allUp: true}
	for _, id := range chain {
		if id == p.ARN {
			continue
		}
		if names(id) {
			l.someUp = true
		} else if id == chain[0] || p.Kind == eval.KindAssumedRoleSession {
			l.allUp = false // the account, and a session's role, are required
		}
	}
	return l
}

// notPrincipalPartial lists the statements whose NotPrincipal names some
// identity of an IAM caller's chain but not all of it, and that pick keeps.
func notPrincipalPartial(ps *policySet, p eval.Principal, pick func(*policy.Statement, chainListing) bool) []stmtRef {
	if p.Account == "" {
		return nil
	}
	var out []stmtRef
	ps.each(func(name string, d *doc) {
		if d.d == nil {
			return
		}
		for i := range d.d.Statements {
			st := &d.d.Statements[i]
			if st.NotPrincipal == nil || st.NotPrincipal.Wildcard || slices.Contains(st.NotPrincipal.AWS, "*") {
				continue
			}
			l := listing(st.NotPrincipal, p)
			partial := (l.own || l.someUp) && (!l.own || !l.allUp)
			if partial && pick(st, l) {
				out = append(out, stmtRef{name, i})
			}
		}
	})
	return out
}

// withWholeChain adds the caller's whole chain to the NotPrincipal of the
// partial statements pick keeps; false when there are none.
func withWholeChain(in input, id string, pick func(*policy.Statement, chainListing) bool) (input, bool) {
	p := in.req.Principal
	refs := notPrincipalPartial(in.set, p, pick)
	if len(refs) == 0 {
		return in, false
	}
	key := fmt.Sprintf("%s:%s|%s|%s", id, p.Account, p.ARN, p.IssuerARN)
	in.set, _ = in.set.variant(key, func(ps *policySet) (*policySet, bool) {
		return rewriteStatements(ps, refs, func(st *policy.Statement) {
			st.NotPrincipal.AWS = append(st.NotPrincipal.AWS, callerChain(p)...)
		}), true
	})
	return in, true
}

// judged reports whether trailwarden's decision on the input rests on the
// judgement call id.
func judged(in input, id string) bool {
	res, err := in.set.evaluate(in.req)
	if err != nil {
		return false
	}
	for _, j := range res.Judgements {
		if j.ID == id {
			return true
		}
	}
	return false
}

// grantKinds says how the resource policy's matched Allow statements name
// the caller.
type grantKinds struct {
	exact    bool // its own ARN (Match)
	wildcard bool // "*" or a NotPrincipal that does not exempt it
}

func grants(res eval.Result) grantKinds {
	var g grantKinds
	for _, r := range res.Reasons {
		if r.Layer != eval.LayerResource || !r.Matched || r.Effect != policy.Allow {
			continue
		}
		g.exact = g.exact || r.PrincipalMatch == eval.MatchPrincipal
		g.wildcard = g.wildcard || r.PrincipalMatch == eval.MatchWildcard
	}
	return g
}

func layerOutcome(res eval.Result, l eval.Layer) eval.Outcome {
	for _, lr := range res.Layers {
		if lr.Layer == l {
			return lr.Outcome
		}
	}
	return ""
}

// neverMatchARN replaces ARN condition values the oracle splits wrongly. It
// has six segments, so it is a well-formed pattern that matches no ARN the
// tests use.
const neverMatchARN = "arn:aws:difftest:never:000000000000:never-matches"

// arnVariableBeforeResource reports whether a raw ARN condition value has a
// policy variable before its fifth colon, where the oracle's split of the
// unsubstituted text breaks it (defect 1).
func arnVariableBeforeResource(v string) bool {
	i := strings.Index(v, "${")
	if i < 0 {
		return false
	}
	colons := 0
	for j := 0; j < len(v); j++ {
		if v[j] == ':' {
			colons++
			if colons == 5 {
				return i < j
			}
		}
	}
	return true
}

// neverMatchArnVariables is the set as the oracle evaluates it under defect 1.
func neverMatchArnVariables(ps *policySet) (*policySet, bool) {
	changed := false
	rewrite := func(d doc) doc {
		if d.d == nil || d.d.Version != policy.Version2012 {
			return d
		}
		c := d.d.Clone()
		hit := false
		for si := range c.Statements {
			for ci := range c.Statements[si].Condition {
				cond := &c.Statements[si].Condition[ci]
				if !strings.HasPrefix(cond.Operator.Base, "Arn") {
					continue
				}
				for vi, val := range cond.Values {
					if arnVariableBeforeResource(val) {
						cond.Values[vi] = neverMatchARN
						hit = true
					}
				}
			}
		}
		if !hit {
			return d
		}
		changed = true
		return fromDoc(c)
	}
	out := ps.clone()
	for i := range out.identity {
		out.identity[i] = rewrite(out.identity[i])
	}
	for _, p := range []**doc{&out.resource, &out.boundary, &out.session} {
		if *p != nil {
			d := rewrite(**p)
			*p = &d
		}
	}
	for _, ls := range [][][]doc{out.scps, out.rcps} {
		for l := range ls {
			for i := range ls[l] {
				ls[l][i] = rewrite(ls[l][i])
			}
		}
	}
	return out, changed
}

// neutralizeUnknownOperators is the set as the oracle evaluates it when a
// condition operator is unknown: that condition never matches. Each unknown
// operator block is replaced by a Null test on a key no request has.
func neutralizeUnknownOperators(ps *policySet) (*policySet, bool) {
	changed := false
	fix := func(d doc) doc {
		if d.err == nil {
			return d
		}
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(string(d.text)))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return d
		}
		var stmts []any
		switch s := m["Statement"].(type) {
		case []any:
			stmts = s
		case map[string]any:
			stmts = []any{s}
		}
		hit := false
		for _, s := range stmts {
			st, _ := s.(map[string]any)
			cond, _ := st["Condition"].(map[string]any)
			for op := range cond {
				if _, err := policy.ParseOperator(op); err != nil {
					delete(cond, op)
					null, _ := cond["Null"].(map[string]any)
					if null == nil {
						null = map[string]any{}
						cond["Null"] = null
					}
					null["difftest:nokey"] = "false"
					hit = true
				}
			}
		}
		if !hit {
			return d
		}
		text, err := json.Marshal(m)
		if err != nil {
			return d
		}
		changed = true
		return fromJSON(string(text))
	}
	out := ps.clone()
	for i := range out.identity {
		out.identity[i] = fix(out.identity[i])
	}
	for _, p := range []**doc{&out.resource, &out.boundary, &out.session} {
		if *p != nil {
			d := fix(**p)
			*p = &d
		}
	}
	for _, ls := range [][][]doc{out.scps, out.rcps} {
		for l := range ls {
			for i := range ls[l] {
				ls[l][i] = fix(ls[l][i])
			}
		}
	}
	return out, changed
}

// judgementIDs are the evaluator's judgement calls.
var judgementIDs = func() map[string]bool {
	out := map[string]bool{}
	for _, j := range eval.JudgementClasses() {
		out[j.ID] = true
	}
	return out
}()

// TestKnownDifferencesFile checks the data file: every class is complete,
// justified by an AWS documentation sentence and backed by a rule, and every
// rule is listed.
func TestKnownDifferencesFile(t *testing.T) {
	k := loadKnown(t)
	seen := map[string]bool{}
	for _, c := range k.Classes {
		if seen[c.ID] {
			t.Errorf("class %q listed twice", c.ID)
		}
		seen[c.ID] = true
		for field, val := range map[string]string{"kind": c.Kind, "handling": c.Handling, "spec": c.Spec,
			"summary": c.Summary, "documentation_supports": c.DocSupports, "why": c.Why,
			"oracle": c.Oracle, "trailwarden": c.Trailwarden, "rule": c.Rule,
			"aws_doc.url": c.AWSDoc.URL, "aws_doc.quote": c.AWSDoc.Quote} {
			if strings.TrimSpace(val) == "" {
				t.Errorf("class %q: %s is empty", c.ID, field)
			}
		}
		switch {
		case c.Kind == "suspected-trailwarden-bug" && !strings.HasPrefix(c.ID, "trailwarden-bug-"),
			c.Kind != "suspected-trailwarden-bug" && strings.HasPrefix(c.ID, "trailwarden-bug-"):
			t.Errorf("class %q: kind suspected-trailwarden-bug goes with ids trailwarden-bug-<n>", c.ID)
		case c.Kind != "oracle-defect" && c.Kind != "deliberate" && c.Kind != "judgement-call" && c.Kind != "suspected-trailwarden-bug":
			t.Errorf("class %q: unknown kind %q", c.ID, c.Kind)
		}
		// The side the documentation supports follows from the kind: a
		// judgement call is one it does not settle, and names the
		// evaluator's judgement it rests on.
		wantSupport := map[string]string{"oracle-defect": "trailwarden", "deliberate": "trailwarden",
			"judgement-call": "neither", "suspected-trailwarden-bug": "oracle"}[c.Kind]
		if c.DocSupports != wantSupport {
			t.Errorf("class %q: documentation_supports %q, want %q for kind %s", c.ID, c.DocSupports, wantSupport, c.Kind)
		}
		switch {
		case c.Kind == "judgement-call" && !judgementIDs[c.Judgement]:
			t.Errorf("class %q: judgement %q is not one of the evaluator's (eval.JudgementClasses)", c.ID, c.Judgement)
		case c.Kind != "judgement-call" && c.Judgement != "":
			t.Errorf("class %q: only judgement-call classes name a judgement", c.ID)
		}
		if !strings.HasPrefix(c.AWSDoc.URL, "https://docs.aws.amazon.com/") {
			t.Errorf("class %q: aws_doc.url %q is not an AWS documentation page", c.ID, c.AWSDoc.URL)
		}
		r, ok := rules[c.ID]
		switch {
		case !ok:
			t.Errorf("class %q has no rule in known_test.go", c.ID)
		case c.Handling == handlingAdapted && r.phase != phaseAdapted,
			c.Handling == handlingClassified && r.phase == phaseAdapted:
			t.Errorf("class %q: handling %q does not match its rule", c.ID, c.Handling)
		case c.Handling != handlingAdapted && c.Handling != handlingClassified:
			t.Errorf("class %q: unknown handling %q", c.ID, c.Handling)
		}
	}
	for id, r := range rules {
		if !seen[id] {
			t.Errorf("rule %q is not listed in known_differences.yaml", id)
		}
		if r.phase != phaseAdapted && !slices.Contains(ruleOrder, id) {
			t.Errorf("rule %q is missing from ruleOrder", id)
		}
	}
}
