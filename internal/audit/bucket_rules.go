package audit

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// bucketFinding is a finding on the central bucket.
func (e *env) bucketFinding(st Status, msg, fix string, ev ...string) []Finding {
	return []Finding{{Status: st, Account: e.c.LogArchiveAccount, Resource: e.c.BucketARN(), Message: msg, Evidence: ev, Remediation: fix}}
}

// checkEncryption: default encryption is SSE-S3 or SSE-KMS.
func checkEncryption(e *env, _ *Rule) []Finding {
	b, fs := e.bucket("GetBucketEncryption")
	if fs != nil {
		return fs
	}
	var ev []string
	ok := false
	for i, r := range b.Encryption {
		ev = append(ev, fmt.Sprintf("encryption[%d]: SSEAlgorithm = %s, KMSMasterKeyID = %s, BucketKeyEnabled = %t", i, r.SSEAlgorithm, orNone(r.KMSMasterKeyID), r.BucketKeyEnabled))
		switch r.SSEAlgorithm {
		case "AES256", "aws:kms", "aws:kms:dsse":
			ok = true
		}
	}
	if ok {
		return e.bucketFinding(Pass, "default encryption is "+b.Encryption[0].SSEAlgorithm, "", ev...)
	}
	algo := `{"SSEAlgorithm":"AES256"}`
	if e.c.KMSKeyARN != "" {
		algo = fmt.Sprintf(`{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"%s"},"BucketKeyEnabled":true`, e.c.KMSKeyARN)
	}
	fix := fmt.Sprintf(`aws s3api put-bucket-encryption --bucket %s --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":%s}]}'`, e.c.Bucket, algo)
	return e.bucketFinding(Fail, "the bucket has no SSE-S3 or SSE-KMS default encryption", fix, append(ev, fmt.Sprintf("%d encryption rules", len(b.Encryption)))...)
}

// checkAccessLogging: server access logging is on.
func checkAccessLogging(e *env, _ *Rule) []Finding {
	b, fs := e.bucket("GetBucketLogging")
	if fs != nil {
		return fs
	}
	if l := b.Logging; l != nil && l.TargetBucket != "" {
		return e.bucketFinding(Pass, "server access logs go to "+l.TargetBucket, "",
			fmt.Sprintf("logging.targetBucket = %s, targetPrefix = %q", l.TargetBucket, l.TargetPrefix))
	}
	fix := fmt.Sprintf(`aws s3api put-bucket-logging --bucket %s --bucket-logging-status '{"LoggingEnabled":{"TargetBucket":"%s-access-logs","TargetPrefix":"%s/"}}'
(the target bucket %s-access-logs must exist in %s and its policy must allow logging.s3.amazonaws.com to s3:PutObject)`,
		e.c.Bucket, e.c.Bucket, e.c.Bucket, e.c.Bucket, e.c.EffectiveBucketRegion())
	return e.bucketFinding(Fail, "server access logging is disabled", fix, "logging = (none)")
}

// checkOwnership: Object Ownership is BucketOwnerEnforced (ACLs disabled).
func checkOwnership(e *env, _ *Rule) []Finding {
	b, fs := e.bucket("GetBucketOwnershipControls")
	if fs != nil {
		return fs
	}
	ev := "objectOwnership = " + orNone(b.ObjectOwnership)
	if b.ObjectOwnership == "BucketOwnerEnforced" {
		return e.bucketFinding(Pass, "ACLs are disabled: the bucket owner owns every object", "", ev)
	}
	fix := fmt.Sprintf(`aws s3api put-bucket-ownership-controls --bucket %s --ownership-controls '{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}'`, e.c.Bucket)
	return e.bucketFinding(Fail, "Object Ownership is not BucketOwnerEnforced", fix, ev)
}

// checkRequesterPays: CloudTrail cannot deliver to a Requester Pays bucket.
func checkRequesterPays(e *env, _ *Rule) []Finding {
	b, fs := e.bucket("GetBucketRequestPayment")
	if fs != nil {
		return fs
	}
	ev := fmt.Sprintf("requesterPays = %t", b.RequesterPays)
	if !b.RequesterPays {
		return e.bucketFinding(Pass, "the bucket owner pays for requests", "", ev)
	}
	return e.bucketFinding(Fail, "the bucket is Requester Pays: CloudTrail cannot deliver to it",
		fmt.Sprintf("aws s3api put-bucket-request-payment --bucket %s --request-payment-configuration Payer=BucketOwner", e.c.Bucket), ev)
}

// deliveryActions are the calls CloudTrail makes on the bucket.
var deliveryActions = []string{"s3:PutObject", "s3:GetBucketAcl"}

// checkLegacyPrincipals: no statement grants CloudTrail's delivery calls to
// an account principal (the old per-Region CloudTrail accounts, such as
// 903692715234) instead of the service principal.
func checkLegacyPrincipals(e *env, _ *Rule) []Finding {
	doc, fs := e.bucketPolicy()
	if fs != nil {
		return fs
	}
	if doc == nil {
		return e.bucketFinding(Pass, "the bucket has no policy", "", "policy = (none)")
	}
	var bad []string
	for i, st := range doc.Statements {
		if st.Effect != policy.Allow || st.Principal == nil || !grantsAny(st, deliveryActions) {
			continue
		}
		for _, p := range st.Principal.AWS {
			acct := accountOf(p)
			if acct != "" && acct != e.c.LogArchiveAccount {
				bad = append(bad, fmt.Sprintf("statement %s grants %v to account principal %s", stmtName(i, st), st.Action, p))
			}
		}
	}
	if len(bad) == 0 {
		return e.bucketFinding(Pass, "CloudTrail's delivery calls are granted to the service principal only", "",
			fmt.Sprintf("%d statements, none grants s3:PutObject or s3:GetBucketAcl to another account's principal", len(doc.Statements)))
	}
	return e.bucketFinding(Fail, "the bucket policy grants CloudTrail's delivery calls to account principals (legacy per-Region CloudTrail accounts deliver only in their Region)",
		"replace those statements' Principal with {\"Service\":\"cloudtrail.amazonaws.com\"}; the statements to use:\n"+e.generatedBucketStatements(false), bad...)
}

// accountOf returns the account of an account-root principal (an id or an
// arn:...:root ARN), "" for anything else.
func accountOf(p string) string {
	if len(p) == 12 && strings.Trim(p, "0123456789") == "" {
		return p
	}
	if strings.HasPrefix(p, "arn:") && strings.HasSuffix(p, ":root") {
		return keyAccount(p)
	}
	return ""
}

// grantsAny reports whether a statement's Action covers one of actions.
func grantsAny(st policy.Statement, actions []string) bool {
	if st.NotAction != nil {
		return true // conservatively: NotAction grants nearly everything
	}
	for _, a := range actions {
		for _, pat := range st.Action {
			if globMatch(strings.ToLower(pat), strings.ToLower(a)) {
				return true
			}
		}
	}
	return false
}

// globMatch matches IAM's * and ? wildcards.
func globMatch(pat, s string) bool {
	for len(pat) > 0 {
		switch pat[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if globMatch(pat[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pat[0] {
				return false
			}
		}
		pat, s = pat[1:], s[1:]
	}
	return s == ""
}

func stmtName(i int, st policy.Statement) string {
	if st.Sid != "" {
		return fmt.Sprintf("%d (%s)", i, st.Sid)
	}
	return fmt.Sprint(i)
}

// publicAccessBlockOn reports whether a block has all four settings on.
func publicAccessBlockOn(p *snapshot.PublicAccessBlock) bool {
	return p != nil && p.BlockPublicACLs && p.IgnorePublicACLs && p.BlockPublicPolicy && p.RestrictPublicBuckets
}

func describePAB(name string, p *snapshot.PublicAccessBlock) string {
	if p == nil {
		return name + " = (none)"
	}
	return fmt.Sprintf("%s: BlockPublicAcls=%t IgnorePublicAcls=%t BlockPublicPolicy=%t RestrictPublicBuckets=%t",
		name, p.BlockPublicACLs, p.IgnorePublicACLs, p.BlockPublicPolicy, p.RestrictPublicBuckets)
}

// checkMFADelete: the central bucket has versioning with MFA delete, so
// deleting a log object's versions or suspending versioning needs the
// bucket owner's root user and an MFA code.
func checkMFADelete(e *env, _ *Rule) []Finding {
	b, fs := e.bucket("GetBucketVersioning")
	if fs != nil {
		return fs
	}
	ev := []string{"versioning = " + orNone(b.Versioning), "mfaDelete = " + orNone(b.MFADelete)}
	if b.Versioning == "Enabled" && b.MFADelete == "Enabled" {
		return e.bucketFinding(Pass, "MFA delete is on: deleting log object versions needs the root user's MFA code", "", ev...)
	}
	fix := fmt.Sprintf(`as the root user of account %s, with its MFA device: aws s3api put-bucket-versioning --bucket %s --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa "arn:%s:iam::%s:mfa/root-account-mfa-device <code>"`,
		e.c.LogArchiveAccount, e.c.Bucket, e.partition(), e.c.LogArchiveAccount)
	if len(b.Lifecycle) > 0 {
		fix += fmt.Sprintf("\nMFA delete cannot be combined with lifecycle rules, and the bucket has %d: removing them keeps every log object forever (Object Lock in compliance mode is the alternative that keeps a lifecycle)", len(b.Lifecycle))
	}
	return e.bucketFinding(Fail, "MFA delete is off: anyone allowed s3:DeleteObjectVersion can erase log objects for good", fix, ev...)
}
