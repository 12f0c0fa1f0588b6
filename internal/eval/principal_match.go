package eval

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/internal/policy"
)

// cPrincipal is a compiled Principal or NotPrincipal element.
type cPrincipal struct {
	wildcard bool     // "*" or {"AWS": "*"}: everyone, anonymous included [doc]
	arns     []string // user, role, session and federated-user ARNs
	accounts []string // account ids, from "123456789012" or arn:…:iam::123456789012:root
	services []string // lower-cased service principal names
	// Federated and CanonicalUser entries are kept for completeness; no
	// supported caller kind can match them.
	other []string
}

func compilePrincipal(p *policy.Principal) (*cPrincipal, error) {
	c := &cPrincipal{wildcard: p.Wildcard}
	for _, a := range p.AWS {
		switch {
		case a == "*":
			c.wildcard = true
		case isAccountID(a):
			c.accounts = append(c.accounts, a)
		case strings.ContainsAny(a, "*?"):
			// Only "*" may be wildcarded; sessions cannot be [doc].
			return nil, fmt.Errorf("partial wildcard in principal %q", a)
		case isRootARN(a):
			c.accounts = append(c.accounts, strings.SplitN(a, ":", 6)[4])
		default:
			c.arns = append(c.arns, a)
		}
	}
	for _, s := range p.Service {
		if strings.ContainsAny(s, "*?") {
			return nil, fmt.Errorf("wildcard in service principal %q", s)
		}
		c.services = append(c.services, strings.ToLower(s))
	}
	c.other = append(c.other, p.Federated...)
	c.other = append(c.other, p.CanonicalUser...)
	if !c.wildcard && len(c.arns)+len(c.accounts)+len(c.services)+len(c.other) == 0 {
		return nil, errors.New("principal names nobody")
	}
	return c, nil
}

func isRootARN(a string) bool {
	parts := strings.SplitN(a, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "iam" && parts[5] == "root" && isAccountID(parts[4])
}

// match returns the strongest way the element names the caller. ARN
// comparison is case-sensitive [doc: "the user-name part … is case-sensitive"].
func (c *cPrincipal) match(p *Principal) PrincipalMatch {
	if c.wildcard {
		return MatchWildcard
	}
	switch p.Kind {
	case KindAnonymous:
		return MatchNone
	case KindService:
		if slices.Contains(c.services, strings.ToLower(p.Service)) {
			return MatchPrincipal
		}
		return MatchNone
	}
	if p.ARN != "" && slices.Contains(c.arns, p.ARN) {
		if p.Kind == KindRole {
			// A Role caller stands for an unnamed session of the role.
			return MatchSessionRole
		}
		return MatchPrincipal
	}
	if p.IssuerARN != "" && p.IssuerARN != p.ARN && slices.Contains(c.arns, p.IssuerARN) {
		switch p.Kind {
		case KindAssumedRoleSession:
			return MatchSessionRole
		case KindFederatedUser:
			return MatchSessionUser
		}
	}
	// An account principal means every principal of the account, not only
	// the root user [doc: Principal page].
	if p.Account != "" && slices.Contains(c.accounts, p.Account) {
		return MatchAccount
	}
	return MatchNone
}

// excludes reports whether a NotPrincipal element exempts the caller. AWS
// "might validate the account first, then the role, and then the assumed-role
// user" [doc: NotPrincipal page], so a caller is exempt only when every
// identity in its chain is listed: account, role and session for a role
// session; account and user for a user.
func (c *cPrincipal) excludes(p *Principal) bool {
	if c.wildcard {
		return true
	}
	acct := p.Account != "" && slices.Contains(c.accounts, p.Account)
	self := p.ARN != "" && slices.Contains(c.arns, p.ARN)
	switch p.Kind {
	case KindAnonymous:
		return false
	case KindService:
		return slices.Contains(c.services, strings.ToLower(p.Service))
	case KindRoot:
		return acct
	case KindAssumedRoleSession:
		return acct && self && slices.Contains(c.arns, p.IssuerARN)
	}
	return acct && self
}

// statementPrincipal evaluates the Principal/NotPrincipal element of a
// statement for the caller. hasBoundary is whether the caller has a
// permissions boundary: Deny with NotPrincipal "always denies any IAM
// principal with a permissions boundary" [doc: permissions boundaries page].
func (s *cStatement) statementPrincipal(p *Principal, hasBoundary bool) PrincipalMatch {
	if s.principal == nil {
		return MatchWildcard
	}
	if !s.notPrincipal {
		return s.principal.match(p)
	}
	if s.effect == policy.Deny && hasBoundary && p.Kind.isIAM() {
		return MatchWildcard
	}
	if s.principal.excludes(p) {
		return MatchNone
	}
	return MatchWildcard
}
