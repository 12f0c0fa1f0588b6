package inventory_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
	"github.com/trailwarden/trailwarden/internal/textdiff"
)

var update = flag.Bool("update", false, "rewrite testdata/org.golden.json")

func loadConfig(t *testing.T) *config.Config {
	t.Helper()
	f, err := os.Open("testdata/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, "testdata/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// world starts the recorded organization; setup may inject faults.
func world(t *testing.T) *awsfake.Server {
	t.Helper()
	awsfake.Isolate(t)
	w := awsfake.New()
	if err := w.Load("testdata/org.world"); err != nil {
		t.Fatal(err)
	}
	return awsfake.Start(t, w)
}

func read(t *testing.T, s *awsfake.Server, cfg *config.Config, jobs int) *snapshot.Snapshot {
	t.Helper()
	snap, err := inventory.Read(context.Background(), cfg, inventory.Options{Endpoint: s.URL, Jobs: jobs, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if snap.TakenAt.IsZero() {
		t.Fatal("TakenAt not set")
	}
	snap.TakenAt = time.Time{}
	return snap
}

func encode(t *testing.T, s *snapshot.Snapshot) string {
	t.Helper()
	var b bytes.Buffer
	if err := snapshot.Encode(&b, s); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func golden(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	s, err := snapshot.ReadFile("testdata/org.golden.json")
	if err != nil {
		t.Fatalf("%v (run go test ./internal/aws/inventory -update)", err)
	}
	return s
}

func TestRead_WholeSnapshotMatchesGolden(t *testing.T) {
	s := world(t)
	got := read(t, s, loadConfig(t), 4)
	if *update {
		if err := snapshot.WriteFile("testdata/org.golden.json", got); err != nil {
			t.Fatal(err)
		}
	}
	if g, w := encode(t, got), encode(t, golden(t)); g != w {
		t.Fatalf("snapshot differs from testdata/org.golden.json (go test -update rewrites it):\n%s", textdiff.Unified("want", "got", w, g, 3))
	}
	// The caller is the management account: no role is assumed there, and
	// once per other account however many calls it takes.
	assumed := map[string]int{}
	for _, c := range s.CallsTo("sts", "AssumeRole") {
		assumed[c.Resource]++
	}
	want := map[string]int{}
	for _, a := range []string{"222222222222", "333333333333", "444444444444"} {
		want["arn:aws:iam::"+a+":role/OrganizationAccountAccessRole"] = 1
	}
	if !reflect.DeepEqual(assumed, want) {
		t.Fatalf("AssumeRole calls %v, want %v", assumed, want)
	}
	// The help lists the permissions a snapshot needs: every call made must be there.
	listed := map[string]bool{}
	for _, p := range inventory.Permissions() {
		listed[p] = true
	}
	for _, c := range s.Calls() {
		if p := inventory.Permission(c.Service, c.Operation); !listed[p] {
			t.Errorf("call %s:%s needs %s, which Permissions does not list", c.Service, c.Operation, p)
		}
	}
}

func TestRead_SameWorldSameSnapshot(t *testing.T) {
	s := world(t)
	cfg := loadConfig(t)
	a, b := encode(t, read(t, s, cfg, 1)), encode(t, read(t, s, cfg, 16))
	if a != b {
		t.Fatal("two reads of the same world differ")
	}
}

func TestRead_Pagination(t *testing.T) {
	s := world(t)
	snap := read(t, s, loadConfig(t), 4)
	pages := func(svc, op, res string) []string {
		var out []string
		for _, c := range s.CallsTo(svc, op) {
			if c.Resource == res {
				out = append(out, c.Page)
			}
		}
		return out
	}
	if got := pages("organizations", "ListAccounts", ""); !reflect.DeepEqual(got, []string{"", "accounts-page-2"}) {
		t.Errorf("ListAccounts pages %q", got)
	}
	if got := pages("iam", "ListRolePolicies", "trailwarden-log-reader"); !reflect.DeepEqual(got, []string{"", "inline-page-2"}) {
		t.Errorf("ListRolePolicies pages %q", got)
	}
	if n := len(snap.Organization.Accounts); n != 5 {
		t.Errorf("%d organization accounts, want the 5 of both pages", n)
	}
	var inline []string
	for _, p := range snap.Readers[0].Inline {
		inline = append(inline, p.Name)
	}
	if !reflect.DeepEqual(inline, []string{"decrypt-logs", "read-logs"}) {
		t.Errorf("inline policies %v, want both pages", inline)
	}
}

func TestRead_ThrottlingIsRetried(t *testing.T) {
	s := world(t)
	s.Throttle("cloudtrail", "DescribeTrails", 5)
	s.Throttle("s3", "GetBucketPolicy", 3)
	s.Throttle("organizations", "ListAccounts", 2)
	s.Throttle("iam", "GetRole", 2)
	s.Throttle("kms", "GetKeyPolicy", 2)
	s.Throttle("account", "ListRegions", 2)
	got := read(t, s, loadConfig(t), 4)
	if g, w := encode(t, got), encode(t, golden(t)); g != w {
		t.Fatalf("throttled read differs from the golden snapshot:\n%s", textdiff.Unified("want", "got", w, g, 3))
	}
	if n := len(s.CallsTo("s3", "GetBucketPolicy")); n != 4 {
		t.Fatalf("%d GetBucketPolicy calls, want 3 throttled + 1", n)
	}
}

func TestRead_AccessDeniedIsRecordedAndTheRestIsRead(t *testing.T) {
	s := world(t)
	s.Deny("s3", "GetBucketPolicy", "")
	s.Deny("kms", "GetKeyPolicy", "")
	s.Deny("iam", "ListRolePolicies", "")
	s.Deny("cloudtrail", "GetTrailStatus", "111111111111")
	s.Deny("account", "ListRegions", "444444444444")
	got := read(t, s, loadConfig(t), 4)

	var errs []string
	for _, e := range got.Errors {
		errs = append(errs, strings.Join([]string{e.Account, e.Region, e.Service, e.Operation, e.Code}, " "))
	}
	want := []string{
		"111111111111 us-east-1 cloudtrail GetTrailStatus AccessDeniedException",
		"222222222222  iam ListRolePolicies AccessDenied",
		"222222222222 us-east-1 kms GetKeyPolicy AccessDeniedException",
		"222222222222 us-east-1 s3 GetBucketPolicy AccessDenied",
		"444444444444  account ListRegions AccessDeniedException",
	}
	if !reflect.DeepEqual(errs, want) {
		t.Fatalf("errors\n%s\nwant\n%s", strings.Join(errs, "\n"), strings.Join(want, "\n"))
	}
	// Everything else is what a full read gives.
	g := golden(t)
	g.Bucket.Policy, g.Keys[0].Policy, g.Readers[0].Inline = "", "", nil
	g.Accounts[3].Regions = []string{"us-east-1"} // the home region when regions cannot be listed
	g.Accounts[3].Trails = g.Accounts[3].Trails[:1]
	for i := range g.Accounts {
		for j := range g.Accounts[i].Trails {
			if g.Accounts[i].Trails[j].IsOrganization {
				g.Accounts[i].Trails[j].Status = nil
			}
		}
	}
	got.Errors = nil
	if a, b := encode(t, got), encode(t, g); a != b {
		t.Fatalf("denied read, apart from the denied fields, differs from the golden snapshot:\n%s", textdiff.Unified("want", "got", b, a, 3))
	}
}

func TestRead_MissingBucketAndAssumeRoleDenied(t *testing.T) {
	s := world(t)
	s.Inject(awsfake.Fault{Service: "sts", Operation: "AssumeRole", Resource: "arn:aws:iam::444444444444:role/OrganizationAccountAccessRole", Code: "AccessDenied"})
	cfg := loadConfig(t)
	cfg.Bucket = "no-such-bucket"
	got := read(t, s, cfg, 4)
	if got.Bucket == nil || got.Bucket.Exists || got.Bucket.Name != "no-such-bucket" || got.Bucket.Policy != "" {
		t.Fatalf("missing bucket read as %+v", got.Bucket)
	}
	if len(got.Errors) != 1 || got.Errors[0].Service != "sts" || got.Errors[0].Account != "444444444444" || got.Errors[0].Code != "AccessDenied" {
		t.Fatalf("errors %+v, want the one denied AssumeRole", got.Errors)
	}
	for _, c := range s.Calls() {
		if c.Account == "444444444444" {
			t.Fatalf("call made in an account whose role could not be assumed: %+v", c)
		}
		if c.Service == "s3" && c.Operation != "HeadBucket" {
			t.Fatalf("S3 call %s after HeadBucket said the bucket is missing", c.Operation)
		}
	}
	if a := got.Accounts[3]; a.ID != "444444444444" || len(a.Trails) != 0 {
		t.Fatalf("unreachable account read as %+v", a)
	}
}

// worldWithBucketKey is the recorded organization whose bucket encrypts by
// default with another key than the trail's: the onboarding guide's own
// two-key scenario. kmsKeyID is the default-encryption KMSMasterKeyID
// ("" for aws:kms with AWS's managed key).
func worldWithBucketKey(t *testing.T, kmsKeyID string) *awsfake.Server {
	t.Helper()
	awsfake.Isolate(t)
	w := awsfake.New()
	if err := w.Load("testdata/org.world"); err != nil {
		t.Fatal(err)
	}
	rule := "<SSEAlgorithm>aws:kms</SSEAlgorithm>"
	if kmsKeyID != "" {
		rule += "<KMSMasterKeyID>" + kmsKeyID + "</KMSMasterKeyID>"
	}
	w.Record(awsfake.Key{Account: "222222222222", Region: "us-east-1", Service: "s3", Operation: "GetBucketEncryption", Resource: "acme-org-cloudtrail"},
		awsfake.OK(`<?xml version="1.0" encoding="UTF-8"?>
<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ApplyServerSideEncryptionByDefault>`+rule+`</ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`))
	rec := func(op, res, body string) {
		w.Record(awsfake.Key{Account: "222222222222", Region: "us-east-1", Service: "kms", Operation: op, Resource: res}, awsfake.OK(body))
	}
	const second = "arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555"
	rec("DescribeKey", "alias/logs-default", `{"KeyMetadata":{"AWSAccountId":"222222222222","KeyId":"99999999-2222-3333-4444-555555555555","Arn":"`+second+`","KeyState":"Enabled","KeyManager":"CUSTOMER","KeySpec":"SYMMETRIC_DEFAULT","MultiRegion":false}}`)
	rec("GetKeyPolicy", "99999999-2222-3333-4444-555555555555", `{"Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Enable IAM User Permissions\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::222222222222:root\"},\"Action\":\"kms:*\",\"Resource\":\"*\"}]}","PolicyName":"default"}`)
	rec("GetKeyRotationStatus", "99999999-2222-3333-4444-555555555555", `{"KeyRotationEnabled":false}`)
	const managed = "arn:aws:kms:us-east-1:222222222222:key/aaaaaaaa-0000-0000-0000-000000000000"
	rec("DescribeKey", "alias/aws/s3", `{"KeyMetadata":{"AWSAccountId":"222222222222","KeyId":"aaaaaaaa-0000-0000-0000-000000000000","Arn":"`+managed+`","KeyState":"Enabled","KeyManager":"AWS","KeySpec":"SYMMETRIC_DEFAULT","MultiRegion":false}}`)
	rec("GetKeyPolicy", "aaaaaaaa-0000-0000-0000-000000000000", `{"Policy":"{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"Allow access through S3\",\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"*\"},\"Action\":[\"kms:Decrypt\",\"kms:GenerateDataKey*\"],\"Resource\":\"*\",\"Condition\":{\"StringEquals\":{\"kms:CallerAccount\":\"222222222222\",\"kms:ViaService\":\"s3.us-east-1.amazonaws.com\"}}}]}","PolicyName":"default"}`)
	rec("GetKeyRotationStatus", "aaaaaaaa-0000-0000-0000-000000000000", `{"KeyRotationEnabled":true}`)
	return awsfake.Start(t, w)
}

// TestRead_EveryKeyThatEncryptsLogs: the trail's key and the bucket's
// default-encryption key (named by an alias, or AWS's managed key when
// aws:kms names none) are both read with policy, state and rotation, each
// resolved to its ARN and findable by the name the bucket uses.
func TestRead_EveryKeyThatEncryptsLogs(t *testing.T) {
	for _, tt := range []struct {
		name, bucketKey, ref, arn, manager string
		rotation                           bool
	}{
		{"customer key by alias", "alias/logs-default", "alias/logs-default", "arn:aws:kms:us-east-1:222222222222:key/99999999-2222-3333-4444-555555555555", "CUSTOMER", false},
		{"AWS managed key", "", "alias/aws/s3", "arn:aws:kms:us-east-1:222222222222:key/aaaaaaaa-0000-0000-0000-000000000000", "AWS", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := worldWithBucketKey(t, tt.bucketKey)
			got := read(t, s, loadConfig(t), 4)
			if len(got.Errors) != 0 {
				t.Fatalf("errors: %+v", got.Errors)
			}
			if len(got.Keys) != 2 {
				t.Fatalf("%d keys, want the trail's and the bucket's: %+v", len(got.Keys), got.Keys)
			}
			trailKey := got.KeyFor("arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab")
			bucketKey := got.KeyFor(tt.ref)
			if trailKey == nil || bucketKey == nil || trailKey == bucketKey {
				t.Fatalf("keys %+v: trail key %v, bucket key %v", got.Keys, trailKey, bucketKey)
			}
			if bucketKey.ARN != tt.arn || bucketKey.Policy == "" || bucketKey.State != "Enabled" || bucketKey.KeyManager != tt.manager ||
				bucketKey.RotationEnabled != tt.rotation || !reflect.DeepEqual(bucketKey.Refs, []string{tt.ref}) {
				t.Fatalf("bucket key read as %+v", *bucketKey)
			}
			if trailKey.Policy == "" || !trailKey.RotationEnabled || trailKey.Refs != nil {
				t.Fatalf("trail key read as %+v", *trailKey)
			}
		})
	}
}

// TestRead_KeyAliasNotResolved: when DescribeKey is denied on an alias, the
// key is kept under its alias ARN without a policy, and the error says so;
// GetKeyPolicy is never sent an alias.
func TestRead_KeyAliasNotResolved(t *testing.T) {
	s := worldWithBucketKey(t, "alias/logs-default")
	s.Inject(awsfake.Fault{Service: "kms", Operation: "DescribeKey", Resource: "alias/logs-default", Code: "AccessDeniedException"})
	got := read(t, s, loadConfig(t), 4)
	k := got.KeyFor("alias/logs-default")
	if k == nil || k.ARN != "arn:aws:kms:us-east-1:222222222222:alias/logs-default" || k.Policy != "" || k.State != "" {
		t.Fatalf("unresolved alias read as %+v (keys %+v)", k, got.Keys)
	}
	if len(got.Errors) != 1 || got.Errors[0].Operation != "DescribeKey" || got.Errors[0].Resource != "alias/logs-default" {
		t.Fatalf("errors %+v, want the denied DescribeKey", got.Errors)
	}
	for _, c := range s.CallsTo("kms", "GetKeyPolicy") {
		if strings.Contains(c.Resource, "alias/") {
			t.Fatalf("GetKeyPolicy sent an alias: %+v", c)
		}
	}
}

// Organization reads the accounts only (both pages, every status), and a
// failed ListAccounts is an error, never a shorter list.
func TestOrganization_ListsEveryAccountOrFails(t *testing.T) {
	s := world(t)
	org, err := inventory.Organization(context.Background(), loadConfig(t), inventory.Options{Endpoint: s.URL, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range org.Accounts {
		got = append(got, a.ID+":"+a.Status)
	}
	want := "111111111111:ACTIVE 222222222222:ACTIVE 333333333333:ACTIVE 444444444444:ACTIVE 555555555555:SUSPENDED"
	if org.ID != "o-a1b2c3d4e5" || strings.Join(got, " ") != want {
		t.Fatalf("organization %s accounts %v, want %s", org.ID, got, want)
	}
	ops := map[string]bool{}
	for _, c := range s.Calls() {
		ops[c.Service+":"+c.Operation] = true
	}
	for op := range ops {
		switch op {
		case "sts:GetCallerIdentity", "organizations:DescribeOrganization", "organizations:ListAccounts":
		default:
			t.Errorf("Organization called %s", op)
		}
	}

	s.Deny("organizations", "ListAccounts", "")
	if org, err := inventory.Organization(context.Background(), loadConfig(t), inventory.Options{Endpoint: s.URL, MaxBackoff: time.Millisecond}); err == nil ||
		!strings.Contains(err.Error(), "organizations:ListAccounts in 111111111111: AccessDenied") {
		t.Fatalf("denied ListAccounts: org %v err %v", org, err)
	}
}

func TestRegions_EachAccountOrAnError(t *testing.T) {
	s := world(t)
	cfg := loadConfig(t)
	got, err := inventory.Regions(context.Background(), cfg, []string{"333333333333", "444444444444"}, inventory.Options{Endpoint: s.URL, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string][]string{"333333333333": {"eu-west-1", "us-east-1"}, "444444444444": {"eu-west-1", "us-east-1"}}) {
		t.Fatalf("regions %v", got)
	}
	s.Deny("account", "ListRegions", "444444444444")
	if got, err := inventory.Regions(context.Background(), cfg, []string{"333333333333", "444444444444"}, inventory.Options{Endpoint: s.URL, MaxBackoff: time.Millisecond}); err == nil ||
		!strings.Contains(err.Error(), "444444444444") {
		t.Fatalf("denied ListRegions in one account: %v %v", got, err)
	}
}
