package inventory

import (
	"context"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// keyRef is one reference to a KMS key, with the account and region it is
// resolved in.
type keyRef struct {
	ref, account, region string
}

// keyRefs lists every key that encrypts, or is meant to encrypt, log
// objects: the config's kms_key_arn, the KmsKeyId of every trail that
// delivers to the central bucket, and the bucket's default-encryption key.
// A bare key id or alias is resolved where its user resolves it: the
// bucket's account and region for default encryption, the log-archive
// account and home region otherwise.
func (r *reader) keyRefs(accounts []snapshot.Account, b *snapshot.Bucket) []keyRef {
	seen := map[string]bool{}
	var out []keyRef
	add := func(ref, account, region string) {
		if ref == "" || seen[ref] {
			return
		}
		seen[ref] = true
		if strings.HasPrefix(ref, "arn:") {
			account, region = arnField(ref, 4), arnField(ref, 3)
		}
		out = append(out, keyRef{ref: ref, account: account, region: region})
	}
	add(r.cfg.KMSKeyARN, r.cfg.LogArchiveAccount, r.cfg.HomeRegion)
	for _, a := range accounts {
		for _, t := range a.Trails {
			if t.S3BucketName == r.cfg.Bucket {
				add(t.KMSKeyID, r.cfg.LogArchiveAccount, r.cfg.HomeRegion)
			}
		}
	}
	for _, ref := range b.EncryptionKeys() {
		add(ref, b.Account, b.Region)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ref < out[j].ref })
	return out
}

// keys reads every referenced key once, in its own account and region:
// DescribeKey (which resolves an alias or key id to the key's ARN), the
// default key policy and the rotation status. References that resolve to
// one key are merged; the result is sorted by ARN.
func (r *reader) keys(ctx context.Context, refs []keyRef) ([]snapshot.Key, error) {
	read := make([]snapshot.Key, len(refs))
	if err := r.each(ctx, "keys", len(refs), func(ctx context.Context, i int) {
		read[i] = r.key(ctx, refs[i])
	}); err != nil {
		return nil, err
	}
	at := map[string]int{} // ARN -> index in out
	var out []snapshot.Key
	for i, k := range read {
		ref := refs[i].ref
		j, dup := at[k.ARN]
		if !dup {
			j = len(out)
			at[k.ARN] = j
			out = append(out, k)
		}
		if ref != k.ARN && !contains(out[j].Refs, ref) {
			out[j].Refs = append(out[j].Refs, ref)
		}
	}
	for i := range out {
		sort.Strings(out[i].Refs)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out, nil
}

// key reads one key. Until DescribeKey names the key's ARN, the reference
// stands for it (an alias cannot be given to GetKeyPolicy or
// GetKeyRotationStatus, so those are skipped when DescribeKey fails on one).
func (r *reader) key(ctx context.Context, ref keyRef) snapshot.Key {
	k := snapshot.Key{ARN: ref.ref, Account: ref.account, Region: ref.region}
	if !strings.HasPrefix(ref.ref, "arn:") {
		k.ARN = "arn:" + r.partition + ":kms:" + ref.region + ":" + ref.account + ":" + keyResource(ref.ref)
	}
	cfg, ok := r.at(ctx, k.Account, k.Region)
	if !ok {
		return k
	}
	c := kms.NewFromConfig(cfg)
	ce := func(op string) snapshot.CallError {
		return snapshot.CallError{Account: k.Account, Region: k.Region, Service: "kms", Operation: op, Resource: ref.ref}
	}
	resolved := !strings.Contains(k.ARN, ":alias/")
	if d, err := c.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref.ref)}); err != nil {
		r.fail(err, ce("DescribeKey"))
	} else if m := d.KeyMetadata; m != nil {
		k.State, k.KeySpec, k.KeyManager, k.MultiRegion = string(m.KeyState), string(m.KeySpec), string(m.KeyManager), aws.ToBool(m.MultiRegion)
		if a := aws.ToString(m.Arn); a != "" {
			k.ARN, resolved = a, true
		}
	}
	if !resolved {
		return k
	}
	id := aws.String(k.ARN)
	if p, err := c.GetKeyPolicy(ctx, &kms.GetKeyPolicyInput{KeyId: id, PolicyName: aws.String("default")}); err != nil {
		r.fail(err, ce("GetKeyPolicy"))
	} else {
		k.Policy = aws.ToString(p.Policy)
	}
	if rot, err := c.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: id}); err != nil {
		r.fail(err, ce("GetKeyRotationStatus"))
	} else {
		k.RotationEnabled = rot.KeyRotationEnabled
	}
	return k
}

// keyResource is the resource part of a key ARN for a bare key id or an
// alias name.
func keyResource(ref string) string {
	if strings.HasPrefix(ref, "alias/") {
		return ref
	}
	return "key/" + ref
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
