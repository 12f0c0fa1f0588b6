package policy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/policy"
)

func TestCheck(t *testing.T) {
	const (
		identity = `"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`
		bucket   = `"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"`
		trust    = `"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"`
		rcp      = `"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}`
	)
	tests := []struct {
		name string
		kind policy.Kind
		doc  string
		errs []string // substrings, one per expected error, in order
	}{
		{"IdentityOK", policy.IdentityPolicy, st(identity), nil},
		{"IdentityNotActionNotResource", policy.IdentityPolicy,
			st(`"Effect":"Allow","NotAction":"iam:*","NotResource":"arn:aws:iam::*:role/x"`), nil},
		{"IdentityVersionAbsentOK", policy.IdentityPolicy,
			`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, nil},
		{"IdentityVersion2008", policy.IdentityPolicy,
			`{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
			nil},
		{"IdentityWithPrincipal", policy.IdentityPolicy, st(bucket),
			[]string{"$.Statement[0].Principal (line 1, column 38): identity policy statements must not have Principal"}},
		{"IdentityWithNotPrincipal", policy.IdentityPolicy, st(`"NotPrincipal":"*",` + identity),
			[]string{"identity policy statements must not have NotPrincipal"}},
		{"IdentityNoResource", policy.IdentityPolicy, st(`"Effect":"Allow","Action":"*"`),
			[]string{"$.Statement[0] (line 1, column 38): identity policy statements need Resource or NotResource"}},
		{"SCPOK", policy.SCP,
			st(`"Effect":"Deny","NotAction":["iam:*","sts:*"],"Resource":"*","Condition":{"StringNotEquals":{"aws:RequestedRegion":"eu-west-1"}}`), nil},
		{"SCPWithPrincipal", policy.SCP, st(`"Effect":"Deny","Principal":"*","Action":"*","Resource":"*"`),
			[]string{"SCP statements must not have Principal"}},
		{"SCPNoResource", policy.SCP, st(`"Effect":"Deny","Action":"*"`),
			[]string{"SCP statements need Resource or NotResource"}},
		{"BucketOK", policy.ResourcePolicy, st(bucket, rcp), nil},
		{"BucketNotPrincipalOK", policy.ResourcePolicy,
			st(`"Effect":"Deny","NotPrincipal":{"AWS":"111122223333"},"Action":"s3:*","Resource":"*"`), nil},
		{"BucketNoPrincipal", policy.ResourcePolicy, st(identity),
			[]string{"resource policy statements need Principal or NotPrincipal"}},
		{"BucketNoResource", policy.ResourcePolicy, st(trust),
			[]string{"resource policy statements need Resource or NotResource"}},
		{"BucketDuplicateSid", policy.ResourcePolicy, st(`"Sid":"A",`+bucket, `"Sid":"B",`+bucket, `"Sid":"A",`+rcp),
			[]string{`$.Statement[2].Sid`, `duplicate Sid "A" (also statement 0)`}},
		{"KeyOK", policy.KeyPolicy,
			st(`"Sid":"Root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kms:*","Resource":"*"`), nil},
		{"KeyNoPrincipalNoResource", policy.KeyPolicy, st(`"Effect":"Allow","Action":"kms:*"`),
			[]string{"key policy statements need Principal or NotPrincipal", "key policy statements need Resource or NotResource"}},
		{"TrustOK", policy.TrustPolicy, st(trust), nil},
		{"TrustWildcardActions", policy.TrustPolicy,
			st(`"Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":["sts:AssumeRole*","STS:tagsession","sts:*","*","sts:Set?ontext"]`), nil},
		{"TrustWebIdentity", policy.TrustPolicy,
			st(`"Effect":"Allow","Principal":{"Federated":"cognito-identity.amazonaws.com"},"Action":["sts:AssumeRoleWithWebIdentity","sts:TagSession","sts:SetSourceIdentity"]`), nil},
		{"TrustWithResource", policy.TrustPolicy, st(trust + `,"Resource":"*"`),
			[]string{"$.Statement[0].Resource (line 1, column 38): trust policy statements must not have Resource"}},
		{"TrustWithNotResource", policy.TrustPolicy, st(trust + `,"NotResource":"*"`),
			[]string{"trust policy statements must not have NotResource"}},
		{"TrustNoPrincipal", policy.TrustPolicy, st(`"Effect":"Allow","Action":"sts:AssumeRole"`),
			[]string{"trust policy statements need Principal or NotPrincipal"}},
		{"TrustNonSTSAction", policy.TrustPolicy,
			st(`"Effect":"Allow","Principal":"*","Action":["sts:AssumeRole","s3:GetObject","sts:GetCallerIdentity"]`),
			[]string{`$.Statement[0].Action[1]`, `got "s3:GetObject"`, `$.Statement[0].Action[2]`}},
		{"TrustSingleBadAction", policy.TrustPolicy, st(`"Effect":"Allow","Principal":"*","Action":"iam:PassRole"`),
			[]string{`$.Statement[0].Action (line 1, column 38): trust policy actions must be sts:AssumeRole`}},
		{"RCPOK", policy.RCP, st(rcp), nil},
		{"RCPAWSStar", policy.RCP, st(`"Effect":"Deny","Principal":{"AWS":"*"},"Action":"s3:*","Resource":"*"`),
			[]string{`RCP principal must be "*"`}},
		{"RCPNoPrincipal", policy.RCP, st(`"Effect":"Deny","Action":"s3:*","Resource":"*"`),
			[]string{`RCP statements need Principal "*"`}},
		{"RCPNotPrincipal", policy.RCP, st(`"Effect":"Deny","NotPrincipal":"*","Action":"s3:*","Resource":"*"`),
			[]string{"RCP statements must not have NotPrincipal"}},
		{"AllProblemsReported", policy.IdentityPolicy,
			`{"Version":"2008-10-17","Statement":[{"Sid":"X",` + bucket + `},{"Sid":"X","Effect":"Allow","Action":"*"}]}`,
			[]string{"must not have Principal", "duplicate Sid", "need Resource"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := mustParse(t, tt.doc)
			err := doc.Check(tt.kind)
			if len(tt.errs) == 0 {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("no error, want %q", tt.errs)
			}
			msg := err.Error()
			rest := msg
			for _, want := range tt.errs {
				i := strings.Index(rest, want)
				if i < 0 {
					t.Fatalf("error does not contain %q (in order):\n%s", want, msg)
				}
				rest = rest[i+len(want):]
			}
			joined, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("error %T is not joined", err)
			}
			for _, e := range joined.Unwrap() {
				var pe *policy.ParseError
				if !errors.As(e, &pe) || pe.Path == "" {
					t.Errorf("error %v is not a *ParseError with a path", e)
				}
			}
		})
	}
}

func TestCheckCodeBuilt(t *testing.T) {
	doc := &policy.Document{Statements: []policy.Statement{{Effect: "allow", Resource: []string{"*"}}}}
	err := doc.Check(policy.IdentityPolicy)
	if err == nil || !strings.Contains(err.Error(), `$.Statement[0].Effect: effect must be "Allow" or "Deny", got "allow"`) ||
		!strings.Contains(err.Error(), "statement has no Action or NotAction") {
		t.Fatalf("err = %v", err)
	}
	if err := (&policy.Document{}).Check(policy.SCP); err == nil || !strings.Contains(err.Error(), "policy has no statements") {
		t.Fatalf("err = %v", err)
	}
	if err := doc.Check(0); err == nil || !strings.Contains(err.Error(), "unknown policy kind 0") {
		t.Fatalf("err = %v", err)
	}
}

func TestKindString(t *testing.T) {
	for k, want := range map[policy.Kind]string{
		policy.IdentityPolicy: "identity policy", policy.ResourcePolicy: "resource policy",
		policy.KeyPolicy: "key policy", policy.TrustPolicy: "trust policy",
		policy.SCP: "SCP", policy.RCP: "RCP", 99: "Kind(99)",
	} {
		if got := k.String(); got != want {
			t.Errorf("%d: got %q, want %q", int(k), got, want)
		}
	}
}
