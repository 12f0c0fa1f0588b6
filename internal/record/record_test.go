package record_test

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/record"
)

// TestScan_Corpus reads every file of testdata and compares each record,
// rendered by view, with the table: every field Scan sets and nothing
// else, Extra included.
func TestScan_Corpus(t *testing.T) {
	tests := []struct {
		file string
		want []map[string]string
	}{
		{file: "access-denied", want: []map[string]string{
			{
				"Extra":                       `{"userIdentity.sessionContext.webIdFederationData":{}}`,
				"Identity.Created":            `2024-03-12T10:00:00Z`,
				"Time":                        `2024-03-12T10:04:59Z`,
				"awsRegion":                   `us-east-1`,
				"errorCode":                   `AccessDenied`,
				"errorMessage":                `User: arn:aws:sts::444455556666:assumed-role/developer/dev is not authorized to perform: cloudtrail:StopLogging on resource: arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail with an explicit deny in a service control policy`,
				"eventCategory":               `Management`,
				"eventID":                     `c3d4e5f6-a7b8-4c9d-0e1f-2a3b4c5d6e7f`,
				"eventName":                   `StopLogging`,
				"eventSource":                 `cloudtrail.amazonaws.com`,
				"eventTime":                   `2024-03-12T10:04:59Z`,
				"eventType":                   `AwsApiCall`,
				"eventVersion":                `1.08`,
				"managementEvent":             `true`,
				"readOnly":                    `false`,
				"recipientAccountId":          `444455556666`,
				"requestID":                   `b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d5e`,
				"requestParameters":           `null`,
				"responseElements":            `null`,
				"sourceIPAddress":             `203.0.113.99`,
				"userAgent":                   `aws-cli/2.15.20`,
				"userIdentity":                `{}`,
				"userIdentity.accessKeyId":    `ASIAEXAMPLEDEV`,
				"userIdentity.accountId":      `444455556666`,
				"userIdentity.arn":            `arn:aws:sts::444455556666:assumed-role/developer/dev`,
				"userIdentity.principalId":    `AROAEXAMPLE:dev`,
				"userIdentity.sessionContext": `{}`,
				"userIdentity.sessionContext.attributes.creationDate":     `2024-03-12T10:00:00Z`,
				"userIdentity.sessionContext.attributes.mfaAuthenticated": `false`,
				"userIdentity.sessionContext.sessionIssuer":               `{}`,
				"userIdentity.sessionContext.sessionIssuer.accountId":     `444455556666`,
				"userIdentity.sessionContext.sessionIssuer.arn":           `arn:aws:iam::444455556666:role/developer`,
				"userIdentity.sessionContext.sessionIssuer.principalId":   `AROAEXAMPLE`,
				"userIdentity.sessionContext.sessionIssuer.type":          `Role`,
				"userIdentity.sessionContext.sessionIssuer.userName":      `developer`,
				"userIdentity.type": `AssumedRole`,
			},
		}},
		{file: "assumed-role", want: []map[string]string{
			{
				"Extra":                       `{"userIdentity.sessionContext.webIdFederationData":{},"userIdentity.sessionContext.ec2RoleDelivery":"2.0","vpcEndpointAccountId":"111122223333"}`,
				"Identity.Created":            `2024-03-08T17:46:40Z`,
				"Time":                        `2024-03-08T18:02:11Z`,
				"additionalEventData":         `{"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256", "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader", "x-amz-id-2": "EXAMPLE/qPNDd+5hHb7IAHqyvdz4lV4k=", "bytesTransferredOut": 3201}`,
				"awsRegion":                   `us-east-1`,
				"eventCategory":               `Data`,
				"eventID":                     `a4b8f3c2-5d1e-4f6a-b7c8-d9e0f1a2b3c4`,
				"eventName":                   `ListObjectsV2`,
				"eventSource":                 `s3.amazonaws.com`,
				"eventTime":                   `2024-03-08T18:02:11Z`,
				"eventType":                   `AwsApiCall`,
				"eventVersion":                `1.10`,
				"managementEvent":             `false`,
				"readOnly":                    `true`,
				"recipientAccountId":          `111122223333`,
				"requestID":                   `4WQGW4J1M2QEXAMPLE`,
				"requestParameters":           `{"list-type": "2", "bucketName": "org-trail-logs", "prefix": "AWSLogs/o-exampleorgid/", "Host": "org-trail-logs.s3.us-east-1.amazonaws.com"}`,
				"resources":                   "[\n    {\"type\": \"AWS::S3::Object\", \"ARNPrefix\": \"arn:aws:s3:::org-trail-logs/AWSLogs/o-exampleorgid/\"},\n    {\"accountId\": \"111122223333\", \"type\": \"AWS::S3::Bucket\", \"ARN\": \"arn:aws:s3:::org-trail-logs\"}\n  ]",
				"responseElements":            `null`,
				"sourceIPAddress":             `203.0.113.17`,
				"tlsDetails":                  `{"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "org-trail-logs.s3.us-east-1.amazonaws.com"}`,
				"userAgent":                   `[aws-sdk-go-v2/1.25.2 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/s3#1.51.2]`,
				"userIdentity":                `{}`,
				"userIdentity.accessKeyId":    `ASIAXCWUJFCFEXAMPLE`,
				"userIdentity.accountId":      `111122223333`,
				"userIdentity.arn":            `arn:aws:sts::111122223333:assumed-role/trailwarden-reader/botocore-session-1709920000`,
				"userIdentity.principalId":    `AROA123456789EXAMPLE:botocore-session-1709920000`,
				"userIdentity.sessionContext": `{}`,
				"userIdentity.sessionContext.attributes.creationDate":     `2024-03-08T17:46:40Z`,
				"userIdentity.sessionContext.attributes.mfaAuthenticated": `false`,
				"userIdentity.sessionContext.sessionIssuer":               `{}`,
				"userIdentity.sessionContext.sessionIssuer.accountId":     `111122223333`,
				"userIdentity.sessionContext.sessionIssuer.arn":           `arn:aws:iam::111122223333:role/trailwarden-reader`,
				"userIdentity.sessionContext.sessionIssuer.principalId":   `AROA123456789EXAMPLE`,
				"userIdentity.sessionContext.sessionIssuer.type":          `Role`,
				"userIdentity.sessionContext.sessionIssuer.userName":      `trailwarden-reader`,
				"userIdentity.sessionContext.sourceIdentity":              `alice@example.com`,
				"userIdentity.type": `AssumedRole`,
				"vpcEndpointId":     `vpce-0a1b2c3d4e5f67890`,
			},
		}},
		{file: "aws-service", want: []map[string]string{
			{
				"Time":                   `2024-03-09T00:05:17Z`,
				"awsRegion":              `us-east-1`,
				"eventCategory":          `Management`,
				"eventID":                `ff000af-00eb-00ce-0e00-ea000fb0fba0SAMPLE`,
				"eventName":              `GenerateDataKey`,
				"eventSource":            `kms.amazonaws.com`,
				"eventTime":              `2024-03-09T00:05:17Z`,
				"eventType":              `AwsApiCall`,
				"eventVersion":           `1.08`,
				"managementEvent":        `true`,
				"readOnly":               `true`,
				"recipientAccountId":     `111122223333`,
				"requestID":              `ff000af-00eb-00ce-0e00-ea000fb0fba0SAMPLE`,
				"requestParameters":      `{"keySpec":"AES_256","encryptionContext":{"aws:cloudtrail:arn":"arn:aws:cloudtrail:us-east-1:111122223333:trail/org-trail","aws:s3:arn":"arn:aws:s3:::org-trail-logs/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/09/111122223333_CloudTrail_us-east-1_20240309T0005Z_abcdEFGH1234.json.gz"},"keyId":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}`,
				"resources":              `[{"accountId":"111122223333","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"}]`,
				"responseElements":       `null`,
				"sharedEventID":          `11d5e8cf-2a1e-4e5d-bb47-3e5e1d7f8a90`,
				"sourceIPAddress":        `cloudtrail.amazonaws.com`,
				"userAgent":              `cloudtrail.amazonaws.com`,
				"userIdentity":           `{}`,
				"userIdentity.invokedBy": `cloudtrail.amazonaws.com`,
				"userIdentity.type":      `AWSService`,
			},
			{
				"Time":                   `2024-03-09T00:07:00Z`,
				"awsRegion":              `us-east-1`,
				"eventCategory":          `Management`,
				"eventID":                `0c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f`,
				"eventName":              `Federate`,
				"eventSource":            `sso.amazonaws.com`,
				"eventTime":              `2024-03-09T00:07:00Z`,
				"eventType":              `AwsServiceEvent`,
				"eventVersion":           `1.09`,
				"managementEvent":        `true`,
				"readOnly":               `false`,
				"recipientAccountId":     `111122223333`,
				"requestParameters":      `null`,
				"responseElements":       `null`,
				"serviceEventDetails":    `{"role_name":"AdministratorAccess","account_id":"444455556666"}`,
				"sourceIPAddress":        `signin.amazonaws.com`,
				"userAgent":              `signin.amazonaws.com`,
				"userIdentity":           `{}`,
				"userIdentity.accountId": `111122223333`,
				"userIdentity.invokedBy": `signin.amazonaws.com`,
			},
		}},
		{file: "console-login", want: []map[string]string{
			{
				"Time":                     `2024-03-10T08:15:47Z`,
				"additionalEventData":      `{"LoginTo":"https://console.aws.amazon.com/console/home?hashArgs=%23&isauthcode=true&state=hashArgsFromTB_us-east-1_8a1b2c3d4e5f6a7b","MobileVersion":"No","MFAIdentifier":"arn:aws:iam::111122223333:mfa/root-account-mfa-device","MFAUsed":"Yes"}`,
				"awsRegion":                `us-east-1`,
				"eventCategory":            `Management`,
				"eventID":                  `deb1e1f2-8a5d-4ad0-9b9f-EXAMPLE1`,
				"eventName":                `ConsoleLogin`,
				"eventSource":              `signin.amazonaws.com`,
				"eventTime":                `2024-03-10T08:15:47Z`,
				"eventType":                `AwsConsoleSignIn`,
				"eventVersion":             `1.09`,
				"managementEvent":          `true`,
				"readOnly":                 `false`,
				"recipientAccountId":       `111122223333`,
				"requestParameters":        `null`,
				"responseElements":         `{"ConsoleLogin":"Success"}`,
				"sourceIPAddress":          `198.51.100.24`,
				"tlsDetails":               `{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"signin.aws.amazon.com"}`,
				"userAgent":                `Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.3 Safari/605.1.15`,
				"userIdentity":             `{}`,
				"userIdentity.accessKeyId": ``,
				"userIdentity.accountId":   `111122223333`,
				"userIdentity.arn":         `arn:aws:iam::111122223333:root`,
				"userIdentity.principalId": `111122223333`,
				"userIdentity.type":        `Root`,
			},
			{
				"Time":                     `2024-03-10T08:16:02Z`,
				"additionalEventData":      `{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"No"}`,
				"awsRegion":                `us-east-1`,
				"errorMessage":             `Failed authentication`,
				"eventCategory":            `Management`,
				"eventID":                  `a7e3f0c2-1b2c-4d3e-8f4a-EXAMPLE2`,
				"eventName":                `ConsoleLogin`,
				"eventSource":              `signin.amazonaws.com`,
				"eventTime":                `2024-03-10T08:16:02Z`,
				"eventType":                `AwsConsoleSignIn`,
				"eventVersion":             `1.09`,
				"managementEvent":          `true`,
				"readOnly":                 `false`,
				"recipientAccountId":       `111122223333`,
				"requestParameters":        `null`,
				"responseElements":         `{"ConsoleLogin":"Failure"}`,
				"sourceIPAddress":          `198.51.100.24`,
				"userAgent":                `Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0`,
				"userIdentity":             `{}`,
				"userIdentity.accessKeyId": ``,
				"userIdentity.accountId":   `111122223333`,
				"userIdentity.principalId": `AIDA6ON6E4XEGITEXAMPLE`,
				"userIdentity.type":        `IAMUser`,
				"userIdentity.userName":    `HIDDEN_DUE_TO_SECURITY_REASONS`,
			},
		}},
		{file: "data-event", want: []map[string]string{
			{
				"Extra":                       `{"userIdentity.sessionContext.ec2RoleDelivery":"2.0"}`,
				"Identity.Created":            `2024-03-11T09:00:00Z`,
				"Time":                        `2024-03-11T09:30:12Z`,
				"additionalEventData":         `{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"EXAMPLEid2","bytesTransferredOut":10485760.0}`,
				"awsRegion":                   `eu-west-1`,
				"eventCategory":               `Data`,
				"eventID":                     `e5d2a1b0-9c8d-4e7f-a6b5-c4d3e2f1a0b9`,
				"eventName":                   `GetObject`,
				"eventSource":                 `s3.amazonaws.com`,
				"eventTime":                   `2024-03-11T09:30:12Z`,
				"eventType":                   `AwsApiCall`,
				"eventVersion":                `1.09`,
				"managementEvent":             `false`,
				"readOnly":                    `true`,
				"recipientAccountId":          `111122223333`,
				"requestID":                   `EXAMPLE123456789`,
				"requestParameters":           `{"bucketName":"app-data","Host":"app-data.s3.eu-west-1.amazonaws.com","key":"reports/2024/03/q1.csv"}`,
				"resources":                   `[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::app-data/reports/2024/03/q1.csv"},{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::app-data"}]`,
				"responseElements":            `null`,
				"sourceIPAddress":             `10.0.12.34`,
				"tlsDetails":                  `{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"app-data.s3.eu-west-1.amazonaws.com"}`,
				"userAgent":                   `[aws-sdk-java/1.12.661 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS java/17.0.10]`,
				"userIdentity":                `{}`,
				"userIdentity.accessKeyId":    `ASIAEXAMPLEKEY`,
				"userIdentity.accountId":      `111122223333`,
				"userIdentity.arn":            `arn:aws:sts::111122223333:assumed-role/app-role/i-0123456789abcdef0`,
				"userIdentity.principalId":    `AROAEXAMPLE:i-0123456789abcdef0`,
				"userIdentity.sessionContext": `{}`,
				"userIdentity.sessionContext.attributes.creationDate":     `2024-03-11T09:00:00Z`,
				"userIdentity.sessionContext.attributes.mfaAuthenticated": `false`,
				"userIdentity.sessionContext.sessionIssuer":               `{}`,
				"userIdentity.sessionContext.sessionIssuer.accountId":     `111122223333`,
				"userIdentity.sessionContext.sessionIssuer.arn":           `arn:aws:iam::111122223333:role/app-role`,
				"userIdentity.sessionContext.sessionIssuer.principalId":   `AROAEXAMPLE`,
				"userIdentity.sessionContext.sessionIssuer.type":          `Role`,
				"userIdentity.sessionContext.sessionIssuer.userName":      `app-role`,
				"userIdentity.type": `AssumedRole`,
				"vpcEndpointId":     `vpce-1a2b3c4d`,
			},
		}},
		{file: "future", want: []map[string]string{
			{
				"Extra":                       `{"userIdentity.onBehalfOf":{"userId":"94682468-a0e1-7046-8b1f-EXAMPLE","identityStoreArn":"arn:aws:identitystore::111122223333:identitystore/d-9067230b1c"},"userIdentity.credentialId":"EXAMPLEcredentialId","userIdentity.sessionContext.sessionIssuer.issuedBy":"sts.amazonaws.com","userIdentity.sessionContext.webIdFederationData":{"federatedProvider":"arn:aws:iam::111122223333:oidc-provider/token.actions.githubusercontent.com","attributes":{"sub":"repo:trailwarden/trailwarden:ref:refs/heads/main"}},"userIdentity.sessionContext.attributes.sessionTags":["team=platform"],"userIdentity.sessionContext.assumedRoot":"true","inScopeOf":{"issuerType":"AWS::Lambda::Function","credentialsIssuedTo":"arn:aws:lambda:us-east-1:111122223333:function:exampleFunction"},"annotation":"","futureNumber":1.5e3,"futureList":[1,"two",true,null,{"three":[3]}],"futureNull":null}`,
				"Identity.Created":            `2024-03-14T11:00:00Z`,
				"Time":                        `2024-03-14T11:11:11Z`,
				"addendum":                    `{"reason":"DELIVERY_DELAY","updatedFields":"","originalRequestID":"","originalEventID":""}`,
				"awsRegion":                   `us-east-1`,
				"edgeDeviceDetails":           `null`,
				"eventCategory":               `Management`,
				"eventID":                     `0f1e2d3c-4b5a-4697-8877-665544332211`,
				"eventName":                   `AssumeRoleWithWebIdentity`,
				"eventSource":                 `sts.amazonaws.com`,
				"eventTime":                   `2024-03-14T11:11:11Z`,
				"eventType":                   `AwsApiCall`,
				"eventVersion":                `1.42`,
				"managementEvent":             `true`,
				"readOnly":                    `true`,
				"recipientAccountId":          `111122223333`,
				"requestID":                   `f0e1d2c3-b4a5-4968-8776-655443322110`,
				"requestParameters":           `{"roleArn":"arn:aws:iam::111122223333:role/web","roleSessionName":"web","durationSeconds":3600}`,
				"responseElements":            `{"credentials":{"accessKeyId":"ASIAEXAMPLE","sessionToken":"EXAMPLE","expiration":"Mar 14, 2024, 12:11:11 PM"}}`,
				"sourceIPAddress":             `192.0.2.55`,
				"userAgent":                   `aws-sdk-js/3.5`,
				"userIdentity":                `{}`,
				"userIdentity.accountId":      `111122223333`,
				"userIdentity.arn":            `arn:aws:sts::111122223333:assumed-role/web/web`,
				"userIdentity.principalId":    `AROAEXAMPLE:web`,
				"userIdentity.sessionContext": `{}`,
				"userIdentity.sessionContext.attributes.creationDate":     `2024-03-14T11:00:00Z`,
				"userIdentity.sessionContext.attributes.mfaAuthenticated": `false`,
				"userIdentity.sessionContext.sessionIssuer":               `{}`,
				"userIdentity.sessionContext.sessionIssuer.accountId":     `111122223333`,
				"userIdentity.sessionContext.sessionIssuer.arn":           `arn:aws:iam::111122223333:role/web`,
				"userIdentity.sessionContext.sessionIssuer.principalId":   `AROAEXAMPLE`,
				"userIdentity.sessionContext.sessionIssuer.type":          `Role`,
				"userIdentity.sessionContext.sessionIssuer.userName":      `web`,
				"userIdentity.type": `AssumedRole`,
			},
		}},
		{file: "iam-user", want: []map[string]string{
			{
				"Time":                     `2024-03-08T17:55:03Z`,
				"awsRegion":                `us-east-1`,
				"eventCategory":            `Management`,
				"eventID":                  `fdb7b3c0-e6aa-4d6d-a8f0-c4e2b4e9b0a1`,
				"eventName":                `CreateUser`,
				"eventSource":              `iam.amazonaws.com`,
				"eventTime":                `2024-03-08T17:55:03Z`,
				"eventType":                `AwsApiCall`,
				"eventVersion":             `1.09`,
				"managementEvent":          `true`,
				"readOnly":                 `false`,
				"recipientAccountId":       `888888888888`,
				"requestID":                `7c5a2ed9-e1ca-4ea4-8306-8ee2bbb2d8f9`,
				"requestParameters":        `{"userName":"Richard"}`,
				"responseElements":         `{"user":{"path":"/","arn":"arn:aws:iam::888888888888:user/Richard","userId":"AIDA6ON6E4XEP7EXAMPLE","createDate":"Mar 8, 2024 5:55:03 PM","userName":"Richard"}}`,
				"sourceIPAddress":          `192.0.2.0`,
				"tlsDetails":               `{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"iam.amazonaws.com"}`,
				"userAgent":                `aws-cli/2.15.20 Python/3.11.6 Linux/5.10.209 exe/x86_64.amzn.2 prompt/off command/iam.create-user`,
				"userIdentity":             `{}`,
				"userIdentity.accessKeyId": `AKIAIOSFODNN7EXAMPLE`,
				"userIdentity.accountId":   `888888888888`,
				"userIdentity.arn":         `arn:aws:iam::888888888888:user/Mateo`,
				"userIdentity.principalId": `AIDA6ON6E4XEGITEXAMPLE`,
				"userIdentity.type":        `IAMUser`,
				"userIdentity.userName":    `Mateo`,
			},
			{
				"Extra":                        `{"userIdentity.sessionContext.webIdFederationData":{}}`,
				"Identity.Created":             `2024-03-08T17:40:12Z`,
				"Time":                         `2024-03-08T17:56:41Z`,
				"awsRegion":                    `eu-west-1`,
				"eventCategory":                `Management`,
				"eventID":                      `0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d`,
				"eventName":                    `DescribeInstances`,
				"eventSource":                  `ec2.amazonaws.com`,
				"eventTime":                    `2024-03-08T17:56:41Z`,
				"eventType":                    `AwsApiCall`,
				"eventVersion":                 `1.08`,
				"managementEvent":              `true`,
				"readOnly":                     `true`,
				"recipientAccountId":           `888888888888`,
				"requestID":                    `9f1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d`,
				"requestParameters":            `{"instancesSet":{},"filterSet":{}}`,
				"responseElements":             `null`,
				"sessionCredentialFromConsole": `true`,
				"sourceIPAddress":              `AWS Internal`,
				"userAgent":                    `AWS Internal`,
				"userIdentity":                 `{}`,
				"userIdentity.accessKeyId":     `ASIAIOSFODNN7EXAMPLE`,
				"userIdentity.accountId":       `888888888888`,
				"userIdentity.arn":             `arn:aws:iam::888888888888:user/Mateo`,
				"userIdentity.principalId":     `AIDA6ON6E4XEGITEXAMPLE`,
				"userIdentity.sessionContext":  `{}`,
				"userIdentity.sessionContext.attributes.creationDate":     `2024-03-08T17:40:12Z`,
				"userIdentity.sessionContext.attributes.mfaAuthenticated": `true`,
				"userIdentity.sessionContext.sessionIssuer":               `{}`,
				"userIdentity.type":     `IAMUser`,
				"userIdentity.userName": `Mateo`,
			},
		}},
		{file: "insight", want: []map[string]string{
			{
				"Time":               `2024-03-13T14:00:00Z`,
				"awsRegion":          `us-east-1`,
				"eventCategory":      `Insight`,
				"eventID":            `ee1f0dc8-5f3b-4b39-9c6f-EXAMPLE`,
				"eventTime":          `2024-03-13T14:00:00Z`,
				"eventType":          `AwsCloudTrailInsight`,
				"eventVersion":       `1.08`,
				"insightDetails":     `{"state":"Start","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","insightType":"ApiCallRateInsight","insightContext":{"statistics":{"baseline":{"average":0.0020833333},"insight":{"average":6},"insightDuration":1,"baselineDuration":11459},"attributions":[{"attribute":"userIdentityArn","insight":[{"value":"arn:aws:sts::111122223333:assumed-role/batch/runner","average":6}],"baseline":[{"value":"arn:aws:sts::111122223333:assumed-role/batch/runner","average":0.0020833333}]},{"attribute":"errorCode","insight":[{"value":"null","average":6}],"baseline":[]}]}}`,
				"recipientAccountId": `111122223333`,
				"sharedEventID":      `12ab34cd-56ef-78ab-90cd-EXAMPLE`,
			},
		}},
		{file: "invalid-utf8", want: []map[string]string{
			{
				"Extra":                 "{\"userIdentity.futureId\":\"x\ufffdy\",\"future\ufffd\":\"v\ufffd\"}",
				"Time":                  `2024-03-17T00:00:00Z`,
				"errorMessage":          "overlong \ufffd\ufffd and surrogate \ufffd\ufffd\ufffd bytes",
				"eventID":               `55555555-6666-4777-8888-999999999999`,
				"eventName":             "Get\ufffdObject",
				"eventTime":             `2024-03-17T00:00:00Z`,
				"eventVersion":          `1.09`,
				"requestParameters":     "{\"key\":\"a\ufffdb\",\"ok\":\"café\"}",
				"userAgent":             "trunc \ufffd\ufffd end",
				"userIdentity":          `{}`,
				"userIdentity.type":     `IAMUser`,
				"userIdentity.userName": "bad\ufffd",
			},
		}},
		{file: "odd-types", want: []map[string]string{
			{
				"Extra":                       `{"eventVersion":1.08,"eventName":12,"errorCode":null,"readOnly":"true","managementEvent":1,"eventTime":"2024/03/15 10:00:00","awsRegion":["us-east-1"],"userIdentity.userName":null,"userIdentity.arn":{"partition":"aws"},"userIdentity.sessionContext.sourceIdentity":7,"userIdentity.sessionContext.attributes.creationDate":"Fri, 15 Mar 2024 09:00:00 GMT","userIdentity.sessionContext.attributes.mfaAuthenticated":true,"userIdentity.sessionContext.sessionIssuer":"none"}`,
				"eventID":                     `11111111-2222-4333-8444-555555555555`,
				"eventTime":                   `2024/03/15 10:00:00`,
				"userIdentity":                `{}`,
				"userIdentity.sessionContext": `{}`,
				"userIdentity.sessionContext.attributes.creationDate": `Fri, 15 Mar 2024 09:00:00 GMT`,
				"userIdentity.type": `IAMUser`,
			},
			{
				"Extra":        `{"readOnly":"false","managementEvent":"true","eventTime":null,"userIdentity":"arn:aws:iam::111122223333:root"}`,
				"eventID":      `22222222-3333-4444-8555-666666666666`,
				"eventName":    `GetCallerIdentity`,
				"eventVersion": `1.08`,
			},
			{
				"Extra":             `{"userIdentity.sessionContext":null}`,
				"Time":              `2024-03-15T10:00:00.123Z`,
				"eventID":           `33333333-4444-4555-8666-777777777777`,
				"eventName":         `ListBuckets`,
				"eventTime":         `2024-03-15T10:00:00.123Z`,
				"eventVersion":      `1.08`,
				"userIdentity":      `{}`,
				"userIdentity.type": `AssumedRole`,
			},
			{
				"Extra":             `{"userIdentity":null,"eventTime":""}`,
				"eventName":         `DescribeTrails`,
				"eventTime":         ``,
				"requestParameters": `"trail"`,
				"resources":         `[]`,
			},
			{
				"Extra":                       `{"userIdentity.sessionContext.attributes":{},"eventTime":"2024-02-30T00:00:00Z"}`,
				"eventTime":                   `2024-02-30T00:00:00Z`,
				"userIdentity":                `{}`,
				"userIdentity.sessionContext": `{}`,
			},
			{},
		}},
		{file: "times", want: []map[string]string{
			{
				"Identity.Created":            `2024-02-29T23:00:00Z`,
				"Time":                        `2024-02-29T23:59:59.1Z`,
				"eventTime":                   `2024-02-29T23:59:59.1Z`,
				"userIdentity":                `{}`,
				"userIdentity.sessionContext": `{}`,
				"userIdentity.sessionContext.attributes.creationDate": `2024-02-29T23:00:00.000Z`,
			},
			{
				"Time":      `2024-03-18T12:34:56.12Z`,
				"eventTime": `2024-03-18T12:34:56.12Z`,
			},
			{
				"Time":      `2024-03-18T12:34:56.123Z`,
				"eventTime": `2024-03-18T12:34:56.123Z`,
			},
			{
				"Time":      `2024-03-18T12:34:56.1234Z`,
				"eventTime": `2024-03-18T12:34:56.1234Z`,
			},
			{
				"Time":      `2024-03-18T12:34:56.12345Z`,
				"eventTime": `2024-03-18T12:34:56.12345Z`,
			},
			{
				"Time":      `2024-03-18T12:34:56.123456Z`,
				"eventTime": `2024-03-18T12:34:56.123456Z`,
			},
			{
				"Extra":     `{"eventTime":"2024-03-18T12:34:56.1234567Z"}`,
				"eventTime": `2024-03-18T12:34:56.1234567Z`,
			},
			{
				"Extra":     `{"eventTime":"2024-03-18T12:34:56+00:00"}`,
				"eventTime": `2024-03-18T12:34:56+00:00`,
			},
			{
				"Time":      `1970-01-01T00:00:00Z`,
				"eventTime": `1970-01-01T00:00:00Z`,
			},
		}},
		{file: "unicode", want: []map[string]string{
			{
				"Extra":                       `{"eventNote":"\u00fcnknown \ud83d\ude80","key\"quoted":"k","tab\u0009key":1}`,
				"Time":                        `2024-03-16T00:00:00Z`,
				"errorMessage":                "quote \" backslash \\ slash / tab \t nl \n lone \ufffd end",
				"eventID":                     `44444444-5555-4666-8777-888888888888`,
				"eventName":                   `PutObject`,
				"eventTime":                   `2024-03-16T00:00:00Z`,
				"eventVersion":                `1.09`,
				"requestParameters":           `{"key":"photos/\u00e9t\u00e9 2024/\ud83c\udf1e.jpg","prefix":"été"}`,
				"sourceIPAddress":             `192.0.2.1`,
				"userAgent":                   `café/1.0 🚀 rocket`,
				"userIdentity":                `{}`,
				"userIdentity.arn":            `arn:aws:iam::111122223333:user/josé`,
				"userIdentity.sessionContext": `{}`,
				"userIdentity.sessionContext.sessionIssuer":          `{}`,
				"userIdentity.sessionContext.sessionIssuer.userName": `rôle`,
				"userIdentity.sessionContext.sourceIdentity":         "😀\ufffd",
				"userIdentity.type":                                  `IAMUser`,
				"userIdentity.userName":                              `josé maría`,
			},
		}},
	}
	files := corpus(t)
	if len(files) != len(tests) {
		t.Fatalf("%d files in testdata, %d cases: every file needs one", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, ok := files[tt.file]
			if !ok {
				t.Fatalf("no testdata/%s.json", tt.file)
			}
			var got []map[string]string
			err := record.Scan(data, func(_ int, e *record.Event) error {
				got = append(got, view(e))
				return nil
			})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("%d records, want %d", len(got), len(tt.want))
			}
			for i := range got {
				diffView(t, i+1, got[i], tt.want[i])
			}
		})
	}
}

// diffView reports every path where a record's view differs from want.
func diffView(t *testing.T, n int, got, want map[string]string) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(got))
	for k := range want {
		if _, ok := got[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !wok:
			t.Errorf("record %d: %s = %q, want unset", n, k, g)
		case !gok:
			t.Errorf("record %d: %s unset, want %q", n, k, w)
		case g != w:
			t.Errorf("record %d: %s = %q, want %q", n, k, g, w)
		}
	}
}

func TestScan_Shapes(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // each record's eventName
	}{
		{"NoRecords", `{"Records":[]}`, nil},
		{"EmptyRecord", `{"Records":[{}]}`, []string{""}},
		{"OtherMembers", `{"digest":{"a":[1,{"b":null}]},"Records":[{"eventName":"A"}],"tail":"x"}`, []string{"A"}},
		{"Whitespace", " \t\r\n{ \"Records\" :\n[ { \"eventName\" : \"A\" } ,\r\n{\"eventName\":\"B\"}\t] }\n", []string{"A", "B"}},
		{"EscapedRecordsKey", `{"Recor\u0064s":[{"event\u004eame":"A"}]}`, []string{"A"}},
		{"RepeatedOtherKey", `{"x":1,"x":2,"Records":[{"eventName":"A"}]}`, []string{"A"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			err := record.Scan([]byte(tt.in), func(_ int, e *record.Event) error {
				got = append(got, string(e.EventName))
				return nil
			})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("records %q, want %q", got, tt.want)
			}
			if err := checkFile(t, []byte(tt.in)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestScan_RepeatedKeys checks that a key a record repeats counts as its
// last value, as in encoding/json, while Extra keeps the earlier values
// (but those of a repeated userIdentity), and the first top-level key
// repeated is named: a repeated eventID or recipientAccountId would
// otherwise decide, unseen, which event a record is.
func TestScan_RepeatedKeys(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"StringThenString", `{"eventName":"A","eventName":"B"}`, map[string]string{"eventName": "B", "Extra": `{"eventName":"A"}`, "DuplicateKey": "eventName"}},
		{"EventIDTwice", `{"eventID":"real","recipientAccountId":"111122223333","eventID":"other"}`, map[string]string{
			"eventID": "other", "recipientAccountId": "111122223333", "Extra": `{"eventID":"real"}`, "DuplicateKey": "eventID",
		}},
		{"RecipientTwice", `{"recipientAccountId":"111122223333","eventID":"e","recipientAccountId":"444455556666"}`, map[string]string{
			"eventID": "e", "recipientAccountId": "444455556666", "Extra": `{"recipientAccountId":"111122223333"}`, "DuplicateKey": "recipientAccountId",
		}},
		{"EscapedEarlierValue", `{"userAgent":"a \"quoted\" \u00e9","userAgent":"b"}`, map[string]string{
			"userAgent": "b", "Extra": `{"userAgent":"a \"quoted\" é"}`, "DuplicateKey": "userAgent",
		}},
		{"FirstRepeatedKeyIsNamed", `{"eventName":"A","eventSource":"s","eventSource":"t","eventName":"B"}`, map[string]string{
			"eventName": "B", "eventSource": "t", "Extra": `{"eventSource":"s","eventName":"A"}`, "DuplicateKey": "eventSource",
		}},
		{"OtherKeyTwice", `{"apiVersion":"1","eventName":"A","apiVersion":"2"}`, map[string]string{
			"eventName": "A", "Extra": `{"apiVersion":"1","apiVersion":"2"}`, "DuplicateKey": "apiVersion",
		}},
		{"JSONTwice", `{"requestParameters":{"a":1},"requestParameters":null}`, map[string]string{
			"requestParameters": "null", "Extra": `{"requestParameters":{"a":1}}`, "DuplicateKey": "requestParameters",
		}},
		{"NoRepeat", `{"eventName":"A","userIdentity":{"type":"Root"},"apiVersion":"1"}`, map[string]string{
			"eventName": "A", "userIdentity": "{}", "userIdentity.type": "Root", "Extra": `{"apiVersion":"1"}`,
		}},
		{"StringThenNull", `{"eventName":"A","eventName":null}`, map[string]string{"Extra": `{"eventName":"A","eventName":null}`, "DuplicateKey": "eventName"}},
		{"NullThenString", `{"eventName":null,"eventName":"B"}`, map[string]string{"eventName": "B", "Extra": `{"eventName":null}`, "DuplicateKey": "eventName"}},
		{"TimeThenBadTime", `{"eventTime":"2024-01-01T00:00:00Z","eventTime":"yesterday"}`, map[string]string{
			"eventTime": "yesterday", "Extra": `{"eventTime":"2024-01-01T00:00:00Z","eventTime":"yesterday"}`, "DuplicateKey": "eventTime",
		}},
		{"BadTimeThenTime", `{"eventTime":"yesterday","eventTime":"2024-01-01T00:00:00Z"}`, map[string]string{
			"eventTime": "2024-01-01T00:00:00Z", "Time": "2024-01-01T00:00:00Z", "Extra": `{"eventTime":"yesterday"}`, "DuplicateKey": "eventTime",
		}},
		{"BoolThenString", `{"readOnly":true,"readOnly":"true"}`, map[string]string{"Extra": `{"readOnly":true,"readOnly":"true"}`, "DuplicateKey": "readOnly"}},
		{"IdentityThenNull", `{"userIdentity":{"type":"Root","x":1},"userIdentity":null}`, map[string]string{
			"Extra": `{"userIdentity.x":1,"userIdentity":null}`, "DuplicateKey": "userIdentity",
		}},
		{"IdentityThenIdentity", `{"userIdentity":{"type":"Root","arn":"a"},"userIdentity":{"type":"IAMUser"}}`, map[string]string{
			"userIdentity": "{}", "userIdentity.type": "IAMUser", "DuplicateKey": "userIdentity",
		}},
		{"SessionThenSession", `{"userIdentity":{"sessionContext":{"sessionIssuer":{"type":"Role"},"attributes":{"mfaAuthenticated":"true"}},"sessionContext":{"sourceIdentity":"s"}}}`, map[string]string{
			"userIdentity": "{}", "userIdentity.sessionContext": "{}", "userIdentity.sessionContext.sourceIdentity": "s",
		}},
		{"IssuerThenString", `{"userIdentity":{"sessionContext":{"sessionIssuer":{"arn":"a"},"sessionIssuer":"none"}}}`, map[string]string{
			"userIdentity": "{}", "userIdentity.sessionContext": "{}", "Extra": `{"userIdentity.sessionContext.sessionIssuer":"none"}`,
		}},
		{"CreationDateThenBad", `{"userIdentity":{"sessionContext":{"attributes":{"creationDate":"2024-01-01T00:00:00Z","creationDate":"later"}}}}`, map[string]string{
			"userIdentity": "{}", "userIdentity.sessionContext": "{}", "userIdentity.sessionContext.attributes.creationDate": "later",
			"Extra": `{"userIdentity.sessionContext.attributes.creationDate":"later"}`,
		}},
		{"MFAThenBool", `{"userIdentity":{"sessionContext":{"attributes":{"mfaAuthenticated":"true","mfaAuthenticated":true}}}}`, map[string]string{
			"userIdentity": "{}", "userIdentity.sessionContext": "{}", "Extra": `{"userIdentity.sessionContext.attributes.mfaAuthenticated":true}`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(`{"Records":[` + tt.in + `]}`)
			err := record.Scan(data, func(_ int, e *record.Event) error {
				diffView(t, 1, view(e), tt.want)
				return nil
			})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if err := checkFile(t, data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestScan_CallbackError checks that an error from the callback stops the
// scan and comes back as it is, not as a *SyntaxError.
func TestScan_CallbackError(t *testing.T) {
	errStop := errors.New("stop")
	calls := 0
	err := record.Scan([]byte(`{"Records":[{},{},{}]}`), func(n int, _ *record.Event) error {
		calls++
		if n == 2 {
			return errStop
		}
		return nil
	})
	if !errors.Is(err, errStop) || errors.Is(err, record.ErrNotLogFile) {
		t.Fatalf("Scan error %v, want the callback's", err)
	}
	if calls != 2 {
		t.Fatalf("%d calls, want 2", calls)
	}
}

func TestScan_Errors(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	tests := []struct {
		name   string
		in     string
		msg    string
		offset int64
	}{
		{"Empty", ``, "no JSON object", 0},
		{"OnlyWhitespace", " \n\t", "no JSON object", 3},
		{"NotJSON", `Records`, "no JSON object", 0},
		{"ByteOrderMark", "\ufeff{\"Records\":[]}", "no JSON object", 0},
		{"TopLevelArray", `[{"Records":[]}]`, "no JSON object", 0},
		{"Digest", `{"awsAccountId":"1","logFiles":[]}`, "no Records array (a digest", 34},
		{"EmptyObject", `{}`, "no Records array", 2},
		{"RecordsObject", `{"Records":{}}`, "Records is not an array", 11},
		{"RecordsNull", `{"Records":null}`, "Records is not an array", 11},
		{"RecordsTwice", `{"Records":[],"Records":[{}]}`, "a second Records member", 14},
		{"RecordNumber", `{"Records":[1]}`, "record 1 is not a JSON object", 12},
		{"SecondRecordString", `{"Records":[{},"x"]}`, "record 2 is not a JSON object", 15},
		{"RecordsTrailingComma", `{"Records":[{},]}`, "record 2 is not a JSON object", 15},
		{"MemberTrailingComma", `{"Records":[{"a":1,}]}`, "expected a string key", 19},
		{"TrailingData", `{"Records":[]} {}`, "data after the JSON object", 15},
		{"TrailingGarbage", `{"Records":[]}x`, "data after the JSON object", 14},
		{"TwoObjects", `{"Records":[]}{"Records":[]}`, "data after the JSON object", 14},
		{"MissingColon", `{"Records":[{"eventName" "A"}]}`, "expected ':'", 25},
		{"KeyNotString", `{"Records":[{eventName:"A"}]}`, "expected a string key", 13},
		{"MissingComma", `{"Records":[{"a":1 "b":2}]}`, "expected ',' or '}'", 19},
		{"UnclosedRecords", `{"Records":[{}`, "unexpected end of JSON", 14},
		{"BadEscapeInField", `{"Records":[{"eventName":"\x"}]}`, `invalid escape \x`, 26},
		{"BadEscapeInUnknown", `{"Records":[{"future":"\x"}]}`, `invalid escape \x`, 23},
		{"BadEscapeInKey", `{"Records":[{"\q":1}]}`, `invalid escape \q`, 14},
		{"BadUnicodeEscape", `{"Records":[{"eventName":"\u12G4"}]}`, `invalid \u escape`, 26},
		{"ShortUnicodeEscape", `{"Records":[{"requestParameters":"\u12"}]}`, `invalid \u escape`, 34},
		{"SignedUnicodeEscape", `{"Records":[{"eventName":"\u+123"}]}`, `invalid \u escape`, 26},
		{"EscapeAtEnd", `{"Records":[{"eventName":"\`, "unterminated string", 26},
		{"UnterminatedString", `{"Records":[{"eventName":"abc`, "unterminated string", 25},
		{"TabInField", "{\"Records\":[{\"eventName\":\"a\tb\"}]}", "control character in string", 27},
		{"NewlineInRaw", "{\"Records\":[{\"requestParameters\":{\"k\":\"a\nb\"}}]}", "control character in string", 40},
		{"NULInKey", "{\"Records\":[{\"a\x00\":1}]}", "control character in string", 15},
		{"LeadingZero", `{"Records":[{"x":01}]}`, "expected ',' or '}'", 18},
		{"NoFractionDigits", `{"Records":[{"x":1.}]}`, "invalid number", 17},
		{"BareMinus", `{"Records":[{"x":-}]}`, "invalid number", 17},
		{"NoExponentDigits", `{"Records":[{"x":1e+}]}`, "invalid number", 17},
		{"PlusSign", `{"Records":[{"x":+1}]}`, "invalid character '+'", 17},
		{"LeadingDot", `{"Records":[{"x":.5}]}`, "invalid character '.'", 17},
		{"Hex", `{"Records":[{"x":0x1F}]}`, "expected ',' or '}'", 18},
		{"BadLiteral", `{"Records":[{"readOnly":tru}]}`, "invalid literal", 24},
		{"ShortLiteralAtEnd", `{"Records":[{"x":nul`, "invalid literal", 17},
		{"Capitalised", `{"Records":[{"x":True}]}`, "invalid character 'T'", 17},
		{"SingleQuotes", `{"Records":[{'x':1}]}`, "expected a string key", 13},
		{"InvalidUTF8OutsideString", "{\"Records\":[{\"x\":\xff}]}", `invalid character 'ÿ' looking for a JSON value`, 17},
		{"DeepInRecord", `{"Records":[{"x":` + deep(record.MaxDepth) + `}]}`, "JSON nested deeper than 512", 17 + record.MaxDepth - 1},
		{"DeepInIdentity", `{"Records":[{"userIdentity":{"sessionContext":{"x":` + deep(record.MaxDepth) + `}}}]}`, "JSON nested deeper than 512", 51 + record.MaxDepth - 3},
		{"DeepBesideRecords", `{"x":` + deep(record.MaxDepth+1) + `,"Records":[]}`, "JSON nested deeper than 512", 5 + record.MaxDepth},
		{"VeryDeep", `{"Records":[{"x":` + strings.Repeat("[", 1<<20), "JSON nested deeper than 512", 17 + record.MaxDepth - 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := record.Scan([]byte(tt.in), func(int, *record.Event) error { return nil })
			var se *record.SyntaxError
			if !errors.As(err, &se) || !errors.Is(err, record.ErrNotLogFile) {
				t.Fatalf("Scan error %v (%T), want a *SyntaxError matching ErrNotLogFile", err, err)
			}
			if !strings.Contains(se.Msg, tt.msg) || se.Offset != tt.offset {
				t.Fatalf("Scan error %q (offset %d), want %q at byte %d", err, se.Offset, tt.msg, tt.offset)
			}
			if err.Error() != se.Msg+" at byte "+strconv.FormatInt(se.Offset, 10) {
				t.Fatalf("Error() = %q", err.Error())
			}
			_ = checkFile(t, []byte(tt.in)) // fails t if encoding/json reads a log file there
		})
	}
}

// TestScan_DepthLimit checks nesting just inside the limit is read.
func TestScan_DepthLimit(t *testing.T) {
	// The file's own object and array and the record add three levels.
	n := record.MaxDepth - 3
	inner := strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n)
	for _, in := range []string{
		`{"Records":[{"x":` + inner + `}]}`,
		`{"Records":[{"requestParameters":` + inner + `}]}`,
		`{"x":` + inner + `,"Records":[]}`,
	} {
		if err := checkFile(t, []byte(in)); err != nil {
			t.Fatalf("Scan: %v", err)
		}
	}
}

// TestScan_Truncated cuts every corpus file at every byte: each prefix
// must be refused with a *SyntaxError, never read as a shorter file.
func TestScan_Truncated(t *testing.T) {
	for name, data := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			data = bytes.TrimRight(data, " \t\r\n")
			for i := range len(data) {
				err := record.Scan(data[:i], func(int, *record.Event) error { return nil })
				if err == nil {
					t.Fatalf("Scan accepts the first %d bytes of %d", i, len(data))
				}
				checkSyntaxError(t, err, data[:i])
			}
		})
	}
}

// TestScan_JSONText checks the JSON text Scan keeps (raw fields and
// Extra): as in the file, except that invalid UTF-8 and \u escapes of lone
// surrogates become U+FFFD, which is how encoding/json reads them and
// what DuckDB needs (it refuses a lone surrogate in a JSON value).
func TestScan_JSONText(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{
			"Surrogates",
			`{"requestParameters":{"pair":"\ud83d\ude00","PAIR":"\uD83D\uDE00","high":"\ud800x","low":"\udc00","highs":"\ud800\ud800","lowHigh":"\udc00\ud800\udc00","backslash":"\\ud800","bmp":"\u00e9\uffff"}}`,
			map[string]string{
				"requestParameters": `{"pair":"\ud83d\ude00","PAIR":"\uD83D\uDE00","high":"\ufffdx","low":"\ufffd","highs":"\ufffd\ufffd","lowHigh":"\ufffd\ud800\udc00","backslash":"\\ud800","bmp":"\u00e9\uffff"}`,
			},
		},
		{
			"InvalidUTF8",
			"{\"resources\":[\"a\xffb\",\"\xe2\x82\",\"ok \xc3\xa9\"]}",
			map[string]string{"resources": "[\"a\ufffdb\",\"\ufffd\ufffd\",\"ok \u00e9\"]"},
		},
		{
			"Both",
			"{\"addendum\":{\"k\xff\":\"\\udbff\xc0\"}}",
			map[string]string{"addendum": "{\"k\ufffd\":\"\\ufffd\ufffd\"}"},
		},
		{
			"InExtra",
			"{\"future\":\"\\udfff\",\"userIdentity\":{\"x\":[\"\\ud800\",\"\xff\"]},\"eventName\":{\"n\":\"\\ud800\"}}",
			map[string]string{
				"userIdentity": "{}",
				"Extra":        "{\"future\":\"\\ufffd\",\"userIdentity.x\":[\"\\ufffd\",\"\ufffd\"],\"eventName\":{\"n\":\"\\ufffd\"}}",
			},
		},
		{
			"UntouchedText",
			"{\"tlsDetails\":{ \"a\" : [ 1 , -0.5e+3 , \"\\u0000\\n\\/\" ] }}",
			map[string]string{"tlsDetails": "{ \"a\" : [ 1 , -0.5e+3 , \"\\u0000\\n\\/\" ] }"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := []byte(`{"Records":[` + tt.in + `]}`)
			err := record.Scan(data, func(_ int, e *record.Event) error {
				diffView(t, 1, view(e), tt.want)
				return nil
			})
			if err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if err := checkFile(t, data); err != nil {
				t.Fatal(err)
			}
		})
	}
}
