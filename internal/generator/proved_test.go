package generator_test

import (
	"testing"

	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

// TestJudge sorts findings for the policy commands: trailwarden's own
// over-grants and unexplained missing grants are refused, unaccepted
// foreign grants are warnings, accepted ones neither.
func TestJudge(t *testing.T) {
	owned := proof.Finding{Kind: proof.KindUnintended, Grants: []proof.Grant{{Statement: 3, Sid: "TrailwardenX", Owned: true}}}
	foreign := proof.Finding{Kind: proof.KindUnintended, Foreign: true, Grants: []proof.Grant{{Statement: 0, Sid: "PartnerRead"}}}
	accepted := proof.Finding{Kind: proof.KindUnintended, Foreign: true, Accepted: true, Grants: []proof.Grant{{Statement: 0, Sid: "PartnerRead", Accepted: true}}}
	missing := proof.Finding{Kind: proof.KindMissing}
	conflict := &generator.Output{Conflicts: []proof.Conflict{{Statement: 1}}}
	tests := []struct {
		name        string
		findings    []proof.Finding
		res         *generator.Output
		refused     int
		wantForeign bool
	}{
		{"Clean", nil, &generator.Output{}, 0, false},
		{"OwnedOverGrant", []proof.Finding{owned}, &generator.Output{}, 1, false},
		{"ForeignOverGrant", []proof.Finding{foreign}, &generator.Output{}, 0, true},
		{"AcceptedForeign", []proof.Finding{accepted}, &generator.Output{}, 0, false},
		{"MissingGrant", []proof.Finding{missing}, &generator.Output{}, 1, false},
		{"MissingGrantExplainedByConflict", []proof.Finding{missing}, conflict, 0, false},
		{"All", []proof.Finding{owned, foreign, accepted, missing}, &generator.Output{}, 2, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := generator.Judge(tt.res, &proof.Report{Findings: tt.findings})
			if len(v.Refused) != tt.refused || v.Foreign != tt.wantForeign {
				t.Fatalf("refused %d, foreign %v; want %d, %v", len(v.Refused), v.Foreign, tt.refused, tt.wantForeign)
			}
		})
	}
}

// TestProve generates, proves and judges in one call: every generated
// policy of a config is proven with nothing refused, and a merge that keeps
// a foreign statement granting every object to everyone is a foreign
// warning, not a refusal, while the proof still fails.
func TestProve(t *testing.T) {
	c := loadConfig(t, "testdata/golden/org-trail/config.yaml")
	targets := generator.Targets(c)
	if len(targets) < 3 {
		t.Fatalf("targets = %v", targets)
	}
	for _, target := range targets {
		p, err := generator.Prove(c, target, nil)
		if err != nil {
			t.Fatalf("%s: %v", target, err)
		}
		if !p.Report.Proven || len(p.Refused) > 0 || p.Foreign {
			t.Errorf("%s: proven %v, %d refused, foreign %v; want a proven policy", target, p.Report.Proven, len(p.Refused), p.Foreign)
		}
		// ProveDoc without a document proves the same generated policy.
		rep, err := generator.ProveDoc(c, target, nil)
		if err != nil || rep.Proven != p.Report.Proven || rep.Requests != p.Report.Requests {
			t.Errorf("%s: ProveDoc = %+v, %v; want the same proof", target, rep, err)
		}
	}
	open, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + c.Bucket + `/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	p, err := generator.Prove(c, proof.TargetBucket, open)
	if err != nil {
		t.Fatal(err)
	}
	if p.Report.Proven || !p.Foreign || len(p.Refused) > 0 {
		t.Errorf("merged into a public statement: proven %v, foreign %v, %d refused; want not proven, foreign, none refused",
			p.Report.Proven, p.Foreign, len(p.Refused))
	}
	if j := generator.Judge(p.Output, p.Report); j.Foreign != p.Foreign || len(j.Refused) != len(p.Refused) {
		t.Errorf("Judge of the same proof: foreign %v, %d refused; Prove said %v, %d", j.Foreign, len(j.Refused), p.Foreign, len(p.Refused))
	}
}
