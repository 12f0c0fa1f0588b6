package eval_test

import (
	"reflect"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
)

func TestDeriveContext(t *testing.T) {
	session, _ := eval.ParsePrincipal("arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice")
	session.OrgID = "o-abc123def4"
	session.Tags = map[string]string{"team": "logs"}
	user, _ := eval.ParsePrincipal("arn:aws:iam::111111111111:user/ops/alice")
	fed, _ := eval.ParsePrincipal("arn:aws:sts::111111111111:federated-user/bob")
	tests := []struct {
		name string
		req  eval.Request
		want map[string][]string
	}{
		{"Session", eval.Request{Principal: session, Action: "s3:GetObject", ResourceAccount: "111111111111"}, map[string][]string{
			"aws:SecureTransport": {"true"}, "aws:ViaAWSService": {"false"}, "aws:ResourceAccount": {"111111111111"},
			"aws:PrincipalIsAWSService": {"false"}, "aws:PrincipalArn": {"arn:aws:iam::444444444444:role/ams-access-ro"},
			"aws:PrincipalAccount": {"444444444444"}, "aws:PrincipalOrgID": {"o-abc123def4"}, "aws:PrincipalTag/team": {"logs"},
			"aws:PrincipalType": {"AssumedRole"}, "aws:userid": {"ams-access-ro:alice"},
		}},
		{"UserWithKMSAction", eval.Request{Principal: user, Action: "KMS:Decrypt"}, map[string][]string{
			"aws:SecureTransport": {"true"}, "aws:ViaAWSService": {"false"}, "aws:PrincipalIsAWSService": {"false"},
			"aws:PrincipalArn": {"arn:aws:iam::111111111111:user/ops/alice"}, "aws:PrincipalAccount": {"111111111111"},
			"kms:CallerAccount": {"111111111111"}, "aws:PrincipalType": {"User"}, "aws:username": {"alice"}, "aws:userid": {"alice"},
		}},
		{"FederatedUser", eval.Request{Principal: fed}, map[string][]string{
			"aws:SecureTransport": {"true"}, "aws:ViaAWSService": {"false"}, "aws:PrincipalIsAWSService": {"false"},
			"aws:PrincipalArn": {"arn:aws:sts::111111111111:federated-user/bob"}, "aws:PrincipalAccount": {"111111111111"},
			"aws:PrincipalType": {"FederatedUser"}, "aws:userid": {"111111111111:bob"},
		}},
		{"Anonymous", eval.Request{Principal: eval.Principal{Kind: eval.KindAnonymous}}, map[string][]string{
			"aws:SecureTransport": {"true"}, "aws:ViaAWSService": {"false"},
			"aws:PrincipalAccount": {"anonymous"}, "aws:PrincipalType": {"Anonymous"}, "aws:userid": {"anonymous"},
		}},
		{"ServiceWithOverrides", eval.Request{Principal: eval.Principal{Kind: eval.KindService, Service: "cloudtrail.amazonaws.com"},
			Context: map[string][]string{"AWS:SECURETRANSPORT": {"false"}, "aws:SourceAccount": {"222222222222"}}}, map[string][]string{
			"AWS:SECURETRANSPORT": {"false"}, "aws:ViaAWSService": {"false"}, "aws:SourceAccount": {"222222222222"},
			"aws:PrincipalIsAWSService": {"true"}, "aws:PrincipalServiceName": {"cloudtrail.amazonaws.com"},
		}},
		{"CalledVia", eval.Request{Principal: eval.Principal{Kind: eval.KindRoot, ARN: "arn:aws:iam::111111111111:root", Account: "111111111111"},
			Context: map[string][]string{"aws:CalledVia": {"athena.amazonaws.com", "glue.amazonaws.com"}}}, map[string][]string{
			"aws:SecureTransport": {"true"}, "aws:ViaAWSService": {"true"}, "aws:CalledVia": {"athena.amazonaws.com", "glue.amazonaws.com"},
			"aws:CalledViaFirst": {"athena.amazonaws.com"}, "aws:CalledViaLast": {"glue.amazonaws.com"},
			"aws:PrincipalIsAWSService": {"false"}, "aws:PrincipalArn": {"arn:aws:iam::111111111111:root"},
			"aws:PrincipalAccount": {"111111111111"}, "aws:PrincipalType": {"Account"}, "aws:userid": {"111111111111"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := eval.DeriveContext(tt.req); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("DeriveContext =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}
