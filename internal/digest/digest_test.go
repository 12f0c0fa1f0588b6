package digest

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// awsSample follows the sample on AWS's digest-file-structure page.
const awsSample = `{
  "awsAccountId": "111122223333",
  "digestStartTime": "2015-08-17T14:01:31Z",
  "digestEndTime": "2015-08-17T15:01:31Z",
  "digestS3Bucket": "amzn-s3-demo-bucket",
  "digestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz",
  "digestPublicKeyFingerprint": "31e8b5433410dfb61a9dc45cc65b22ff",
  "digestSignatureAlgorithm": "SHA256withRSA",
  "newestEventTime": "2015-08-17T14:52:27Z",
  "oldestEventTime": "2015-08-17T14:42:27Z",
  "previousDigestS3Bucket": "amzn-s3-demo-bucket",
  "previousDigestS3Object": "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T140131Z.json.gz",
  "previousDigestHashValue": "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d",
  "previousDigestHashAlgorithm": "SHA-256",
  "previousDigestSignature": "50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3",
  "logFiles": [
    {
      "s3Bucket": "amzn-s3-demo-bucket",
      "s3Object": "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/17/111122223333_CloudTrail_us-east-2_20150817T1445Z_9nYN7gp2eWAJHIfT.json.gz",
      "hashValue": "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6",
      "hashAlgorithm": "SHA-256",
      "newestEventTime": "2015-08-17T14:52:27Z",
      "oldestEventTime": "2015-08-17T14:42:27Z"
    }
  ]
}`

// startingDigest is an empty starting digest: every previousDigest* null.
const startingDigest = `{"awsAccountId":"111122223333","digestStartTime":"2024-03-09T13:03:12Z",` +
	`"digestEndTime":"2024-03-09T14:03:12Z","digestS3Bucket":"b","digestS3Object":"k",` +
	`"digestPublicKeyFingerprint":"fp","digestSignatureAlgorithm":"SHA256withRSA",` +
	`"newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,` +
	`"previousDigestS3Object":null,"previousDigestHashValue":null,` +
	`"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`

func TestParseSample(t *testing.T) {
	f, err := Parse([]byte(awsSample))
	if err != nil {
		t.Fatal(err)
	}
	if f.AWSAccountID != "111122223333" || f.DigestS3Bucket != "amzn-s3-demo-bucket" ||
		f.DigestSignatureAlgorithm != SignatureAlgorithm || f.Starting() ||
		*f.PreviousDigestHashAlgorithm != HashAlgorithm || *f.OldestEventTime != "2015-08-17T14:42:27Z" {
		t.Errorf("parsed %+v", f)
	}
	if len(f.LogFiles) != 1 || f.LogFiles[0].HashValue != "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6" ||
		!strings.HasSuffix(f.LogFiles[0].S3Object, "_9nYN7gp2eWAJHIfT.json.gz") {
		t.Errorf("log files %+v", f.LogFiles)
	}
	end, err := f.EndTime()
	if err != nil || end.Format("2006-01-02 15:04:05") != "2015-08-17 15:01:31" {
		t.Errorf("EndTime = %v, %v", end, err)
	}
}

func TestParseStarting(t *testing.T) {
	f, err := Parse([]byte(startingDigest))
	if err != nil {
		t.Fatal(err)
	}
	if !f.Starting() || f.PreviousDigestS3Object != nil || f.NewestEventTime != nil ||
		f.LogFiles == nil || len(f.LogFiles) != 0 {
		t.Errorf("parsed %+v", f)
	}
}

func TestParseErrors(t *testing.T) {
	without := func(field string) string {
		s := strings.Replace(startingDigest, `"`+field+`":`, `"x`+field+`":`, 1)
		if s == startingDigest {
			t.Fatalf("field %s not in fixture", field)
		}
		return s
	}
	tests := []struct {
		name, raw, want string
	}{
		{"bad JSON", `{"digestS3Bucket": `, "unexpected end of JSON input"},
		{"not an object", `["digestS3Bucket"]`, "cannot unmarshal array"},
		{"JSON null", `null`, "not a JSON object"},
		{"trailing data", startingDigest + `{}`, "invalid character"},
		{"missing digestPublicKeyFingerprint", without("digestPublicKeyFingerprint"), "missing field digestPublicKeyFingerprint"},
		{"missing digestS3Bucket", without("digestS3Bucket"), "missing field digestS3Bucket"},
		{"missing digestS3Object", without("digestS3Object"), "missing field digestS3Object"},
		{"missing previousDigestSignature", without("previousDigestSignature"), "missing field previousDigestSignature"},
		{"missing digestEndTime", without("digestEndTime"), "missing field digestEndTime"},
		{"missing digestStartTime", without("digestStartTime"), "missing field digestStartTime"},
		{"keys are case-sensitive", strings.Replace(startingDigest, `"digestS3Bucket"`, `"DigestS3Bucket"`, 1), "missing field digestS3Bucket"},
		{"null bucket", strings.Replace(startingDigest, `"digestS3Bucket":"b"`, `"digestS3Bucket":null`, 1), "field digestS3Bucket is null"},
		{"number bucket", strings.Replace(startingDigest, `"digestS3Bucket":"b"`, `"digestS3Bucket":5`, 1), "field digestS3Bucket: json: cannot unmarshal number"},
		{"logFiles not a list", strings.Replace(startingDigest, `"logFiles":[]`, `"logFiles":{}`, 1), "field logFiles"},
		{"bad end time", strings.Replace(startingDigest, `"2024-03-09T14:03:12Z"`, `"yesterday"`, 1), `digestEndTime: "yesterday" is not an RFC 3339 time`},
		{"bad start time", strings.Replace(startingDigest, `"2024-03-09T13:03:12Z"`, `"2024-03-09"`, 1), "field digestStartTime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse([]byte(tt.raw))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", f)
			}
			if !errors.Is(err, ErrInvalidFormat) {
				t.Errorf("error %v does not wrap ErrInvalidFormat", err)
			}
			if !strings.HasPrefix(err.Error(), "parse digest: invalid format: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestMarshalRoundTrip(t *testing.T) {
	for _, raw := range []string{awsSample, startingDigest} {
		f, err := Parse([]byte(raw))
		if err != nil {
			t.Fatal(err)
		}
		b, err := Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		g, err := Parse(b)
		if err != nil || !reflect.DeepEqual(f, g) {
			t.Errorf("round trip: %+v, %v; want %+v", g, err, f)
		}
	}
	b, err := Marshal(&File{})
	if err != nil || !strings.Contains(string(b), `"logFiles":[]`) || !strings.Contains(string(b), `"previousDigestSignature":null`) {
		t.Errorf("Marshal(empty) = %s, %v", b, err)
	}
}
