package eval

import (
	"slices"
	"strconv"
	"strings"
)

// Judgement records that a decision rests on a case AWS's documentation
// does not settle. The evaluator then answers with the reading that gives
// the caller more access (so that a check for unwanted access never misses
// it), and Otherwise is the decision under the other reading: an Allowed
// decision that carries a Judgement cannot prove that access works.
// docs/evaluator.md ("Judgement calls") gives each class's reasoning and the
// documentation it rests on.
type Judgement struct {
	// ID names the class, e.g. "wildcard-grant-session-limits".
	ID string `json:"id"`
	// Summary is the choice the evaluator made, in one sentence.
	Summary string `json:"summary"`
	// Basis quotes the AWS documentation the choice rests on and says why it
	// does not settle the case.
	Basis string `json:"basis"`
	// Otherwise is the decision if AWS reads the case the other way.
	Otherwise Decision `json:"otherwise"`
	// Statements are the statements the case arose in, e.g.
	// `resource policy "bucket.json" statement 2 (DenyOthers)`.
	Statements []string `json:"statements,omitempty"`
}

// String renders the judgement as one line.
func (j Judgement) String() string {
	return j.ID + ": " + j.Summary
}

// judgementSet is a set of judgement classes, one bit each.
type judgementSet uint8

// The judgement classes.
const (
	// judgeWildcardGrant: a same-account resource-policy grant to every
	// principal ("*" without an aws:PrincipalArn condition, or an Allow
	// with NotPrincipal that does not exempt the caller) when the caller's
	// session policy or permissions boundary does not allow the request.
	judgeWildcardGrant judgementSet = 1 << iota
	// judgeNotPrincipalChain: a NotPrincipal that names some but not all of
	// the caller's identity chain (account, role or user, session).
	judgeNotPrincipalChain

	nJudgements = iota
)

// judgementClasses holds the fixed text of each class, by bit index.
var judgementClasses = [nJudgements]struct{ id, summary, basis string }{
	{
		id: "wildcard-grant-session-limits",
		summary: `a same-account grant to Principal "*" without an aws:PrincipalArn condition (or through an Allow with ` +
			`NotPrincipal) is not limited by the caller's session policy or permissions boundary, as AWS documents for ` +
			`a grant to "*" narrowed by aws:PrincipalArn`,
		basis: `IAM User Guide, "AWS JSON policy elements: Principal": "Identity-based policy types, such as permissions ` +
			`boundaries or session policies, do not limit permissions granted using the aws:PrincipalArn condition key ` +
			`with a wildcard(*) in the Principal element". AWS says this of a grant narrowed by aws:PrincipalArn only; ` +
			`for a plain "*" it documents neither a grant to the session ARN ("not limited by the session policy") nor ` +
			`one to the role ARN ("The session policy limits the total permissions"). See docs/evaluator.md, ` +
			`"Judgement calls".`,
	},
	{
		id: "notprincipal-partial-chain",
		summary: `a NotPrincipal that names only part of the caller's chain (account; role or user; session) is read ` +
			`the way that gives the caller more access: an Allow with it applies to the caller, a Deny with it does not`,
		basis: `IAM User Guide, "NotPrincipal": "AWS might validate the account first, then the role, and then the ` +
			`assumed-role user. ... Therefore, we strongly recommend that you explicitly include the ARN for a user's ` +
			`account, or include both the ARN for a role and the ARN for the account containing that role." AWS says ` +
			`"might" and "depending on the service": the outcome of a partial list is not documented. See ` +
			`docs/evaluator.md, "Judgement calls".`,
	},
}

// JudgementClasses lists every judgement call the evaluator can make, with
// its ID, Summary and Basis (Otherwise and Statements are empty).
func JudgementClasses() []Judgement {
	out := make([]Judgement, 0, nJudgements)
	for _, jc := range judgementClasses {
		out = append(out, Judgement{ID: jc.id, Summary: jc.summary, Basis: jc.basis})
	}
	return out
}

func (s judgementSet) has(j judgementSet) bool { return s&j != 0 }

// bits lists the classes of s in order.
func (s judgementSet) bits() []judgementSet {
	var out []judgementSet
	for i := 0; i < nJudgements; i++ {
		if b := judgementSet(1) << i; s.has(b) {
			out = append(out, b)
		}
	}
	return out
}

func (s judgementSet) index() int {
	for i := 0; i < nJudgements; i++ {
		if s == judgementSet(1)<<i {
			return i
		}
	}
	return -1
}

// judgeState collects, during one evaluation, the classes met and the
// statements they arose in.
type judgeState struct {
	// strict holds the classes to read the other way (less access).
	strict judgementSet
	seen   judgementSet
	sites  [nJudgements][]string
}

func (js *judgeState) note(c judgementSet, site string) {
	js.seen |= c
	i := c.index()
	if site != "" && !slices.Contains(js.sites[i], site) {
		js.sites[i] = append(js.sites[i], site)
	}
}

// site names a statement for Judgement.Statements.
func site(cp *cPolicy, s *cStatement) string {
	var b strings.Builder
	b.WriteString(string(cp.layer))
	if cp.level > 0 {
		b.WriteString(" level ")
		b.WriteString(strconv.Itoa(cp.level))
	}
	b.WriteString(" policy ")
	b.WriteString(strconv.Quote(cp.name))
	b.WriteString(" statement ")
	b.WriteString(strconv.Itoa(s.index))
	if s.sid != "" {
		b.WriteString(" (" + s.sid + ")")
	}
	return b.String()
}

// judge finds the judgement calls that decided res. Every class reads its
// case the way that gives more access, so only an Allowed decision can rest
// on one. The decision rests on the classes met when reading them all the
// other way changes it; the ones listed are those that change it alone (or
// all of them, when only their combination does).
func (e *Evaluator) judge(r *Request, ctx reqContext, res *Result, js *judgeState) {
	if js.seen == 0 || res.Decision != Allowed {
		return
	}
	other, all := e.evaluate(r, ctx, js.seen)
	if other.Decision == res.Decision {
		return
	}
	deciding := judgementSet(0)
	if classes := js.seen.bits(); len(classes) > 1 {
		for _, c := range classes {
			if one, _ := e.evaluate(r, ctx, c); one.Decision != res.Decision {
				deciding |= c
			}
		}
	}
	if deciding == 0 {
		deciding = js.seen
	}
	for _, c := range deciding.bits() {
		i := c.index()
		jc := judgementClasses[i]
		sites := append([]string(nil), js.sites[i]...)
		for _, s := range all.sites[i] {
			if !slices.Contains(sites, s) {
				sites = append(sites, s)
			}
		}
		res.Judgements = append(res.Judgements, Judgement{ID: jc.id, Summary: jc.summary, Basis: jc.basis,
			Otherwise: other.Decision, Statements: sites})
	}
}
