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

// listing says which identities of the caller's chain a NotPrincipal
// element lists. AWS "might validate the account first, then the role, and
// then the assumed-role user" [doc: NotPrincipal page]: the chain is the
// account, then the role (for a role session) or nothing more (for a user),
// then the caller's own ARN.
type listing struct {
	own    bool // the caller's own identity: session, user, role, federated user, the account for its root, the service
	allUp  bool // every identity above it (account; role of a session)
	someUp bool // at least one identity above it, or the IAM user that federated
}

// lists reports what a NotPrincipal element lists of the caller's chain. A
// role caller (KindRole, some session of the role) has the role as its own
// identity, since the session is not known.
func (c *cPrincipal) lists(p *Principal) listing {
	if c.wildcard {
		return listing{own: true, allUp: true, someUp: true}
	}
	acct := p.Account != "" && slices.Contains(c.accounts, p.Account)
	self := p.ARN != "" && slices.Contains(c.arns, p.ARN)
	switch p.Kind {
	case KindAnonymous:
		return listing{allUp: true}
	case KindService:
		return listing{own: slices.Contains(c.services, strings.ToLower(p.Service)), allUp: true}
	case KindRoot:
		return listing{own: acct, allUp: true}
	case KindAssumedRoleSession:
		role := p.IssuerARN != "" && slices.Contains(c.arns, p.IssuerARN)
		return listing{own: self, allUp: acct && role, someUp: acct || role}
	case KindFederatedUser:
		// The IAM user that federated is not required, but it is listed
		// for the caller's chain.
		user := p.IssuerARN != "" && p.IssuerARN != p.ARN && slices.Contains(c.arns, p.IssuerARN)
		return listing{own: self, allUp: acct, someUp: acct || user}
	}
	return listing{own: self, allUp: acct, someUp: acct}
}

// statementPrincipal evaluates the Principal/NotPrincipal element of a
// statement for the caller. hasBoundary is whether the caller has a
// permissions boundary: Deny with NotPrincipal "always denies any IAM
// principal with a permissions boundary" [doc: permissions boundaries page].
//
// A NotPrincipal exempts the caller when it lists the caller and everything
// above it in its chain (the AWS examples list the user and its account, or
// the session, its role and the account), and reaches the caller when it
// lists none of it. A Deny also reaches every caller it does not name
// itself, even in a listed account: "all principals except the user named
// Bob in AWS account 444455556666 are explicitly denied" [doc: NotPrincipal
// page]. The other lists AWS leaves open ("the effect of the policy might
// be to explicitly deny access"): those are partial, judgement call
// notprincipal-partial-chain, read the way that gives the caller more access
// (an Allow reaches it, a Deny does not), or the other way when strict.
func (s *cStatement) statementPrincipal(p *Principal, hasBoundary, strict bool) (pm PrincipalMatch, partial bool) {
	if s.principal == nil {
		return MatchWildcard, false
	}
	if !s.notPrincipal {
		return s.principal.match(p), false
	}
	if s.effect == policy.Deny && hasBoundary && p.Kind.isIAM() {
		return MatchWildcard, false
	}
	l := s.principal.lists(p)
	switch {
	case l.own && l.allUp:
		return MatchNone, false
	case !l.own && !l.someUp, !l.own && s.effect == policy.Deny:
		return MatchWildcard, false
	}
	exempt := s.effect == policy.Deny
	if strict {
		exempt = !exempt
	}
	if exempt {
		return MatchNone, true
	}
	return MatchWildcard, true
}
