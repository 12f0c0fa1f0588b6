package demo

import (
	"fmt"
	"time"
)

// people and roles of every account; the same names recur so queries
// "by principal" have something to group.
var (
	users = []string{"alice", "bob", "carol", "dave", "ci-deployer"}
	roles = []string{"Admin", "Deploy", "ReadOnly", "ams-access-ro", "OrganizationAccountAccessRole"}
)

func (g *gen) user(acct string) Identity {
	name := g.pick(users...)
	return Identity{Type: "IAMUser", PrincipalID: "AIDA" + g.upper(17), ARN: "arn:aws:iam::" + acct + ":user/" + name,
		AccountID: acct, AccessKeyID: "AKIA" + g.upper(16), UserName: name}
}

func (g *gen) assumed(acct, role, session string, mfa bool, at time.Time) Identity {
	roleID := "AROA" + g.upper(17)
	return Identity{Type: "AssumedRole", PrincipalID: roleID + ":" + session,
		ARN:       "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session,
		AccountID: acct, AccessKeyID: "ASIA" + g.upper(16),
		SessionContext: &SessionContext{
			SessionIssuer: &Issuer{Type: "Role", PrincipalID: roleID, ARN: "arn:aws:iam::" + acct + ":role/" + role, AccountID: acct, UserName: role},
			Attributes:    SessionAttributes{CreationDate: ts(at.Add(-time.Duration(g.r.IntN(3600)) * time.Second)), MFAAuthenticated: fmt.Sprint(mfa)},
		}}
}

func root(acct string) Identity {
	return Identity{Type: "Root", PrincipalID: acct, ARN: "arn:aws:iam::" + acct + ":root", AccountID: acct}
}

// api is the common shape of one API call.
type api struct {
	source, name string
	readOnly     bool
	params       map[string]any
	response     map[string]any
}

var readCalls = []api{
	{"ec2.amazonaws.com", "DescribeInstances", true, map[string]any{"instancesSet": map[string]any{}, "filterSet": map[string]any{}}, nil},
	{"s3.amazonaws.com", "ListBuckets", true, map[string]any{"Host": "s3.amazonaws.com"}, nil},
	{"iam.amazonaws.com", "ListUsers", true, map[string]any{"maxItems": 100}, nil},
	{"cloudtrail.amazonaws.com", "DescribeTrails", true, map[string]any{"includeShadowTrails": true}, nil},
	{"kms.amazonaws.com", "ListKeys", true, map[string]any{"limit": 1000}, nil},
	{"sts.amazonaws.com", "GetCallerIdentity", true, nil, nil},
}

var writeCalls = []api{
	{"ec2.amazonaws.com", "RunInstances", false, map[string]any{"instanceType": "t3.micro", "minCount": 1, "maxCount": 1}, map[string]any{"requestId": "r"}},
	{"s3.amazonaws.com", "PutBucketTagging", false, map[string]any{"bucketName": "app-assets", "tagging": ""}, nil},
	{"lambda.amazonaws.com", "UpdateFunctionCode20150331v2", false, map[string]any{"functionName": "orders-api"}, map[string]any{"functionName": "orders-api"}},
	{"iam.amazonaws.com", "AttachRolePolicy", false, map[string]any{"roleName": "app", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, nil},
	{"ssm.amazonaws.com", "PutParameter", false, map[string]any{"name": "/app/feature-flag", "type": "String", "overwrite": true}, map[string]any{"version": 7}},
}

// record fills the fields every record has.
func (g *gen) record(acct, region string, at time.Time, id Identity, a api) Record {
	v := g.pick(versions...)
	rec := Record{
		EventVersion: v, UserIdentity: id, EventTime: ts(at), EventSource: a.source, EventName: a.name, AWSRegion: region,
		SourceIPAddress: g.ip(), UserAgent: g.pick("aws-cli/2.17.0 Python/3.11.9 Linux/6.1", "Boto3/1.34.0 Python/3.12", "console.amazonaws.com", "aws-sdk-go-v2/1.30.0"),
		RequestParameters: a.params, ResponseElements: a.response, RequestID: g.uuid(), EventID: g.uuid(),
		ReadOnly: ptr(a.readOnly), EventType: "AwsApiCall", ManagementEvent: ptr(true), RecipientAccountID: acct,
	}
	if v >= "1.07" {
		rec.EventCategory = "Management"
	}
	if v >= "1.08" {
		rec.TLSDetails = map[string]string{"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
			"clientProvidedHostHeader": a.source[:len(a.source)-len(".amazonaws.com")] + "." + region + ".amazonaws.com"}
	}
	return rec
}

// event draws one ordinary event of the account and region at time at.
func (g *gen) event(acct, region string, at time.Time) Record {
	switch n := g.r.IntN(100); {
	case n < 30:
		return g.record(acct, region, at, g.user(acct), readCalls[g.r.IntN(len(readCalls))])
	case n < 50:
		id := g.assumed(acct, g.pick(roles...), g.pick(users...), g.r.IntN(2) == 0, at)
		return g.record(acct, region, at, id, writeCalls[g.r.IntN(len(writeCalls))])
	case n < 58:
		return g.denied(acct, region, at)
	case n < 66:
		return g.athenaRead(acct, region, at)
	case n < 72:
		return g.dataWrite(acct, region, at)
	case n < 78:
		return g.serviceEvent(acct, region, at)
	case n < 83:
		return g.consoleLogin(acct, region, at)
	case n < 87:
		return g.federated(acct, region, at)
	case n < 90:
		return g.crossAccount(acct, region, at)
	case n < 92:
		return g.newAccessKey(acct, region, at)
	default:
		return g.record(acct, region, at, g.assumed(acct, "ReadOnly", g.pick(users...), true, at), readCalls[g.r.IntN(len(readCalls))])
	}
}
