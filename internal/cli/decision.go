package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

var verdicts = map[eval.Decision]string{
	eval.Allowed:          "ALLOWED",
	eval.ExplicitlyDenied: "DENIED (explicit deny)",
	eval.ImplicitlyDenied: "DENIED (implicit: nothing allows it)",
}

// writeJudgement shows a case AWS's documentation does not settle that
// decided the request, so that it is not mistaken for documented behaviour.
func writeJudgement(w io.Writer, j eval.Judgement, otherwise string) {
	fmt.Fprintf(w, "judgement call: %s (%s)\n", j.Summary, j.ID)
	fmt.Fprintf(w, "  AWS's documentation does not settle this case; read the other way, the decision is %s\n", otherwise)
	for _, s := range j.Statements {
		fmt.Fprintf(w, "  in %s\n", s)
	}
	fmt.Fprintf(w, "  basis: %s\n", j.Basis)
}

// renderDecision prints a decision for people: the verdict, the layers,
// the deciding statements with their conditions, and for an implicit deny
// the statements that came closest.
func renderDecision(w io.Writer, req eval.Request, res eval.Result) {
	verdict := verdicts[res.Decision]
	who := req.Principal.ARN
	if who == "" {
		who = req.Principal.Service
	}
	if who == "" {
		who = "anonymous"
	}
	if len(res.Judgements) > 0 {
		verdict += " (rests on a judgement call: AWS may decide otherwise)"
	}
	fmt.Fprintf(w, "%s  %s  %s  %s\n", verdict, who, req.Action, req.Resource)
	if res.BlockedBy != "" {
		fmt.Fprintf(w, "blocked by: %s\n", res.BlockedBy)
	}
	for _, j := range res.Judgements {
		writeJudgement(w, j, verdicts[j.Otherwise])
	}
	fmt.Fprintln(w, "layers:")
	for _, l := range res.Layers {
		name := string(l.Layer)
		if l.Level > 0 {
			name = fmt.Sprintf("%s level %d", l.Layer, l.Level)
		}
		extra := ""
		if l.PrincipalMatch != "" {
			extra = " (" + string(l.PrincipalMatch) + ")"
		}
		if l.Note != "" {
			extra += " - " + l.Note
		}
		fmt.Fprintf(w, "  %-18s %s%s\n", name, l.Outcome, extra)
	}
	var deciding []eval.Reason
	want := policy.Allow
	if res.Decision == eval.ExplicitlyDenied {
		want = policy.Deny
	}
	for _, r := range res.Reasons {
		if r.Matched && r.Effect == want {
			deciding = append(deciding, r)
		}
	}
	switch {
	case len(deciding) > 0 && want == policy.Deny:
		fmt.Fprintln(w, "denied by:")
	case len(deciding) > 0:
		fmt.Fprintln(w, "allowed by:")
	default:
		deciding = nearMisses(res.Reasons)
		if len(deciding) > 0 {
			fmt.Fprintln(w, "closest allow statements (principal, action and resource match, a condition does not):")
		} else {
			fmt.Fprintln(w, "no allow statement matches the principal, action and resource")
		}
	}
	for _, r := range deciding {
		writeReason(w, r)
	}
}

func nearMisses(reasons []eval.Reason) []eval.Reason {
	var out []eval.Reason
	for _, r := range reasons {
		principalOK := r.PrincipalMatch == "" || r.PrincipalMatch != eval.MatchNone
		if r.Effect == policy.Allow && !r.Matched && r.ActionMatched && r.ResourceMatched && principalOK {
			out = append(out, r)
		}
	}
	return out
}

func writeReason(w io.Writer, r eval.Reason) {
	loc := ""
	if r.Line > 0 {
		loc = fmt.Sprintf(" at line %d", r.Line)
	}
	sid := ""
	if r.Sid != "" {
		sid = " (" + r.Sid + ")"
	}
	fmt.Fprintf(w, "  %s policy %q statement %d%s%s: %s", r.Layer, r.Policy, r.Statement, sid, loc, r.Effect)
	if r.PrincipalMatch != "" {
		fmt.Fprintf(w, ", principal %s", r.PrincipalMatch)
	}
	fmt.Fprintln(w)
	if r.Note != "" && !r.Matched && len(r.Conditions) == 0 {
		fmt.Fprintf(w, "    %s\n", r.Note)
	}
	for _, c := range r.Conditions {
		mark := "ok  "
		if !c.Matched {
			mark = "FAIL"
		}
		fmt.Fprintf(w, "    %s %s %s: %s\n", mark, c.Operator, c.Key, strings.TrimSpace(c.Explanation))
	}
}
