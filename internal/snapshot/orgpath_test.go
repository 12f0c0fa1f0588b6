package snapshot

import (
	"reflect"
	"testing"
)

func TestSnapshot_PolicyPath(t *testing.T) {
	s := &Snapshot{Organization: &Organization{ID: "o-a1b2c3d4e5", ManagementAccount: "111111111111", FeatureSet: "ALL",
		Accounts: []OrgAccount{{ID: "333333333333", Path: []string{"r-ab12", "ou-ab12-work"}}},
		Policies: []OrgPolicy{
			{ID: "p-full", Type: PolicySCP, Targets: []string{"r-ab12", "ou-ab12-work", "333333333333"}},
			{ID: "p-deny", Type: PolicySCP, Targets: []string{"ou-ab12-work"}},
			{ID: "p-rcp", Type: PolicyRCP, Targets: []string{"r-ab12"}},
		}}}
	ids := func(levels []PolicyLevel) [][]string {
		var out [][]string
		for _, l := range levels {
			var ps []string
			for _, p := range l.Policies {
				ps = append(ps, p.ID)
			}
			out = append(out, append([]string{l.Target}, ps...))
		}
		return out
	}
	got := ids(s.PolicyPath("333333333333", PolicySCP))
	want := [][]string{{"r-ab12", "p-full"}, {"ou-ab12-work", "p-full", "p-deny"}, {"333333333333", "p-full"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SCP path = %v, want %v", got, want)
	}
	got = ids(s.PolicyPath("333333333333", PolicyRCP))
	want = [][]string{{"r-ab12", "p-rcp"}, {"ou-ab12-work"}, {"333333333333"}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("RCP path = %v, want %v", got, want)
	}
	if p := s.PolicyPath("999999999999", PolicySCP); p != nil {
		t.Fatalf("non-member path = %v", p)
	}
	s.Organization.FeatureSet = "CONSOLIDATED_BILLING"
	if p := s.PolicyPath("333333333333", PolicySCP); p != nil {
		t.Fatalf("SCPs apply only with all features: %v", p)
	}
	if !s.IsManagementAccount("111111111111") || s.IsManagementAccount("333333333333") {
		t.Fatal("IsManagementAccount")
	}
}
