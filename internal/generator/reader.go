package generator

import (
	"errors"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Sids of the reader role's trust and permissions.
const (
	SidAssume        = SidPrefix + "ReaderAssume"
	SidAssumePattern = SidPrefix + "ReaderPatternAssume"
	SidLocate        = SidPrefix + "BucketLocation"
	SidListLogs      = SidPrefix + "ListLogs"
	SidGetLogs       = SidPrefix + "GetLogs"
	SidDecryptLogs   = SidPrefix + "DecryptLogs"
)

// ErrNoReaders is returned for a trust policy when no reader is configured.
var ErrNoReaders = errors.New("no readers configured: list the role ARNs that may read in readers.roles, or set readers.role_pattern")

// readerTrust lets the named roles (and, org-scoped, the pattern) assume the
// reader role. It never trusts an account root: config validation refuses
// root ARNs in readers.roles.
func readerTrust(c *config.Config) (*policy.Document, error) {
	var ext []policy.Condition
	if c.Readers.ExternalID != "" {
		ext = append(ext, cond("StringEquals", "sts:ExternalId", c.Readers.ExternalID))
	}
	var out []policy.Statement
	if len(c.Readers.Roles) > 0 {
		out = append(out, allow(SidAssume, awsPrincipals(c.Readers.Roles...), list("sts:AssumeRole"), nil, ext...))
	}
	if c.Readers.RolePattern != "" {
		out = append(out, allow(SidAssumePattern, awsPrincipals("*"), list("sts:AssumeRole"), nil, withConds(ext, patternConds(c)...)...))
	}
	if len(out) == 0 {
		return nil, ErrNoReaders
	}
	return document(out...), nil
}

// readerAccess is the reader role's permissions: locate and list the bucket
// under the log prefix, get log objects, decrypt through S3. Nothing else.
func readerAccess(c *config.Config) *policy.Document {
	bucket := c.BucketARN()
	base := readerConds(c)
	out := []policy.Statement{
		allow(SidLocate, nil, list("s3:GetBucketLocation"), list(bucket), base...),
		allow(SidListLogs, nil, list("s3:ListBucket"), list(bucket),
			withConds(base, cond("StringLike", "s3:prefix", c.LogRoot()+"AWSLogs/*"))...),
		allow(SidGetLogs, nil, list("s3:GetObject"), list(bucket+"/"+c.LogRoot()+"AWSLogs/*"), base...),
	}
	if c.KMSKeyARN != "" {
		out = append(out, allow(SidDecryptLogs, nil, list("kms:Decrypt"), list(c.KMSKeyARN),
			withConds(base, cond("StringEquals", "kms:ViaService", "s3."+c.EffectiveBucketRegion()+".amazonaws.com"))...))
	}
	return document(out...)
}
