package oracle_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/testkit/oracle"
)

// These tests run the real Node oracle. They fail rather than skip when it is not
// installed: a silently skipped oracle would let differential tests pass vacuously.
func start(t *testing.T) *oracle.Oracle {
	t.Helper()
	dir, err := oracle.FindDir()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o, err := oracle.Start(ctx, dir)
	if err != nil {
		t.Fatal(err) // wraps oracle.ErrNotInstalled, naming `make setup`, when missing
	}
	t.Cleanup(func() {
		if err := o.Close(); err != nil {
			t.Error(err)
		}
	})
	return o
}

// The CloudTrail scenario of the IAM evaluation reference, section 7.10.
const (
	central = "111111111111"
	member  = "222222222222"
	reader  = "444444444444"
	orgID   = "o-abc123def4"
	bucket  = "arn:aws:s3:::central-cloudtrail-logs"
)

// StringLike, not ArnLike, for aws:SourceArn: ArnLike with a variable in the
// account segment hits defect 1 of iam-simulate 0.1.173.
const bucketPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"CloudTrailWriteOwnPrefix","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
  "Action":"s3:PutObject","Resource":"arn:aws:s3:::central-cloudtrail-logs/AWSLogs/${aws:SourceAccount}/*",
  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control","aws:SourceOrgID":"o-abc123def4"},
               "StringLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:${aws:SourceAccount}:trail/*"}}},
 {"Sid":"ReaderViaAthenaInOrg","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:role/LogReader"},
  "Action":["s3:GetObject","s3:ListBucket"],
  "Resource":["arn:aws:s3:::central-cloudtrail-logs","arn:aws:s3:::central-cloudtrail-logs/*"],
  "Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-abc123def4"},
               "ForAnyValue:StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}},
 {"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*",
  "Resource":["arn:aws:s3:::central-cloudtrail-logs","arn:aws:s3:::central-cloudtrail-logs/*"],
  "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

const readerIdentityPolicy = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
  "Action":["s3:GetObject","s3:ListBucket"],
  "Resource":["arn:aws:s3:::central-cloudtrail-logs","arn:aws:s3:::central-cloudtrail-logs/*"]}]}`

// cloudTrailPut is CloudTrail delivering a log file of account owner to prefix account.
func cloudTrailPut(id, owner, prefix string, ctx map[string][]string) oracle.Case {
	c := map[string][]string{
		"aws:SourceAccount":         {owner},
		"aws:SourceArn":             {"arn:aws:cloudtrail:us-east-1:" + owner + ":trail/org-trail"},
		"aws:SourceOrgID":           {orgID},
		"aws:PrincipalIsAWSService": {"true"},
		"aws:PrincipalServiceName":  {"cloudtrail.amazonaws.com"},
		"s3:x-amz-acl":              {"bucket-owner-full-control"},
		"aws:SecureTransport":       {"true"},
	}
	for k, v := range ctx {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return oracle.Case{
		ID: id, Principal: "cloudtrail.amazonaws.com", Action: "s3:PutObject",
		Resource:        bucket + "/AWSLogs/" + prefix + "/CloudTrail/us-east-1/2026/01/01/" + prefix + "_CloudTrail_us-east-1_x.json.gz",
		ResourceAccount: central, Context: c, ResourcePolicy: json.RawMessage(bucketPolicy),
	}
}

// readerGet is the LogReader role's session reading a log object.
func readerGet(id string, ctx map[string][]string) oracle.Case {
	c := map[string][]string{
		"aws:PrincipalArn":     {"arn:aws:iam::" + reader + ":role/LogReader"},
		"aws:PrincipalAccount": {reader},
		"aws:PrincipalOrgID":   {orgID},
		"aws:CalledVia":        {"athena.amazonaws.com"},
		"aws:SecureTransport":  {"true"},
	}
	for k, v := range ctx {
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
	}
	return oracle.Case{
		ID: id, Principal: "arn:aws:sts::" + reader + ":assumed-role/LogReader/athena-session",
		Action: "s3:GetObject", Resource: bucket + "/AWSLogs/" + member + "/CloudTrail/x.json.gz",
		ResourceAccount: central, Context: c,
		IdentityPolicies: []json.RawMessage{json.RawMessage(readerIdentityPolicy)},
		ResourcePolicy:   json.RawMessage(bucketPolicy),
	}
}

func TestCloudTrailScenario(t *testing.T) {
	o := start(t)
	anonymous := oracle.Case{
		ID: "anonymous GET", Principal: oracle.AnonymousPrincipal, Action: "s3:GetObject",
		Resource: bucket + "/AWSLogs/" + member + "/CloudTrail/x.json.gz", ResourceAccount: central,
		Context:        map[string][]string{"aws:SecureTransport": {"true"}},
		ResourcePolicy: json.RawMessage(bucketPolicy),
	}
	cases := []oracle.Case{
		cloudTrailPut("CloudTrail PUT to own prefix", member, member, nil),
		cloudTrailPut("PUT to another account's prefix", member, "333333333333", nil),
		cloudTrailPut("PUT without bucket-owner-full-control", member, member, map[string][]string{"s3:x-amz-acl": {"private"}}),
		cloudTrailPut("PUT over plain HTTP", member, member, map[string][]string{"aws:SecureTransport": {"false"}}),
		readerGet("reader GET via Athena in org", nil),
		readerGet("reader GET directly", map[string][]string{"aws:CalledVia": nil}),
		readerGet("reader GET via Athena, foreign org", map[string][]string{"aws:PrincipalOrgID": {"o-zzzzzzzzzz"}}),
		anonymous,
	}
	want := []string{"Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ExplicitlyDenied",
		"Allowed", "ImplicitlyDenied", "ImplicitlyDenied", "ImplicitlyDenied"}

	answers, err := o.Run(t.Context(), cases)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		if a.ID != cases[i].ID {
			t.Errorf("answer %d has ID %q, want %q", i, a.ID, cases[i].ID)
		}
		if a.Decision != want[i] || len(a.Errors) > 0 {
			t.Errorf("%s: %q (errors %q), want %s", a.ID, a.Decision, a.Errors, want[i])
		}
		// An ignored key would make its condition untested (defect 5).
		if len(a.IgnoredContextKeys) > 0 {
			t.Errorf("%s: ignored context keys %q", a.ID, a.IgnoredContextKeys)
		}
	}
}

// Defect 2 of 0.1.173: kms:EncryptionContext:<key> is dropped as an unknown key, so an
// Allow conditioned on it never matches. This pins the defect: if an upgrade fixes it,
// differential tests may start covering encryption-context conditions.
func TestDefectEncryptionContextIgnored(t *testing.T) {
	o := start(t)
	const key = "kms:EncryptionContext:aws:cloudtrail:arn"
	keyPolicy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
	  "Principal":{"AWS":"arn:aws:iam::111111111111:role/Auditor"},"Action":"kms:Decrypt","Resource":"*",
	  "Condition":{"StringLike":{"` + key + `":"arn:aws:cloudtrail:*:222222222222:trail/*"}}}]}`
	answers, err := o.Run(t.Context(), []oracle.Case{{
		ID: "decrypt", Principal: "arn:aws:iam::" + central + ":role/Auditor", Action: "kms:Decrypt",
		Resource:        "arn:aws:kms:us-east-1:" + central + ":key/1234abcd-12ab-34cd-56ef-1234567890ab",
		ResourceAccount: central,
		Context:         map[string][]string{key: {"arn:aws:cloudtrail:us-east-1:" + member + ":trail/org-trail"}},
		ResourcePolicy:  json.RawMessage(keyPolicy),
	}})
	if err != nil {
		t.Fatal(err)
	}
	a := answers[0]
	if !slices.Contains(a.IgnoredContextKeys, key) || a.Decision != "ImplicitlyDenied" {
		t.Errorf("got %+v, want %s ignored and ImplicitlyDenied", a, key)
	}
}

// A bad case gets an error answer and does not disturb the cases after it.
func TestRunReportsBadCases(t *testing.T) {
	o := start(t)
	good := readerGet("good", nil)
	badJSON := readerGet("bad JSON", nil)
	badJSON.ResourcePolicy = json.RawMessage(`{"Statement":`)
	badAction := readerGet("bad action", nil)
	badAction.Action = "s3:NoSuchAction"
	answers, err := o.Run(t.Context(), []oracle.Case{badJSON, badAction, good})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range answers[:2] {
		if a.ResultType != "error" || a.Decision != "" || len(a.Errors) == 0 {
			t.Errorf("%s: got %+v, want an error answer", a.ID, a)
		}
	}
	if answers[2].Decision != "Allowed" {
		t.Errorf("good case after bad ones: %+v", answers[2])
	}
}

// The throughput of one oracle process bounds how many cases a differential test
// can afford; 2,000 cases also overflow the pipes, exercising the streaming.
func TestThroughput(t *testing.T) {
	o := start(t)
	const n = 2000
	cases := make([]oracle.Case, 0, n)
	for i := range n {
		secure := []string{"true", "false"}[i%2]
		switch i % 4 {
		case 0, 1:
			prefix := []string{member, "333333333333", "555555555555"}[i%3]
			cases = append(cases, cloudTrailPut(fmt.Sprint(i), member, prefix,
				map[string][]string{"aws:SecureTransport": {secure}}))
		default:
			org := []string{orgID, "o-zzzzzzzzzz"}[(i/4)%2]
			cases = append(cases, readerGet(fmt.Sprint(i),
				map[string][]string{"aws:SecureTransport": {secure}, "aws:PrincipalOrgID": {org}}))
		}
	}
	began := time.Now()
	answers, err := o.Run(t.Context(), cases)
	elapsed := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range answers {
		// Every insecure request meets the explicit Deny, whoever makes it.
		if insecure := cases[i].Context["aws:SecureTransport"][0] == "false"; insecure != (a.Decision == "ExplicitlyDenied") {
			t.Fatalf("case %d: %+v", i, a)
		}
	}
	t.Logf("%d simulations in %v: %.0f simulations/second", n, elapsed.Round(time.Millisecond), n/elapsed.Seconds())
}
