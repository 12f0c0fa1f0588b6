package audit

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// everyTrail changes every trail of every account.
func everyTrail(s *snapshot.Snapshot, fn func(t *snapshot.Trail)) {
	for i := range s.Accounts {
		for j := range s.Accounts[i].Trails {
			fn(&s.Accounts[i].Trails[j])
		}
	}
}

// findingText is everything a finding says.
func findingText(f Finding) string {
	return f.Message + "\n" + strings.Join(f.Evidence, "\n") + "\n" + f.Remediation
}

// byAccount indexes a rule's findings by account.
func byAccount(rep *Report, rule string) map[string][]Finding {
	out := map[string][]Finding{}
	for _, f := range byRule(rep, rule) {
		out[f.Account] = append(out[f.Account], f)
	}
	return out
}

// TestDelivery_FromTheDeployedTrail (issue 13 item 1): TW-ACC-01 builds
// CloudTrail's requests from each trail as deployed, for every account that
// should deliver, and fails under every profile when the deployed trail
// cannot deliver, with the deployed and intended values side by side. On
// the old code, which probed the config's intended requests, the prefix
// and error cases passed (and cis had no TW-ACC-01 at all).
func TestDelivery_FromTheDeployedTrail(t *testing.T) {
	const otherKey = "arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555"
	tests := []struct {
		name string
		snap func(s *snapshot.Snapshot)
		// accounts whose TW-ACC-01 finding must have status want and
		// contain every string of contains.
		accounts []string
		want     Status
		contains []string
		// drift, when set, must appear in a failing TW-TRL-09 finding.
		drift string
	}{
		{"prefix the bucket policy does not cover", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.S3KeyPrefix = "corp/logs" })
		}, []string{"111111111111", "222222222222", "333333333333", "444444444444"}, Fail,
			[]string{"s3://acme-org-cloudtrail/corp/logs/AWSLogs/o-a1b2c3d4e5/", "intended: trail", "s3://acme-org-cloudtrail/org/AWSLogs/o-a1b2c3d4e5/", "--s3-key-prefix org"},
			"key prefix: deployed corp/logs, intended org"},
		{"latest delivery failed", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.Status.LatestDeliveryError = "AccessDenied" })
		}, []string{"111111111111", "333333333333"}, Fail, []string{"latest log delivery failed (AccessDenied)"}, ""},
		{"latest digest delivery failed", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.Status.LatestDigestDeliveryError = "AccessDenied" })
		}, []string{"444444444444"}, Fail, []string{"latest digest delivery failed (AccessDenied)"}, ""},
		{"trail delivers to another bucket", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.S3BucketName = "someone-elses-bucket" })
		}, []string{"111111111111", "222222222222", "333333333333", "444444444444"}, Fail,
			[]string{"no trail delivers account", "delivers to s3://someone-elses-bucket/org/AWSLogs/, not the central bucket", "create-trail"},
			"bucket: deployed someone-elses-bucket, intended acme-org-cloudtrail"},
		{"trail's key does not let CloudTrail encrypt", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.KMSKeyID = otherKey })
			s.Keys = append(s.Keys, snapshot.Key{ARN: otherKey, Account: "222222222222", Region: "us-east-1", State: "Enabled", KeyManager: "CUSTOMER", RotationEnabled: true,
				Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`})
		}, []string{"333333333333"}, Fail, []string{"kms:GenerateDataKey on " + otherKey, "ImplicitlyDenied", "--kms-key-id arn:aws:kms:us-east-1:222222222222:key/1234abcd"},
			"KMS key: deployed " + otherKey},
		{"trail's key disabled", func(s *snapshot.Snapshot) { s.Keys[0].State = "Disabled" },
			[]string{"333333333333"}, Fail, []string{"the trail's KMS key is Disabled", "aws kms enable-key"}, ""},
		{"one account's trail list shows no trail to the bucket", func(s *snapshot.Snapshot) {
			s.Accounts[2].Trails = []snapshot.Trail{{ARN: "arn:aws:cloudtrail:eu-west-1:333333333333:trail/local", Name: "local", HomeRegion: "eu-west-1", S3BucketName: "workload-a-trail"}}
		}, []string{"333333333333"}, Fail, []string{"no trail delivers account 333333333333's logs", "trail/local delivers to s3://workload-a-trail/AWSLogs/"}, ""},
		{"the organization's accounts could not be listed", func(s *snapshot.Snapshot) {
			s.Organization.Accounts = nil
			s.Errors = []snapshot.CallError{{Account: "111111111111", Service: "organizations", Operation: "ListAccounts", Code: "AccessDeniedException", Message: "denied"}}
		}, []string{"111111111111"}, Unknown, []string{"organizations ListAccounts failed", "accounts whose logs should arrive are not known"}, ""},
		{"as configured", func(*snapshot.Snapshot) {},
			[]string{"111111111111", "222222222222", "333333333333", "444444444444"}, Pass, []string{"deployed: trail arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail", "s3:PutObject on arn:aws:s3:::acme-org-cloudtrail/org/AWSLogs/o-a1b2c3d4e5/"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := mutated(t, "good.json", tt.snap)
			for _, p := range Profiles {
				rep := audit(t, s, p)
				got := byAccount(rep, "TW-ACC-01")
				for _, acct := range tt.accounts {
					found := false
					for _, f := range got[acct] {
						text := findingText(f)
						ok := f.Status == tt.want
						for _, c := range tt.contains {
							ok = ok && strings.Contains(text, c)
						}
						found = found || ok
					}
					if !found {
						t.Errorf("%s: account %s: no %s TW-ACC-01 finding containing %q in %+v", p, acct, tt.want, tt.contains, got[acct])
					}
				}
				if tt.want == Fail && !rep.FailsAt(High) {
					t.Errorf("%s: a delivery failure does not fail the audit at the default --fail-on high", p)
				}
				if tt.drift != "" && !slices.ContainsFunc(byRule(rep, "TW-TRL-09"), func(f Finding) bool {
					return f.Status == Fail && strings.Contains(findingText(f), tt.drift)
				}) {
					t.Errorf("%s: no failing TW-TRL-09 drift finding containing %q: %+v", p, tt.drift, byRule(rep, "TW-TRL-09"))
				}
			}
		})
	}
}

// TestDelivery_PerAccountTrailListUnreadable: with one trail per account, an
// account whose trail list could not be read is unknown, never a pass, and
// never silently left out; one whose trail points elsewhere fails by name.
func TestDelivery_PerAccountTrailListUnreadable(t *testing.T) {
	c, _, s := perAccountSnapshot(t, func(s *snapshot.Snapshot) {
		s.Accounts[2].Trails = nil // 333: its list could not be read
		s.Errors = []snapshot.CallError{{Account: "333333333333", Region: "us-east-1", Service: "cloudtrail", Operation: "DescribeTrails", Code: "AccessDeniedException"}}
		s.Accounts[3].Trails[0].S3BucketName = "elsewhere" // 444: delivers to another bucket
	})
	for _, p := range Profiles {
		rep, err := Run(c, s, p)
		if err != nil {
			t.Fatal(err)
		}
		got := byAccount(rep, "TW-ACC-01")
		if f := got["333333333333"]; len(f) != 1 || f[0].Status != Unknown || !strings.Contains(f[0].Message, "DescribeTrails") {
			t.Errorf("%s: unreadable account: %+v", p, f)
		}
		if f := got["444444444444"]; len(f) != 1 || f[0].Status != Fail || !strings.Contains(findingText(f[0]), "s3://elsewhere/") {
			t.Errorf("%s: account delivering elsewhere: %+v", p, f)
		}
		if len(got) != 2 {
			t.Errorf("%s: TW-ACC-01 findings for %d accounts, want the 2 source accounts", p, len(got))
		}
		drift := byAccount(rep, "TW-TRL-09")
		if f := drift["333333333333"]; len(f) != 1 || f[0].Status != Unknown {
			t.Errorf("%s: drift of an unreadable account: %+v", p, f)
		}
	}
}

// twoKeys is the onboarding guide's own scenario: the trail encrypts with
// one key, the bucket's default encryption is another, whose policy lets
// only its own account in.
func twoKeys(s *snapshot.Snapshot) {
	const second = "arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555"
	s.Bucket.Encryption = []snapshot.EncryptionRule{{SSEAlgorithm: "aws:kms", KMSMasterKeyID: "alias/logs-default", BucketKeyEnabled: true}}
	s.Keys = append(s.Keys, snapshot.Key{ARN: second, Refs: []string{"alias/logs-default"}, Account: "222222222222", Region: "us-east-1", State: "Enabled",
		KeyManager: "CUSTOMER", RotationEnabled: false,
		Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`})
}

// awsManagedBucketKey makes the bucket's default encryption aws:kms with
// AWS's managed key, whose policy allows only its account through S3.
func awsManagedBucketKey(s *snapshot.Snapshot) {
	s.Bucket.Encryption = []snapshot.EncryptionRule{{SSEAlgorithm: "aws:kms"}}
	s.Keys = append(s.Keys, snapshot.Key{ARN: "arn:aws:kms:us-east-1:222222222222:key/aaaaaaaa-0000-0000-0000-000000000000", Refs: []string{"alias/aws/s3"},
		Account: "222222222222", Region: "us-east-1", State: "Enabled", KeyManager: "AWS", RotationEnabled: true,
		Policy: `{"Version":"2012-10-17","Statement":[{"Sid":"Allow access through S3","Effect":"Allow","Principal":{"AWS":"*"},"Action":["kms:Decrypt","kms:GenerateDataKey*"],"Resource":"*",` +
			`"Condition":{"StringEquals":{"kms:CallerAccount":"222222222222","kms:ViaService":"s3.us-east-1.amazonaws.com"}}}]}`})
}

// TestKeys_EveryKeyThatEncryptsLogs (issue 13 item 2): the bucket's
// default-encryption key is checked beside the trail's: the readers must be
// able to decrypt with it, the onboarding key statement must be in its
// policy, and it must rotate. The old snapshot held one key, so the second
// was never read and the audit passed.
func TestKeys_EveryKeyThatEncryptsLogs(t *testing.T) {
	const second = "arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555"
	tests := []struct {
		name    string
		snap    func(s *snapshot.Snapshot)
		profile string
		rule    string
		want    Status
		// resource and contains select the finding.
		resource, contains string
	}{
		{"reader cannot decrypt with the bucket key", twoKeys, "baseline", "TW-ACC-02", Fail, "arn:aws:iam::444444444444:role/security-analytics", "kms:Decrypt on " + second},
		{"the fix names the bucket key", twoKeys, "baseline", "TW-ACC-02", Fail, "arn:aws:iam::444444444444:role/security-analytics", "the key " + second + " (the bucket's default encryption) does not let the readers decrypt"},
		{"the reader role's own policy lacks the bucket key", twoKeys, "baseline", "TW-ACC-02", Fail, "arn:aws:iam::222222222222:role/trailwarden-log-reader", "kms:Decrypt on " + second + " [aws:CalledVia=athena.amazonaws.com kms:EncryptionContext:aws:s3:arn"},
		{"pattern reader cannot decrypt with the bucket key", twoKeys, "accelerate", "TW-ACC-02", Fail, "", "kms:Decrypt on " + second},
		{"onboarding key statement missing from the bucket key", twoKeys, "accelerate", "TW-ACC-04", Fail, second, "DONOTDELETE-AMS-ALLOWTRAILOBJECTDECRYPTION"},
		{"onboarding key statement still on the trail key", twoKeys, "accelerate", "TW-ACC-04", Pass, "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab", ""},
		{"bucket key rotation under cis", twoKeys, "cis", "TW-KEY-01", Fail, second, "enable-key-rotation"},
		{"bucket key is not public", twoKeys, "cis", "TW-KEY-02", Pass, second, "0 of 6 requests allowed"},
		{"AWS managed bucket key cannot serve other accounts", awsManagedBucketKey, "baseline", "TW-ACC-02", Fail, "arn:aws:iam::444444444444:role/security-analytics", "customer managed key"},
		{"AWS managed bucket key fails the onboarding key statement", awsManagedBucketKey, "accelerate", "TW-ACC-04", Fail, "arn:aws:kms:us-east-1:222222222222:key/aaaaaaaa-0000-0000-0000-000000000000", "put-bucket-encryption"},
		{"a key the snapshot lacks is unknown, not a pass", func(s *snapshot.Snapshot) {
			twoKeys(s)
			s.Keys = s.Keys[:1]
		}, "baseline", "TW-ACC-02", Unknown, "arn:aws:iam::444444444444:role/security-analytics", "the snapshot has no KMS key alias/logs-default"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := audit(t, mutated(t, "good.json", tt.snap), tt.profile)
			fs := byRule(rep, tt.rule)
			for _, f := range fs {
				if f.Status == tt.want && (tt.resource == "" || f.Resource == tt.resource) && strings.Contains(findingText(f), tt.contains) {
					return
				}
			}
			t.Errorf("%s %s: no %s finding on %q containing %q in %+v", tt.profile, tt.rule, tt.want, tt.resource, tt.contains, fs)
		})
	}
	// One key in, one key out: the good fixture's single key still passes.
	for _, p := range Profiles {
		if rep := audit(t, loadSnapshot(t, "good.json"), p); rep.Counts.Fail != 0 {
			t.Errorf("%s: good fixture fails %d findings", p, rep.Counts.Fail)
		}
	}
}

// TestAccelerate_EveryRequirementIsRequired (issue 13 item 3): under
// accelerate every rule is high or above, so failing any of the
// onboarding guide's requirements exits 1 at the default --fail-on high.
// On the old code four of them were medium and the audit exited 0.
func TestAccelerate_EveryRequirementIsRequired(t *testing.T) {
	for _, r := range Rules(config.ProfileAccelerate) {
		if r.Severity.Rank() > High.Rank() {
			t.Errorf("%s is %s under accelerate", r.ID, r.Severity)
		}
	}
	for _, r := range Rules(config.ProfileBaseline) {
		if base := findRule(r.ID); base != nil && r.Severity != base.Severity {
			t.Errorf("%s: baseline changed its severity to %s", r.ID, r.Severity)
		}
	}
	tests := []struct {
		rule string
		snap func(s *snapshot.Snapshot)
	}{
		{"TW-TRL-02", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.IncludeGlobalServiceEvents = false })
		}},
		{"TW-TRL-05", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.LogFileValidationEnabled = false })
		}},
		{"TW-BKT-02", func(s *snapshot.Snapshot) { s.Bucket.Logging = nil }},
		{"TW-BKT-04", func(s *snapshot.Snapshot) { s.Bucket.ObjectOwnership = "BucketOwnerPreferred" }},
	}
	for _, tt := range tests {
		rep := audit(t, mutated(t, "good.json", tt.snap), config.ProfileAccelerate)
		var failing []string
		for _, f := range rep.Findings {
			if f.Status == Fail {
				failing = append(failing, f.Rule+" "+string(f.Severity))
			}
		}
		if !slices.Equal(failing, []string{tt.rule + " high"}) {
			t.Errorf("%s: failing findings %v, want only %s at high", tt.rule, failing, tt.rule)
		}
		if !rep.FailsAt(High) {
			t.Errorf("%s: accelerate audit does not fail at the default --fail-on high", tt.rule)
		}
		if base := audit(t, mutated(t, "good.json", tt.snap), config.ProfileBaseline); base.FailsAt(High) {
			t.Errorf("%s: baseline fails at high too; only accelerate raises it", tt.rule)
		}
	}
}

func findRule(id string) *Rule {
	for i := range catalogue {
		if catalogue[i].ID == id {
			return &catalogue[i]
		}
	}
	return nil
}

// noOrgConfig is a setup without an Organization: one trail per source
// account into the central bucket.
func noOrgConfig(t *testing.T) *config.Config {
	c := loadConfig(t)
	c.OrganizationID, c.Trail.Organization = "", false
	c.SourceAccounts = []string{"333333333333", "444444444444"}
	c.Readers.RolePattern = ""
	return c
}

// TestAccelerate_NoOrganization (issue 13 item 4): a setup without an
// Organization gets one clear TW-ORG-01 failure under accelerate, in place
// of reader and key findings whose fix was the generator's internal error.
func TestAccelerate_NoOrganization(t *testing.T) {
	notInUse := snapshot.CallError{Account: "111111111111", Service: "organizations", Operation: "DescribeOrganization",
		Code: "AWSOrganizationsNotInUseException", Message: "Your account is not a member of an organization."}
	tests := []struct {
		name string
		cfg  func(t *testing.T) *config.Config
		snap func(s *snapshot.Snapshot)
	}{
		{"config names no organization", noOrgConfig, func(s *snapshot.Snapshot) { s.Organization = nil }},
		{"config names one, AWS says it is not in use", func(t *testing.T) *config.Config { return loadConfig(t) }, func(s *snapshot.Snapshot) {
			s.Organization = nil
			s.Errors = []snapshot.CallError{notInUse}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Run(tt.cfg(t), mutated(t, "good.json", tt.snap), config.ProfileAccelerate)
			if err != nil {
				t.Fatal(err)
			}
			org := byRule(rep, "TW-ORG-01")
			if len(org) != 1 || org[0].Status != Fail || org[0].Severity != Critical ||
				!strings.Contains(org[0].Message, "does not support a trail that delivers to a centralized bucket when the accounts are not in an AWS Organization") ||
				!strings.Contains(org[0].Remediation, "aws organizations create-organization") {
				t.Fatalf("TW-ORG-01: %+v", org)
			}
			for _, rule := range []string{"TW-ACC-02", "TW-ACC-03", "TW-ACC-04"} {
				if fs := byRule(rep, rule); len(fs) != 0 {
					t.Errorf("%s still reports %d findings next to TW-ORG-01: %+v", rule, len(fs), fs)
				}
			}
			assertNoInternals(t, rep)
		})
	}
	// With an Organization, TW-ORG-01 passes and says which one.
	rep := audit(t, loadSnapshot(t, "good.json"), config.ProfileAccelerate)
	if org := byRule(rep, "TW-ORG-01"); len(org) != 1 || org[0].Status != Pass || !strings.Contains(org[0].Message, "o-a1b2c3d4e5") {
		t.Fatalf("TW-ORG-01 with an organization: %+v", org)
	}
	// A source account outside the organization fails it.
	c := loadConfig(t)
	c.SourceAccounts = []string{"333333333333", "777777777777"}
	rep, err := Run(c, loadSnapshot(t, "good.json"), config.ProfileAccelerate)
	if err != nil {
		t.Fatal(err)
	}
	if org := byRule(rep, "TW-ORG-01"); len(org) != 1 || org[0].Status != Fail || !strings.Contains(org[0].Message, "777777777777") {
		t.Fatalf("TW-ORG-01 with an account outside the organization: %+v", org)
	}
}

// internals are fragments of Go error chains and formatting bugs that must
// never reach a finding.
var internals = []string{"generator:", "statement -1", "%!", "audit:", "eval:", "compile policy", "<nil>", "(generator", "*errors.", "proof:"}

func assertNoInternals(t *testing.T, rep *Report) {
	t.Helper()
	for _, f := range rep.Findings {
		text := findingText(f)
		for _, bad := range internals {
			if strings.Contains(text, bad) {
				t.Errorf("%s %s %s on %s shows %q:\n%s", rep.Profile, f.Rule, f.Status, f.Resource, bad, text)
			}
		}
	}
}

// TestFindings_NoInternalErrors (issue 13 item 4): every rule of every
// profile, over a set of broken snapshots and configs, says what is wrong
// in plain words: no finding text carries a Go error chain.
func TestFindings_NoInternalErrors(t *testing.T) {
	notJSON := `{"Version": "2012-10-17", "Statement": [`
	varInAccount := `{"Version":"2012-10-17","Statement":[{"Sid":"Odd","Effect":"Allow","Principal":{"AWS":"*"},"Action":"kms:Decrypt","Resource":"arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/x"}]}`
	tests := []struct {
		name string
		cfg  func(t *testing.T) *config.Config
		snap func(s *snapshot.Snapshot)
	}{
		{"no organization", noOrgConfig, func(s *snapshot.Snapshot) { s.Organization = nil }},
		{"bucket policy does not parse", nil, func(s *snapshot.Snapshot) { s.Bucket.Policy = notJSON }},
		{"key policy does not parse", nil, func(s *snapshot.Snapshot) { s.Keys[0].Policy = notJSON }},
		{"key policy does not compile", nil, func(s *snapshot.Snapshot) { s.Keys[0].Policy = varInAccount }},
		{"bucket policy does not compile", nil, func(s *snapshot.Snapshot) {
			s.Bucket.Policy = strings.Replace(varInAccount, "arn:aws:kms:us-east-1:${aws:PrincipalAccount}:key/x", "arn:aws:s3:::acme-org-cloudtrail/${aws:PrincipalAccount}/*", 1)
			s.Bucket.Policy = strings.Replace(s.Bucket.Policy, `"Resource"`, `"NotResource"`, 1)
		}},
		{"SCP does not parse", nil, func(s *snapshot.Snapshot) {
			s.Organization.Policies = append(s.Organization.Policies, snapshot.OrgPolicy{ID: "p-broken", Name: "Broken", Type: snapshot.PolicySCP, Targets: []string{"r-ab12"}, Document: notJSON})
		}},
		{"RCP does not parse", nil, func(s *snapshot.Snapshot) {
			s.Organization.Policies = append(s.Organization.Policies, snapshot.OrgPolicy{ID: "p-broken", Name: "Broken", Type: snapshot.PolicyRCP, Targets: []string{"r-ab12"}, Document: notJSON})
		}},
		{"reader policies do not parse", nil, func(s *snapshot.Snapshot) {
			s.Readers[0].Inline[0].Document = notJSON
			s.Readers[0].TrustPolicy = notJSON
		}},
		{"nothing read", nil, func(s *snapshot.Snapshot) {
			s.Bucket, s.Keys, s.Organization, s.Readers, s.Accounts = nil, nil, nil, nil, nil
		}},
		{"organization trail, organization unknown", noOrgConfig, func(s *snapshot.Snapshot) { s.Organization = nil }},
		{"config without a key, trails with one", func(t *testing.T) *config.Config {
			c := loadConfig(t)
			c.KMSKeyARN = ""
			return c
		}, twoKeys},
		{"bad fixture", nil, func(s *snapshot.Snapshot) { *s = *loadSnapshot(t, "bad.json") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadConfig(t)
			if tt.cfg != nil {
				c = tt.cfg(t)
			}
			s := mutated(t, "good.json", tt.snap)
			for _, p := range Profiles {
				rep, err := Run(c, s, p)
				if err != nil {
					t.Fatal(err)
				}
				assertNoInternals(t, rep)
				for _, f := range rep.Findings {
					if f.Status != Pass && f.Remediation == "" && f.Error == nil {
						t.Errorf("%s %s %s: %s, with neither a fix nor the failed call", p, f.Rule, f.Status, f.Message)
					}
				}
			}
		})
	}
}

// TestCIS_ControlsASnapshotCanDecide (issue 13 item 10): the cis profile
// checks MFA delete on the log bucket, key rotation, CloudWatch Logs
// delivery recency (against the snapshot's time), S3 object-level write and
// read events, and Insights; each rule names its CIS and Security Hub ids.
// On the old code none of these rules was in cis (TW-TRL-07 only checked
// that a log group was set).
func TestCIS_ControlsASnapshotCanDecide(t *testing.T) {
	at := func(d time.Duration) func(s *snapshot.Snapshot) {
		return func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) {
				when := s.TakenAt.Add(-d)
				t.Status.LatestCloudWatchLogsDeliveryTime = &when
			})
		}
	}
	basic := func(rw string, values ...string) func(s *snapshot.Snapshot) {
		return func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) {
				t.AdvancedEventSelectors = nil
				t.EventSelectors = []snapshot.EventSelector{{ReadWriteType: rw, IncludeManagementEvents: true,
					DataResources: []snapshot.DataResource{{Type: "AWS::S3::Object", Values: values}}}}
			})
		}
	}
	advanced := func(extra ...snapshot.FieldSelector) func(s *snapshot.Snapshot) {
		return func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) {
				t.AdvancedEventSelectors[1].FieldSelectors = append([]snapshot.FieldSelector{
					{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}}, extra...)
			})
		}
	}
	tests := []struct {
		name     string
		snap     func(s *snapshot.Snapshot)
		rule     string
		want     Status
		contains string
	}{
		{"MFA delete off", func(s *snapshot.Snapshot) { s.Bucket.MFADelete = "Disabled" }, "TW-BKT-10", Fail, "MFADelete=Enabled"},
		{"MFA delete off with lifecycle rules", func(s *snapshot.Snapshot) {
			s.Bucket.MFADelete = "Disabled"
			s.Bucket.Lifecycle = []snapshot.LifecycleRule{archiveThenExpire(730)}
		}, "TW-BKT-10", Fail, "MFA delete cannot be combined with lifecycle rules"},
		{"MFA delete on", func(*snapshot.Snapshot) {}, "TW-BKT-10", Pass, "mfaDelete = Enabled"},
		{"key rotation off", func(s *snapshot.Snapshot) { s.Keys[0].RotationEnabled = false }, "TW-KEY-01", Fail, "enable-key-rotation"},
		{"CloudWatch delivered an hour ago", at(time.Hour), "TW-TRL-07", Pass, "latest 1h0m0s before the snapshot"},
		{"CloudWatch delivered 23 hours ago", at(23 * time.Hour), "TW-TRL-07", Pass, ""},
		{"CloudWatch silent for 30 hours", at(30 * time.Hour), "TW-TRL-07", Fail, "30h0m0s before the snapshot (more than 24 hours)"},
		{"CloudWatch never delivered", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.Status.LatestCloudWatchLogsDeliveryTime = nil })
		}, "TW-TRL-07", Fail, "never delivered"},
		{"CloudWatch delivery error", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.Status.LatestCloudWatchLogsDeliveryError = "AccessDeniedException" })
		}, "TW-TRL-07", Fail, "AccessDeniedException"},
		{"CloudWatch status unread", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.Status = nil })
			s.Errors = []snapshot.CallError{{Account: "111111111111", Service: "cloudtrail", Operation: "GetTrailStatus", Resource: "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail", Code: "AccessDeniedException"}}
		}, "TW-TRL-07", Unknown, "GetTrailStatus"},
		{"basic selector, writes of every bucket: write passes", basic("WriteOnly", "arn:aws:s3"), "TW-TRL-10", Pass, ""},
		{"basic selector, writes of every bucket: read fails", basic("WriteOnly", "arn:aws:s3"), "TW-TRL-11", Fail, "ReadWriteType=WriteOnly"},
		{"basic selector, one bucket only", basic("All", "arn:aws:s3:::payroll/"), "TW-TRL-10", Fail, "arn:aws:s3:::payroll/"},
		{"advanced selector, every bucket", advanced(), "TW-TRL-11", Pass, "every bucket"},
		{"advanced selector, writes only: read fails", advanced(snapshot.FieldSelector{Field: "readOnly", Equals: []string{"false"}}), "TW-TRL-11", Fail, "no read events"},
		{"advanced selector, writes only: write passes", advanced(snapshot.FieldSelector{Field: "readOnly", Equals: []string{"false"}}), "TW-TRL-10", Pass, ""},
		{"advanced selector, one bucket only", advanced(snapshot.FieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::payroll/"}}), "TW-TRL-10", Fail, "filtered on resources.ARN"},
		{"advanced selector, leaves out another bucket", advanced(snapshot.FieldSelector{Field: "resources.ARN", NotStartsWith: []string{"arn:aws:s3:::noisy/"}}), "TW-TRL-10", Fail, "filtered on resources.ARN"},
		{"no data events", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.AdvancedEventSelectors = t.AdvancedEventSelectors[:1] })
		}, "TW-TRL-10", Fail, "put-event-selectors"},
		{"Insights off", func(s *snapshot.Snapshot) {
			everyTrail(s, func(t *snapshot.Trail) { t.HasInsightSelectors, t.InsightTypes = false, nil })
		}, "TW-TRL-12", Fail, "put-insight-selectors"},
		{"Insights on", func(*snapshot.Snapshot) {}, "TW-TRL-12", Pass, "ApiCallRateInsight"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := audit(t, mutated(t, "good.json", tt.snap), config.ProfileCIS)
			fs := byRule(rep, tt.rule)
			if len(fs) == 0 {
				t.Fatalf("cis has no %s finding", tt.rule)
			}
			for _, f := range fs {
				if f.Status != tt.want || !strings.Contains(findingText(f), tt.contains) {
					t.Errorf("%s: %s %q, want %s containing %q\n%s", tt.rule, f.Status, f.Message, tt.want, tt.contains, findingText(f))
				}
			}
		})
	}
	ids := map[string][]string{
		"TW-BKT-10": {"CIS 2.1.2 (v3.0) / 2.1.3 (v1.4)", "SecurityHub S3.20"},
		"TW-KEY-01": {"CIS 3.6 (v3.0) / 3.8 (v1.4)", "SecurityHub KMS.4"},
		"TW-TRL-07": {"CIS 3.4 (v1.4", "SecurityHub CloudTrail.5"},
		"TW-TRL-10": {"CIS 3.8 (v3.0) / 3.10 (v1.4)", "SecurityHub S3.22"},
		"TW-TRL-11": {"CIS 3.9 (v3.0) / 3.11 (v1.4)", "SecurityHub S3.23"},
		"TW-TRL-12": {"Prowler cloudtrail_insights_exist"},
	}
	for _, r := range Rules(config.ProfileCIS) {
		refs := strings.Join(r.References, "; ")
		for _, id := range ids[r.ID] {
			if !strings.Contains(refs, id) {
				t.Errorf("%s references %q, want %q", r.ID, refs, id)
			}
		}
		delete(ids, r.ID)
	}
	for id := range ids {
		t.Errorf("%s is not in the cis profile", id)
	}
}

// TestAudit_1000AccountOrganization: at scale every account still gets its
// own delivery finding, and an account without a trail is named among a
// thousand.
func TestAudit_1000AccountOrganization(t *testing.T) {
	if testing.Short() {
		t.Skip("large organization")
	}
	c, s := scaleOrganization(t, 1000, true)
	const silent = "500000000499"
	for i := range s.Accounts {
		if s.Accounts[i].ID == silent {
			s.Accounts[i].Trails = s.Accounts[i].Trails[:1] // only its local trail
		}
	}
	start := time.Now()
	rep, err := Run(c, s, config.ProfileBaseline)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("baseline audit of %d accounts: %d findings in %s", len(s.Accounts), len(rep.Findings), time.Since(start))
	got := byAccount(rep, "TW-ACC-01")
	if len(got) != 1002 {
		t.Fatalf("TW-ACC-01 findings for %d accounts, want 1002 (1000 members, management, log archive)", len(got))
	}
	for acct, fs := range got {
		want := Pass
		if acct == silent {
			want = Fail
		}
		if len(fs) != 1 || fs[0].Status != want {
			t.Fatalf("account %s: %+v, want %s", acct, fs, want)
		}
	}
}
