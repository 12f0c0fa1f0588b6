package eval_test

import (
	"fmt"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
)

// orgBucketPolicy is an organization CloudTrail bucket policy: the three
// statements AWS documents for organization trails (aws-facts 1.3), a TLS
// deny, and reader statements in the style trailwarden generates.
const orgBucketPolicy = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Sid": "AWSCloudTrailAclCheck20150319", "Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
     "Action": "s3:GetBucketAcl", "Resource": "arn:aws:s3:::org-trail-logs",
     "Condition": {"StringEquals": {"aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"}}},
    {"Sid": "AWSCloudTrailWrite20150319", "Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::org-trail-logs/AWSLogs/111111111111/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                    "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"}}},
    {"Sid": "AWSCloudTrailOrganizationWrite20150319", "Effect": "Allow", "Principal": {"Service": ["cloudtrail.amazonaws.com"]},
     "Action": "s3:PutObject", "Resource": "arn:aws:s3:::org-trail-logs/AWSLogs/o-abc123def4/*",
     "Condition": {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control",
                                    "aws:SourceArn": "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"}}},
    {"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::org-trail-logs", "arn:aws:s3:::org-trail-logs/*"],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
    {"Sid": "ReadersListViaAthena", "Effect": "Allow", "Principal": "*",
     "Action": ["s3:ListBucket", "s3:GetBucketLocation"], "Resource": "arn:aws:s3:::org-trail-logs",
     "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"},
                   "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/ams-access-ro", "arn:aws:iam::*:role/LogReader*"]},
                   "ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}},
    {"Sid": "ReadersGetViaAthena", "Effect": "Allow", "Principal": "*",
     "Action": "s3:GetObject", "Resource": "arn:aws:s3:::org-trail-logs/AWSLogs/o-abc123def4/*",
     "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123def4"},
                   "ArnLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/ams-access-ro", "arn:aws:iam::*:role/LogReader*"]},
                   "ForAnyValue:StringEquals": {"aws:CalledVia": "athena.amazonaws.com"}}}
  ]
}`

const readerIdentityPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],
  "Resource":["arn:aws:s3:::org-trail-logs","arn:aws:s3:::org-trail-logs/*"]}]}`

func orgBucketPolicies(t testing.TB) eval.Policies {
	t.Helper()
	return eval.Policies{
		Identity: []eval.Named{{Name: "reader", Doc: mustParse(t, readerIdentityPolicy)}},
		Resource: &eval.Named{Name: "org-trail-logs", Doc: mustParse(t, orgBucketPolicy)},
	}
}

// orgBucketRequests is a mix of 64 requests: CloudTrail deliveries (good and
// bad), ACL checks, readers in and out of the organization, with and
// without Athena, over TLS and not, and anonymous callers.
func orgBucketRequests() []eval.Request {
	const bucket = "arn:aws:s3:::org-trail-logs"
	ct := eval.Principal{Kind: eval.KindService, Service: "cloudtrail.amazonaws.com"}
	trail := "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"
	var out []eval.Request
	for i := 0; len(out) < 64; i++ {
		member := fmt.Sprintf("2222222222%02d", i%100)
		key := fmt.Sprintf("%s/AWSLogs/o-abc123def4/%s/CloudTrail/us-east-1/2024/06/%02d/x.json.gz", bucket, member, i%28+1)
		tls := []string{"true"}
		if i%7 == 6 {
			tls = []string{"false"}
		}
		switch i % 8 {
		case 0:
			out = append(out, eval.Request{Principal: ct, Action: "s3:PutObject", Resource: key, ResourceAccount: "111111111111",
				Context: map[string][]string{"aws:SourceArn": {trail}, "s3:x-amz-acl": {"bucket-owner-full-control"}, "aws:SecureTransport": tls}})
		case 1:
			out = append(out, eval.Request{Principal: ct, Action: "s3:PutObject", Resource: key, ResourceAccount: "111111111111",
				Context: map[string][]string{"aws:SourceArn": {"arn:aws:cloudtrail:us-east-1:" + member + ":trail/rogue"}, "s3:x-amz-acl": {"private"}}})
		case 2:
			out = append(out, eval.Request{Principal: ct, Action: "s3:GetBucketAcl", Resource: bucket, ResourceAccount: "111111111111",
				Context: map[string][]string{"aws:SourceArn": {trail}}})
		case 3, 4:
			p, _ := eval.ParsePrincipal("arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice")
			p.OrgID = "o-abc123def4"
			out = append(out, eval.Request{Principal: p, Action: "s3:GetObject", Resource: key, ResourceAccount: "111111111111",
				Context: map[string][]string{"aws:CalledVia": {"athena.amazonaws.com"}, "aws:SecureTransport": tls}})
		case 5:
			p, _ := eval.ParsePrincipal("arn:aws:sts::555555555555:assumed-role/LogReader-x/bob")
			p.OrgID = "o-zzzzzzzzzz"
			out = append(out, eval.Request{Principal: p, Action: "s3:ListBucket", Resource: bucket, ResourceAccount: "111111111111",
				Context: map[string][]string{"aws:CalledVia": {"athena.amazonaws.com"}}})
		case 6:
			p, _ := eval.ParsePrincipal("arn:aws:sts::444444444444:assumed-role/LogReader/direct")
			p.OrgID = "o-abc123def4"
			out = append(out, eval.Request{Principal: p, Action: "s3:GetObject", Resource: key, ResourceAccount: "111111111111"})
		default:
			out = append(out, eval.Request{Principal: eval.Principal{Kind: eval.KindAnonymous}, Action: "s3:GetObject", Resource: key, ResourceAccount: "111111111111"})
		}
	}
	return out
}

func BenchmarkEvaluateOrgBucketPolicy(b *testing.B) {
	ev, err := eval.Compile(orgBucketPolicies(b))
	if err != nil {
		b.Fatal(err)
	}
	reqs := orgBucketRequests()
	counts := map[eval.Decision]int{}
	for _, r := range reqs {
		counts[ev.Evaluate(r).Decision]++
	}
	if counts[eval.Allowed] == 0 || counts[eval.ImplicitlyDenied] == 0 || counts[eval.ExplicitlyDenied] == 0 {
		b.Fatalf("request mix does not cover every decision: %v", counts)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ev.Evaluate(reqs[i%len(reqs)])
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "evals/s")
}
