package proof_test

import (
	"reflect"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/proof"
)

const logBucket = "arn:aws:s3:::acme-org-cloudtrail"

// mergedBucket merges trailwarden's bucket statements into an existing
// policy holding the given foreign statements, as `policy bucket --existing`
// does.
func mergedBucket(t *testing.T, c *config.Config, foreign string) *generator.Output {
	t.Helper()
	out, err := generator.Bucket(c, mustDoc(t, `{"Version":"2012-10-17","Statement":[`+foreign+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func proveBucket(t *testing.T, c *config.Config, out *generator.Output) *proof.Report {
	t.Helper()
	rep, err := proof.Prove(c, proof.Input{Target: proof.TargetBucket, Doc: out.Doc, Scope: out.Scope, Owned: generator.Owned(c)})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// partnerRead is the statement: a foreign account root reads every
// object of the log bucket.
const partnerRead = `{"Sid":"PartnerRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:GetObject","Resource":"` + logBucket + `/*"}`

// TestProve_ForeignGrantFails: a grant the config does not intend fails the
// proof even when only a foreign statement gives it, and the finding names
// the statement by Sid and by its index in the policy.
func TestProve_ForeignGrantFails(t *testing.T) {
	c := orgConfig()
	out := mergedBucket(t, c, partnerRead)
	rep := proveBucket(t, c, out)
	if !rep.Failed() || rep.Proven {
		t.Fatalf("proof of a policy letting 999999999999 read every log passes (failed=%v proven=%v)", rep.Failed(), rep.Proven)
	}
	var n int
	for _, f := range rep.Findings {
		if f.Kind != proof.KindUnintended {
			continue
		}
		n++
		if !f.Foreign || f.Accepted || !f.Blocking() {
			t.Errorf("finding %s %s: foreign=%v accepted=%v blocking=%v, want foreign, not accepted, blocking", f.Principal, f.Request.Action, f.Foreign, f.Accepted, f.Blocking())
		}
		if !reflect.DeepEqual(f.Statements, []string{"PartnerRead"}) || len(f.Grants) != 1 {
			t.Fatalf("finding names %v / %+v, want PartnerRead", f.Statements, f.Grants)
		}
		g := f.Grants[0]
		if out.Doc.Statements[g.Statement].Sid != "PartnerRead" || g.Owned || g.Accepted {
			t.Errorf("grant %+v does not point at PartnerRead (statement %d is %q)", g, g.Statement, out.Doc.Statements[g.Statement].Sid)
		}
	}
	if n == 0 {
		t.Fatal("no unintended grant reported")
	}
	if len(rep.Unintended) != 1 || rep.Unintended[0].Sid != "PartnerRead" || rep.Unintended[0].Findings != n {
		t.Fatalf("unintended statements %+v, want PartnerRead with %d findings", rep.Unintended, n)
	}
	if ex := rep.Findings[rep.Unintended[0].Example]; ex.Kind != proof.KindUnintended || ex.Statements[0] != "PartnerRead" {
		t.Errorf("example finding %+v does not belong to PartnerRead", ex)
	}
	if rep.AcceptedSetting != config.SettingAcceptedBucketSids {
		t.Errorf("accepted setting %q", rep.AcceptedSetting)
	}
}

// TestProve_AcceptedForeignGrant: with the Sid accepted in the config the
// proof passes, and every grant is still reported, marked accepted.
func TestProve_AcceptedForeignGrant(t *testing.T) {
	c := orgConfig()
	c.AcceptedForeignSids.BucketPolicy = []string{"PartnerRead"}
	rep := proveBucket(t, c, mergedBucket(t, c, partnerRead))
	if rep.Failed() || !rep.Proven {
		for _, f := range rep.Findings {
			t.Logf("%s %s %s %v accepted=%v", f.Kind, f.Principal, f.Request.Action, f.Statements, f.Accepted)
		}
		t.Fatal("accepted foreign grant fails the proof")
	}
	if rep.AcceptedCount() == 0 || rep.AcceptedCount() != len(rep.Findings) {
		t.Fatalf("%d of %d findings accepted, want all and at least one", rep.AcceptedCount(), len(rep.Findings))
	}
	for _, f := range rep.Findings {
		if !f.Accepted || f.Blocking() || !f.Grants[0].Accepted {
			t.Errorf("finding %+v not marked accepted", f)
		}
	}
	if len(rep.Unintended) != 1 || !rep.Unintended[0].Accepted {
		t.Errorf("unintended statements %+v, want PartnerRead accepted", rep.Unintended)
	}
	if len(rep.StaleAccepted) != 0 {
		t.Errorf("stale %v", rep.StaleAccepted)
	}
}

// TestProve_AcceptanceIsNarrow covers what acceptance does not cover: a
// grant that one of trailwarden's statements also gives, a statement
// without a Sid, a Sid accepted for the other policy, and Sids that no
// statement has (stale).
func TestProve_AcceptanceIsNarrow(t *testing.T) {
	tests := []struct {
		name       string
		foreign    string
		bucketSids []string
		keySids    []string
		wantName   string // a statement named by a blocking finding
		wantStale  []string
	}{
		{"NoSid", `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:GetObject","Resource":"` + logBucket + `/*"}`,
			[]string{"PartnerRead"}, nil, "statement 0", []string{"PartnerRead"}},
		{"AcceptedForTheKeyOnly", partnerRead, nil, []string{"PartnerRead"}, "PartnerRead", nil},
		{"OtherSidAccepted", partnerRead, []string{"Legacy", "PartnerReed"}, nil, "PartnerRead", []string{"Legacy", "PartnerReed"}},
		{"OwnedStatementAlsoGrants", partnerRead + `,{"Sid":"TrailwardenExtraRead","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"s3:GetObject","Resource":"` + logBucket + `/org/*"}`,
			[]string{"PartnerRead"}, nil, "TrailwardenExtraRead", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := orgConfig()
			c.AcceptedForeignSids = config.AcceptedSids{BucketPolicy: tt.bucketSids, KeyPolicy: tt.keySids}
			// An owned statement in the existing policy is replaced by the
			// merge; prove the hand-made document itself.
			doc := mustDoc(t, `{"Version":"2012-10-17","Statement":[`+tt.foreign+`]}`)
			rep, err := proof.Prove(c, proof.Input{Target: proof.TargetBucket, Doc: doc, Scope: config.ScopePerAccount, Owned: generator.Owned(c)})
			if err != nil {
				t.Fatal(err)
			}
			if !rep.Failed() || rep.Proven {
				t.Fatal("proof passes")
			}
			found := false
			for _, f := range rep.Findings {
				if f.Kind != proof.KindUnintended || !f.Blocking() {
					continue
				}
				for i, name := range f.Statements {
					if name == tt.wantName {
						found = true
						if idx := f.Grants[i].Statement; idx < 0 || idx >= len(doc.Statements) || doc.Statements[idx].Sid != f.Grants[i].Sid {
							t.Errorf("grant %+v does not index its statement", f.Grants[i])
						}
					}
				}
			}
			if !found {
				t.Errorf("no blocking finding names %q", tt.wantName)
			}
			if !reflect.DeepEqual(rep.StaleAccepted, tt.wantStale) {
				t.Errorf("stale %v, want %v", rep.StaleAccepted, tt.wantStale)
			}
		})
	}
}

// TestProve_AcceptedKeyStatement: an accepted key-policy
// statement is accepted in the key policy's proof.
func TestProve_AcceptedKeyStatement(t *testing.T) {
	c := orgConfig()
	c.AcceptedForeignSids.KeyPolicy = []string{"PartnerDecrypt"}
	out, err := generator.Key(c, mustDoc(t, `{"Version":"2012-10-17","Statement":[
		{"Sid":"PartnerDecrypt","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"kms:Decrypt","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := proof.Prove(c, proof.Input{Target: proof.TargetKey, Doc: out.Doc, Scope: out.Scope, Owned: generator.Owned(c)})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() || rep.AcceptedCount() == 0 {
		t.Fatalf("failed=%v accepted=%d, want a passing proof with accepted grants", rep.Failed(), rep.AcceptedCount())
	}
	c.AcceptedForeignSids.KeyPolicy = nil
	if rep, err = proof.Prove(c, proof.Input{Target: proof.TargetKey, Doc: out.Doc, Scope: out.Scope, Owned: generator.Owned(c)}); err != nil {
		t.Fatal(err)
	}
	if !rep.Failed() {
		t.Fatal("foreign kms:Decrypt for another account passes without acceptance")
	}
}

func TestAcceptedSetting(t *testing.T) {
	for target, want := range map[proof.Target]string{
		proof.TargetBucket: "accepted_foreign_sids.bucket_policy", proof.TargetKey: "accepted_foreign_sids.key_policy",
		proof.TargetTrust: "", proof.TargetAccess: "",
	} {
		if got := proof.AcceptedSetting(target); got != want {
			t.Errorf("AcceptedSetting(%s) = %q, want %q", target, got, want)
		}
	}
}
