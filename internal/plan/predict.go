package plan

import (
	"fmt"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// MaxTrailsPerRegion is CloudTrail's quota of trails per account and
// region; it is not adjustable.
const MaxTrailsPerRegion = 5

const cloudTrailService = "cloudtrail.amazonaws.com"

// predictTrail returns the errors CreateTrail (create) or UpdateTrail would
// return, decided from the snapshot and the desired policies.
func predictTrail(c *config.Config, s *snapshot.Snapshot, owner string, create bool, want desired) []Prediction {
	var out []Prediction
	add := func(code, msg, fix string) { out = append(out, Prediction{Code: code, Message: msg, Fix: fix}) }
	if c.Trail.Organization {
		out = append(out, predictOrganization(c, s)...)
	}
	if create && countTrails(s, owner, c.HomeRegion) >= MaxTrailsPerRegion {
		add("MaximumNumberOfTrailsExceededException",
			fmt.Sprintf("account %s already has %d trails in %s, CloudTrail's fixed limit", owner, MaxTrailsPerRegion, c.HomeRegion),
			"delete an unused trail in that region, or point an existing trail at the central bucket")
	}
	b := s.Bucket
	switch {
	case b == nil || b.Name != c.Bucket:
		// The bucket step already says the live state is unknown.
	case !b.Exists:
		add("S3BucketDoesNotExistException", "bucket "+c.Bucket+" does not exist",
			"create the bucket in account "+c.LogArchiveAccount+", then plan again")
	default:
		if miss := bucketDenies(c, owner, want.bucket, want.evals); miss != "" {
			add("InsufficientS3BucketPolicyException", "the desired bucket policy does not let CloudTrail "+miss,
				"keep trailwarden's CloudTrail statements in the bucket policy and remove foreign Deny statements that match CloudTrail's delivery (see `trailwarden policy bucket --diff`)")
		}
	}
	if c.KMSKeyARN != "" {
		out = append(out, predictKey(c, s, owner, want)...)
	}
	return out
}

func predictOrganization(c *config.Config, s *snapshot.Snapshot) []Prediction {
	o := s.Organization
	switch {
	case o == nil:
		for _, e := range s.Errors {
			if e.Service == "organizations" {
				return []Prediction{unknown("organization", s, "organizations")}
			}
		}
		return []Prediction{{Code: "OrganizationsNotInUseException", Message: "the snapshot found no AWS Organization",
			Fix: "create the trail per account (trail.organization: false), or run from an organization's management account"}}
	case o.ManagementAccount != c.ManagementAccount:
		return []Prediction{{Code: "NotOrganizationMasterAccountException",
			Message: fmt.Sprintf("account %s is not the management account of %s (%s is)", c.ManagementAccount, o.ID, o.ManagementAccount),
			Fix:     "set management_account to " + o.ManagementAccount}}
	case o.FeatureSet != "" && o.FeatureSet != "ALL":
		return []Prediction{{Code: "OrganizationNotInAllFeaturesModeException", Message: "organization " + o.ID + " has only consolidated billing",
			Fix: "enable all features in AWS Organizations"}}
	case !o.CloudTrailTrustedAccess:
		return []Prediction{{Code: "CloudTrailAccessNotEnabledException", Message: "trusted access for CloudTrail is not enabled in organization " + o.ID,
			Fix: "aws organizations enable-aws-service-access --service-principal cloudtrail.amazonaws.com (in the management account)"}}
	}
	return nil
}

func predictKey(c *config.Config, s *snapshot.Snapshot, owner string, want desired) []Prediction {
	k := s.KeyFor(c.KMSKeyARN)
	if k == nil {
		return nil // the key step already says the live state is unknown
	}
	switch {
	case k.State == "PendingDeletion":
		return []Prediction{{Code: "KmsKeyNotFoundException", Message: "key " + k.ARN + " is pending deletion",
			Fix: "aws kms cancel-key-deletion --key-id " + k.ARN + ", then enable it"}}
	case k.State != "" && k.State != "Enabled":
		return []Prediction{{Code: "KmsKeyDisabledException", Message: "key " + k.ARN + " is " + k.State,
			Fix: "aws kms enable-key --key-id " + k.ARN}}
	case s.Bucket != nil && s.Bucket.Region != "" && k.Region != s.Bucket.Region:
		return []Prediction{{Code: "KmsKeyNotFoundException",
			Message: fmt.Sprintf("key %s is in %s but the bucket is in %s; CloudTrail needs both in one region", k.ARN, k.Region, s.Bucket.Region),
			Fix:     "use a key in " + s.Bucket.Region + " (kms_key_arn)"}}
	}
	if miss := keyDenies(c, owner, want.key, want.evals); miss != "" {
		return []Prediction{{Code: "InsufficientEncryptionPolicyException", Message: "the desired key policy does not let CloudTrail " + miss,
			Fix: "keep trailwarden's CloudTrail statements in the key policy and remove foreign Deny statements that match them (see `trailwarden policy key --diff`)"}}
	}
	return nil
}

func countTrails(s *snapshot.Snapshot, owner, region string) int {
	n := 0
	for _, a := range s.Accounts {
		if a.ID != owner {
			continue
		}
		for _, t := range a.Trails {
			if t.HomeRegion == region && arnPart(t.ARN, 4) == owner {
				n++
			}
		}
	}
	return n
}

// trailContext is what CloudTrail sends with its checks for a trail.
func trailContext(c *config.Config, owner string) map[string][]string {
	ctx := map[string][]string{"aws:SourceArn": {c.TrailARN(owner)}, "aws:SourceAccount": {owner}}
	if c.OrganizationID != "" {
		ctx["aws:SourceOrgID"] = []string{c.OrganizationID}
	}
	return ctx
}

// logObject is an object key CloudTrail writes for account's logs.
func logObject(c *config.Config, account string) string {
	root := c.LogRoot() + "AWSLogs/"
	if c.Trail.Organization {
		root += c.OrganizationID + "/"
	}
	return fmt.Sprintf("%s:s3:::%s/%s%s/CloudTrail/%s/2026/01/01/%s_CloudTrail_%s_20260101T0000Z_0000000000000000.json.gz",
		"arn:"+c.Partition(), c.Bucket, root, account, c.HomeRegion, account, c.HomeRegion)
}

func with(ctx map[string][]string, k string, v ...string) map[string][]string {
	out := make(map[string][]string, len(ctx)+1)
	for key, val := range ctx {
		out[key] = val
	}
	out[k] = v
	return out
}

// bucketDenies returns what CloudTrail's create-time check cannot do under
// the bucket policy doc, or "".
func bucketDenies(c *config.Config, owner string, doc *policy.Document, evals *access.Cache) string {
	ev, err := evals.Target(access.Bucket, doc, false)
	if err != nil {
		return "be checked: the policy does not compile: " + err.Error()
	}
	ctx := trailContext(c, owner)
	svc := eval.Principal{Kind: eval.KindService, Service: cloudTrailService}
	reqs := []eval.Request{{Principal: svc, Action: "s3:GetBucketAcl", Resource: c.BucketARN(), Context: ctx}}
	accounts := []string{owner}
	if c.Trail.Organization {
		member := owner
		if len(c.SourceAccounts) > 0 {
			member = c.SourceAccounts[0]
		}
		accounts = append(accounts, member)
	}
	for i, a := range accounts {
		obj := logObject(c, a)
		if i == 0 && c.Trail.Organization {
			// The management account's own path, without the org id.
			obj = fmt.Sprintf("arn:%s:s3:::%s/%sAWSLogs/%s/", c.Partition(), c.Bucket, c.LogRoot(), a)
		}
		reqs = append(reqs, eval.Request{Principal: svc, Action: "s3:PutObject", Resource: obj,
			Context: with(ctx, "s3:x-amz-acl", "bucket-owner-full-control")})
	}
	for _, r := range reqs {
		r.ResourceAccount = c.LogArchiveAccount
		if res := ev.Evaluate(r); res.Decision != eval.Allowed {
			return fmt.Sprintf("%s on %s for trail %s (%s)", r.Action, r.Resource, c.TrailARN(owner), res.Decision)
		}
	}
	return ""
}

// keyDenies returns what CloudTrail cannot do with the key under doc, or "".
func keyDenies(c *config.Config, owner string, doc *policy.Document, evals *access.Cache) string {
	ev, err := evals.Target(access.Key, doc, false)
	if err != nil {
		return "be checked: the policy does not compile: " + err.Error()
	}
	ctx := trailContext(c, owner)
	svc := eval.Principal{Kind: eval.KindService, Service: cloudTrailService}
	for _, r := range []eval.Request{
		{Principal: svc, Action: "kms:GenerateDataKey", Resource: c.KMSKeyARN,
			Context: with(ctx, "kms:EncryptionContext:aws:cloudtrail:arn", c.TrailARN(owner))},
		{Principal: svc, Action: "kms:DescribeKey", Resource: c.KMSKeyARN, Context: ctx},
	} {
		r.ResourceAccount = arnPart(c.KMSKeyARN, 4)
		if res := ev.Evaluate(r); res.Decision != eval.Allowed {
			return fmt.Sprintf("%s on %s for trail %s (%s)", r.Action, c.KMSKeyARN, c.TrailARN(owner), res.Decision)
		}
	}
	return ""
}
