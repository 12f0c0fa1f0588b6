package cli

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore/source"
)

// sourceOpts name a bucket: an s3:// URL (AWS or an S3-compatible endpoint)
// or a local folder laid out like one.
type sourceOpts struct {
	source, endpoint, region, profile, roleARN, externalID string
	// Which trail and chains of the bucket to read.
	bucket, prefix, org string
	accounts, regions   []string
	// timeout is --timeout: the limit on a network call's silence.
	timeout time.Duration
}

// scopeFlags are the flags that select the trail and chains of a bucket.
func (o *sourceOpts) scopeFlags(f *pflag.FlagSet) {
	f.StringVar(&o.bucket, "bucket", "", "bucket name the digests must name (default: from the s3:// URL or the demo manifest)")
	f.StringVar(&o.prefix, "prefix", "", "the trail's key prefix (default: from the s3:// URL or the demo manifest)")
	f.StringVar(&o.org, "org", "", "organization id of an organization trail (default: discovered)")
}

// filterFlags are the flags that read only some accounts and regions of
// the bucket: comma-separated and repeatable.
func (o *sourceOpts) filterFlags(f *pflag.FlagSet) {
	f.StringSliceVar(&o.accounts, "accounts", nil, "only these accounts, comma-separated (repeatable)")
	regionsFlag(f, &o.regions, "regions", "only these CloudTrail regions, comma-separated (repeatable)")
}

// trail is the bucket and prefix to check digests against: the flags when
// given, else what the source says.
func (o *sourceOpts) trail(op *source.Source) (bucket, prefix string) {
	return op.Trail(o.bucket, o.prefix)
}

// open opens the source the flags name (create: a folder the demo writes).
func (o *sourceOpts) open(ctx context.Context, create bool) (*source.Source, error) {
	op, err := source.Open(ctx, source.Options{Source: o.source, Endpoint: o.endpoint, Region: o.region, Profile: o.profile,
		RoleARN: o.roleARN, ExternalID: o.externalID, Timeout: o.timeout, Create: create})
	if err != nil {
		return nil, sourceError(err)
	}
	return op, nil
}

// publicKeys finds the keys that verify the source's digests: the
// --public-keys file, a demo folder's own keys, or, for an s3:// source on
// AWS, each region's keys from CloudTrail's ListPublicKeys.
func publicKeys(ctx context.Context, path string, op *source.Source, start, end time.Time) (
	*digest.KeySet, func(context.Context, string) (*digest.KeySet, error), error) {
	ks, keysFor, err := op.PublicKeys(ctx, path, start, end)
	if err != nil {
		return nil, nil, sourceError(err)
	}
	return ks, keysFor, nil
}

// sourceError adds what to pass to a source that cannot be opened or
// whose public keys cannot be read: all bad input.
func sourceError(err error) error {
	const listKeys = "aws cloudtrail list-public-keys --start-time START --end-time END > keys.json, then --public-keys keys.json"
	var se *source.Error
	switch {
	case errors.Is(err, s3.ErrNoRegion):
		return badInput(err, regionHint)
	case errors.Is(err, source.ErrNoSource):
		return badInput(errors.New("--source is required"), "name a bucket (s3://bucket/prefix) or a folder")
	case errors.Is(err, source.ErrEndpointOnFolder):
		return badInput(errors.New("--endpoint-url only applies to s3:// sources"), "")
	case errors.Is(err, source.ErrNoKeys):
		return badInput(errors.New("no public keys: --public-keys is required for folders and S3-compatible endpoints"), listKeys)
	case !errors.As(err, &se):
		return err
	}
	switch se.Kind {
	case source.KindConnect:
		return badInput(err, "check --endpoint, --profile and the AWS credentials in the environment")
	case source.KindFolder:
		return badInput(err, "pass an existing folder, or create one with trailwarden demo --out DIR")
	case source.KindCloudTrail:
		return badInput(err, "pass --public-keys FILE to check digests without calling CloudTrail")
	case source.KindKeyFile:
		return badInput(err, listKeys)
	case source.KindKeyParse:
		return badInput(err, "pass the JSON `aws cloudtrail list-public-keys` prints")
	}
	return badInput(err, "")
}
