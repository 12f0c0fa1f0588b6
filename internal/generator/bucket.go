package generator

import (
	"fmt"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Sids of the bucket policy statements.
const (
	SidACLCheck      = SidPrefix + "CloudTrailAclCheck"
	SidWrite         = SidPrefix + "CloudTrailWrite"
	SidOrgWrite      = SidPrefix + "CloudTrailOrgWrite"
	SidDenyInsecure  = SidPrefix + "DenyInsecureTransport"
	SidReaderLocate  = SidPrefix + "ReaderBucketLocation"
	SidReaderList    = SidPrefix + "ReaderListLogs"
	SidReaderGet     = SidPrefix + "ReaderGetLogs"
	SidPatternLocate = SidPrefix + "ReaderPatternBucketLocation"
	SidPatternList   = SidPrefix + "ReaderPatternListLogs"
	SidPatternGet    = SidPrefix + "ReaderPatternGetLogs"
)

// bucketStatements builds every statement trailwarden owns in the bucket
// policy for one delivery scope (never ScopeAuto).
func bucketStatements(c *config.Config, scope string) []policy.Statement {
	out := deliveryStatements(c, scope)
	out = append(out, denyInsecureTransport(c))
	if c.Profile == config.ProfileAccelerate {
		return append(out, accelerateBucketStatements(c)...)
	}
	return append(out, readerBucketStatements(c)...)
}

// sourceCondition is the confused-deputy guard of delivery statements:
// the trail ARNs, or the organization id under organization scoping.
func sourceCondition(c *config.Config, scope string, owners ...string) policy.Condition {
	if scope == config.ScopeOrganization {
		return cond("StringEquals", "aws:SourceOrgID", c.OrganizationID)
	}
	arns := make([]string, len(owners))
	for i, a := range owners {
		arns[i] = c.TrailARN(a)
	}
	return cond("StringEquals", "aws:SourceArn", arns...)
}

func deliveryStatements(c *config.Config, scope string) []policy.Statement {
	bucket := c.BucketARN()
	logs := bucket + "/" + c.LogRoot() + "AWSLogs/"
	acl := cond("StringEquals", "s3:x-amz-acl", ownerFullControl)
	owners := c.TrailOwners()
	out := []policy.Statement{
		allow(SidACLCheck, service(cloudTrailService), list("s3:GetBucketAcl"), list(bucket), sourceCondition(c, scope, owners...)),
	}
	if c.Trail.Organization {
		// AWS documents both paths: the management account's own path keeps
		// delivery working if the trail is changed to a single-account trail.
		src := sourceCondition(c, scope, c.ManagementAccount)
		out = append(out, allow(SidWrite, service(cloudTrailService), list("s3:PutObject"),
			list(logs+c.ManagementAccount+"/*"), acl, src))
		orgPaths := list(logs + c.OrganizationID + "/*")
		if len(c.SourceAccounts) > 0 && scope != config.ScopeOrganization {
			orgPaths = make([]string, len(c.SourceAccounts))
			for i, a := range c.SourceAccounts {
				orgPaths[i] = logs + c.OrganizationID + "/" + a + "/*"
			}
		}
		return append(out, allow(SidOrgWrite, service(cloudTrailService), list("s3:PutObject"), orgPaths, acl, src))
	}
	switch scope {
	case config.ScopePerAccount:
		// One statement per account pairs each trail with its own prefix:
		// account A's trail cannot write under account B's prefix.
		for _, a := range owners {
			out = append(out, allow(SidWrite+a, service(cloudTrailService), list("s3:PutObject"),
				list(logs+a+"/*"), acl, sourceCondition(c, scope, a)))
		}
	case config.ScopeAccountList:
		paths := make([]string, len(owners))
		for i, a := range owners {
			paths[i] = logs + a + "/*"
		}
		out = append(out, allow(SidWrite, service(cloudTrailService), list("s3:PutObject"), paths, acl, sourceCondition(c, scope, owners...)))
	case config.ScopeOrganization:
		out = append(out, allow(SidWrite, service(cloudTrailService), list("s3:PutObject"), list(logs+"*"), acl, sourceCondition(c, scope)))
	default:
		panic(fmt.Sprintf("generator: unresolved delivery scope %q", scope))
	}
	return out
}

// denyInsecureTransport refuses plain-HTTP access. The value is the string
// "false": auditors such as Prowler compare it as a string.
func denyInsecureTransport(c *config.Config) policy.Statement {
	bucket := c.BucketARN()
	return policy.Statement{
		Sid: SidDenyInsecure, Effect: policy.Deny, Principal: &policy.Principal{Wildcard: true},
		Action: list("s3:*"), Resource: list(bucket, bucket+"/*"),
		Condition: []policy.Condition{cond("Bool", "aws:SecureTransport", "false")},
	}
}

// readerBucketStatements let the configured readers locate the bucket, list
// the log prefix and get log objects, and nothing else.
func readerBucketStatements(c *config.Config) []policy.Statement {
	bucket := c.BucketARN()
	logs := bucket + "/" + c.LogRoot() + "AWSLogs/*"
	prefix := cond("StringLike", "s3:prefix", c.LogRoot()+"AWSLogs/*")
	base := readerConds(c)
	var out []policy.Statement
	if len(c.Readers.Roles) > 0 {
		p := awsPrincipals(c.Readers.Roles...)
		out = append(out,
			allow(SidReaderLocate, p, list("s3:GetBucketLocation"), list(bucket), base...),
			allow(SidReaderList, p, list("s3:ListBucket"), list(bucket), withConds(base, prefix)...),
			allow(SidReaderGet, p, list("s3:GetObject"), list(logs), base...))
	}
	if c.Readers.RolePattern != "" {
		p := awsPrincipals("*")
		scoped := withConds(base, patternConds(c)...)
		out = append(out,
			allow(SidPatternLocate, p, list("s3:GetBucketLocation"), list(bucket), scoped...),
			allow(SidPatternList, p, list("s3:ListBucket"), list(bucket), withConds(scoped, prefix)...),
			allow(SidPatternGet, p, list("s3:GetObject"), list(logs), scoped...))
	}
	return out
}

// accelerateBucketStatements are the three bucket statements of the AMS Accelerate onboarding guide,
// with the configured pattern (and any exact roles) in aws:PrincipalArn.
func accelerateBucketStatements(c *config.Config) []policy.Statement {
	bucket := c.BucketARN()
	scoped := patternConds(c, c.Readers.Roles...)
	viaAthena := cond("ForAnyValue:StringEquals", "aws:CalledVia", athenaService)
	p := awsPrincipals("*")
	return []policy.Statement{
		allow(SidAMSConfigAudit, p, list("s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetLifecycleConfiguration", "s3:GetEncryptionConfiguration"),
			list(bucket), scoped...),
		allow(SidAMSListBucket, p, list("s3:ListBucket"), list(bucket),
			withConds(scoped, viaAthena, cond("StringLike", "s3:prefix", c.LogRoot()+"AWSLogs/*"))...),
		allow(SidAMSGetObject, p, list("s3:GetObject"), list(bucket+"/"+c.LogRoot()+"AWSLogs/*"), withConds(scoped, viaAthena)...),
	}
}
