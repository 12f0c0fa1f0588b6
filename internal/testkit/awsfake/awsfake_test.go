package awsfake_test

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

func start(t *testing.T) *awsfake.Server {
	t.Helper()
	w := awsfake.New()
	if err := w.Load("testdata/world.txt"); err != nil {
		t.Fatal(err)
	}
	return awsfake.Start(t, w)
}

// assumed is a configuration whose credentials come from AssumeRole into
// account, as the adapters get them.
func assumed(s *awsfake.Server, region, account string) aws.Config {
	cfg := s.Config(region)
	cfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(s.Config("us-east-1")),
		"arn:aws:iam::"+account+":role/OrganizationAccountAccessRole"))
	return cfg
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestSTS_AssumedCredentialsRouteToTheRoleAccount(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	base, err := sts.NewFromConfig(s.Config("us-east-1")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(base.Account); got != awsfake.DefaultCaller {
		t.Fatalf("base account %s, want %s", got, awsfake.DefaultCaller)
	}
	other, err := sts.NewFromConfig(assumed(s, "us-east-1", "222222222222")).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(other.Account); got != "222222222222" || !strings.Contains(aws.ToString(other.Arn), "assumed-role/OrganizationAccountAccessRole/") {
		t.Fatalf("assumed identity %s %s", got, aws.ToString(other.Arn))
	}
	want := []string{"sts:GetCallerIdentity 111111111111", "sts:AssumeRole 111111111111 arn:aws:iam::222222222222:role/OrganizationAccountAccessRole",
		"sts:GetCallerIdentity 222222222222"}
	if got := s.Operations(); !reflect.DeepEqual(got, want) {
		t.Fatalf("calls %q, want %q", got, want)
	}
}

func TestIAM_StatefulRoleAndRecordedError(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	c := iam.NewFromConfig(assumed(s, "us-east-1", "222222222222"))
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444444444444:role/a b+c"},"Action":"sts:AssumeRole"}]}`
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("reader"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("read"), PolicyDocument: aws.String(`{"x":1}`)}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := url.PathUnescape(aws.ToString(got.Role.AssumeRolePolicyDocument))
	if err != nil || doc != trust {
		t.Fatalf("trust policy %q (%v), want %q URL-encoded", aws.ToString(got.Role.AssumeRolePolicyDocument), err, trust)
	}
	if arn := aws.ToString(got.Role.Arn); arn != "arn:aws:iam::222222222222:role/reader" {
		t.Fatalf("role ARN %s", arn)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("reader")}); code(err) != "DeleteConflict" {
		t.Fatalf("DeleteRole with an inline policy: %v, want DeleteConflict", err)
	}
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("reader"), PolicyName: aws.String("read")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("reader")}); code(err) != "NoSuchEntity" {
		t.Fatalf("GetRole after DeleteRole: %v, want NoSuchEntity", err)
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("gone")}); code(err) != "NoSuchEntity" {
		t.Fatalf("recorded GetRole error: %v", err)
	}
	put := s.CallsTo("iam", "PutRolePolicy")
	if len(put) != 1 || put[0].Params["PolicyDocument"] != `{"x":1}` || put[0].Account != "222222222222" {
		t.Fatalf("PutRolePolicy recorded as %+v", put)
	}
	s.Deny("iam", "ListRolePolicies", "")
	s.Throttle("iam", "ListAttachedRolePolicies", 2)
	if _, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("x")}); code(err) != "AccessDenied" {
		t.Fatalf("denied ListRolePolicies: %v", err)
	}
	_, err = c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("x")})
	if code(err) != "NoSuchEntity" || len(s.CallsTo("iam", "ListAttachedRolePolicies")) != 3 {
		t.Fatalf("throttled twice then NoSuchEntity: %v after %d calls", err, len(s.CallsTo("iam", "ListAttachedRolePolicies")))
	}
}

func TestS3_RecordedDefaultsStateAndThrottling(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	c := s3.NewFromConfig(assumed(s, "us-east-1", "222222222222"), func(o *s3.Options) { o.UsePathStyle = true })
	enc, err := c.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String("acme-logs")})
	if err != nil {
		t.Fatal(err)
	}
	rule := enc.ServerSideEncryptionConfiguration.Rules[0]
	if string(rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm) != "aws:kms" || !aws.ToBool(rule.BucketKeyEnabled) {
		t.Fatalf("encryption %+v", rule)
	}
	if _, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("acme-logs")}); code(err) != "NoSuchBucketPolicy" {
		t.Fatalf("GetBucketPolicy without a policy: %v", err)
	}
	if _, err := c.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String("acme-logs")}); code(err) != "OwnershipControlsNotFoundError" {
		t.Fatalf("GetBucketOwnershipControls unset: %v", err)
	}
	if _, err := c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("nope")}); code(err) != "NotFound" {
		t.Fatalf("HeadBucket of a missing bucket: %v", err)
	}
	if _, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String("nope")}); code(err) != "NoSuchBucket" {
		t.Fatalf("missing bucket: %v", err)
	}
	policy := `{"Version":"2012-10-17","Statement":[]}`
	s.Throttle("s3", "PutBucketPolicy", 2)
	if _, err := c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("acme-logs"), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("PutBucketPolicy after two SlowDowns: %v", err)
	}
	if n := len(s.CallsTo("s3", "PutBucketPolicy")); n != 3 {
		t.Fatalf("%d PutBucketPolicy requests, want 3 (two throttled)", n)
	}
	got, err := c.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String("acme-logs")})
	if err != nil || aws.ToString(got.Policy) != policy {
		t.Fatalf("policy after put: %q %v", aws.ToString(got.Policy), err)
	}
	if p, ok := s.BucketPolicy("acme-logs"); !ok || p != policy {
		t.Fatalf("state policy %q", p)
	}
}

func TestCloudTrail_WritesChangeReads(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	s.SetBucketPolicy("acme-logs", "")
	c := cloudtrail.NewFromConfig(assumed(s, "eu-west-1", "333333333333"))
	if _, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("t"), S3BucketName: aws.String("nope")}); code(err) != "S3BucketDoesNotExistException" {
		t.Fatalf("CreateTrail to a missing bucket: %v", err)
	}
	out, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("t"), S3BucketName: aws.String("acme-logs"),
		IsMultiRegionTrail: aws.Bool(true), EnableLogFileValidation: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	arn := "arn:aws:cloudtrail:eu-west-1:333333333333:trail/t"
	if aws.ToString(out.TrailARN) != arn || !aws.ToBool(out.LogFileValidationEnabled) {
		t.Fatalf("CreateTrail output %+v", out)
	}
	if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("t"),
		AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{Name: aws.String("mgmt"), FieldSelectors: []cttypes.AdvancedFieldSelector{{Field: aws.String("eventCategory"), Equals: []string{"Management"}}}}}}); err != nil {
		t.Fatal(err)
	}
	other := cloudtrail.NewFromConfig(assumed(s, "us-east-1", "333333333333"))
	list, err := other.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if err != nil || len(list.TrailList) != 1 || aws.ToString(list.TrailList[0].HomeRegion) != "eu-west-1" || !aws.ToBool(list.TrailList[0].HasCustomEventSelectors) {
		t.Fatalf("DescribeTrails in another region: %+v %v", list, err)
	}
	st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)})
	if err != nil || !aws.ToBool(st.IsLogging) {
		t.Fatalf("GetTrailStatus %+v %v", st, err)
	}
	sel, err := c.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)})
	if err != nil || len(sel.AdvancedEventSelectors) != 1 || sel.AdvancedEventSelectors[0].FieldSelectors[0].Equals[0] != "Management" {
		t.Fatalf("GetEventSelectors %+v %v", sel, err)
	}
	if _, err := c.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(arn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String(arn)})
	var nf *cttypes.TrailNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("GetTrail after DeleteTrail: %v, want TrailNotFoundException", err)
	}
}

func TestKMS_PolicyStateAndThrottling(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	c := kms.NewFromConfig(assumed(s, "us-east-1", "222222222222"))
	s.Throttle("kms", "PutKeyPolicy", 2)
	arn := "arn:aws:kms:us-east-1:222222222222:key/k1"
	if _, err := c.PutKeyPolicy(ctx, &kms.PutKeyPolicyInput{KeyId: aws.String(arn), Policy: aws.String(`{"k":1}`), PolicyName: aws.String("default")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String("k1"), PolicyName: aws.String("default")})
	if err != nil || aws.ToString(got.Policy) != `{"k":1}` {
		t.Fatalf("GetKeyPolicy %v %v", got, err)
	}
	if p, ok := s.KeyPolicy("222222222222", "us-east-1", "k1"); !ok || p != `{"k":1}` {
		t.Fatalf("state key policy %q", p)
	}
	if _, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String("other")}); code(err) != "NotFoundException" {
		t.Fatalf("DescribeKey of an unknown key: %v", err)
	}
}

func TestOrganizations_PagingAndDenied(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	c := organizations.NewFromConfig(s.Config("us-east-1"))
	var ids []string
	p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range page.Accounts {
			ids = append(ids, aws.ToString(a.Id))
		}
	}
	if want := []string{"111111111111", "333333333333"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("accounts %v, want %v", ids, want)
	}
	if calls := s.CallsTo("organizations", "ListAccounts"); len(calls) != 2 || calls[1].Page != "page-2" {
		t.Fatalf("ListAccounts calls %+v", calls)
	}
	s.Deny("organizations", "DescribeOrganization", "")
	if _, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{}); code(err) != "AccessDeniedException" {
		t.Fatalf("denied DescribeOrganization: %v", err)
	}
	a := account.NewFromConfig(s.Config("us-east-1"))
	regions, err := a.ListRegions(ctx, &account.ListRegionsInput{})
	if err != nil || len(regions.Regions) != 2 {
		t.Fatalf("ListRegions %+v %v", regions, err)
	}
	s.Deny("account", "ListRegions", "")
	if _, err := a.ListRegions(ctx, &account.ListRegionsInput{}); code(err) != "AccessDeniedException" {
		t.Fatalf("denied ListRegions: %v", err)
	}
}

func TestParse_Errors(t *testing.T) {
	for _, in := range []string{"-- a b --\nx", "-- 1 - s3 Op b --\nHTTP/1.1 abc\n\nx", "-- 1 - s3 Op b --\nHTTP/1.1 200\nnocolon\n\nx"} {
		if err := awsfake.New().Parse("w.txt", in); err == nil || !strings.Contains(err.Error(), "w.txt:") {
			t.Errorf("Parse(%q) = %v, want an error naming the line", in, err)
		}
	}
}
