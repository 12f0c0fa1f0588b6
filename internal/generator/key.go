package generator

import (
	"errors"
	"fmt"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Sids of the KMS key policy statements.
const (
	SidKeyAdmin       = SidPrefix + "KeyAdministration"
	SidEncrypt        = SidPrefix + "CloudTrailEncrypt"
	SidDescribeKey    = SidPrefix + "CloudTrailDescribeKey"
	SidReaderDecrypt  = SidPrefix + "ReaderDecrypt"
	SidPatternDecrypt = SidPrefix + "ReaderPatternDecrypt"
)

// ErrNoKey is returned for a key policy when the config names no key.
var ErrNoKey = errors.New("no kms_key_arn in the config: the trail uses SSE-S3 and needs no key policy; set kms_key_arn to generate one")

// keyStatements builds the key policy statements. withAdmin adds the
// key-account root statement that a brand-new key policy needs (without it
// PutKeyPolicy fails the lockout safety check); when merging into an
// existing policy its own administration statements are kept instead.
func keyStatements(c *config.Config, scope string, withAdmin bool) ([]policy.Statement, error) {
	if c.KMSKeyARN == "" {
		return nil, ErrNoKey
	}
	key, err := awsid.KeyARN(c.KMSKeyARN)
	if err != nil {
		return nil, err
	}
	var out []policy.Statement
	if withAdmin {
		out = append(out, allow(SidKeyAdmin, awsPrincipals(fmt.Sprintf("arn:%s:iam::%s:root", key.Partition, key.Account)),
			list("kms:*"), list("*")))
	}
	owners := c.TrailOwners()
	contexts := make([]string, len(owners))
	for i, a := range owners {
		contexts[i] = fmt.Sprintf("arn:%s:cloudtrail:*:%s:trail/*", c.Partition(), a)
	}
	src := sourceCondition(c, scope, owners...)
	out = append(out,
		allow(SidEncrypt, service(cloudTrailService), list("kms:GenerateDataKey*"), list("*"),
			cond("StringLike", "kms:EncryptionContext:aws:cloudtrail:arn", contexts...), src),
		allow(SidDescribeKey, service(cloudTrailService), list("kms:DescribeKey"), list("*"), src))
	if c.Profile == config.ProfileAccelerate {
		return append(out, allow(SidAMSDecrypt, awsPrincipals("*"), list("kms:Decrypt", "kms:DescribeKey"), list("*"),
			withConds(patternConds(c, c.Readers.Roles...), cond("ForAnyValue:StringEquals", "aws:CalledVia", athenaService))...)), nil
	}
	// Readers decrypt only CloudTrail's objects, only through S3 in the
	// bucket's region.
	decrypt := withConds(readerConds(c),
		cond("Null", "kms:EncryptionContext:aws:cloudtrail:arn", "false"),
		cond("StringEquals", "kms:ViaService", "s3."+c.EffectiveBucketRegion()+".amazonaws.com"))
	out = append(out, allow(SidReaderDecrypt, awsPrincipals(append([]string{c.ReaderRoleARN()}, c.Readers.Roles...)...),
		list("kms:Decrypt"), list("*"), decrypt...))
	if c.Readers.RolePattern != "" {
		out = append(out, allow(SidPatternDecrypt, awsPrincipals("*"), list("kms:Decrypt"), list("*"),
			withConds(decrypt, patternConds(c)...)...))
	}
	return out, nil
}
