package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	s3store "github.com/trailwarden/trailwarden/internal/objstore/s3"
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
func (o *sourceOpts) trail(op *opened) (bucket, prefix string) {
	bucket, prefix = op.bucket, op.prefix
	if o.bucket != "" {
		bucket = o.bucket
	}
	if o.prefix != "" {
		prefix = o.prefix
	}
	return bucket, prefix
}

// opened is a store plus what its location says about the trail.
type opened struct {
	store  objstore.Store
	bucket string // "" for a folder with no demo manifest
	prefix string
	dir    string // the folder, for folder sources
	close  func()
}

func (o *sourceOpts) open(ctx context.Context, create bool) (*opened, error) {
	if o.source == "" {
		return nil, badInput(fmt.Errorf("--source is required"), "name a bucket (s3://bucket/prefix) or a folder")
	}
	if strings.Contains(o.source, "://") {
		bucket, prefix, err := s3store.ParseURL(o.source)
		if err != nil {
			return nil, badInput(err, "")
		}
		st, err := s3store.New(ctx, s3store.Options{Bucket: bucket, Prefix: prefix, Region: o.region, Endpoint: o.endpoint,
			PathStyle: o.endpoint != "", RoleARN: o.roleARN, ExternalID: o.externalID, Profile: o.profile, Timeout: o.timeout})
		if err != nil {
			return nil, badInput(err, "check --endpoint-url, --region, --profile and the AWS credentials in the environment")
		}
		return &opened{store: st, bucket: bucket, prefix: strings.TrimSuffix(prefix, "/"), close: func() {}}, nil
	}
	if o.endpoint != "" {
		return nil, badInput(fmt.Errorf("--endpoint-url only applies to s3:// sources"), "")
	}
	openFn := folder.New
	if create {
		openFn = folder.Create
	}
	st, err := openFn(o.source)
	if err != nil {
		return nil, badInput(err, "pass an existing folder, or create one with trailwarden demo --out DIR")
	}
	if create {
		// Demo data can be made again from its seed: atomic renames, but no
		// fsync per file, which would dominate the time to write it.
		st.WithoutSync()
	}
	op := &opened{store: st, dir: st.Dir(), close: func() { _ = st.Close() }}
	if m, err := readManifest(st.Dir()); err == nil {
		op.bucket, op.prefix = m.Org.Bucket, m.Org.Prefix
	}
	return op, nil
}

// Files a demo folder holds beside its objects.
const (
	manifestFile   = ".trailwarden/demo.json"
	publicKeysFile = ".trailwarden/public-keys.json"
	demoConfigFile = ".trailwarden/trailwarden.yaml"
	snapshotFile   = ".trailwarden/snapshot.json"
)

func readManifest(dir string) (*demo.Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return nil, err
	}
	var m demo.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, manifestFile), err)
	}
	return &m, nil
}
