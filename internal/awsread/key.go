package awsread

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// keyARN is the config's kms_key_arn, else the key of the configured trail
// (or of any trail delivering to the bucket).
func (r *reader) keyARN(accounts []snapshot.Account) string {
	if r.cfg.KMSKeyARN != "" {
		return r.cfg.KMSKeyARN
	}
	var any string
	for _, a := range accounts {
		for _, t := range a.Trails {
			if t.KMSKeyID == "" || t.S3BucketName != r.cfg.Bucket {
				continue
			}
			if t.Name == r.cfg.Trail.Name {
				return t.KMSKeyID
			}
			if any == "" {
				any = t.KMSKeyID
			}
		}
	}
	return any
}

// key reads the key's policy, state and rotation in its own account.
func (r *reader) key(ctx context.Context, arn string) *snapshot.Key {
	if arn == "" {
		return nil
	}
	k := &snapshot.Key{ARN: arn, Account: arnField(arn, 4), Region: arnField(arn, 3)}
	if !strings.HasPrefix(arn, "arn:") { // a bare key id: where trailwarden keeps its key
		k.Account, k.Region = r.cfg.LogArchiveAccount, r.cfg.HomeRegion
	}
	cfg, ok := r.at(ctx, k.Account, k.Region)
	if !ok {
		return k
	}
	c := kms.NewFromConfig(cfg)
	ce := func(op string) snapshot.CallError {
		return snapshot.CallError{Account: k.Account, Region: k.Region, Service: "kms", Operation: op, Resource: arn}
	}
	if p, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: aws.String(arn), PolicyName: aws.String("default")}); err != nil {
		r.fail(err, ce("GetKeyPolicy"))
	} else {
		k.Policy = aws.ToString(p.Policy)
	}
	if d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(arn)}); err != nil {
		r.fail(err, ce("DescribeKey"))
	} else if m := d.KeyMetadata; m != nil {
		k.State, k.KeySpec, k.KeyManager, k.MultiRegion = string(m.KeyState), string(m.KeySpec), string(m.KeyManager), aws.ToBool(m.MultiRegion)
		if a := aws.ToString(m.Arn); a != "" {
			k.ARN = a
		}
	}
	if rot, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(arn)}); err != nil {
		r.fail(err, ce("GetKeyRotationStatus"))
	} else {
		k.RotationEnabled = rot.KeyRotationEnabled
	}
	return k
}
