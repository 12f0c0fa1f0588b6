package eval

import (
	"strings"
)

// Request is one API call to evaluate.
type Request struct {
	Principal Principal `json:"principal"`
	Action    string    `json:"action"`
	Resource  string    `json:"resource"`
	// ResourceAccount owns the resource; S3 ARNs carry no account, so it
	// must be given. Empty means the principal's own account.
	ResourceAccount string `json:"resource_account,omitempty"`
	// Context holds request context keys (case-insensitive). A key with
	// several values is multivalued. Explicit values override derived ones.
	Context map[string][]string `json:"context,omitempty"`
}

// reqContext is the request context with lower-cased keys: condition keys
// and tag keys are case-insensitive [doc].
type reqContext map[string][]string

// multivaluedKeys are the keys AWS types as ArrayOfString: a single-valued
// operator never matches them, and they cannot be policy variables.
var multivaluedKeys = map[string]bool{
	"aws:principalorgpaths":         true,
	"aws:principalservicenameslist": true,
	"aws:vpceorgpaths":              true,
	"aws:resourceorgpaths":          true,
	"aws:calledvia":                 true,
	"aws:tagkeys":                   true,
	"aws:sourceorgpaths":            true,
	"kms:encryptioncontextkeys":     true,
}

func (c reqContext) multivalued(lkey string) bool {
	return multivaluedKeys[lkey] || len(c[lkey]) > 1
}

// single returns the value of a single-valued key, for policy variables.
func (c reqContext) single(lkey string) (string, bool) {
	v := c[lkey]
	if len(v) != 1 || multivaluedKeys[lkey] {
		return "", false
	}
	return v[0], true
}

// DeriveContext returns the request context the evaluator uses: the keys AWS
// derives from the principal and the request, overridden by r.Context.
// Derived keys use AWS's spelling; explicit keys keep the caller's.
func DeriveContext(r Request) map[string][]string {
	out := make(map[string][]string)
	derive(&r, func(name, _ string, vs []string) { out[name] = vs })
	for k, v := range r.Context {
		for dk := range out {
			if strings.EqualFold(dk, k) {
				delete(out, dk)
			}
		}
		out[k] = v
	}
	return out
}

// buildContext is DeriveContext with lower-cased keys, for evaluation.
func buildContext(r *Request) reqContext {
	c := make(reqContext, 16+len(r.Context))
	derive(r, func(_, lower string, vs []string) { c[lower] = vs })
	for k, v := range r.Context {
		c[strings.ToLower(k)] = v
	}
	return c
}

var (
	vTrue  = []string{"true"}
	vFalse = []string{"false"}
)

// derive reports the keys AWS adds to every request for this principal
// (global condition keys page) to add, with AWS's spelling and lower-cased.
// aws:CurrentTime and aws:EpochTime are not derived: evaluation is pure, so
// callers pass the time they mean.
func derive(r *Request, add func(name, lower string, vs []string)) {
	p := &r.Principal
	one := func(name, lower, v string) { add(name, lower, []string{v}) }

	add("aws:SecureTransport", "aws:securetransport", vTrue)
	calledVia := lookupFold(r.Context, "aws:CalledVia")
	if len(calledVia) > 0 {
		add("aws:ViaAWSService", "aws:viaawsservice", vTrue)
		one("aws:CalledViaFirst", "aws:calledviafirst", calledVia[0])
		one("aws:CalledViaLast", "aws:calledvialast", calledVia[len(calledVia)-1])
	} else {
		add("aws:ViaAWSService", "aws:viaawsservice", vFalse)
	}
	if r.ResourceAccount != "" {
		one("aws:ResourceAccount", "aws:resourceaccount", r.ResourceAccount)
	}

	switch p.Kind {
	case KindAnonymous:
		one("aws:PrincipalAccount", "aws:principalaccount", "anonymous")
		one("aws:PrincipalType", "aws:principaltype", "Anonymous")
		one("aws:userid", "aws:userid", "anonymous")
		return
	case KindService:
		add("aws:PrincipalIsAWSService", "aws:principalisawsservice", vTrue)
		if p.Service != "" {
			one("aws:PrincipalServiceName", "aws:principalservicename", p.Service)
		}
		return
	}

	add("aws:PrincipalIsAWSService", "aws:principalisawsservice", vFalse)
	if arn := p.principalARN(); arn != "" {
		one("aws:PrincipalArn", "aws:principalarn", arn)
	}
	if p.Account != "" {
		one("aws:PrincipalAccount", "aws:principalaccount", p.Account)
		if len(r.Action) > 4 && strings.EqualFold(r.Action[:4], "kms:") {
			one("kms:CallerAccount", "kms:calleraccount", p.Account)
		}
	}
	if p.OrgID != "" {
		one("aws:PrincipalOrgID", "aws:principalorgid", p.OrgID)
	}
	if len(p.OrgPaths) > 0 {
		add("aws:PrincipalOrgPaths", "aws:principalorgpaths", p.OrgPaths)
	}
	for k, v := range p.Tags {
		name := "aws:PrincipalTag/" + k
		one(name, strings.ToLower(name), v)
	}

	userid := p.UserID
	switch p.Kind {
	case KindRoot:
		one("aws:PrincipalType", "aws:principaltype", "Account")
		if userid == "" {
			userid = p.Account
		}
	case KindUser:
		one("aws:PrincipalType", "aws:principaltype", "User")
		one("aws:username", "aws:username", lastElem(p.ARN))
		if userid == "" {
			userid = lastElem(p.ARN) // AWS uses the AIDA… unique id
		}
	case KindRole, KindAssumedRoleSession:
		one("aws:PrincipalType", "aws:principaltype", "AssumedRole")
		if userid == "" {
			// AWS uses role-id:session; the role id is not derivable.
			userid = p.roleName() + ":"
			if p.Kind == KindAssumedRoleSession {
				userid += lastElem(p.ARN)
			}
		}
	case KindFederatedUser:
		one("aws:PrincipalType", "aws:principaltype", "FederatedUser")
		if userid == "" {
			userid = p.Account + ":" + lastElem(p.ARN)
		}
	}
	if userid != "" {
		one("aws:userid", "aws:userid", userid)
	}
}

func lookupFold(m map[string][]string, key string) []string {
	if v, ok := m[key]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return nil
}
