package oracle

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Case is one request for the oracle, in trailwarden's terms.
type Case struct {
	ID string
	// Principal is an ARN, an account id, a service principal such as
	// cloudtrail.amazonaws.com, or "anonymous".
	Principal       string
	Action          string
	Resource        string
	ResourceAccount string
	// Context holds the request's context keys; iam-simulate derives none itself.
	// One value is sent as a string, any other count as an array.
	Context            map[string][]string
	IdentityPolicies   []json.RawMessage
	ResourcePolicy     json.RawMessage
	PermissionBoundary json.RawMessage
	SessionPolicy      json.RawMessage
	// SCPs and RCPs hold one list of policies per organization level, root first.
	SCPs [][]json.RawMessage
	RCPs [][]json.RawMessage
}

// AnonymousPrincipal is the Case.Principal of an unsigned request.
const AnonymousPrincipal = "anonymous"

// The wire shapes below mirror iam-simulate's Simulation type (reference section 7.3).
type simulation struct {
	Request                    simRequest      `json:"request"`
	IdentityPolicies           []namedPolicy   `json:"identityPolicies"`
	ServiceControlPolicies     []orgPolicies   `json:"serviceControlPolicies"`
	ResourceControlPolicies    []orgPolicies   `json:"resourceControlPolicies"`
	ResourcePolicy             json.RawMessage `json:"resourcePolicy,omitempty"`
	PermissionBoundaryPolicies []namedPolicy   `json:"permissionBoundaryPolicies,omitempty"`
	SessionPolicy              json.RawMessage `json:"sessionPolicy,omitempty"`
}

type simRequest struct {
	Principal        any            `json:"principal"`
	Action           string         `json:"action"`
	Resource         simResource    `json:"resource"`
	ContextVariables map[string]any `json:"contextVariables"`
}

type simResource struct {
	Resource  string `json:"resource"`
	AccountID string `json:"accountId"`
}

type namedPolicy struct {
	Name   string          `json:"name"`
	Policy json.RawMessage `json:"policy"`
}

type orgPolicies struct {
	OrgIdentifier string        `json:"orgIdentifier"`
	Policies      []namedPolicy `json:"policies"`
}

// simulation translates c; the policy documents are passed through untouched.
func (c Case) simulation() simulation {
	s := simulation{
		Request: simRequest{
			Principal:        c.Principal,
			Action:           c.Action,
			Resource:         simResource{Resource: c.Resource, AccountID: c.ResourceAccount},
			ContextVariables: make(map[string]any, len(c.Context)),
		},
		IdentityPolicies:        named("identity-", c.IdentityPolicies),
		ServiceControlPolicies:  levels("scp-", c.SCPs),
		ResourceControlPolicies: levels("rcp-", c.RCPs),
		ResourcePolicy:          c.ResourcePolicy,
		SessionPolicy:           c.SessionPolicy,
	}
	if c.Principal == AnonymousPrincipal {
		s.Request.Principal = map[string]string{"type": "Anonymous"}
	}
	// SCPs restrict IAM principals of member accounts only; iam-simulate would
	// apply them to service principals (defect 4) and rejects them for anonymous.
	if !isIAMPrincipal(c.Principal) {
		s.ServiceControlPolicies = []orgPolicies{}
	}
	if len(c.PermissionBoundary) > 0 {
		s.PermissionBoundaryPolicies = []namedPolicy{{Name: "boundary", Policy: c.PermissionBoundary}}
	}
	for k, v := range c.Context {
		if len(v) == 1 {
			s.Request.ContextVariables[k] = v[0]
		} else {
			s.Request.ContextVariables[k] = append([]string{}, v...) // never null
		}
	}
	return s
}

// isIAMPrincipal tells ARNs and account ids from service principals and anonymous.
func isIAMPrincipal(p string) bool {
	if strings.HasPrefix(p, "arn:") {
		return true
	}
	_, err := strconv.ParseUint(p, 10, 64)
	return len(p) == 12 && err == nil
}

// named returns non-nil slices: iam-simulate requires these arrays to be present.
func named(prefix string, policies []json.RawMessage) []namedPolicy {
	out := make([]namedPolicy, 0, len(policies))
	for i, p := range policies {
		out = append(out, namedPolicy{Name: prefix + strconv.Itoa(i+1), Policy: p})
	}
	return out
}

func levels(prefix string, lv [][]json.RawMessage) []orgPolicies {
	out := make([]orgPolicies, 0, len(lv))
	for i, policies := range lv {
		out = append(out, orgPolicies{OrgIdentifier: "level-" + strconv.Itoa(i+1), Policies: named(prefix, policies)})
	}
	return out
}
