package eval

import (
	"strconv"
	"strings"

	"github.com/trailwarden/trailwarden/internal/policy"
)

// Decision is the final answer for one request.
type Decision string

// The three outcomes AWS documents.
const (
	Allowed          Decision = "Allowed"
	ExplicitlyDenied Decision = "ExplicitlyDenied"
	ImplicitlyDenied Decision = "ImplicitlyDenied"
)

// Layer names a policy type taking part in the decision.
type Layer string

// Policy layers.
const (
	LayerIdentity Layer = "identity"
	LayerResource Layer = "resource"
	LayerBoundary Layer = "boundary"
	LayerSession  Layer = "session"
	LayerSCP      Layer = "scp"
	LayerRCP      Layer = "rcp"
)

// PrincipalMatch says how a Principal (or NotPrincipal) element matched the
// caller. The kind matters: in the same account a grant to the exact caller
// is final, a grant to the role behind a session is still limited by the
// boundary and session policy, and a grant to the account only delegates to
// the identity policies.
type PrincipalMatch string

// Principal match kinds, from weakest to strongest.
const (
	MatchNone        PrincipalMatch = "NoMatch"
	MatchAccount     PrincipalMatch = "AccountMatch"     // account id or arn:…:root
	MatchSessionRole PrincipalMatch = "SessionRoleMatch" // role ARN, caller is a session of it
	MatchSessionUser PrincipalMatch = "SessionUserMatch" // IAM user ARN, caller is its federated user
	MatchPrincipal   PrincipalMatch = "Match"            // the caller's own ARN or service name
	MatchWildcard    PrincipalMatch = "WildcardMatch"    // "*", or a NotPrincipal that does not exclude the caller
)

func (m PrincipalMatch) rank() int {
	switch m {
	case MatchAccount:
		return 1
	case MatchSessionRole, MatchSessionUser:
		return 2
	case MatchPrincipal, MatchWildcard:
		return 3
	}
	return 0
}

// Outcome is the result of one layer (or one SCP/RCP level).
type Outcome string

// Layer outcomes.
const (
	OutcomeAllowed           Outcome = "Allowed"
	OutcomeAllowedForAccount Outcome = "AllowedForAccount" // resource policy allows the caller's account only
	OutcomeExplicitlyDenied  Outcome = "ExplicitlyDenied"
	OutcomeImplicitlyDenied  Outcome = "ImplicitlyDenied"
	OutcomeNotApplicable     Outcome = "NotApplicable"
)

// Result is the decision with everything needed to explain it.
type Result struct {
	Decision Decision `json:"decision"`
	// BlockedBy is the layer that decided a deny ("" when allowed).
	BlockedBy Layer `json:"blocked_by,omitempty"`
	// Layers summarizes each layer in the order identity, resource,
	// boundary, session, scp levels, rcp levels.
	Layers []LayerResult `json:"layers"`
	// Reasons has one entry per statement of every applicable policy.
	Reasons []Reason `json:"reasons"`
	// Judgements lists the cases AWS's documentation does not settle that
	// decided this request (only ever on an Allowed decision). Empty when
	// the decision follows from documented behaviour alone.
	Judgements []Judgement `json:"judgements,omitempty"`
}

// LayerResult is the outcome of one layer.
type LayerResult struct {
	Layer Layer `json:"layer"`
	// Level is 1-based for SCPs and RCPs (1 is the organization root).
	Level          int            `json:"level,omitempty"`
	Policies       []string       `json:"policies,omitempty"`
	Outcome        Outcome        `json:"outcome"`
	PrincipalMatch PrincipalMatch `json:"principal_match,omitempty"`
	Note           string         `json:"note,omitempty"`
}

// Reason explains how one statement fared against the request.
type Reason struct {
	Layer     Layer         `json:"layer"`
	Level     int           `json:"level,omitempty"`
	Policy    string        `json:"policy"`
	Statement int           `json:"statement"` // 0-based index in the Statement list
	Sid       string        `json:"sid,omitempty"`
	Effect    policy.Effect `json:"effect"`
	Line      int           `json:"line,omitempty"`
	Column    int           `json:"column,omitempty"`
	// Matched is true when the statement applies to the request.
	Matched bool `json:"matched"`
	// PrincipalMatch is set for policies with a Principal element.
	PrincipalMatch  PrincipalMatch    `json:"principal_match,omitempty"`
	ActionMatched   bool              `json:"action_matched"`
	ResourceMatched bool              `json:"resource_matched"`
	Conditions      []ConditionResult `json:"conditions,omitempty"`
	// Note says in words why the statement did not match.
	Note string `json:"note,omitempty"`
}

// ConditionResult explains one operator/key pair of a Condition block.
type ConditionResult struct {
	Operator string   `json:"operator"`
	Key      string   `json:"key"`
	Values   []string `json:"values"`
	// Resolved holds the values after policy-variable substitution, when
	// any value contained a variable.
	Resolved      []string `json:"resolved,omitempty"`
	RequestValues []string `json:"request_values,omitempty"`
	Matched       bool     `json:"matched"`
	Explanation   string   `json:"explanation"`
}

// String renders the condition as one line, e.g.
// `StringEquals aws:SourceArn: request value "x" matches none of ["y"]`.
func (c ConditionResult) String() string {
	return c.Operator + " " + c.Key + ": " + c.Explanation
}

// String renders the reason as one line.
func (r Reason) String() string {
	var b strings.Builder
	b.WriteString(string(r.Layer))
	if r.Level > 0 {
		b.WriteString(" level ")
		b.WriteString(strconv.Itoa(r.Level))
	}
	b.WriteString(" policy ")
	b.WriteString(strconv.Quote(r.Policy))
	b.WriteString(" statement ")
	b.WriteString(strconv.Itoa(r.Statement))
	if r.Sid != "" {
		b.WriteString(" (")
		b.WriteString(r.Sid)
		b.WriteString(")")
	}
	b.WriteString(": ")
	b.WriteString(string(r.Effect))
	if r.Matched {
		b.WriteString(" matched")
	} else {
		b.WriteString(" not matched")
	}
	if r.Note != "" {
		b.WriteString(": ")
		b.WriteString(r.Note)
	}
	return b.String()
}

// MatchedStatements returns the reasons of the statements that applied to the
// request, in evaluation order.
func (r *Result) MatchedStatements() []Reason {
	var out []Reason
	for _, rs := range r.Reasons {
		if rs.Matched {
			out = append(out, rs)
		}
	}
	return out
}

// quoteList renders values as ["a","b"].
func quoteList(vs []string) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range vs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(v))
	}
	b.WriteByte(']')
	return b.String()
}
