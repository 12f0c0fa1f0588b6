package generator_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
)

var update = flag.Bool("update", false, "rewrite golden files")

func loadConfig(t *testing.T, path string) *config.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

type generated struct {
	name string
	kind policy.Kind
	out  *generator.Output
	err  error
}

func generateAll(c *config.Config) []generated {
	var out []generated
	b, err := generator.Bucket(c, nil)
	out = append(out, generated{"bucket", policy.ResourcePolicy, b, err})
	if c.KMSKeyARN != "" {
		k, err := generator.Key(c, nil)
		out = append(out, generated{"key", policy.KeyPolicy, k, err})
	}
	tr, err := generator.ReaderTrust(c)
	out = append(out, generated{"reader-trust", policy.TrustPolicy, tr, err})
	ac, err := generator.ReaderAccess(c)
	return append(out, generated{"reader-access", policy.IdentityPolicy, ac, err})
}

// TestGolden compares every generated policy of every case with the
// reviewed expected policy beside its config.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			c := loadConfig(t, filepath.Join(dir, "config.yaml"))
			for _, g := range generateAll(c) {
				if g.err != nil {
					t.Fatalf("%s: %v", g.name, g.err)
				}
				got := policy.Canonical(g.out.Doc)
				path := filepath.Join(dir, g.name+".json")
				if *update {
					if err := os.WriteFile(path, got, 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test -update to create it)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s:\n%s", g.name, path, got)
				}
			}
		})
	}
}

// TestInvariants checks properties every generated policy must have,
// whatever the case: valid for its kind, canonical round trip, owned Sids,
// within its size limit, no account root trusted, reader access read-only.
func TestInvariants(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/golden/*")
	for _, dir := range dirs {
		c := loadConfig(t, filepath.Join(dir, "config.yaml"))
		for _, g := range generateAll(c) {
			t.Run(filepath.Base(dir)+"/"+g.name, func(t *testing.T) {
				if g.err != nil {
					t.Fatal(g.err)
				}
				doc := g.out.Doc
				if err := doc.Check(g.kind); err != nil {
					t.Fatalf("invalid %v: %v", g.kind, err)
				}
				again, err := policy.Parse(policy.Canonical(doc))
				if err != nil || !policy.Equal(again, doc) {
					t.Fatalf("canonical form does not round-trip: %v", err)
				}
				owned := generator.Owned(c)
				for _, s := range doc.Statements {
					if !owned(s.Sid) {
						t.Errorf("statement %q is not marked as trailwarden's", s.Sid)
					}
				}
				if g.out.Size != policy.Size(doc) || g.out.Size > g.out.Limit {
					t.Errorf("size %d (limit %d), document measures %d", g.out.Size, g.out.Limit, policy.Size(doc))
				}
				text := string(policy.Compact(doc))
				if g.name == "reader-trust" && strings.Contains(text, ":root") {
					t.Errorf("trust policy names an account root: %s", text)
				}
				if g.name == "reader-access" {
					allowed := map[string]bool{"s3:GetBucketLocation": true, "s3:ListBucket": true, "s3:GetObject": true, "kms:Decrypt": true}
					for _, s := range doc.Statements {
						for _, a := range s.Action {
							if !allowed[a] {
								t.Errorf("reader access grants %s", a)
							}
						}
						if s.Effect != policy.Allow || s.NotAction != nil || s.NotResource != nil {
							t.Errorf("reader access statement %s is not a plain allow", s.Sid)
						}
					}
				}
			})
		}
	}
}

func TestTLSDenyUsesStringFalse(t *testing.T) {
	c := loadConfig(t, "testdata/golden/single-account/config.yaml")
	out, err := generator.Bucket(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(policy.Compact(out.Doc)), `"Bool":{"aws:SecureTransport":"false"}`) {
		t.Fatalf("TLS deny must compare with the string \"false\": %s", policy.Compact(out.Doc))
	}
}

func manyAccounts(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%012d", 100000000000+i)
	}
	return out
}

func TestSizeSwitching(t *testing.T) {
	base := loadConfig(t, "testdata/golden/single-account/config.yaml")
	tests := []struct {
		name      string
		accounts  int
		org       string
		wantScope string
		wantNotes int
		wantErr   bool
	}{
		{"FewAccountsPerAccount", 10, "", config.ScopePerAccount, 0, false},
		{"ManyAccountsAccountList", 80, "", config.ScopeAccountList, 1, false},
		{"TooManyWithoutOrg", 300, "", "", 0, true},
		{"TooManyWithOrg", 300, "o-a1b2c3d4e5", config.ScopeOrganization, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *base
			c.SourceAccounts = manyAccounts(tt.accounts)
			c.OrganizationID = tt.org
			if err := c.Validate(); err != nil {
				t.Fatal(err)
			}
			out, err := generator.Bucket(&c, nil)
			if tt.wantErr {
				if !errors.Is(err, generator.ErrTooLarge) || !strings.Contains(err.Error(), "organization_id") {
					t.Fatalf("error %v, want ErrTooLarge with a hint to set organization_id", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if out.Scope != tt.wantScope || len(out.Notes) != tt.wantNotes {
				t.Fatalf("scope %s notes %q, want %s with %d notes", out.Scope, out.Notes, tt.wantScope, tt.wantNotes)
			}
			if out.Size > policy.BucketPolicyLimit {
				t.Fatalf("size %d over the limit", out.Size)
			}
		})
	}
}

func TestTrustSizeLimit(t *testing.T) {
	c := *loadConfig(t, "testdata/golden/single-account/config.yaml")
	c.Readers.Roles = nil
	for _, a := range manyAccounts(60) {
		c.Readers.Roles = append(c.Readers.Roles, "arn:aws:iam::"+a+":role/log-reader")
	}
	_, err := generator.ReaderTrust(&c)
	if !errors.Is(err, generator.ErrTooLarge) || !strings.Contains(err.Error(), "2048") {
		t.Fatalf("error %v, want ErrTooLarge naming the 2048 limit", err)
	}
}

func TestNoReaders(t *testing.T) {
	c := *loadConfig(t, "testdata/golden/single-account/config.yaml")
	c.Readers.Roles = nil
	if _, err := generator.ReaderTrust(&c); !errors.Is(err, generator.ErrNoReaders) {
		t.Fatalf("error %v, want ErrNoReaders", err)
	}
}

func TestKeyWithoutKMS(t *testing.T) {
	c := loadConfig(t, "testdata/golden/single-account/config.yaml")
	if _, err := generator.Key(c, nil); err == nil || !strings.Contains(err.Error(), "kms_key_arn") {
		t.Fatalf("error %v, want one naming kms_key_arn", err)
	}
}

// seed003 holds the statements of seed 003 with its placeholders filled in
// for the accelerate case (bucket acme-org-cloudtrail, prefix
// my-bucket-prefix, organization o-a1b2c3d4e5).
const seed003Bucket = `{"Version":"2012-10-17","Statement":[
{ "Sid": "DONOTDELETE-AMS-ALLOWBUCKETCONFIGAUDIT", "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": [ "s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetLifecycleConfiguration", "s3:GetEncryptionConfiguration" ], "Resource": "arn:aws:s3:::acme-org-cloudtrail", "Condition": { "StringEquals": { "aws:PrincipalOrgID": "o-a1b2c3d4e5" }, "ArnLike": { "aws:PrincipalArn": [ "arn:aws:iam::*:role/ams-access-*" ] } } },
{ "Sid": "DONOTDELETE-AMS-ALLOWLISTBUCKET", "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::acme-org-cloudtrail", "Condition": { "ForAnyValue:StringEquals": { "aws:CalledVia": "athena.amazonaws.com" }, "StringLike": { "s3:prefix": "my-bucket-prefix/AWSLogs/*" }, "StringEquals": { "aws:PrincipalOrgID": "o-a1b2c3d4e5" }, "ArnLike": { "aws:PrincipalArn": [ "arn:aws:iam::*:role/ams-access-*" ] } } },
{ "Sid": "DONOTDELETE-AMS-ALLOWGETOBJECT", "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-org-cloudtrail/my-bucket-prefix/AWSLogs/*", "Condition": { "ForAnyValue:StringEquals": { "aws:CalledVia": "athena.amazonaws.com" }, "StringEquals": { "aws:PrincipalOrgID": "o-a1b2c3d4e5" }, "ArnLike": { "aws:PrincipalArn": [ "arn:aws:iam::*:role/ams-access-*" ] } } }]}`

const seed003Key = `{"Version":"2012-10-17","Statement":[
{ "Sid": "DONOTDELETE-AMS-ALLOWTRAILOBJECTDECRYPTION", "Effect": "Allow", "Principal": { "AWS": "*" }, "Action": [ "kms:Decrypt", "kms:DescribeKey" ], "Resource": "*", "Condition": { "ForAnyValue:StringEquals": { "aws:CalledVia": "athena.amazonaws.com" }, "StringEquals": { "aws:PrincipalOrgID": "o-a1b2c3d4e5" }, "ArnLike": { "aws:PrincipalArn": [ "arn:aws:iam::*:role/ams-access-*" ] } } }]}`

// TestAccelerateMatchesSeed003 checks that the accelerate profile emits the
// seed's statements, equal in meaning and with the seed's Sids.
func TestAccelerateMatchesSeed003(t *testing.T) {
	c := loadConfig(t, "testdata/golden/accelerate/config.yaml")
	bucket, err := generator.Bucket(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	key, err := generator.Key(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		seed string
		doc  *policy.Document
	}{{seed003Bucket, bucket.Doc}, {seed003Key, key.Doc}} {
		seed, err := policy.Parse([]byte(tc.seed))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range seed.Statements {
			found := false
			for _, got := range tc.doc.Statements {
				if got.Sid == want.Sid {
					found = true
					if !policy.EqualStatement(got, want) {
						t.Errorf("%s differs from seed 003:\n got %s", want.Sid, mustJSON(got))
					}
				}
			}
			if !found {
				t.Errorf("statement %s of seed 003 is missing", want.Sid)
			}
		}
	}
}

func mustJSON(s policy.Statement) string {
	b, err := s.MarshalJSON()
	if err != nil {
		return err.Error()
	}
	return string(b)
}

// A key policy trailwarden wrote for a new key keeps its administration
// statement when it is generated again over itself: merging must never
// drop the statement that keeps the key manageable.
func TestKeyRegeneratedOverItselfKeepsAdministration(t *testing.T) {
	c := loadConfig(t, "testdata/golden/org-trail/config.yaml")
	first, err := generator.Key(c, nil)
	if err != nil {
		t.Fatal(err)
	}
	again, err := generator.Key(c, first.Doc)
	if err != nil {
		t.Fatal(err)
	}
	if !policy.Equal(first.Doc, again.Doc) {
		t.Fatalf("regenerating over its own output changed the key policy:\nfirst %s\nagain %s", policy.Compact(first.Doc), policy.Compact(again.Doc))
	}
	// A foreign policy keeps its own administration, and gets none of ours.
	foreign, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	merged, err := generator.Key(c, foreign)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range merged.Doc.Statements {
		if st.Sid == generator.SidKeyAdmin {
			t.Fatal("merging into a foreign policy added trailwarden's administration statement")
		}
	}
}
