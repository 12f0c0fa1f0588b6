package demo

import (
	"time"
)

func (g *gen) denied(acct, region string, at time.Time) Record {
	id := g.assumed(acct, "ReadOnly", g.pick(users...), false, at)
	a := g.pick("CreateUser", "DeleteBucket", "PutBucketPolicy", "CreateAccessKey")
	src := map[string]string{"CreateUser": "iam", "DeleteBucket": "s3", "PutBucketPolicy": "s3", "CreateAccessKey": "iam"}[a] + ".amazonaws.com"
	params := map[string]any{"userName": "shadow"}
	if src == "s3.amazonaws.com" {
		// A refused call on a bucket still names it.
		params = map[string]any{"bucketName": "customer-exports-" + acct, "Host": "customer-exports-" + acct + ".s3.amazonaws.com"}
	}
	rec := g.record(acct, region, at, id, api{source: src, name: a, params: params})
	rec.ErrorCode = "AccessDenied"
	rec.ErrorMessage = "User: " + id.ARN + " is not authorized to perform: " + src[:len(src)-len(".amazonaws.com")] + ":" + a +
		" because no identity-based policy allows the action"
	return rec
}

// athenaRead is a reader's S3 data event made by Athena on its behalf.
func (g *gen) athenaRead(acct, region string, at time.Time) Record {
	id := g.assumed(acct, "ams-access-ro", g.pick(users...), false, at)
	id.InvokedBy = "athena.amazonaws.com"
	key := "AWSLogs/" + g.org.ID + "/" + acct + "/CloudTrail/" + region + "/" + at.Format("2006/01/02") + "/x.json.gz"
	rec := g.record(acct, region, at, id, api{source: "s3.amazonaws.com", name: "GetObject", readOnly: true,
		params: map[string]any{"bucketName": g.org.Bucket, "key": key, "Host": g.org.Bucket + ".s3.amazonaws.com"}})
	rec.SourceIPAddress = "athena.amazonaws.com"
	rec.UserAgent = "athena.amazonaws.com"
	rec.ManagementEvent = ptr(false)
	rec.EventCategory = "Data"
	rec.AdditionalEventData = map[string]any{"bytesTransferredOut": 1024 + g.r.IntN(1<<20), "CipherSuite": "TLS_AES_128_GCM_SHA256"}
	rec.Resources = []Resource{
		{ARN: g.org.BucketARN() + "/" + key, Type: "AWS::S3::Object"},
		{ARN: g.org.BucketARN(), AccountID: g.org.LogArchive, Type: "AWS::S3::Bucket"},
	}
	return rec
}

func (g *gen) dataWrite(acct, region string, at time.Time) Record {
	id := g.assumed(acct, "Deploy", "ci-deployer", false, at)
	key := "releases/" + g.hex(8) + ".zip"
	rec := g.record(acct, region, at, id, api{source: "s3.amazonaws.com", name: "PutObject",
		params: map[string]any{"bucketName": "app-artifacts-" + acct, "key": key}})
	rec.ManagementEvent = ptr(false)
	rec.EventCategory = "Data"
	rec.Resources = []Resource{{ARN: "arn:aws:s3:::app-artifacts-" + acct + "/" + key, Type: "AWS::S3::Object"}}
	return rec
}

// serviceEvent is an AwsServiceEvent: AWS acting on its own, e.g. rotating a key.
func (g *gen) serviceEvent(acct, region string, at time.Time) Record {
	if g.r.IntN(2) == 0 {
		rec := g.record(acct, region, at, Identity{Type: "AWSService", InvokedBy: "lambda.amazonaws.com"},
			api{source: "sts.amazonaws.com", name: "AssumeRole", readOnly: true,
				params: map[string]any{"roleArn": "arn:aws:iam::" + acct + ":role/orders-api-exec", "roleSessionName": "orders-api"}})
		rec.SourceIPAddress = "lambda.amazonaws.com"
		rec.UserAgent = "lambda.amazonaws.com"
		rec.SharedEventID = g.uuid()
		return rec
	}
	rec := g.record(acct, region, at, Identity{AccountID: acct, InvokedBy: "kms.amazonaws.com", Type: "AWSService"},
		api{source: "kms.amazonaws.com", name: "RotateKey"})
	rec.EventType = "AwsServiceEvent"
	rec.SourceIPAddress = "kms.amazonaws.com"
	rec.UserAgent = ""
	rec.ReadOnly = ptr(false)
	rec.Resources = []Resource{{ARN: "arn:aws:kms:" + region + ":" + acct + ":key/" + g.uuid(), AccountID: acct, Type: "AWS::KMS::Key"}}
	return rec
}

// consoleLogin signs in a root user, an IAM user or an SSO role, with or
// without MFA, sometimes failing.
func (g *gen) consoleLogin(acct, region string, at time.Time) Record {
	var id Identity
	switch g.r.IntN(3) {
	case 0:
		id = root(acct)
	case 1:
		id = g.user(acct)
		id.AccessKeyID = ""
	default:
		id = g.assumed(acct, "AWSReservedSSO_AdministratorAccess_"+g.hex(16), g.pick(users...)+"@example.com", true, at)
	}
	mfa := g.pick("Yes", "No")
	rec := g.record(acct, region, at, id, api{source: "signin.amazonaws.com", name: "ConsoleLogin"})
	rec.EventType = "AwsConsoleSignIn"
	rec.ReadOnly = ptr(false)
	rec.RequestParameters = nil
	rec.AdditionalEventData = map[string]any{"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa}
	rec.ResponseElements = map[string]any{"ConsoleLogin": "Success"}
	if g.r.IntN(6) == 0 {
		rec.ResponseElements = map[string]any{"ConsoleLogin": "Failure"}
		rec.ErrorMessage = "Failed authentication"
	}
	if rec.EventVersion >= "1.08" && id.Type == "AssumedRole" {
		rec.SessionCredentialFromConsole = "true"
	}
	return rec
}

func (g *gen) federated(acct, region string, at time.Time) Record {
	switch g.r.IntN(3) {
	case 0:
		id := Identity{Type: "FederatedUser", PrincipalID: acct + ":" + g.pick(users...), ARN: "arn:aws:sts::" + acct + ":federated-user/" + g.pick(users...),
			AccountID: acct, AccessKeyID: "ASIA" + g.upper(16)}
		return g.record(acct, region, at, id, readCalls[g.r.IntN(len(readCalls))])
	case 1:
		id := Identity{Type: "SAMLUser", PrincipalID: "SAMLP:" + g.pick(users...) + "@example.com", UserName: g.pick(users...) + "@example.com",
			IdentityProvider: "arn:aws:iam::" + acct + ":saml-provider/Okta"}
		return g.record(acct, region, at, id, api{source: "sts.amazonaws.com", name: "AssumeRoleWithSAML", readOnly: true,
			params: map[string]any{"roleArn": "arn:aws:iam::" + acct + ":role/Admin", "principalArn": id.IdentityProvider}})
	default:
		id := Identity{Type: "WebIdentityUser", PrincipalID: "token.actions.githubusercontent.com:sts.amazonaws.com:repo:acme/app",
			UserName: "repo:acme/app:ref:refs/heads/main", IdentityProvider: "token.actions.githubusercontent.com"}
		return g.record(acct, region, at, id, api{source: "sts.amazonaws.com", name: "AssumeRoleWithWebIdentity", readOnly: true,
			params: map[string]any{"roleArn": "arn:aws:iam::" + acct + ":role/Deploy", "roleSessionName": "GitHubActions"}})
	}
}

// crossAccount is a call made by another account (userIdentity AWSAccount).
func (g *gen) crossAccount(acct, region string, at time.Time) Record {
	other := g.org.Accounts[g.r.IntN(len(g.org.Accounts))]
	id := Identity{Type: "AWSAccount", PrincipalID: "AROA" + g.upper(17) + ":" + g.pick(users...), AccountID: other}
	return g.record(acct, region, at, id, api{source: "kms.amazonaws.com", name: "Decrypt", readOnly: true,
		params: map[string]any{"encryptionAlgorithm": "SYMMETRIC_DEFAULT"}})
}

func (g *gen) newAccessKey(acct, region string, at time.Time) Record {
	id := g.user(acct)
	if g.r.IntN(4) == 0 {
		id = root(acct)
	}
	return g.record(acct, region, at, id, api{source: "iam.amazonaws.com", name: "CreateAccessKey",
		params:   map[string]any{"userName": g.pick(users...)},
		response: map[string]any{"accessKey": map[string]any{"accessKeyId": "AKIA" + g.upper(16), "status": "Active", "userName": "ci-deployer"}}})
}
