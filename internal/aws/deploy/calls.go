package deploy

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// roleDescription marks the roles trailwarden creates.
const roleDescription = "CloudTrail log reader managed by trailwarden"

func role(ctx context.Context, c *iam.Client, a plan.Action) error {
	var err error
	switch a.Op {
	case plan.OpCreateRole:
		_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(a.Role), AssumeRolePolicyDocument: aws.String(a.Document),
			Description: aws.String(roleDescription)})
	case plan.OpUpdateAssumeRolePolicy:
		_, err = c.UpdateAssumeRolePolicy(ctx, &iam.UpdateAssumeRolePolicyInput{RoleName: aws.String(a.Role), PolicyDocument: aws.String(a.Document)})
	case plan.OpPutRolePolicy:
		_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String(a.Role), PolicyName: aws.String(a.PolicyName),
			PolicyDocument: aws.String(a.Document)})
	case plan.OpDeleteRolePolicy:
		_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String(a.Role), PolicyName: aws.String(a.PolicyName)})
	case plan.OpDeleteRole:
		_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String(a.Role)})
	}
	return err
}

func trail(ctx context.Context, c *cloudtrail.Client, a plan.Action) error {
	name := aws.String(a.Trail)
	var err error
	switch a.Op {
	case plan.OpCreateTrail:
		s := a.Settings
		if s == nil {
			return fmt.Errorf("CreateTrail %s: no settings", a.Trail)
		}
		in := &cloudtrail.CreateTrailInput{Name: name, S3BucketName: aws.String(s.S3BucketName),
			IncludeGlobalServiceEvents: aws.Bool(s.IncludeGlobalServiceEvents), IsMultiRegionTrail: aws.Bool(s.IsMultiRegion),
			EnableLogFileValidation: aws.Bool(s.LogFileValidationEnabled), IsOrganizationTrail: aws.Bool(s.IsOrganization)}
		if s.S3KeyPrefix != "" {
			in.S3KeyPrefix = aws.String(s.S3KeyPrefix)
		}
		if s.KMSKeyID != "" {
			in.KmsKeyId = aws.String(s.KMSKeyID)
		}
		if w := s.CloudWatchLogs; w != nil && w.LogGroupARN != "" {
			in.CloudWatchLogsLogGroupArn, in.CloudWatchLogsRoleArn = aws.String(w.LogGroupARN), aws.String(w.RoleARN)
		}
		_, err = c.CreateTrail(ctx, in)
	case plan.OpUpdateTrail:
		s := a.Settings
		if s == nil {
			return fmt.Errorf("UpdateTrail %s: no settings", a.Trail)
		}
		// Prefix and key are always sent: an empty value removes them,
		// which is what restoring a trail that had none needs. CloudWatch
		// Logs is sent only when managed, and then the same way.
		in := &cloudtrail.UpdateTrailInput{Name: name, S3BucketName: aws.String(s.S3BucketName),
			S3KeyPrefix: aws.String(s.S3KeyPrefix), KmsKeyId: aws.String(s.KMSKeyID),
			IncludeGlobalServiceEvents: aws.Bool(s.IncludeGlobalServiceEvents), IsMultiRegionTrail: aws.Bool(s.IsMultiRegion),
			EnableLogFileValidation: aws.Bool(s.LogFileValidationEnabled), IsOrganizationTrail: aws.Bool(s.IsOrganization)}
		if w := s.CloudWatchLogs; w != nil {
			in.CloudWatchLogsLogGroupArn, in.CloudWatchLogsRoleArn = aws.String(w.LogGroupARN), aws.String(w.RoleARN)
		}
		_, err = c.UpdateTrail(ctx, in)
	case plan.OpPutEventSelectors:
		if a.Selectors == nil {
			return fmt.Errorf("PutEventSelectors %s: no selectors", a.Trail)
		}
		in := &cloudtrail.PutEventSelectorsInput{TrailName: name}
		if len(a.Selectors.Advanced) > 0 {
			in.AdvancedEventSelectors = advanced(a.Selectors.Advanced)
		} else {
			in.EventSelectors = basic(a.Selectors.Basic)
		}
		_, err = c.PutEventSelectors(ctx, in)
	case plan.OpStartLogging:
		_, err = c.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: name})
	case plan.OpStopLogging:
		_, err = c.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: name})
	case plan.OpDeleteTrail:
		_, err = c.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: name})
	default:
		return fmt.Errorf("deploy: unknown operation %q", a.Op)
	}
	return err
}

func basic(in []snapshot.EventSelector) []cttypes.EventSelector {
	out := make([]cttypes.EventSelector, 0, len(in))
	for _, s := range in {
		e := cttypes.EventSelector{ReadWriteType: cttypes.ReadWriteType(s.ReadWriteType), IncludeManagementEvents: aws.Bool(s.IncludeManagementEvents),
			ExcludeManagementEventSources: s.ExcludeManagementEventSources}
		for _, d := range s.DataResources {
			e.DataResources = append(e.DataResources, cttypes.DataResource{Type: aws.String(d.Type), Values: d.Values})
		}
		out = append(out, e)
	}
	return out
}

func advanced(in []snapshot.AdvancedEventSelector) []cttypes.AdvancedEventSelector {
	out := make([]cttypes.AdvancedEventSelector, 0, len(in))
	for _, s := range in {
		e := cttypes.AdvancedEventSelector{}
		if s.Name != "" {
			e.Name = aws.String(s.Name)
		}
		for _, f := range s.FieldSelectors {
			e.FieldSelectors = append(e.FieldSelectors, cttypes.AdvancedFieldSelector{Field: aws.String(f.Field), Equals: f.Equals,
				NotEquals: f.NotEquals, StartsWith: f.StartsWith, NotStartsWith: f.NotStartsWith, EndsWith: f.EndsWith, NotEndsWith: f.NotEndsWith})
		}
		out = append(out, e)
	}
	return out
}
