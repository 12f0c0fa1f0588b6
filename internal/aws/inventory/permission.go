package inventory

import "sort"

// actions maps the API operations Read calls to the IAM action that
// allows each, where the two names differ.
var actions = map[string]string{
	"s3:HeadBucket":                      "s3:ListBucket",
	"s3:GetBucketEncryption":             "s3:GetEncryptionConfiguration",
	"s3:GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
	"s3:GetObjectLockConfiguration":      "s3:GetBucketObjectLockConfiguration",
	"s3:GetPublicAccessBlock":            "s3:GetBucketPublicAccessBlock",
	"s3control:GetPublicAccessBlock":     "s3:GetAccountPublicAccessBlock",
}

// operations are every call Read makes, as service:Operation.
var operations = []string{
	"sts:GetCallerIdentity", "sts:AssumeRole",
	"organizations:DescribeOrganization", "organizations:ListAccounts", "organizations:ListParents",
	"organizations:ListPoliciesForTarget", "organizations:DescribePolicy", "organizations:ListAWSServiceAccessForOrganization",
	"account:ListRegions",
	"cloudtrail:DescribeTrails", "cloudtrail:GetTrail", "cloudtrail:GetTrailStatus", "cloudtrail:GetEventSelectors", "cloudtrail:GetInsightSelectors",
	"s3:HeadBucket", "s3:GetBucketLocation", "s3:GetBucketPolicy", "s3:GetBucketEncryption", "s3:GetBucketLogging",
	"s3:GetBucketLifecycleConfiguration", "s3:GetBucketOwnershipControls", "s3:GetBucketVersioning", "s3:GetObjectLockConfiguration",
	"s3:GetPublicAccessBlock", "s3:GetBucketRequestPayment", "s3:GetBucketAcl", "s3control:GetPublicAccessBlock",
	"kms:GetKeyPolicy", "kms:DescribeKey", "kms:GetKeyRotationStatus",
	"iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies", "iam:GetPolicy", "iam:GetPolicyVersion",
}

// Permission is the IAM action that allows service's operation.
func Permission(service, operation string) string {
	op := service + ":" + operation
	if a, ok := actions[op]; ok {
		return a
	}
	return op
}

// Permissions are the read-only IAM actions a snapshot needs, sorted
// (sts:GetCallerIdentity needs none but is listed for completeness).
func Permissions() []string {
	set := map[string]bool{}
	for _, op := range operations {
		set[op] = true
		if a, ok := actions[op]; ok {
			delete(set, op)
			set[a] = true
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

// Denied reports whether an error code means a missing permission.
func Denied(code string) bool {
	switch code {
	case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedException", "AuthorizationError":
		return true
	}
	return false
}
