package proof

import (
	"fmt"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
)

func bucketIntents(c *config.Config) ([]Intent, error) {
	var out []Intent
	bucket := c.BucketARN()
	for _, acct := range deliveringAccounts(c) {
		owner, trail := trailFor(c, acct)
		key := logKey(c, acct)
		ctx := cloudTrailContext(c, owner, trail)
		out = append(out,
			Intent{TargetBucket, fmt.Sprintf("CloudTrail checks the bucket ACL for trail %s", trail),
				eval.Request{Principal: service("cloudtrail.amazonaws.com"), Action: "s3:GetBucketAcl", Resource: bucket,
					ResourceAccount: c.LogArchiveAccount, Context: ctx}},
			Intent{TargetBucket, fmt.Sprintf("CloudTrail delivers account %s's logs to %s", acct, key),
				eval.Request{Principal: service("cloudtrail.amazonaws.com"), Action: "s3:PutObject", Resource: bucket + "/" + key,
					ResourceAccount: c.LogArchiveAccount, Context: with(ctx, "s3:x-amz-acl", "bucket-owner-full-control")}})
	}
	rs, err := readers(c)
	if err != nil {
		return nil, err
	}
	key := logKey(c, firstMember(c))
	for _, r := range rs {
		out = append(out,
			Intent{TargetBucket, fmt.Sprintf("reader %s gets %s", r.label, key),
				eval.Request{Principal: r.principal, Action: "s3:GetObject", Resource: c.BucketARN() + "/" + key,
					ResourceAccount: c.LogArchiveAccount, Context: readerContext(c, nil)}},
			Intent{TargetBucket, fmt.Sprintf("reader %s lists %sAWSLogs/", r.label, c.LogRoot()),
				eval.Request{Principal: r.principal, Action: "s3:ListBucket", Resource: c.BucketARN(),
					ResourceAccount: c.LogArchiveAccount, Context: readerContext(c, map[string][]string{"s3:prefix": {c.LogRoot() + "AWSLogs/"}})}})
	}
	return out, nil
}

func keyIntents(c *config.Config) ([]Intent, error) {
	if c.KMSKeyARN == "" {
		return nil, nil
	}
	key, err := awsid.KeyARN(c.KMSKeyARN)
	if err != nil {
		return nil, err
	}
	var out []Intent
	for _, acct := range deliveringAccounts(c) {
		owner, trail := trailFor(c, acct)
		ctx := with(cloudTrailContext(c, owner, trail), "kms:EncryptionContext:aws:cloudtrail:arn", trail)
		out = append(out, Intent{TargetKey, fmt.Sprintf("CloudTrail encrypts account %s's logs for trail %s", acct, trail),
			eval.Request{Principal: service("cloudtrail.amazonaws.com"), Action: "kms:GenerateDataKey", Resource: c.KMSKeyARN,
				ResourceAccount: key.Account, Context: ctx}})
	}
	rs, err := readers(c)
	if err != nil {
		return nil, err
	}
	if c.Profile != config.ProfileAccelerate {
		p, err := roleSession(c, c.ReaderRoleARN())
		if err != nil {
			return nil, err
		}
		rs = append(rs, reader{label: "reader role " + c.ReaderRoleARN(), principal: p})
	}
	_, trail := trailFor(c, firstMember(c))
	for _, r := range rs {
		out = append(out, Intent{TargetKey, fmt.Sprintf("reader %s decrypts a log file through S3", r.label),
			eval.Request{Principal: r.principal, Action: "kms:Decrypt", Resource: c.KMSKeyARN, ResourceAccount: key.Account,
				Context: readerContext(c, map[string][]string{
					"kms:EncryptionContext:aws:cloudtrail:arn": {trail},
					"kms:ViaService": {"s3." + c.EffectiveBucketRegion() + ".amazonaws.com"},
				})}})
	}
	return out, nil
}

func trustIntents(c *config.Config) ([]Intent, error) {
	rs, err := readers(c)
	if err != nil {
		return nil, err
	}
	var out []Intent
	for _, r := range rs {
		ctx := map[string][]string{}
		if c.Readers.ExternalID != "" {
			ctx["sts:ExternalId"] = []string{c.Readers.ExternalID}
		}
		out = append(out, Intent{TargetTrust, fmt.Sprintf("reader %s assumes %s", r.label, c.ReaderRoleARN()),
			eval.Request{Principal: r.principal, Action: "sts:AssumeRole", Resource: c.ReaderRoleARN(),
				ResourceAccount: c.LogArchiveAccount, Context: ctx}})
	}
	return out, nil
}

func accessIntents(c *config.Config) ([]Intent, error) {
	keyAccount := c.LogArchiveAccount
	if c.KMSKeyARN != "" {
		key, err := awsid.KeyARN(c.KMSKeyARN)
		if err != nil {
			return nil, err
		}
		keyAccount = key.Account
	}
	p, err := roleSession(c, c.ReaderRoleARN())
	if err != nil {
		return nil, err
	}
	key := logKey(c, firstMember(c))
	out := []Intent{
		{TargetAccess, "reader role gets " + key, eval.Request{Principal: p, Action: "s3:GetObject",
			Resource: c.BucketARN() + "/" + key, ResourceAccount: c.LogArchiveAccount, Context: readerContext(c, nil)}},
		{TargetAccess, "reader role lists " + c.LogRoot() + "AWSLogs/", eval.Request{Principal: p, Action: "s3:ListBucket",
			Resource: c.BucketARN(), ResourceAccount: c.LogArchiveAccount,
			Context: readerContext(c, map[string][]string{"s3:prefix": {c.LogRoot() + "AWSLogs/"}})}},
	}
	if c.KMSKeyARN != "" {
		out = append(out, Intent{TargetAccess, "reader role decrypts through S3", eval.Request{Principal: p, Action: "kms:Decrypt",
			Resource: c.KMSKeyARN, ResourceAccount: keyAccount,
			Context: readerContext(c, map[string][]string{"kms:ViaService": {"s3." + c.EffectiveBucketRegion() + ".amazonaws.com"}})}})
	}
	return out, nil
}

func with(ctx map[string][]string, key string, values ...string) map[string][]string {
	out := make(map[string][]string, len(ctx)+1)
	for k, v := range ctx {
		out[k] = v
	}
	out[key] = values
	return out
}
