package oracle

import (
	"encoding/json"
	"testing"
)

// The translation is checked on its JSON, since that is what iam-simulate reads.
func encode(t *testing.T, c Case) map[string]any {
	t.Helper()
	data, err := json.Marshal(c.simulation())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestSimulationShape(t *testing.T) {
	p := json.RawMessage(`{"Version":"2012-10-17","Statement":[]}`)
	c := Case{
		Principal: "arn:aws:iam::111111111111:role/R", Action: "s3:GetObject",
		Resource: "arn:aws:s3:::b/k", ResourceAccount: "222222222222",
		Context:            map[string][]string{"aws:SecureTransport": {"true"}, "aws:CalledVia": {"a", "b"}, "aws:TagKeys": {}},
		IdentityPolicies:   []json.RawMessage{p, p},
		SCPs:               [][]json.RawMessage{{p}, {p, p}},
		RCPs:               [][]json.RawMessage{{p}},
		PermissionBoundary: p,
	}
	m := encode(t, c)
	req := m["request"].(map[string]any)
	ctx := req["contextVariables"].(map[string]any)
	if ctx["aws:SecureTransport"] != "true" {
		t.Errorf("one value should be a string, got %#v", ctx["aws:SecureTransport"])
	}
	if v, ok := ctx["aws:CalledVia"].([]any); !ok || len(v) != 2 {
		t.Errorf("several values should be an array, got %#v", ctx["aws:CalledVia"])
	}
	if v, ok := ctx["aws:TagKeys"].([]any); !ok || len(v) != 0 {
		t.Errorf("no values should be an empty array, got %#v", ctx["aws:TagKeys"])
	}
	res := req["resource"].(map[string]any)
	if res["resource"] != c.Resource || res["accountId"] != c.ResourceAccount {
		t.Errorf("resource = %v", res)
	}
	ids := m["identityPolicies"].([]any)
	if len(ids) != 2 || ids[1].(map[string]any)["name"] != "identity-2" {
		t.Errorf("identityPolicies = %v", ids)
	}
	scps := m["serviceControlPolicies"].([]any)
	if len(scps) != 2 || scps[1].(map[string]any)["orgIdentifier"] != "level-2" ||
		len(scps[1].(map[string]any)["policies"].([]any)) != 2 {
		t.Errorf("serviceControlPolicies = %v", scps)
	}
	if len(m["permissionBoundaryPolicies"].([]any)) != 1 {
		t.Errorf("permissionBoundaryPolicies = %v", m["permissionBoundaryPolicies"])
	}
	if _, ok := m["resourcePolicy"]; ok {
		t.Error("an absent resource policy should be omitted")
	}
}

func TestSCPsDroppedForNonIAMPrincipals(t *testing.T) {
	scp := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)
	for principal, keep := range map[string]bool{
		"arn:aws:sts::111111111111:assumed-role/R/s": true,
		"111111111111":             true,
		"cloudtrail.amazonaws.com": false,
		AnonymousPrincipal:         false,
	} {
		m := encode(t, Case{Principal: principal, SCPs: [][]json.RawMessage{{scp}}})
		if got := len(m["serviceControlPolicies"].([]any)) == 1; got != keep {
			t.Errorf("%s: SCPs kept = %v, want %v", principal, got, keep)
		}
		if len(m["resourceControlPolicies"].([]any)) != 0 || len(m["identityPolicies"].([]any)) != 0 {
			t.Errorf("%s: absent lists must be empty arrays: %v", principal, m)
		}
	}
	m := encode(t, Case{Principal: AnonymousPrincipal})
	if p, ok := m["request"].(map[string]any)["principal"].(map[string]any); !ok || p["type"] != "Anonymous" {
		t.Errorf("anonymous principal = %#v", m["request"].(map[string]any)["principal"])
	}
}
