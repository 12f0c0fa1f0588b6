package awsfake_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

// TestCloudTrail_CloudWatchLogsRefusedAsAWSDoes: a log group or role of
// another account or region, or one without the other, is refused and
// changes nothing; a valid pair is kept, reported by GetTrail, delivered
// to while logging, and removed by empty values.
func TestCloudTrail_CloudWatchLogsRefusedAsAWSDoes(t *testing.T) {
	s := start(t)
	ctx := context.Background()
	s.SetBucketPolicy("acme-logs", "")
	c := cloudtrail.NewFromConfig(assumed(s, "eu-west-1", "333333333333"))
	if _, err := c.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("t"), S3BucketName: aws.String("acme-logs")}); err != nil {
		t.Fatal(err)
	}
	group, role := "arn:aws:logs:eu-west-1:333333333333:log-group:ct:*", "arn:aws:iam::333333333333:role/cw"
	for _, tt := range []struct{ name, group, role, code string }{
		{"group without role", group, "", "InvalidCloudWatchLogsRoleArnException"},
		{"role without group", "", role, "InvalidCloudWatchLogsLogGroupArnException"},
		{"group of another account", "arn:aws:logs:eu-west-1:555555555555:log-group:ct:*", role, "InvalidCloudWatchLogsLogGroupArnException"},
		{"group in another region", "arn:aws:logs:us-east-1:333333333333:log-group:ct:*", role, "InvalidCloudWatchLogsLogGroupArnException"},
		{"role of another account", group, "arn:aws:iam::555555555555:role/cw", "InvalidCloudWatchLogsRoleArnException"},
	} {
		in := &cloudtrail.UpdateTrailInput{Name: aws.String("t")}
		if tt.group != "" {
			in.CloudWatchLogsLogGroupArn = aws.String(tt.group)
		}
		if tt.role != "" {
			in.CloudWatchLogsRoleArn = aws.String(tt.role)
		}
		if _, err := c.UpdateTrail(ctx, in); code(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	if got, _ := s.Trail("333333333333", "t"); got.CloudWatchLogsLogGroupARN != "" || got.CloudWatchLogsRoleARN != "" {
		t.Fatalf("a refused update changed the trail: %+v", got)
	}
	if _, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("t"), CloudWatchLogsLogGroupArn: aws.String(group), CloudWatchLogsRoleArn: aws.String(role)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("t")}); err != nil {
		t.Fatal(err)
	}
	got, err := c.GetTrail(ctx, &cloudtrail.GetTrailInput{Name: aws.String("t")})
	if err != nil || aws.ToString(got.Trail.CloudWatchLogsLogGroupArn) != group || aws.ToString(got.Trail.CloudWatchLogsRoleArn) != role {
		t.Fatalf("GetTrail %+v %v", got, err)
	}
	st, err := c.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("t")})
	if err != nil || st.LatestCloudWatchLogsDeliveryTime == nil {
		t.Fatalf("a logging trail with a log group reports no delivery: %+v %v", st, err)
	}
	if _, err := c.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{Name: aws.String("t"), CloudWatchLogsLogGroupArn: aws.String(""), CloudWatchLogsRoleArn: aws.String("")}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Trail("333333333333", "t"); got.CloudWatchLogsLogGroupARN != "" {
		t.Errorf("empty values did not remove the integration: %+v", got)
	}
}

// TestCloudTrail_OrganizationTrailListedInMembers: a member account's
// DescribeTrails lists the management account's organization trail (as
// CloudTrail does), under its owner's ARN, and not a trail of one account
// only.
func TestCloudTrail_OrganizationTrailListedInMembers(t *testing.T) {
	w := awsfake.New()
	w.PutTrail("111111111111", awsfake.Trail{Name: "org", HomeRegion: "us-east-1", S3BucketName: "b", IsMultiRegion: true, IsOrganization: true})
	w.PutTrail("111111111111", awsfake.Trail{Name: "local", HomeRegion: "us-east-1", S3BucketName: "b", IsMultiRegion: true})
	s := awsfake.Start(t, w)
	c := cloudtrail.NewFromConfig(assumed(s, "eu-west-1", "333333333333"))
	out, err := c.DescribeTrails(context.Background(), &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.TrailList) != 1 || aws.ToString(out.TrailList[0].TrailARN) != "arn:aws:cloudtrail:us-east-1:111111111111:trail/org" || !aws.ToBool(out.TrailList[0].IsOrganizationTrail) {
		t.Errorf("member account lists %+v, want only the organization trail", out.TrailList)
	}
}
