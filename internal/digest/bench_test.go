package digest

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// realisticLog returns about size bytes of CloudTrail log JSON whose
// compression ratio resembles real files: repeated field names and
// services, varying ids, times and addresses.
func realisticLog(size int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	services := []string{"s3", "ec2", "iam", "sts", "kms", "lambda", "cloudtrail", "dynamodb"}
	events := []string{"GetObject", "DescribeInstances", "AssumeRole", "Decrypt", "ListBuckets", "PutObject", "Invoke", "GetItem"}
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	for i := 0; b.Len() < size; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		svc, ev := services[rng.IntN(len(services))], events[rng.IntN(len(events))]
		acct := fmt.Sprintf("%012d", rng.IntN(20)*111111111)
		fmt.Fprintf(&b, `{"eventVersion":"1.08","userIdentity":{"type":"AssumedRole","principalId":"AROA%016X:session-%d",`+
			`"arn":"arn:aws:sts::%s:assumed-role/role-%d/session-%d","accountId":"%s","accessKeyId":"ASIA%016X",`+
			`"sessionContext":{"sessionIssuer":{"type":"Role","principalId":"AROA%016X","arn":"arn:aws:iam::%s:role/role-%d",`+
			`"accountId":"%s","userName":"role-%d"},"attributes":{"creationDate":"2024-03-09T%02d:%02d:%02dZ","mfaAuthenticated":"false"}}},`+
			`"eventTime":"2024-03-09T%02d:%02d:%02dZ","eventSource":"%s.amazonaws.com","eventName":"%s","awsRegion":"us-east-1",`+
			`"sourceIPAddress":"203.0.%d.%d","userAgent":"aws-sdk-go-v2/1.30.%d os/linux lang/go#1.26","requestParameters":{"bucketName":"bucket-%d","key":"data/%d/%x.parquet"},`+
			`"responseElements":null,"requestID":"%016X","eventID":"%08x-%04x-%04x-%04x-%012x","readOnly":%t,"eventType":"AwsApiCall",`+
			`"managementEvent":%t,"recipientAccountId":"%s","eventCategory":"Management","tlsDetails":{"tlsVersion":"TLSv1.3",`+
			`"cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"%s.us-east-1.amazonaws.com"}}`,
			rng.Uint64(), i, acct, i%50, i, acct, rng.Uint64(), rng.Uint64(), acct, i%50, acct, i%50,
			rng.IntN(24), rng.IntN(60), rng.IntN(60), rng.IntN(24), rng.IntN(60), rng.IntN(60), svc, ev,
			rng.IntN(256), rng.IntN(256), rng.IntN(10), rng.IntN(100), rng.IntN(1000), rng.Uint32(), rng.Uint64(),
			rng.Uint32(), rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint32()&0xffff, rng.Uint64()&0xffffffffffff,
			rng.IntN(2) == 0, rng.IntN(2) == 0, acct, svc)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkHashGzip reports uncompressed MB/s for a ~10 MB log file.
func BenchmarkHashGzip(b *testing.B) {
	body := realisticLog(10 << 20)
	file := gz(b, body)
	b.SetBytes(int64(len(body)))
	for b.Loop() { // b.Loop excludes the setup above from the timing
		if _, n, err := HashGzip(bytes.NewReader(file)); err != nil || n != int64(len(body)) {
			b.Fatal(n, err)
		}
	}
	b.ReportMetric(float64(len(body))/float64(len(file)), "compression-ratio")
}

// BenchmarkHashGzipTee adds the copy pull makes to its parser.
func BenchmarkHashGzipTee(b *testing.B) {
	body := realisticLog(10 << 20)
	file := gz(b, body)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := HashGzipTee(bytes.NewReader(file), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
