package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/testkit/oracle"
)

// doc is one policy document: the exact text the oracle receives and what
// policy.Parse made of it (d is nil and err set when trailwarden rejects it).
type doc struct {
	text json.RawMessage
	d    *policy.Document
	err  error
}

func fromDoc(d *policy.Document) doc { return doc{text: policy.Compact(d), d: d} }

// fromJSON parses policy text written by the tests. Invalid JSON is a bug in
// the test, not a case.
func fromJSON(s string) doc {
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(s)); err != nil {
		panic(fmt.Sprintf("difftest: invalid policy JSON %q: %v", s, err))
	}
	d, err := policy.Parse(buf.Bytes())
	return doc{text: buf.Bytes(), d: d, err: err}
}

// mustJSON is fromJSON for fixed documents that trailwarden must accept.
func mustJSON(s string) doc {
	d := fromJSON(s)
	if d.err != nil {
		panic(fmt.Sprintf("difftest: fixed policy rejected: %v", d.err))
	}
	return d
}

// policySet is every policy taking part in a decision, as both evaluators
// get it. Sets are shared by many cases and compiled once.
type policySet struct {
	identity []doc
	resource *doc
	boundary *doc
	session  *doc
	scps     [][]doc
	rcps     [][]doc
	kind     eval.ResourceKind

	compiled bool
	ev       *eval.Evaluator
	err      error
	variants map[string]*policySet // emulations of known differences, by class id
}

// clone copies the set without its compiled state; document slices are copied
// so that a variant can replace documents without touching the original.
func (ps *policySet) clone() *policySet {
	c := &policySet{identity: slices.Clone(ps.identity), resource: ps.resource, boundary: ps.boundary,
		session: ps.session, kind: ps.kind}
	for _, l := range ps.scps {
		c.scps = append(c.scps, slices.Clone(l))
	}
	for _, l := range ps.rcps {
		c.rcps = append(c.rcps, slices.Clone(l))
	}
	return c
}

// each calls f for every document with the name the printouts use.
func (ps *policySet) each(f func(name string, d *doc)) {
	for i := range ps.identity {
		f(fmt.Sprintf("identity-%d", i+1), &ps.identity[i])
	}
	if ps.resource != nil {
		f("resource", ps.resource)
	}
	if ps.boundary != nil {
		f("boundary", ps.boundary)
	}
	if ps.session != nil {
		f("session", ps.session)
	}
	for l := range ps.scps {
		for i := range ps.scps[l] {
			f(fmt.Sprintf("scp-level%d-%d", l+1, i+1), &ps.scps[l][i])
		}
	}
	for l := range ps.rcps {
		for i := range ps.rcps[l] {
			f(fmt.Sprintf("rcp-level%d-%d", l+1, i+1), &ps.rcps[l][i])
		}
	}
}

// evaluator compiles the set once. A document policy.Parse rejected makes
// the whole set rejected, as AWS would refuse to store it.
func (ps *policySet) evaluator() (*eval.Evaluator, error) {
	if ps.compiled {
		return ps.ev, ps.err
	}
	ps.compiled = true
	var p eval.Policies
	var rejected error
	named := func(name string, d *doc) *eval.Named {
		if d.err != nil && rejected == nil {
			rejected = fmt.Errorf("%s: %w", name, d.err)
		}
		return &eval.Named{Name: name, Doc: d.d}
	}
	for i := range ps.identity {
		p.Identity = append(p.Identity, *named(fmt.Sprintf("identity-%d", i+1), &ps.identity[i]))
	}
	if ps.resource != nil {
		p.Resource = named("resource", ps.resource)
	}
	if ps.boundary != nil {
		p.Boundary = named("boundary", ps.boundary)
	}
	if ps.session != nil {
		p.Session = named("session", ps.session)
	}
	levels := func(prefix string, ls [][]doc) [][]eval.Named {
		var out [][]eval.Named
		for l := range ls {
			lv := []eval.Named{}
			for i := range ls[l] {
				lv = append(lv, *named(fmt.Sprintf("%s-level%d-%d", prefix, l+1, i+1), &ls[l][i]))
			}
			out = append(out, lv)
		}
		return out
	}
	p.SCPs = levels("scp", ps.scps)
	p.RCPs = levels("rcp", ps.rcps)
	p.ResourceKind = ps.kind
	if rejected != nil {
		ps.err = rejected
		return nil, ps.err
	}
	ps.ev, ps.err = eval.Compile(p)
	return ps.ev, ps.err
}

func (ps *policySet) evaluate(r eval.Request) (eval.Result, error) {
	ev, err := ps.evaluator()
	if err != nil {
		return eval.Result{}, err
	}
	return ev.Evaluate(r), nil
}

// variant returns the set transformed by f, built and compiled once per
// class id. ok is false when f changes nothing.
func (ps *policySet) variant(id string, f func(*policySet) (*policySet, bool)) (*policySet, bool) {
	if ps.variants == nil {
		ps.variants = map[string]*policySet{}
	}
	if v, seen := ps.variants[id]; seen {
		return v, v != nil
	}
	v, ok := f(ps)
	if !ok {
		v = nil
	}
	ps.variants[id] = v
	return v, ok
}

// referencedKeys are the lower-cased condition keys and policy-variable
// names of every parsed document of the set.
func (ps *policySet) referencedKeys() map[string]bool {
	keys := map[string]bool{}
	addVars := func(s string) {
		for {
			i := strings.Index(s, "${")
			if i < 0 {
				return
			}
			s = s[i+2:]
			j := strings.IndexAny(s, ",}")
			if j < 0 {
				return
			}
			keys[strings.ToLower(strings.TrimSpace(s[:j]))] = true
		}
	}
	ps.each(func(_ string, d *doc) {
		if d.d == nil {
			return
		}
		for _, st := range d.d.Statements {
			for _, r := range append(slices.Clone(st.Resource), st.NotResource...) {
				addVars(r)
			}
			for _, c := range st.Condition {
				keys[strings.ToLower(c.Key)] = true
				for _, v := range c.Values {
					addVars(v)
				}
			}
		}
	})
	return keys
}

// tcase is one differential case. id is for printouts only: nothing is ever
// decided by it.
type tcase struct {
	id     string
	source string // e.g. "generated/org-trail/bucket", "random"
	set    *policySet
	req    eval.Request
}

// principalString is the caller as the oracle takes it.
func principalString(p eval.Principal) string {
	switch p.Kind {
	case eval.KindAnonymous:
		return oracle.AnonymousPrincipal
	case eval.KindService:
		return p.Service
	}
	return p.ARN
}

// oracleContext is the context trailwarden evaluates with
// (eval.DeriveContext), minus keys without values: trailwarden treats an
// empty list as an absent key, while the oracle would see a present, empty
// key. Nothing else is dropped or renamed.
func oracleContext(derived map[string][]string) map[string][]string {
	ctx := make(map[string][]string, len(derived))
	for k, v := range derived {
		if len(v) > 0 {
			ctx[k] = v
		}
	}
	return ctx
}

func (c *tcase) oracleCase(ctx map[string][]string) oracle.Case {
	ps := c.set
	oc := oracle.Case{
		ID: c.id, Principal: principalString(c.req.Principal), Action: c.req.Action,
		Resource: c.req.Resource, ResourceAccount: c.req.ResourceAccount, Context: ctx,
	}
	if c.req.Principal.Kind == eval.KindRoot {
		// Known difference root-user-full-access (adapted): the oracle gives
		// the root user no implicit permissions, so it gets them as a policy.
		oc.IdentityPolicies = append(oc.IdentityPolicies, rootFullAccess.text)
	}
	for _, d := range ps.identity {
		oc.IdentityPolicies = append(oc.IdentityPolicies, d.text)
	}
	if ps.resource != nil {
		oc.ResourcePolicy = ps.resource.text
	}
	if ps.boundary != nil {
		oc.PermissionBoundary = ps.boundary.text
	}
	if ps.session != nil {
		oc.SessionPolicy = ps.session.text
	}
	for _, l := range ps.scps {
		lv := []json.RawMessage{}
		for _, d := range l {
			lv = append(lv, d.text)
		}
		oc.SCPs = append(oc.SCPs, lv)
	}
	for _, l := range ps.rcps {
		lv := []json.RawMessage{}
		for _, d := range l {
			lv = append(lv, d.text)
		}
		oc.RCPs = append(oc.RCPs, lv)
	}
	return oc
}

// rootFullAccess is what the oracle gets as identity policy for the root
// user, whose full access in its account AWS documents.
var rootFullAccess = mustJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

// classAgree marks cases where both evaluators decided the same.
const classAgree = "agree"

// verdict is one compared case.
type verdict struct {
	c       *tcase
	derived map[string][]string // eval.DeriveContext of the request
	sent    map[string][]string // the context the oracle received
	tw      eval.Result
	twErr   error // trailwarden rejected a policy of the set
	ans     oracle.Answer
	class   string        // classAgree, known-difference ids joined with "+", or "" (unexplained)
	emu     eval.Decision // trailwarden's decision with the class emulated
}

// startOracle starts the Node oracle or fails the test: the suite must never
// pass vacuously because the oracle is missing.
func startOracle(t testing.TB) *oracle.Oracle {
	t.Helper()
	dir, err := oracle.FindDir()
	if err != nil {
		t.Fatalf("%v: %v", oracle.ErrNotInstalled, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o, err := oracle.Start(ctx, dir)
	if err != nil {
		t.Fatal(err) // wraps oracle.ErrNotInstalled, naming `make setup`, when missing
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Error(err)
		}
	})
	return o
}

// compare runs every case through both evaluators and classifies it.
func compare(t *testing.T, o *oracle.Oracle, cases []*tcase, known *knownFile) []*verdict {
	t.Helper()
	vs := make([]*verdict, len(cases))
	ocs := make([]oracle.Case, len(cases))
	for i, c := range cases {
		v := &verdict{c: c, derived: eval.DeriveContext(c.req)}
		v.sent = oracleContext(v.derived)
		v.tw, v.twErr = c.set.evaluate(c.req)
		vs[i] = v
		ocs[i] = c.oracleCase(v.sent)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	answers, err := o.Run(ctx, ocs)
	if err != nil {
		t.Fatalf("oracle: %v", err)
	}
	for i, v := range vs {
		v.ans = answers[i]
		classify(v, known)
	}
	return vs
}

// report logs the counts per source and class and fails the test on every
// unexplained disagreement, printing the first few in full.
func report(t *testing.T, vs []*verdict, known *knownFile) {
	t.Helper()
	type key struct{ source, class string }
	counts := map[key]int{}
	sources := map[string]int{}
	classes := map[string]int{}
	perClass := map[string]int{}
	var failed []*verdict
	for _, v := range vs {
		src := v.c.source
		if parts := strings.Split(src, "/"); len(parts) == 3 && parts[0] == "generated" {
			src = "generated/" + parts[2] // per target, all configs together
		}
		sources[src]++
		sources["all"]++
		class := v.class
		switch class {
		case "":
			class = "UNEXPLAINED"
			failed = append(failed, v)
		case classAgree:
			class = classAgree + "/" + string(v.tw.Decision)
		default:
			for _, id := range strings.Split(class, "+") {
				perClass[id]++
			}
		}
		counts[key{src, class}]++
		counts[key{"all", class}]++
		classes[class]++
	}
	labels := slices.Sorted(maps.Keys(classes))
	for _, s := range append(slices.DeleteFunc(slices.Sorted(maps.Keys(sources)), func(s string) bool { return s == "all" }), "all") {
		var parts []string
		for _, cls := range labels {
			if n := counts[key{s, cls}]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s=%d", cls, n))
			}
		}
		t.Logf("%-26s %6d cases: %s", s, sources[s], strings.Join(parts, " "))
	}
	for _, c := range known.Classes {
		switch c.Handling {
		case handlingClassified:
			t.Logf("known difference %-40s %5d cases (alone or combined)", c.ID, perClass[c.ID])
		case handlingAdapted:
			n := 0
			for _, v := range vs {
				if rules[c.ID].adapted(v.c) {
					n++
				}
			}
			t.Logf("adapted input    %-40s %5d cases, compared normally", c.ID, n)
		}
	}
	if path := os.Getenv("DIFFTEST_DUMP"); path != "" && len(failed) > 0 {
		// Debugging aid: the oracle input of every unexplained case, one JSON
		// object per line.
		var b bytes.Buffer
		for _, v := range failed {
			j, _ := json.Marshal(v.c.oracleCase(v.sent))
			b.Write(append(j, '\n'))
		}
		if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
			t.Error(err)
		}
	}
	limit := 10
	if os.Getenv("DIFFTEST_DUMP") != "" {
		limit = len(failed)
	}
	for i, v := range failed {
		if i == limit {
			var more []string
			for _, v := range failed[i:min(len(failed), i+40)] {
				more = append(more, fmt.Sprintf("  %s: %s %s %s on %s: trailwarden %s (%v), oracle %s %q",
					v.c.id, v.c.req.Principal.Kind, principalString(v.c.req.Principal), v.c.req.Action, v.c.req.Resource,
					v.tw.Decision, v.twErr, v.ans.Decision, v.ans.Errors))
			}
			t.Errorf("… and %d more unexplained disagreements, starting with:\n%s", len(failed)-i, strings.Join(more, "\n"))
			break
		}
		t.Errorf("unexplained disagreement:\n%s", v.printout())
	}
}

// printout is the minimal description of a case needed to reproduce it.
func (v *verdict) printout() string {
	var b strings.Builder
	c := v.c
	fmt.Fprintf(&b, "case %s (%s)\n", c.id, c.source)
	tw := string(v.tw.Decision)
	if v.twErr != nil {
		tw = "REJECTED: " + v.twErr.Error()
	}
	fmt.Fprintf(&b, "  trailwarden: %s (blocked by %q)\n", tw, v.tw.BlockedBy)
	for _, j := range v.tw.Judgements {
		fmt.Fprintf(&b, "  trailwarden judgement call %s (otherwise %s) in %s\n", j.ID, j.Otherwise, strings.Join(j.Statements, "; "))
	}
	fmt.Fprintf(&b, "  oracle:      %s (blockedBy %q, ignored keys %q, errors %q)\n",
		v.ans.Decision, v.ans.BlockedBy, v.ans.IgnoredContextKeys, v.ans.Errors)
	var layers []string
	for _, l := range v.tw.Layers {
		s := fmt.Sprintf("%s=%s", l.Layer, l.Outcome)
		if l.Level > 0 {
			s = fmt.Sprintf("%s%d=%s", l.Layer, l.Level, l.Outcome)
		}
		if l.PrincipalMatch != "" {
			s += "(" + string(l.PrincipalMatch) + ")"
		}
		layers = append(layers, s)
	}
	fmt.Fprintf(&b, "  trailwarden layers: %s\n", strings.Join(layers, " "))
	fmt.Fprintf(&b, "  resource kind: %s\n", c.set.kind)
	c.set.each(func(name string, d *doc) {
		fmt.Fprintf(&b, "  %s: %s\n", name, d.text)
	})
	req, _ := json.Marshal(c.req)
	fmt.Fprintf(&b, "  request: %s\n", req)
	fmt.Fprintf(&b, "  oracle principal %q, context sent: %s\n", principalString(c.req.Principal), sortedJSON(v.sent))
	for _, r := range v.tw.Reasons {
		fmt.Fprintf(&b, "    reason: %s\n", r.String())
	}
	return b.String()
}

func sortedJSON(m map[string][]string) string {
	keys := slices.Sorted(maps.Keys(m))
	var parts []string
	for _, k := range keys {
		v, _ := json.Marshal(m[k])
		parts = append(parts, fmt.Sprintf("%q:%s", k, v))
	}
	return "{" + strings.Join(parts, ",") + "}"
}
