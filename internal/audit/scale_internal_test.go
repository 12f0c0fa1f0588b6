package audit

import (
	"fmt"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// scaleOUs is how many OUs the large organization spreads its accounts
// over, each with its own SCP.
const scaleOUs = 20

// scaleOrganization builds an n-account organization snapshot from the
// good fixture: accounts spread over scaleOUs OUs, each OU with an SCP, an
// RCP data perimeter at the root, and in every account a trail of its own
// to another bucket beside the one that delivers to the central bucket.
// With org set, the config has one organization trail (every account's
// list shows it); otherwise one trail per account (without SSE-KMS: one
// key policy cannot name a thousand trails within KMS's 32 KB).
func scaleOrganization(tb testing.TB, n int, org bool) (*config.Config, *snapshot.Snapshot) {
	tb.Helper()
	c := loadConfig(tb)
	c.Trail.Organization = org
	c.SourceAccounts = nil
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%012d", 500000000000+i)
	}
	if !org {
		c.KMSKeyARN = ""
		c.SourceAccounts = ids
	}
	bucket, err := generator.Bucket(c, nil)
	if err != nil {
		tb.Fatal(err)
	}
	s := loadSnapshotTB(tb, "good.json")
	s.Bucket.Policy = string(policy.Canonical(bucket.Doc))
	if org {
		key, err := generator.Key(c, nil)
		if err != nil {
			tb.Fatal(err)
		}
		s.Keys[0].Policy = string(policy.Canonical(key.Doc))
	} else {
		s.Keys, s.Bucket.Encryption = nil, []snapshot.EncryptionRule{{SSEAlgorithm: "AES256"}}
	}
	tmpl := s.Accounts[0].Trails[0]
	mgmt, logArchive := s.Accounts[0], s.Accounts[1]
	s.Accounts = []snapshot.Account{mgmt, logArchive}
	s.Organization.Accounts = s.Organization.Accounts[:2]
	targets := []string{"r-ab12", "111111111111", "222222222222"}
	for o := 0; o < scaleOUs; o++ {
		ou := fmt.Sprintf("ou-ab12-%08d", o)
		targets = append(targets, ou)
		s.Organization.Policies = append(s.Organization.Policies, snapshot.OrgPolicy{ID: fmt.Sprintf("p-scp%04d", o), Name: "ou-guard-" + ou, Type: snapshot.PolicySCP,
			Targets: []string{ou},
			Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["cloudtrail:StopLogging","cloudtrail:DeleteTrail"],"Resource":"*"},` +
				`{"Effect":"Deny","Action":"s3:DeleteBucket","Resource":"*","Condition":{"StringNotEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}}]}`})
	}
	s.Organization.Policies = append(s.Organization.Policies, snapshot.OrgPolicy{ID: "p-rcp-perimeter", Name: "DataPerimeter", Type: snapshot.PolicyRCP, Targets: []string{"r-ab12"},
		Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:*","kms:*"],"Resource":"*",` +
			`"Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}}]}`})
	for i, a := range ids {
		ou := fmt.Sprintf("ou-ab12-%08d", i%scaleOUs)
		s.Organization.Accounts = append(s.Organization.Accounts, snapshot.OrgAccount{ID: a, Status: "ACTIVE", Path: []string{"r-ab12", ou}})
		tr := tmpl
		if !org {
			tr.ARN, tr.IsOrganization, tr.KMSKeyID = c.TrailARN(a), false, ""
		}
		local := tmpl
		local.ARN, local.Name, local.S3BucketName, local.S3KeyPrefix, local.IsOrganization = "arn:aws:cloudtrail:us-east-1:"+a+":trail/local", "local", "local-"+a, "", false
		s.Accounts = append(s.Accounts, snapshot.Account{ID: a, Regions: []string{"eu-west-1", "us-east-1"}, Trails: []snapshot.Trail{local, tr}})
		targets = append(targets, a)
	}
	for i := range s.Organization.Policies {
		if s.Organization.Policies[i].AWSManaged {
			s.Organization.Policies[i].Targets = targets
		}
	}
	if !org {
		// The management and log-archive accounts are not source accounts
		// here: keep only the per-account trails.
		s.Accounts = s.Accounts[2:]
	}
	return c, s
}

func loadSnapshotTB(tb testing.TB, name string) *snapshot.Snapshot {
	tb.Helper()
	s, err := snapshot.ReadFile("testdata/" + name)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkAudit1000Accounts audits a 1,000-account organization snapshot
// under every profile, with an organization trail and with per-account
// trails (make bench; the README quotes the figure).
func BenchmarkAudit1000Accounts(b *testing.B) {
	for _, org := range []bool{true, false} {
		name := "per-account-trails"
		if org {
			name = "organization-trail"
		}
		c, s := scaleOrganization(b, 1000, org)
		b.Run(name, func(b *testing.B) {
			for range b.N {
				for _, p := range Profiles {
					if _, err := Run(c, s, p); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// TestRun_CompilesOncePerPolicySet: the evaluators of an audit are one per
// distinct policy set (resource policy, identity, SCP and RCP paths), and
// the remedies' generated policies one per kind, so an organization ten
// times larger, whose accounts share their policies, compiles no more.
func TestRun_CompilesOncePerPolicySet(t *testing.T) {
	for _, org := range []bool{true, false} {
		var compiles, generated []int
		for _, n := range []int{40, 400} {
			c, s := scaleOrganization(t, n, org)
			for _, p := range Profiles {
				e := newEnv(c, s, p)
				if rep := e.run(); len(rep.Findings) == 0 {
					t.Fatalf("%s: no findings", p)
				}
				if p == config.ProfileBaseline {
					compiles, generated = append(compiles, e.evals.Compiles()), append(generated, len(e.generated))
				}
			}
		}
		if compiles[0] != compiles[1] || compiles[0] == 0 {
			t.Errorf("organization trail %v: compiles for 40 and 400 accounts = %v, want equal", org, compiles)
		}
		if generated[0] != generated[1] || generated[0] > 4 {
			t.Errorf("organization trail %v: generated policies for 40 and 400 accounts = %v, want equal and at most one per kind", org, generated)
		}
	}
}
