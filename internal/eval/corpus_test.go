package eval_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// corpusFile is one testdata/cases/*.json file. Defs holds policies shared
// by the file's cases; a case names a def with a JSON string instead of an
// inline policy object.
type corpusFile struct {
	Defs  map[string]json.RawMessage `json:"defs"`
	Cases []corpusCase               `json:"cases"`
}

type corpusCase struct {
	Name     string         `json:"name"`
	Doc      string         `json:"doc"`
	Policies corpusPolicies `json:"policies"`
	Request  corpusRequest  `json:"request"`
	Want     eval.Decision  `json:"want"`
	// Sid, when set, must be among the statements that matched.
	Sid       string     `json:"sid"`
	BlockedBy eval.Layer `json:"blockedBy"`
	// CompileError, when set, is a substring of the expected Compile error.
	CompileError string `json:"compileError"`
	// Judgements are the ids of the judgement calls the decision must rest
	// on (none when empty), and Otherwise their decision under the other
	// reading.
	Judgements []string      `json:"judgements"`
	Otherwise  eval.Decision `json:"otherwise"`
}

type corpusPolicies struct {
	Identity                     []json.RawMessage   `json:"identity"`
	Resource                     json.RawMessage     `json:"resource"`
	Boundary                     json.RawMessage     `json:"boundary"`
	Session                      json.RawMessage     `json:"session"`
	SCPs                         [][]json.RawMessage `json:"scps"`
	RCPs                         [][]json.RawMessage `json:"rcps"`
	ResourceKind                 eval.ResourceKind   `json:"resourceKind"`
	NoImplicitRCPFullAccess      bool                `json:"noImplicitRCPFullAccess"`
	RCPServices                  []string            `json:"rcpServices"`
	PrincipalIsManagementAccount bool                `json:"principalIsManagementAccount"`
	ResourceInManagementAccount  bool                `json:"resourceInManagementAccount"`
}

type corpusRequest struct {
	Principal       string                 `json:"principal"`
	Issuer          string                 `json:"issuer"`
	OrgID           string                 `json:"orgId"`
	OrgPaths        []string               `json:"orgPaths"`
	Tags            map[string]string      `json:"tags"`
	Action          string                 `json:"action"`
	Resource        string                 `json:"resource"`
	ResourceAccount string                 `json:"resourceAccount"`
	Context         map[string]stringOrArr `json:"context"`
}

// stringOrArr is a context value: a string or a list of strings.
type stringOrArr []string

func (s *stringOrArr) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = []string{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	if many == nil {
		many = []string{}
	}
	*s = many
	return nil
}

// loadCorpus reads every case file, keyed by file base name.
func loadCorpus(t testing.TB) map[string][]corpusCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "cases", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files: %v", err)
	}
	out := make(map[string][]corpusCase)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var cf corpusFile
		if err := json.Unmarshal(data, &cf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		base := strings.TrimSuffix(filepath.Base(f), ".json")
		for i := range cf.Cases {
			if err := cf.Cases[i].resolveDefs(cf.Defs); err != nil {
				t.Fatalf("%s case %q: %v", f, cf.Cases[i].Name, err)
			}
		}
		out[base] = cf.Cases
	}
	return out
}

// resolveDefs replaces string references with the named def.
func (c *corpusCase) resolveDefs(defs map[string]json.RawMessage) error {
	var err error
	fix := func(m *json.RawMessage) {
		var name string
		if len(*m) == 0 || (*m)[0] != '"' || json.Unmarshal(*m, &name) != nil {
			return
		}
		d, ok := defs[name]
		if !ok {
			err = fmt.Errorf("unknown def %q", name)
			return
		}
		*m = d
	}
	p := &c.Policies
	for i := range p.Identity {
		fix(&p.Identity[i])
	}
	fix(&p.Resource)
	fix(&p.Boundary)
	fix(&p.Session)
	for _, lvl := range p.SCPs {
		for i := range lvl {
			fix(&lvl[i])
		}
	}
	for _, lvl := range p.RCPs {
		for i := range lvl {
			fix(&lvl[i])
		}
	}
	return err
}

// build parses the case's policies; roundTrip re-parses each document from
// its canonical serialization first.
func (c *corpusCase) build(roundTrip bool) (eval.Policies, error) {
	p := eval.Policies{
		ResourceKind: c.Policies.ResourceKind, NoImplicitRCPFullAccess: c.Policies.NoImplicitRCPFullAccess,
		RCPServices:                  c.Policies.RCPServices,
		PrincipalIsManagementAccount: c.Policies.PrincipalIsManagementAccount,
		ResourceInManagementAccount:  c.Policies.ResourceInManagementAccount,
	}
	parse := func(name string, raw json.RawMessage) (*eval.Named, error) {
		if len(raw) == 0 || string(raw) == "null" {
			return nil, nil
		}
		doc, err := policy.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", name, err)
		}
		if roundTrip {
			if doc, err = policy.Parse(policy.Compact(doc)); err != nil {
				return nil, fmt.Errorf("round-trip %s: %w", name, err)
			}
		}
		return &eval.Named{Name: name, Doc: doc}, nil
	}
	var err error
	for i, raw := range c.Policies.Identity {
		n, e := parse(fmt.Sprintf("identity%d", i), raw)
		if e != nil {
			return p, e
		}
		p.Identity = append(p.Identity, *n)
	}
	if p.Resource, err = parse("resource", c.Policies.Resource); err != nil {
		return p, err
	}
	if p.Boundary, err = parse("boundary", c.Policies.Boundary); err != nil {
		return p, err
	}
	if p.Session, err = parse("session", c.Policies.Session); err != nil {
		return p, err
	}
	levels := func(layer string, in [][]json.RawMessage) ([][]eval.Named, error) {
		var out [][]eval.Named
		for l, lvl := range in {
			var ns []eval.Named
			for i, raw := range lvl {
				n, err := parse(fmt.Sprintf("%s%d.%d", layer, l+1, i), raw)
				if err != nil {
					return nil, err
				}
				ns = append(ns, *n)
			}
			out = append(out, ns)
		}
		return out, nil
	}
	if p.SCPs, err = levels("scp", c.Policies.SCPs); err != nil {
		return p, err
	}
	p.RCPs, err = levels("rcp", c.Policies.RCPs)
	return p, err
}

func (c *corpusCase) request() (eval.Request, error) {
	pr, err := eval.ParsePrincipal(c.Request.Principal)
	if err != nil {
		return eval.Request{}, err
	}
	if c.Request.Issuer != "" {
		if pr, err = pr.WithIssuer(c.Request.Issuer); err != nil {
			return eval.Request{}, err
		}
	}
	pr.OrgID, pr.OrgPaths, pr.Tags = c.Request.OrgID, c.Request.OrgPaths, c.Request.Tags
	r := eval.Request{Principal: pr, Action: c.Request.Action, Resource: c.Request.Resource, ResourceAccount: c.Request.ResourceAccount}
	if len(c.Request.Context) > 0 {
		r.Context = make(map[string][]string, len(c.Request.Context))
		for k, v := range c.Request.Context {
			r.Context[k] = v
		}
	}
	return r, nil
}

func TestEvaluator_Corpus(t *testing.T) {
	corpus := loadCorpus(t)
	total := 0
	for file, cases := range corpus {
		t.Run(camel(file), func(t *testing.T) {
			seen := map[string]bool{}
			for _, c := range cases {
				total++
				if seen[c.Name] {
					t.Errorf("duplicate case name %q", c.Name)
				}
				seen[c.Name] = true
				t.Run(c.Name, func(t *testing.T) { runCase(t, c) })
			}
		})
	}
	if total < 120 {
		t.Errorf("corpus has %d cases, want at least 120", total)
	}
}

func runCase(t *testing.T, c corpusCase) {
	t.Helper()
	if c.Doc == "" {
		t.Error("case has no doc citation")
	}
	if !isCamel(c.Name) {
		t.Errorf("case name %q is not CamelCase", c.Name)
	}
	for _, rt := range []bool{false, true} {
		ps, err := c.build(rt)
		if err != nil {
			if c.CompileError != "" && strings.Contains(err.Error(), c.CompileError) {
				return // the parser already rejects it, as AWS does
			}
			t.Fatalf("build policies: %v", err)
		}
		ev, err := eval.Compile(ps)
		if c.CompileError != "" {
			if err == nil || !strings.Contains(err.Error(), c.CompileError) {
				t.Fatalf("Compile error = %v, want one containing %q", err, c.CompileError)
			}
			return
		}
		if err != nil {
			t.Fatalf("Compile: %v", err)
		}
		req, err := c.request()
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		res := ev.Evaluate(req)
		if res.Decision != c.Want {
			t.Fatalf("round-trip=%v: Decision = %s, want %s (blocked by %q)\n%s", rt, res.Decision, c.Want, res.BlockedBy, explain(res))
		}
		if c.BlockedBy != "" && res.BlockedBy != c.BlockedBy {
			t.Errorf("BlockedBy = %q, want %q\n%s", res.BlockedBy, c.BlockedBy, explain(res))
		}
		if c.Sid != "" && !hasMatchedSid(res, c.Sid) {
			t.Errorf("statement %q did not match\n%s", c.Sid, explain(res))
		}
		checkJudgements(t, c, res)
	}
}

// checkJudgements compares the judgement calls the decision rests on with
// the case's: every case states them, by leaving them out when there are
// none.
func checkJudgements(t *testing.T, c corpusCase, res eval.Result) {
	t.Helper()
	var got []string
	for _, j := range res.Judgements {
		got = append(got, j.ID)
		if j.Otherwise != c.Otherwise {
			t.Errorf("judgement %s: Otherwise = %s, want %s", j.ID, j.Otherwise, c.Otherwise)
		}
		if j.Summary == "" || j.Basis == "" || len(j.Statements) == 0 {
			t.Errorf("judgement %s lacks a summary, basis or statement: %+v", j.ID, j)
		}
	}
	if strings.Join(got, ",") != strings.Join(c.Judgements, ",") {
		t.Errorf("Judgements = %v, want %v\n%s", got, c.Judgements, explain(res))
	}
	if len(c.Judgements) > 0 && c.Otherwise == "" {
		t.Errorf("case lists judgements without the decision they would otherwise give")
	}
}

func hasMatchedSid(res eval.Result, sid string) bool {
	for _, r := range res.MatchedStatements() {
		if r.Sid == sid {
			return true
		}
	}
	return false
}

func explain(res eval.Result) string {
	var b strings.Builder
	for _, l := range res.Layers {
		fmt.Fprintf(&b, "  layer %s/%d: %s %s %s\n", l.Layer, l.Level, l.Outcome, l.PrincipalMatch, l.Note)
	}
	for _, r := range res.Reasons {
		fmt.Fprintf(&b, "  %s\n", r)
		for _, c := range r.Conditions {
			fmt.Fprintf(&b, "    %v %s\n", c.Matched, c)
		}
	}
	return b.String()
}

func camel(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r == '_' {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isCamel(s string) bool {
	if s == "" || !unicode.IsUpper(rune(s[0])) {
		return false
	}
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}
