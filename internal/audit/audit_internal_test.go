package audit

import (
	"bytes"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func loadConfig(t testing.TB) *config.Config {
	t.Helper()
	f, err := os.Open("testdata/trailwarden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, "testdata/trailwarden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func loadSnapshot(t *testing.T, name string) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// mutated returns a deep copy of a fixture changed by fn.
func mutated(t *testing.T, name string, fn func(s *snapshot.Snapshot)) *snapshot.Snapshot {
	t.Helper()
	var buf bytes.Buffer
	if err := snapshot.Encode(&buf, loadSnapshot(t, name)); err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Decode(&buf, name)
	if err != nil {
		t.Fatal(err)
	}
	fn(s)
	return s
}

func audit(t *testing.T, s *snapshot.Snapshot, profile string) *Report {
	t.Helper()
	rep, err := Run(loadConfig(t), s, profile)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func byRule(rep *Report, id string) []Finding {
	var out []Finding
	for _, f := range rep.Findings {
		if f.Rule == id {
			out = append(out, f)
		}
	}
	return out
}

func statuses(fs []Finding) []Status {
	var out []Status
	for _, f := range fs {
		out = append(out, f.Status)
	}
	return out
}

// TestRun_GoodFixturePassesEveryRule: the fixture built from trailwarden's
// own generated policies passes every rule of every profile, and every rule
// of a profile says something about it.
func TestRun_GoodFixturePassesEveryRule(t *testing.T) {
	s := loadSnapshot(t, "good.json")
	for _, p := range Profiles {
		rep := audit(t, s, p)
		for _, r := range Rules(p) {
			fs := byRule(rep, r.ID)
			if len(fs) == 0 {
				t.Errorf("%s %s: no finding", p, r.ID)
			}
			for _, f := range fs {
				if f.Status != Pass {
					t.Errorf("%s %s %s: %s %s %v", p, r.ID, f.Resource, f.Status, f.Message, f.Evidence)
				}
			}
		}
		if rep.FailsAt(Info) || rep.Counts.Fail != 0 || rep.Counts.Pass != len(rep.Findings) {
			t.Errorf("%s: counts %+v", p, rep.Counts)
		}
	}
}

// failsElsewhere are the rules bad.json cannot fail without hiding others:
// without an Organization, accelerate's reader checks are skipped.
var failsElsewhere = map[string]string{"TW-ORG-01": "ruleCases \"accelerate without an Organization\" and TestAccelerate_NoOrganization"}

// TestRun_BadFixtureFailsEveryRule: the broken fixture fails every rule of
// every profile, each failing finding with a remediation.
func TestRun_BadFixtureFailsEveryRule(t *testing.T) {
	s := loadSnapshot(t, "bad.json")
	for _, p := range Profiles {
		rep := audit(t, s, p)
		for _, r := range Rules(p) {
			if failsElsewhere[r.ID] != "" {
				continue
			}
			fs := byRule(rep, r.ID)
			if !slices.Contains(statuses(fs), Fail) {
				t.Errorf("%s %s: no failing finding: %v", p, r.ID, fs)
			}
			for _, f := range fs {
				if f.Status == Fail && (f.Remediation == "" || len(f.Evidence) == 0) {
					t.Errorf("%s %s: failing finding without remediation or evidence: %+v", p, r.ID, f)
				}
			}
		}
	}
}

// cases are the per-rule fixtures: a snapshot, a profile, a rule and the
// status it must get (every finding of the rule when all is set, at least
// one otherwise).
type ruleCase struct {
	name    string
	snap    func(t *testing.T) *snapshot.Snapshot
	profile string
	rule    string
	want    Status
	// contains must appear in the message, evidence or remediation of a
	// finding with the wanted status.
	contains string
}

func fixture(name string) func(t *testing.T) *snapshot.Snapshot {
	return func(t *testing.T) *snapshot.Snapshot { return loadSnapshot(t, name) }
}

func mutation(fn func(s *snapshot.Snapshot)) func(t *testing.T) *snapshot.Snapshot {
	return func(t *testing.T) *snapshot.Snapshot { return mutated(t, "good.json", fn) }
}

func i32(v int32) *int32 { return &v }

// archiveThenExpire keeps current log objects seven years and noncurrent
// versions the given days; scratchRule expires another prefix in a week.
func archiveThenExpire(noncurrent int32) snapshot.LifecycleRule {
	return snapshot.LifecycleRule{ID: "archive-then-expire", Status: "Enabled", Prefix: "org/AWSLogs/", ExpirationDays: i32(2555), NoncurrentExpirationDays: i32(noncurrent), TransitionDays: []int32{365}}
}

var scratchRule = snapshot.LifecycleRule{ID: "scratch", Status: "Enabled", Prefix: "tmp/", ExpirationDays: i32(7)}

var ruleCases = []ruleCase{
	{"equivalent bucket statements pass by evaluation", fixture("equivalent.json"), "accelerate", "TW-ACC-03", Pass, "AmsAthenaReads"},
	{"equivalent key statement passes by evaluation", fixture("equivalent.json"), "accelerate", "TW-ACC-04", Pass, "AmsDecryptViaAthena"},
	{"equivalent statements let readers read", fixture("equivalent.json"), "accelerate", "TW-ACC-02", Pass, "AmsAthenaReads"},
	{"SCP denying the reader fails the readable check", fixture("scp-deny.json"), "accelerate", "TW-ACC-02", Fail, "DenyLogBucketReads"},
	{"SCP denial names the SCP to change", fixture("scp-deny.json"), "baseline", "TW-ACC-02", Fail, "the SCP DenyLogBucketReads"},
	{"SCP does not change the bucket statements' verdict", fixture("scp-deny.json"), "accelerate", "TW-ACC-03", Pass, ""},
	{"reader identity policy from the snapshot denies", mutation(func(s *snapshot.Snapshot) {
		s.Readers[0].Inline[0].Document = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}]}`
	}), "baseline", "TW-ACC-02", Fail, "identity policy"},
	{"reader role missing", mutation(func(s *snapshot.Snapshot) { s.Readers[0].Exists = false }), "baseline", "TW-ACC-02", Fail, "does not exist"},
	{"RCP denying CloudTrail fails delivery", mutation(func(s *snapshot.Snapshot) {
		s.Organization.Policies = append(s.Organization.Policies, snapshot.OrgPolicy{ID: "p-rcp1", Name: "NoServiceWrites", Type: snapshot.PolicyRCP,
			Targets:  []string{"ou-ab12-security"},
			Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"*","Condition":{"Bool":{"aws:PrincipalIsAWSService":"true"}}}]}`})
	}), "baseline", "TW-ACC-01", Fail, "NoServiceWrites"},
	{"key policy without CloudTrail encrypt fails delivery", mutation(func(s *snapshot.Snapshot) {
		s.Keys[0].Policy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`
	}), "accelerate", "TW-ACC-01", Fail, "kms:GenerateDataKey"},
	{"no trail in one account", mutation(func(s *snapshot.Snapshot) { s.Accounts[3].Trails = nil }), "cis", "TW-TRL-01", Fail, "create-trail"},
	{"trail status unreadable", mutation(func(s *snapshot.Snapshot) {
		for i := range s.Accounts {
			s.Accounts[i].Trails[0].Status = nil
		}
		s.Errors = []snapshot.CallError{{Account: "111111111111", Region: "us-east-1", Service: "cloudtrail", Operation: "GetTrailStatus", Resource: "org-trail", Code: "AccessDeniedException", Message: "not authorized"}}
	}), "baseline", "TW-TRL-08", Unknown, "GetTrailStatus"},
	{"delivery error", mutation(func(s *snapshot.Snapshot) {
		s.Accounts[0].Trails[0].Status.LatestDigestDeliveryError = "InsufficientS3BucketPolicyException"
	}), "baseline", "TW-TRL-08", Fail, "InsufficientS3BucketPolicyException"},
	{"lifecycle unreadable", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.Lifecycle = nil
		s.Errors = []snapshot.CallError{{Account: "222222222222", Service: "s3", Operation: "GetBucketLifecycleConfiguration", Resource: "acme-org-cloudtrail", Code: "AccessDenied", Message: "Access Denied"}}
	}), "accelerate", "TW-BKT-03", Unknown, "GetBucketLifecycleConfiguration"},
	{"no lifecycle configuration is not an error", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.Lifecycle = nil
		s.Errors = []snapshot.CallError{{Service: "s3", Operation: "GetBucketLifecycleConfiguration", Resource: "acme-org-cloudtrail", Code: "NoSuchLifecycleConfiguration"}}
	}), "accelerate", "TW-BKT-03", Pass, "kept indefinitely"},
	{"bucket missing from the snapshot", mutation(func(s *snapshot.Snapshot) {
		s.Bucket = nil
		s.Errors = []snapshot.CallError{{Account: "222222222222", Service: "s3", Operation: "HeadBucket", Resource: "acme-org-cloudtrail", Code: "AccessDenied"}}
	}), "cis", "TW-BKT-05", Unknown, "HeadBucket"},
	{"bucket does not exist", mutation(func(s *snapshot.Snapshot) { s.Bucket.Exists = false }), "accelerate", "TW-BKT-01", Fail, "create-bucket"},
	{"key unreadable", mutation(func(s *snapshot.Snapshot) {
		s.Keys = nil
		s.Errors = []snapshot.CallError{{Account: "222222222222", Service: "kms", Operation: "DescribeKey", Resource: "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab", Code: "AccessDeniedException"}}
	}), "baseline", "TW-KEY-01", Unknown, "DescribeKey"},
	{"key pending deletion", mutation(func(s *snapshot.Snapshot) { s.Keys[0].State = "PendingDeletion" }), "baseline", "TW-KEY-01", Fail, "cancel-key-deletion"},
	{"key shared with everyone in the organization is not public", mutation(func(s *snapshot.Snapshot) {
		s.Keys[0].Policy = strings.Replace(s.Keys[0].Policy, `"Statement": [`, `"Statement": [{"Sid":"OrgDecrypt","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-a1b2c3d4e5"}}},`, 1)
	}), "cis", "TW-KEY-02", Pass, "0 of 6 requests allowed"},
	{"key data-key generation for any principal is public", mutation(func(s *snapshot.Snapshot) {
		s.Keys[0].Policy = strings.Replace(s.Keys[0].Policy, `"Statement": [`, `"Statement": [{"Sid":"AnyoneEncrypts","Effect":"Allow","Principal":"*","Action":"kms:GenerateDataKey*","Resource":"*"},`, 1)
	}), "baseline", "TW-KEY-02", Fail, "kms:GenerateDataKey"},
	{"key policy unreadable", mutation(func(s *snapshot.Snapshot) {
		s.Keys[0].Policy = ""
		s.Errors = []snapshot.CallError{{Account: "222222222222", Service: "kms", Operation: "GetKeyPolicy", Resource: "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab", Code: "AccessDeniedException"}}
	}), "baseline", "TW-KEY-02", Unknown, "GetKeyPolicy"},
	{"TLS deny written as a JSON boolean still denies", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.Policy = strings.Replace(s.Bucket.Policy, `"aws:SecureTransport": "false"`, `"aws:SecureTransport": false`, 1)
	}), "baseline", "TW-BKT-06", Pass, "ExplicitlyDenied"},
	{"TLS deny with IfExists on the wrong value does not deny", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.Policy = strings.Replace(s.Bucket.Policy, `"aws:SecureTransport": "false"`, `"aws:SecureTransport": "true"`, 1)
	}), "baseline", "TW-BKT-06", Fail, "SecureTransport"},
	{"account-level public access block suffices", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.AccountPublicAccessBlock, s.Bucket.PublicAccessBlock = s.Bucket.PublicAccessBlock, nil
	}), "cis", "TW-BKT-05", Pass, "account public access block: BlockPublicAcls=true"},
	{"public ACL grant", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.ACLGrants = append(s.Bucket.ACLGrants, snapshot.Grant{GranteeType: "Group", GranteeURI: "http://acs.amazonaws.com/groups/global/AuthenticatedUsers", Permission: "READ"})
	}), "cis", "TW-BKT-05", Fail, "AuthenticatedUsers"},
	{"reader trust to an account id", mutation(func(s *snapshot.Snapshot) {
		s.Readers[0].TrustPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"444444444444"},"Action":"sts:AssumeRole"}]}`
	}), "baseline", "TW-RDR-02", Fail, "update-assume-role-policy"},
	{"reader roles not read", mutation(func(s *snapshot.Snapshot) {
		s.Readers = nil
		s.Errors = []snapshot.CallError{{Account: "222222222222", Service: "iam", Operation: "GetRole", Resource: "trailwarden-log-reader", Code: "AccessDenied"}}
	}), "baseline", "TW-RDR-02", Unknown, "GetRole"},
	{"KMS excluded from basic selectors", mutation(func(s *snapshot.Snapshot) {
		for i := range s.Accounts {
			s.Accounts[i].Trails[0].AdvancedEventSelectors = nil
			s.Accounts[i].Trails[0].EventSelectors = []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}
		}
	}), "accelerate", "TW-TRL-03", Fail, "events of kms.amazonaws.com"},
	{"RDS Data API excluded from advanced selectors", mutation(func(s *snapshot.Snapshot) {
		for i := range s.Accounts {
			s.Accounts[i].Trails[0].AdvancedEventSelectors[0].FieldSelectors = append(s.Accounts[i].Trails[0].AdvancedEventSelectors[0].FieldSelectors,
				snapshot.FieldSelector{Field: "eventSource", NotEquals: []string{"rdsdata.amazonaws.com"}})
		}
	}), "accelerate", "TW-TRL-03", Fail, "rdsdata.amazonaws.com"},
	{"advanced exclusion of another source passes accelerate", mutation(func(s *snapshot.Snapshot) {
		for i := range s.Accounts {
			s.Accounts[i].Trails[0].AdvancedEventSelectors[0].FieldSelectors = append(s.Accounts[i].Trails[0].AdvancedEventSelectors[0].FieldSelectors,
				snapshot.FieldSelector{Field: "eventSource", NotEquals: []string{"s3.amazonaws.com"}})
		}
	}), "accelerate", "TW-TRL-03", Pass, ""},
	{"advanced exclusion of another source fails CIS", mutation(func(s *snapshot.Snapshot) {
		for i := range s.Accounts {
			s.Accounts[i].Trails[0].AdvancedEventSelectors[0].FieldSelectors = append(s.Accounts[i].Trails[0].AdvancedEventSelectors[0].FieldSelectors,
				snapshot.FieldSelector{Field: "eventSource", NotEquals: []string{"s3.amazonaws.com"}})
		}
	}), "cis", "TW-TRL-04", Fail, "limits eventSource"},
	{"lifecycle: noncurrent versions purged early", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.Lifecycle = []snapshot.LifecycleRule{archiveThenExpire(90), scratchRule}
	}), "accelerate", "TW-BKT-03", Fail, `rule "archive-then-expire" (noncurrent versions are deleted)`},
	{"lifecycle: seven years, noncurrent two, other prefixes ignored", mutation(func(s *snapshot.Snapshot) {
		s.Bucket.Lifecycle = []snapshot.LifecycleRule{archiveThenExpire(730), scratchRule}
	}), "accelerate", "TW-BKT-03", Pass, `kept at least 730 days (rule "archive-then-expire")`},
	{"accelerate without an Organization", mutation(func(s *snapshot.Snapshot) {
		s.Organization = nil
		s.Errors = []snapshot.CallError{{Account: "111111111111", Service: "organizations", Operation: "DescribeOrganization", Code: "AWSOrganizationsNotInUseException", Message: "Your account is not a member of an organization."}}
	}), "accelerate", "TW-ORG-01", Fail, "does not support"},
	{"legacy principal", fixture("bad.json"), "baseline", "TW-BKT-08", Fail, "903692715234"},
	{"delivery statement without source condition", fixture("bad.json"), "baseline", "TW-BKT-09", Fail, "neither aws:SourceArn nor aws:SourceOrgID"},
}

func TestRules_Cases(t *testing.T) {
	for _, tc := range ruleCases {
		t.Run(tc.name, func(t *testing.T) {
			rep := audit(t, tc.snap(t), tc.profile)
			fs := byRule(rep, tc.rule)
			for _, f := range fs {
				text := f.Message + "\n" + strings.Join(f.Evidence, "\n") + "\n" + f.Remediation
				if f.Status == tc.want && strings.Contains(text, tc.contains) {
					if f.Status == Unknown && f.Error == nil && f.Remediation == "" {
						t.Errorf("unknown finding cites nothing: %+v", f)
					}
					return
				}
			}
			t.Errorf("%s: no %s finding containing %q in %+v", tc.rule, tc.want, tc.contains, fs)
		})
	}
}

// TestCatalogue_EveryRuleHasPassAndFailCases fails when a rule gains no
// passing or no failing case in the fixtures above.
func TestCatalogue_EveryRuleHasPassAndFailCases(t *testing.T) {
	seen := map[string]map[Status]bool{}
	note := func(rep *Report) {
		for _, f := range rep.Findings {
			if seen[f.Rule] == nil {
				seen[f.Rule] = map[Status]bool{}
			}
			seen[f.Rule][f.Status] = true
		}
	}
	for _, name := range []string{"good.json", "bad.json", "equivalent.json", "scp-deny.json"} {
		for _, p := range Profiles {
			note(audit(t, loadSnapshot(t, name), p))
		}
	}
	for _, tc := range ruleCases {
		note(audit(t, tc.snap(t), tc.profile))
	}
	for _, r := range Rules("") {
		if !seen[r.ID][Pass] || !seen[r.ID][Fail] {
			t.Errorf("%s: pass case %t, fail case %t; add fixtures for the missing one", r.ID, seen[r.ID][Pass], seen[r.ID][Fail])
		}
	}
}

func TestCatalogue_Wellformed(t *testing.T) {
	ids := map[string]bool{}
	for _, r := range Rules("") {
		if ids[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		ids[r.ID] = true
		if r.Title == "" || r.Checks == "" || r.Fix == "" || len(r.References) == 0 || len(r.Profiles) == 0 || r.check == nil {
			t.Errorf("%s: incomplete rule", r.ID)
		}
		if _, err := ParseSeverity(string(r.Severity)); err != nil {
			t.Errorf("%s: %v", r.ID, err)
		}
		for _, p := range r.Profiles {
			if !slices.Contains(Profiles, p) {
				t.Errorf("%s: unknown profile %q", r.ID, p)
			}
		}
	}
}

func TestRun_SortedAndCounted(t *testing.T) {
	rep := audit(t, loadSnapshot(t, "bad.json"), "baseline")
	for i := 1; i < len(rep.Findings); i++ {
		a, b := rep.Findings[i-1], rep.Findings[i]
		if a.Severity.Rank() > b.Severity.Rank() ||
			(a.Severity == b.Severity && (a.Account > b.Account || (a.Account == b.Account && a.Resource > b.Resource))) {
			t.Fatalf("findings out of order at %d: %s/%s/%s before %s/%s/%s", i, a.Severity, a.Account, a.Resource, b.Severity, b.Account, b.Resource)
		}
	}
	n := 0
	for _, f := range rep.Findings {
		if f.Status == Fail && f.Severity == Critical {
			n++
		}
	}
	if n == 0 || rep.Counts.Failing[Critical] != n || rep.Counts.Pass+rep.Counts.Fail+rep.Counts.Unknown != len(rep.Findings) {
		t.Fatalf("counts %+v for %d findings, %d critical failures", rep.Counts, len(rep.Findings), n)
	}
	if !rep.FailsAt(Critical) {
		t.Fatal("FailsAt(critical) = false with critical failures")
	}
	low := &Report{Findings: []Finding{{Status: Fail, Severity: Low}, {Status: Unknown, Severity: Critical}}}
	if low.FailsAt(High) || !low.FailsAt(Low) {
		t.Fatal("FailsAt must count failing findings at or above the threshold only")
	}
}

func TestRun_UnknownProfile(t *testing.T) {
	if _, err := Run(loadConfig(t), loadSnapshot(t, "good.json"), "strict"); err == nil || !strings.Contains(err.Error(), "accelerate") {
		t.Fatalf("err = %v", err)
	}
}
