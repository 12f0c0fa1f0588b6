package policy_test

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/policy"
)

func TestSize(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want int
	}{
		// Whitespace outside strings does not count; inside it does.
		{"WhitespaceIgnored", `{ "Statement" : [ { "Effect" : "Allow" , "Action" : "*" } ] }`,
			len(`{"Statement":[{"Effect":"Allow","Action":"*"}]}`)},
		{"QuotedSpaceCounts", `{"Statement":{"Sid":"a b","Effect":"Allow","Action":"*"}}`,
			len(`{"Statement":[{"Sid":"a b","Effect":"Allow","Action":"*"}]}`)},
		// Canonical values are strings, so a number costs its quotes.
		{"NumbersBecomeStrings", `{"Statement":{"Effect":"Allow","Action":"*","Condition":{"NumericEquals":{"k":1}}}}`,
			len(`{"Statement":[{"Effect":"Allow","Action":"*","Condition":{"NumericEquals":{"k":"1"}}}]}`)},
		{"MultiByte", `{"Statement":{"Sid":"é","Effect":"Allow","Action":"*"}}`,
			len(`{"Statement":[{"Sid":"é","Effect":"Allow","Action":"*"}]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := policy.Size(mustParse(t, tt.src)); got != tt.want {
				t.Errorf("Size = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSizeGolden(t *testing.T) {
	doc := mustParse(t, `{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Sid": "AWSCloudTrailAclCheck",
      "Effect": "Allow",
      "Principal": {"Service": "cloudtrail.amazonaws.com"},
      "Action": "s3:GetBucketAcl",
      "Resource": "arn:aws:s3:::trail-logs"
    }
  ]
}`)
	const compact = `{"Version":"2012-10-17","Statement":[{"Sid":"AWSCloudTrailAclCheck","Effect":"Allow",` +
		`"Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::trail-logs"}]}`
	if got := string(policy.Compact(doc)); got != compact {
		t.Fatalf("Compact = %s", got)
	}
	if got := policy.Size(doc); got != 202 {
		t.Fatalf("Size = %d, want 202", got)
	}
}

func TestSizeLimits(t *testing.T) {
	if policy.BucketPolicyLimit != 20*1024 || policy.KeyPolicyLimit != 32*1024 || policy.TrustPolicyLimit != 2048 {
		t.Fatal("limits changed")
	}
	// A trust policy that grows past the default quota.
	stmt := `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/r"},"Action":"sts:AssumeRole"}`
	src := `{"Version":"2012-10-17","Statement":[` + strings.Repeat(stmt+",", 30) + stmt + `]}`
	if got := policy.Size(mustParse(t, src)); got <= policy.TrustPolicyLimit {
		t.Fatalf("Size = %d, want over %d", got, policy.TrustPolicyLimit)
	}
}
