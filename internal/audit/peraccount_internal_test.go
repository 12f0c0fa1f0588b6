package audit

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// TestDelivery_PerAccountTrails: with one trail per source account and
// per-account delivery statements, each account's CloudTrail can write only
// its own prefix; dropping one account's statement fails that account only.
func TestDelivery_PerAccountTrails(t *testing.T) {
	c, bucket, s := perAccountSnapshot(t, nil)
	run := func(doc *policy.Document) map[string]Status {
		s.Bucket.Policy = string(policy.Canonical(doc))
		rep, err := Run(c, s, config.ProfileBaseline)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]Status{}
		for _, f := range byRule(rep, "TW-ACC-01") {
			out[f.Account] = f.Status
			if !strings.Contains(f.Resource, "/org/AWSLogs/"+f.Account+"/") {
				t.Errorf("resource %s is not account %s's prefix", f.Resource, f.Account)
			}
		}
		return out
	}
	if got := run(bucket.Doc); got["333333333333"] != Pass || got["444444444444"] != Pass || len(got) != 2 {
		t.Fatalf("generated per-account policy: %v", got)
	}
	trimmed := bucket.Doc.Clone()
	var kept []policy.Statement
	for _, st := range trimmed.Statements {
		if st.Sid != generator.SidWrite+"444444444444" {
			kept = append(kept, st)
		}
	}
	if len(kept) == len(trimmed.Statements) {
		t.Fatal("no per-account write statement for 444444444444 to drop")
	}
	trimmed.Statements = kept
	if got := run(trimmed); got["333333333333"] != Pass || got["444444444444"] != Fail {
		t.Fatalf("without 444444444444's statement: %v", got)
	}
}

// perAccountSnapshot is good.json turned into one trail per source account
// (333333333333 and 444444444444) with per-account delivery statements:
// the generated bucket and key policies are in the snapshot, then change
// applies. It returns the config and the generated bucket policy.
func perAccountSnapshot(t *testing.T, change func(s *snapshot.Snapshot)) (*config.Config, *generator.Output, *snapshot.Snapshot) {
	t.Helper()
	c := loadConfig(t)
	c.Trail.Organization = false
	c.SourceAccounts = []string{"333333333333", "444444444444"}
	c.DeliveryScope = config.ScopePerAccount
	bucket, err := generator.Bucket(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := generator.Key(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := mutated(t, "good.json", func(s *snapshot.Snapshot) {
		s.Bucket.Policy = string(policy.Canonical(bucket.Doc))
		s.Keys[0].Policy = string(policy.Canonical(key.Doc))
		for i := range s.Accounts {
			tr := &s.Accounts[i].Trails[0]
			tr.ARN, tr.IsOrganization = c.TrailARN(s.Accounts[i].ID), false
		}
		if change != nil {
			change(s)
		}
	})
	return c, bucket, s
}
