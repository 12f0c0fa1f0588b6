package eval

import (
	"errors"
	"fmt"
	"strings"
)

// PrincipalKind is the type of the caller.
type PrincipalKind string

// Caller kinds. KindRole stands for "some session of this role" when the
// session ARN is not known.
const (
	KindRoot               PrincipalKind = "Root"
	KindUser               PrincipalKind = "User"
	KindRole               PrincipalKind = "Role"
	KindAssumedRoleSession PrincipalKind = "AssumedRoleSession"
	KindFederatedUser      PrincipalKind = "FederatedUser"
	KindService            PrincipalKind = "Service"
	KindAnonymous          PrincipalKind = "Anonymous"
)

// Principal describes who makes a request.
type Principal struct {
	Kind PrincipalKind `json:"kind"`
	// ARN is the caller's own ARN: the account root, user, role,
	// assumed-role session or federated-user ARN. Empty for services and
	// anonymous callers.
	ARN string `json:"arn,omitempty"`
	// IssuerARN is what the session was issued from: the role ARN for role
	// sessions (aws:PrincipalArn), the IAM user for federated users. A
	// session ARN drops the role path, so set it with WithIssuer when the
	// role has one.
	IssuerARN string `json:"issuer_arn,omitempty"`
	Account   string `json:"account,omitempty"`
	Partition string `json:"partition,omitempty"`
	// Service is the service principal name, e.g. cloudtrail.amazonaws.com.
	Service  string            `json:"service,omitempty"`
	OrgID    string            `json:"org_id,omitempty"`
	OrgPaths []string          `json:"org_paths,omitempty"`
	Tags     map[string]string `json:"tags,omitempty"`
	// UserID overrides the approximated aws:userid (AWS uses unique ids
	// such as AROA…:session that cannot be derived from an ARN).
	UserID string `json:"user_id,omitempty"`
}

var errNotPrincipal = errors.New("expected an IAM or STS ARN, a 12-digit account id, \"anonymous\" or a service principal such as cloudtrail.amazonaws.com")

// ParsePrincipal reads a caller: an IAM ARN (root, user, role), an STS ARN
// (assumed-role session, federated user), a 12-digit account id (the account
// root), "anonymous", or a service principal name.
func ParsePrincipal(s string) (Principal, error) {
	switch {
	case strings.EqualFold(s, "anonymous"):
		return Principal{Kind: KindAnonymous}, nil
	case isAccountID(s):
		return Principal{Kind: KindRoot, ARN: "arn:aws:iam::" + s + ":root", Account: s, Partition: "aws"}, nil
	case strings.HasPrefix(s, "arn:"):
		p, err := parsePrincipalARN(s)
		if err != nil {
			return Principal{}, fmt.Errorf("parse principal %q: %w", s, err)
		}
		return p, nil
	case isServicePrincipal(s):
		return Principal{Kind: KindService, Service: s}, nil
	}
	return Principal{}, fmt.Errorf("parse principal %q: %w", s, errNotPrincipal)
}

func parsePrincipalARN(s string) (Principal, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[1] == "" {
		return Principal{}, errors.New("malformed ARN: expected arn:partition:service:region:account:resource")
	}
	part, svc, region, acct, res := parts[1], parts[2], parts[3], parts[4], parts[5]
	if region != "" {
		return Principal{}, fmt.Errorf("%s principal ARNs have no region, got %q", svc, region)
	}
	if !isAccountID(acct) {
		return Principal{}, fmt.Errorf("account %q is not 12 digits", acct)
	}
	p := Principal{ARN: s, Account: acct, Partition: part}
	typ, rest, _ := strings.Cut(res, "/")
	switch {
	case svc == "iam" && res == "root":
		p.Kind = KindRoot
	case svc == "iam" && typ == "user" && lastElem(rest) != "":
		p.Kind = KindUser
	case svc == "iam" && typ == "role" && lastElem(rest) != "":
		p.Kind = KindRole
		p.IssuerARN = s
	case svc == "sts" && typ == "assumed-role":
		role, session, ok := strings.Cut(rest, "/")
		if !ok || role == "" || session == "" || strings.Contains(session, "/") {
			return Principal{}, errors.New("assumed-role ARN must be assumed-role/ROLE/SESSION")
		}
		p.Kind = KindAssumedRoleSession
		p.IssuerARN = "arn:" + part + ":iam::" + acct + ":role/" + role
	case svc == "sts" && typ == "federated-user" && rest != "" && !strings.Contains(rest, "/"):
		p.Kind = KindFederatedUser
	default:
		return Principal{}, fmt.Errorf("unsupported principal resource %q (expected root, user/…, role/…, assumed-role/…/… or federated-user/…)", res)
	}
	return p, nil
}

// WithIssuer returns a copy of a session principal with its issuer set: the
// full role ARN (with path) for an assumed-role session, or the IAM user that
// called GetFederationToken for a federated user. The issuer must be in the
// same account and, for roles, have the session's role name.
func (p Principal) WithIssuer(arn string) (Principal, error) {
	q, err := parsePrincipalARN(arn)
	if err != nil {
		return p, fmt.Errorf("set issuer %q: %w", arn, err)
	}
	if q.Account != p.Account {
		return p, fmt.Errorf("set issuer %q: account %s differs from the caller's account %s", arn, q.Account, p.Account)
	}
	switch p.Kind {
	case KindAssumedRoleSession:
		if q.Kind != KindRole {
			return p, fmt.Errorf("set issuer %q: a role session's issuer must be a role ARN", arn)
		}
		if lastElem(q.ARN) != p.roleName() {
			return p, fmt.Errorf("set issuer %q: role name differs from the session's role %q", arn, p.roleName())
		}
	case KindFederatedUser:
		if q.Kind != KindUser {
			return p, fmt.Errorf("set issuer %q: a federated user's issuer must be an IAM user ARN", arn)
		}
	default:
		return p, fmt.Errorf("set issuer %q: only role sessions and federated users have an issuer", arn)
	}
	p.IssuerARN = arn
	return p, nil
}

// isIAM reports whether identity-based policies, boundaries and SCPs can
// apply to the caller (everything except root, services and anonymous).
func (k PrincipalKind) isIAM() bool {
	switch k {
	case KindUser, KindRole, KindAssumedRoleSession, KindFederatedUser:
		return true
	}
	return false
}

// isSession reports whether the caller is a role session, which may carry a
// session policy.
func (k PrincipalKind) isSession() bool {
	return k == KindRole || k == KindAssumedRoleSession
}

// roleName is the role's name for roles and sessions.
func (p *Principal) roleName() string {
	switch p.Kind {
	case KindRole:
		return lastElem(p.ARN)
	case KindAssumedRoleSession:
		_, rest, _ := strings.Cut(p.ARN, ":assumed-role/")
		role, _, _ := strings.Cut(rest, "/")
		return role
	}
	return ""
}

// principalARN is aws:PrincipalArn: the role ARN for sessions.
func (p *Principal) principalARN() string {
	if p.Kind.isSession() && p.IssuerARN != "" {
		return p.IssuerARN
	}
	return p.ARN
}

func lastElem(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isServicePrincipal accepts dotted DNS-like names such as
// cloudtrail.amazonaws.com or logs.us-east-1.amazonaws.com.
func isServicePrincipal(s string) bool {
	if !strings.Contains(s, ".") || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (c < '0' || c > '9') && c != '.' && c != '-' {
			return false
		}
	}
	return true
}
