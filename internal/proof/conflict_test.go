package proof_test

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

func orgConfig() *config.Config {
	c := config.Default()
	c.OrganizationID = "o-a1b2c3d4e5"
	c.ManagementAccount = "111111111111"
	c.LogArchiveAccount = "222222222222"
	c.Bucket = "acme-org-cloudtrail"
	c.HomeRegion = "us-east-1"
	c.Trail = config.Trail{Name: "org-trail", Organization: true}
	c.KMSKeyARN = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	c.Readers.Roles = []string{"arn:aws:iam::444444444444:role/siem"}
	c.Readers.RolePattern = "ams-access-*"
	c.Readers.AthenaOnly = true
	c.Readers.ExternalID = "ext-1"
	return &c
}

func TestGeneratedPoliciesAllowEveryIntent(t *testing.T) {
	c := orgConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		target proof.Target
		gen    func() (*generator.Output, error)
	}{
		{proof.TargetBucket, func() (*generator.Output, error) { return generator.Bucket(c, nil) }},
		{proof.TargetKey, func() (*generator.Output, error) { return generator.Key(c, nil) }},
		{proof.TargetTrust, func() (*generator.Output, error) { return generator.ReaderTrust(c) }},
		{proof.TargetAccess, func() (*generator.Output, error) { return generator.ReaderAccess(c) }},
	} {
		t.Run(string(tc.target), func(t *testing.T) {
			out, err := tc.gen()
			if err != nil {
				t.Fatal(err)
			}
			intents, err := proof.Intended(c, tc.target)
			if err != nil || len(intents) == 0 {
				t.Fatalf("intents: %v (%d)", err, len(intents))
			}
			got, err := proof.Conflicts(c, tc.target, out.Doc, generator.Owned(c))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 0 {
				t.Fatalf("generated policy blocks intended requests: %v", got)
			}
		})
	}
}

func TestForeignDenyIsAConflict(t *testing.T) {
	c := orgConfig()
	existing, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"DenyNonKMS","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-org-cloudtrail/*",
	  "Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"aws:kms"}}},
	 {"Sid":"DenyDirectReads","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::acme-org-cloudtrail/*",
	  "Condition":{"ForAnyValue:StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}},
	 {"Sid":"HarmlessTLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::acme-org-cloudtrail/*",
	  "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	out, err := generator.Bucket(c, existing)
	if err != nil {
		t.Fatal(err)
	}
	bySid := map[string]int{}
	for _, cf := range out.Conflicts {
		bySid[cf.Sid]++
	}
	if bySid["DenyNonKMS"] == 0 || bySid["DenyDirectReads"] == 0 {
		t.Fatalf("conflicts %v: want DenyNonKMS (blocks delivery) and DenyDirectReads (blocks Athena reads)", out.Conflicts)
	}
	if bySid["HarmlessTLS"] != 0 {
		t.Fatalf("TLS-only deny reported as a conflict: %v", out.Conflicts)
	}
	for _, cf := range out.Conflicts {
		if !strings.Contains(cf.String(), "blocks:") {
			t.Errorf("conflict text %q", cf)
		}
	}
}
