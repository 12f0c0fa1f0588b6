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
	ResourceAccount string `json:"resourceAccount,omitempty"`
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

// derivedKey is one context key AWS fills in itself.
type derivedKey struct {
	name   string
	values []string
}

// DeriveContext returns the request context the evaluator uses: the keys AWS
// derives from the principal and the request, overridden by r.Context.
// Derived keys use AWS's spelling; explicit keys keep the caller's.
func DeriveContext(r Request) map[string][]string {
	out := make(map[string][]string)
	for _, d := range derive(&r) {
		out[d.name] = d.values
	}
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
	ds := derive(r)
	c := make(reqContext, len(ds)+len(r.Context))
	for _, d := range ds {
		c[strings.ToLower(d.name)] = d.values
	}
	for k, v := range r.Context {
		c[strings.ToLower(k)] = v
	}
	return c
}

var (
	vTrue  = []string{"true"}
	vFalse = []string{"false"}
)

// derive lists the keys AWS adds to every request for this principal
// (global condition keys page). aws:CurrentTime and aws:EpochTime are not
// derived: evaluation is pure, so callers pass the time they mean.
func derive(r *Request) []derivedKey {
	p := &r.Principal
	ds := make([]derivedKey, 0, 12)
	add := func(name string, vs ...string) { ds = append(ds, derivedKey{name, vs}) }
	addV := func(name string, vs []string) { ds = append(ds, derivedKey{name, vs}) }

	addV("aws:SecureTransport", vTrue)
	calledVia := lookupFold(r.Context, "aws:CalledVia")
	if len(calledVia) > 0 {
		addV("aws:ViaAWSService", vTrue)
		add("aws:CalledViaFirst", calledVia[0])
		add("aws:CalledViaLast", calledVia[len(calledVia)-1])
	} else {
		addV("aws:ViaAWSService", vFalse)
	}
	if r.ResourceAccount != "" {
		add("aws:ResourceAccount", r.ResourceAccount)
	}

	switch p.Kind {
	case KindAnonymous:
		add("aws:PrincipalAccount", "anonymous")
		add("aws:PrincipalType", "Anonymous")
		add("aws:userid", "anonymous")
		return ds
	case KindService:
		addV("aws:PrincipalIsAWSService", vTrue)
		if p.Service != "" {
			add("aws:PrincipalServiceName", p.Service)
		}
		return ds
	}

	addV("aws:PrincipalIsAWSService", vFalse)
	if arn := p.principalARN(); arn != "" {
		add("aws:PrincipalArn", arn)
	}
	if p.Account != "" {
		add("aws:PrincipalAccount", p.Account)
		if strings.HasPrefix(strings.ToLower(r.Action), "kms:") {
			add("kms:CallerAccount", p.Account)
		}
	}
	if p.OrgID != "" {
		add("aws:PrincipalOrgID", p.OrgID)
	}
	if len(p.OrgPaths) > 0 {
		addV("aws:PrincipalOrgPaths", p.OrgPaths)
	}
	for k, v := range p.Tags {
		add("aws:PrincipalTag/"+k, v)
	}

	userid := p.UserID
	switch p.Kind {
	case KindRoot:
		add("aws:PrincipalType", "Account")
		if userid == "" {
			userid = p.Account
		}
	case KindUser:
		add("aws:PrincipalType", "User")
		add("aws:username", lastElem(p.ARN))
		if userid == "" {
			userid = lastElem(p.ARN) // AWS uses the AIDA… unique id
		}
	case KindRole, KindAssumedRoleSession:
		add("aws:PrincipalType", "AssumedRole")
		if userid == "" {
			// AWS uses role-id:session; the role id is not derivable.
			userid = p.roleName() + ":"
			if p.Kind == KindAssumedRoleSession {
				userid += lastElem(p.ARN)
			}
		}
	case KindFederatedUser:
		add("aws:PrincipalType", "FederatedUser")
		if userid == "" {
			userid = p.Account + ":" + lastElem(p.ARN)
		}
	}
	if userid != "" {
		add("aws:userid", userid)
	}
	return ds
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
