package policy

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is where a policy is attached, which decides the elements AWS
// requires or prohibits.
type Kind int

// Policy kinds. The zero Kind is invalid so that a forgotten kind is an
// error rather than silently checked as an identity policy.
const (
	IdentityPolicy Kind = iota + 1 // IAM user, group or role permissions
	ResourcePolicy                 // resource-based policy, e.g. an S3 bucket policy
	KeyPolicy                      // AWS KMS key policy
	TrustPolicy                    // IAM role trust (assume role) policy
	SCP                            // AWS Organizations service control policy
	RCP                            // AWS Organizations resource control policy
)

func (k Kind) String() string {
	switch k {
	case IdentityPolicy:
		return "identity policy"
	case ResourcePolicy:
		return "resource policy"
	case KeyPolicy:
		return "key policy"
	case TrustPolicy:
		return "trust policy"
	case SCP:
		return "SCP"
	case RCP:
		return "RCP"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// trustActions are the actions AWS accepts in a role trust policy.
var trustActions = []string{
	"sts:AssumeRole",
	"sts:AssumeRoleWithWebIdentity",
	"sts:AssumeRoleWithSAML",
	"sts:TagSession",
	"sts:SetSourceIdentity",
	"sts:SetContext",
}

// Check reports, joined with errors.Join, every problem that would make AWS
// reject d as a policy of the given kind. Each error is a *ParseError
// whose Pos is the position of the offending statement (zero for
// documents built in code). Both versions are accepted, as AWS accepts
// them; under 2008-10-17 (also the meaning of an absent Version) policy
// variables are literal text, which the evaluator honours.
func (d *Document) Check(kind Kind) error {
	if kind < IdentityPolicy || kind > RCP {
		return &ParseError{Path: "$", Msg: fmt.Sprintf("unknown policy kind %d", int(kind))}
	}
	if d == nil {
		return &ParseError{Path: "$", Msg: "no policy document"}
	}
	var errs []error
	add := func(path string, pos Position, format string, args ...any) {
		errs = append(errs, &ParseError{Path: path, Pos: pos, Msg: fmt.Sprintf(format, args...)})
	}
	if d.Version != "" && d.Version != Version2012 && d.Version != Version2008 {
		add("$.Version", Position{}, "version must be %q, got %q", Version2012, d.Version)
	}
	if len(d.Statements) == 0 {
		add("$.Statement", Position{}, "policy has no statements")
	}
	sids := make(map[string]int)
	for i, st := range d.Statements {
		path := indexPath("$.Statement", i)
		at := func(elem string, format string, args ...any) {
			p := path
			if elem != "" {
				p += "." + elem // elem is an element name, maybe indexed
			}
			add(p, st.Pos, format, args...)
		}
		if st.Sid != "" {
			if j, dup := sids[st.Sid]; dup {
				at("Sid", "duplicate Sid %q (also statement %d)", st.Sid, j)
			} else {
				sids[st.Sid] = i
			}
		}
		if st.Effect != Allow && st.Effect != Deny {
			at("Effect", "effect must be %q or %q, got %q", Allow, Deny, st.Effect)
		}
		if st.Action == nil && st.NotAction == nil {
			at("", "statement has no Action or NotAction")
		}
		checkElements(kind, st, at)
	}
	return errors.Join(errs...)
}

// checkElements applies the per-kind rules on Principal and Resource.
func checkElements(kind Kind, st Statement, at func(elem, format string, args ...any)) {
	hasPrincipal := st.Principal != nil || st.NotPrincipal != nil
	hasResource := st.Resource != nil || st.NotResource != nil
	switch kind {
	case IdentityPolicy, SCP:
		if st.Principal != nil {
			at("Principal", "%s statements must not have Principal", kind)
		}
		if st.NotPrincipal != nil {
			at("NotPrincipal", "%s statements must not have NotPrincipal", kind)
		}
		if !hasResource {
			at("", "%s statements need Resource or NotResource", kind)
		}
	case ResourcePolicy, KeyPolicy:
		if !hasPrincipal {
			at("", "%s statements need Principal or NotPrincipal", kind)
		}
		if !hasResource {
			at("", "%s statements need Resource or NotResource", kind)
		}
	case TrustPolicy:
		if !hasPrincipal {
			at("", "%s statements need Principal or NotPrincipal", kind)
		}
		// AWS's own message is "Has prohibited field Resource".
		if st.Resource != nil {
			at("Resource", "%s statements must not have Resource", kind)
		}
		if st.NotResource != nil {
			at("NotResource", "%s statements must not have NotResource", kind)
		}
		for j, a := range st.Action {
			if !matchesTrustAction(a) {
				elem := "Action"
				if len(st.Action) > 1 {
					elem = fmt.Sprintf("Action[%d]", j)
				}
				at(elem, "%s actions must be %s, got %q", kind, strings.Join(trustActions, ", "), a)
			}
		}
	case RCP:
		if st.NotPrincipal != nil {
			at("NotPrincipal", "%s statements must not have NotPrincipal", kind)
		}
		if st.Principal == nil {
			if st.NotPrincipal == nil {
				at("", `%s statements need Principal "*"`, kind)
			}
		} else if !st.Principal.Wildcard {
			at("Principal", `%s principal must be "*"`, kind)
		}
	}
}

// matchesTrustAction reports whether the action, possibly a wildcard such
// as "sts:*" or "sts:AssumeRole*", matches at least one trust action.
func matchesTrustAction(action string) bool {
	pattern := strings.ToLower(action)
	for _, t := range trustActions {
		if globMatch(pattern, strings.ToLower(t)) {
			return true
		}
	}
	return false
}

// globMatch matches IAM-style patterns: '*' is any run of characters and
// '?' any single character. It backtracks only to the last '*', so it is
// linear in practice and never exponential.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]):
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
