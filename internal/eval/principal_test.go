package eval_test

import (
	"reflect"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
)

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want eval.Principal
	}{
		{"Anonymous", "anonymous", eval.Principal{Kind: eval.KindAnonymous}},
		{"AccountID", "111111111111", eval.Principal{Kind: eval.KindRoot, ARN: "arn:aws:iam::111111111111:root", Account: "111111111111", Partition: "aws"}},
		{"RootARN", "arn:aws:iam::111111111111:root", eval.Principal{Kind: eval.KindRoot, ARN: "arn:aws:iam::111111111111:root", Account: "111111111111", Partition: "aws"}},
		{"User", "arn:aws:iam::111111111111:user/ops/alice", eval.Principal{Kind: eval.KindUser, ARN: "arn:aws:iam::111111111111:user/ops/alice", Account: "111111111111", Partition: "aws"}},
		{"Role", "arn:aws:iam::111111111111:role/AppRole", eval.Principal{Kind: eval.KindRole, ARN: "arn:aws:iam::111111111111:role/AppRole", IssuerARN: "arn:aws:iam::111111111111:role/AppRole", Account: "111111111111", Partition: "aws"}},
		{"Session", "arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice", eval.Principal{Kind: eval.KindAssumedRoleSession,
			ARN: "arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice", IssuerARN: "arn:aws:iam::444444444444:role/ams-access-ro", Account: "444444444444", Partition: "aws"}},
		{"SessionChina", "arn:aws-cn:sts::444444444444:assumed-role/R/s", eval.Principal{Kind: eval.KindAssumedRoleSession,
			ARN: "arn:aws-cn:sts::444444444444:assumed-role/R/s", IssuerARN: "arn:aws-cn:iam::444444444444:role/R", Account: "444444444444", Partition: "aws-cn"}},
		{"FederatedUser", "arn:aws:sts::111111111111:federated-user/bob", eval.Principal{Kind: eval.KindFederatedUser, ARN: "arn:aws:sts::111111111111:federated-user/bob", Account: "111111111111", Partition: "aws"}},
		{"Service", "cloudtrail.amazonaws.com", eval.Principal{Kind: eval.KindService, Service: "cloudtrail.amazonaws.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := eval.ParsePrincipal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("ParsePrincipal(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParsePrincipal_Errors(t *testing.T) {
	for _, in := range []string{
		"", "*", "12345", "arn:aws:iam::111111111111:group/admins", "arn:aws:iam::abc:user/x",
		"arn:aws:sts::111111111111:assumed-role/OnlyRole", "arn:aws:iam:us-east-1:111111111111:user/x", "arn:aws:s3:::bucket", "not a principal",
	} {
		t.Run(in, func(t *testing.T) {
			if p, err := eval.ParsePrincipal(in); err == nil {
				t.Fatalf("ParsePrincipal(%q) = %+v, want an error", in, p)
			}
		})
	}
}

func TestPrincipal_WithIssuer(t *testing.T) {
	s, err := eval.ParsePrincipal("arn:aws:sts::111111111111:assumed-role/AppRole/s1")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("RoleWithPath", func(t *testing.T) {
		got, err := s.WithIssuer("arn:aws:iam::111111111111:role/team/AppRole")
		if err != nil {
			t.Fatal(err)
		}
		if got.IssuerARN != "arn:aws:iam::111111111111:role/team/AppRole" {
			t.Fatalf("IssuerARN = %q", got.IssuerARN)
		}
		if ctx := eval.DeriveContext(eval.Request{Principal: got}); ctx["aws:PrincipalArn"][0] != got.IssuerARN {
			t.Fatalf("aws:PrincipalArn = %v, want the role ARN with path", ctx["aws:PrincipalArn"])
		}
	})
	for name, arn := range map[string]string{
		"OtherRoleName": "arn:aws:iam::111111111111:role/team/Other",
		"OtherAccount":  "arn:aws:iam::222222222222:role/AppRole",
		"NotARole":      "arn:aws:iam::111111111111:user/AppRole",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := s.WithIssuer(arn); err == nil {
				t.Fatalf("WithIssuer(%q) succeeded", arn)
			}
		})
	}
	t.Run("UserHasNoIssuer", func(t *testing.T) {
		u, _ := eval.ParsePrincipal("arn:aws:iam::111111111111:user/alice")
		if _, err := u.WithIssuer("arn:aws:iam::111111111111:user/alice"); err == nil {
			t.Fatal("WithIssuer on a user succeeded")
		}
	})
}
