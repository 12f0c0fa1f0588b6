package record_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/record"
)

// logFile generates a log file of n realistic records, deterministically:
// mostly S3 data events by assumed roles, with IAM user management calls,
// KMS calls by AWS services and console logins mixed in, as a busy
// account's trail has them.
func logFile(n int) []byte {
	r := rand.New(rand.NewPCG(7, 11))
	start := time.Date(2024, 3, 8, 17, 0, 0, 0, time.UTC)
	var b bytes.Buffer
	b.WriteString(`{"Records":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		at := start.Add(time.Duration(i) * 1700 * time.Millisecond)
		id := fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), r.IntN(1<<12), r.Int64N(1<<48))
		account := fmt.Sprintf("%012d", 111122223333+r.IntN(8))
		ip := fmt.Sprintf("203.0.113.%d", r.IntN(256))
		switch k := r.IntN(10); {
		case k < 6:
			fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","principalId":"AROAEXAMPLE:i-%07x","arn":"arn:aws:sts::%[2]s:assumed-role/app-role/i-%07[1]x","accountId":"%[2]s","accessKeyId":"ASIAEXAMPLE%06[3]d","sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROAEXAMPLE","arn":"arn:aws:iam::%[2]s:role/app-role","accountId":"%[2]s","userName":"app-role"},"attributes":{"creationDate":"%[4]s","mfaAuthenticated":"false"},"ec2RoleDelivery":"2.0"}},"eventTime":"%[5]s","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"eu-west-1","sourceIPAddress":"%[6]s","userAgent":"[aws-sdk-java/1.12.661 Linux/5.10 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS java/17.0.10]","requestParameters":{"bucketName":"app-data","Host":"app-data.s3.eu-west-1.amazonaws.com","key":"reports/2024/03/part-%05[3]d.csv"},"responseElements":null,"additionalEventData":{"SignatureVersion":"SigV4","CipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","bytesTransferredIn":0,"AuthenticationMethod":"AuthHeader","x-amz-id-2":"EXAMPLEid2/%[3]d","bytesTransferredOut":%[7]d},"requestID":"%[3]X","eventID":"%[8]s","readOnly":true,"resources":[{"type":"AWS::S3::Object","ARN":"arn:aws:s3:::app-data/reports/2024/03/part-%05[3]d.csv"},{"accountId":"%[2]s","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::app-data"}],"eventType":"AwsApiCall","managementEvent":false,"recipientAccountId":"%[2]s","eventCategory":"Data","tlsDetails":{"tlsVersion":"TLSv1.2","cipherSuite":"ECDHE-RSA-AES128-GCM-SHA256","clientProvidedHostHeader":"app-data.s3.eu-west-1.amazonaws.com"}}`,
				r.IntN(1<<28), account, i, at.Add(-time.Hour).Format(time.RFC3339), at.Format(time.RFC3339), ip, r.IntN(1<<24), id)
		case k < 8:
			fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","principalId":"AIDA6ON6E4XEGITEXAMPLE","arn":"arn:aws:iam::%[1]s:user/Mateo","accountId":"%[1]s","accessKeyId":"AKIAIOSFODNN7EXAMPLE","userName":"Mateo"},"eventTime":"%[2]s","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"aws-cli/2.15.20 Python/3.11.6 Linux/5.10.209 exe/x86_64.amzn.2 prompt/off command/ec2.describe-instances","requestParameters":{"instancesSet":{},"filterSet":{"items":[{"name":"tag:team","valueSet":{"items":[{"value":"platform"}]}}]}},"responseElements":null,"requestID":"%[4]s","eventID":"%[4]s","readOnly":true,"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%[1]s","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"ec2.us-east-1.amazonaws.com"}}`,
				account, at.Format(time.RFC3339), ip, id)
		case k < 9:
			fmt.Fprintf(&b, `{"eventVersion":"1.08","userIdentity":{"type":"AWSService","invokedBy":"cloudtrail.amazonaws.com"},"eventTime":"%[2]s","eventSource":"kms.amazonaws.com","eventName":"GenerateDataKey","awsRegion":"us-east-1","sourceIPAddress":"cloudtrail.amazonaws.com","userAgent":"cloudtrail.amazonaws.com","requestParameters":{"keySpec":"AES_256","encryptionContext":{"aws:cloudtrail:arn":"arn:aws:cloudtrail:us-east-1:%[1]s:trail/org-trail"},"keyId":"arn:aws:kms:us-east-1:%[1]s:key/1234abcd-12ab-34cd-56ef-1234567890ab"},"responseElements":null,"requestID":"%[3]s","eventID":"%[3]s","readOnly":true,"resources":[{"accountId":"%[1]s","type":"AWS::KMS::Key","ARN":"arn:aws:kms:us-east-1:%[1]s:key/1234abcd-12ab-34cd-56ef-1234567890ab"}],"eventType":"AwsApiCall","managementEvent":true,"recipientAccountId":"%[1]s","sharedEventID":"%[3]s","eventCategory":"Management"}`,
				account, at.Format("2006-01-02T15:04:05.000Z"), id)
		default:
			fmt.Fprintf(&b, `{"eventVersion":"1.09","userIdentity":{"type":"Root","principalId":"%[1]s","arn":"arn:aws:iam::%[1]s:root","accountId":"%[1]s","accessKeyId":""},"eventTime":"%[2]s","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"%[3]s","userAgent":"Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0","requestParameters":null,"responseElements":{"ConsoleLogin":"Success"},"additionalEventData":{"LoginTo":"https://console.aws.amazon.com/console/home","MobileVersion":"No","MFAUsed":"Yes"},"eventID":"%[4]s","readOnly":false,"eventType":"AwsConsoleSignIn","managementEvent":true,"recipientAccountId":"%[1]s","eventCategory":"Management"}`,
				account, at.Format(time.RFC3339), ip, id)
		}
	}
	b.WriteString("]}\n")
	return b.Bytes()
}

// TestLogFile checks the benchmark's input against encoding/json, so the
// benchmark measures Scan on records it reads correctly.
func TestLogFile(t *testing.T) {
	data := logFile(2000)
	if err := checkFile(t, data); err != nil {
		t.Fatalf("Scan: %v", err)
	}
}

// BenchmarkScan reads a generated file of 2000 realistic records; MB/s is
// of the uncompressed file.
func BenchmarkScan(b *testing.B) {
	data := logFile(2000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		n = 0
		if err := record.Scan(data, func(int, *record.Event) error { n++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	if n != 2000 {
		b.Fatalf("%d records, want 2000", n)
	}
}
