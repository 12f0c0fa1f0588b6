// Package source opens the bucket a command reads (or the demo writes): an
// s3:// URL on AWS or an S3-compatible endpoint, or a local folder laid out
// like one, with what a demo folder says about itself (its trail, its
// window, its public keys, config and snapshot). It also finds the public
// keys that verify a source's digests.
package source

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	s3store "github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/aws/trailkeys"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/safefile"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// Files a demo folder holds beside its objects.
const (
	ManifestFile   = ".trailwarden/demo.json"
	PublicKeysFile = ".trailwarden/public-keys.json"
	ConfigFile     = ".trailwarden/trailwarden.yaml"
	SnapshotFile   = ".trailwarden/snapshot.json"
)

// Options name a source and how to reach it.
type Options struct {
	// Source is s3://BUCKET[/PREFIX] or a local folder.
	Source string
	// Endpoint is an S3-compatible endpoint (path-style addressing); it
	// applies to s3:// sources only.
	Endpoint string
	// Region is the bucket's region ("": the AWS configuration's).
	Region string
	// Profile is the AWS shared-config profile; RoleARN, with ExternalID,
	// a role to assume for reading.
	Profile, RoleARN, ExternalID string
	// Timeout limits a network call's silence (0: the default).
	Timeout time.Duration
	// Create makes a folder that does not exist (the demo writes into it).
	Create bool
}

// Errors of Open and PublicKeys.
var (
	// ErrNoSource is Open without a source.
	ErrNoSource = errors.New("source: no source given")
	// ErrEndpointOnFolder is an endpoint given with a folder source.
	ErrEndpointOnFolder = errors.New("source: an endpoint applies only to s3:// sources")
	// ErrNoKeys is a folder or S3-compatible source without a key file:
	// only CloudTrail on AWS can give the keys otherwise.
	ErrNoKeys = errors.New("source: no public keys for a folder or an S3-compatible endpoint")
)

// Kind says which step of opening a source failed.
type Kind int

// Kinds of Error.
const (
	// KindURL is an s3:// URL that does not parse.
	KindURL Kind = iota + 1
	// KindConnect is an S3 client that cannot start (credentials, region).
	KindConnect
	// KindFolder is a folder that cannot be opened or created.
	KindFolder
	// KindCloudTrail is a CloudTrail client (for public keys) that cannot
	// start.
	KindCloudTrail
	// KindKeyFile is a public keys file that cannot be read.
	KindKeyFile
	// KindKeyParse is a public keys file that is not the JSON
	// `aws cloudtrail list-public-keys` prints.
	KindKeyParse
)

// Error is a source that cannot be opened, or whose keys cannot be read.
type Error struct {
	Kind Kind
	// Path is the key file (KindKeyFile, KindKeyParse).
	Path string
	Err  error
}

func (e *Error) Error() string {
	switch e.Kind {
	case KindKeyFile:
		return "read public keys: " + e.Err.Error()
	case KindKeyParse:
		return e.Path + ": " + e.Err.Error()
	}
	return e.Err.Error()
}

func (e *Error) Unwrap() error { return e.Err }

// Source is an opened bucket or folder.
type Source struct {
	Store objstore.Store
	// Bucket and Prefix are what the location says about the trail: the
	// s3:// URL's, or a demo folder's (empty for another folder).
	Bucket, Prefix string
	// Dir is the folder of a folder source.
	Dir string
	// Manifest is a demo folder's (nil for any other source).
	Manifest *demo.Manifest
	opt      Options
	closeFn  func()
}

// Open opens the source o names.
func Open(ctx context.Context, o Options) (*Source, error) {
	if o.Source == "" {
		return nil, ErrNoSource
	}
	if strings.Contains(o.Source, "://") {
		bucket, prefix, err := s3store.ParseURL(o.Source)
		if err != nil {
			return nil, &Error{Kind: KindURL, Err: err}
		}
		st, err := s3store.New(ctx, s3store.Options{Bucket: bucket, Prefix: prefix, Region: o.Region, Endpoint: o.Endpoint,
			PathStyle: o.Endpoint != "", RoleARN: o.RoleARN, ExternalID: o.ExternalID, Profile: o.Profile, Timeout: o.Timeout})
		if err != nil {
			return nil, &Error{Kind: KindConnect, Err: err}
		}
		return &Source{Store: st, Bucket: bucket, Prefix: strings.TrimSuffix(prefix, "/"), opt: o, closeFn: func() {}}, nil
	}
	if o.Endpoint != "" {
		return nil, ErrEndpointOnFolder
	}
	openFn := folder.New
	if o.Create {
		openFn = folder.Create
	}
	st, err := openFn(o.Source)
	if err != nil {
		return nil, &Error{Kind: KindFolder, Err: err}
	}
	if o.Create {
		// Demo data can be made again from its seed: atomic renames, but no
		// fsync per file, which would dominate the time to write it.
		st.WithoutSync()
	}
	s := &Source{Store: st, Dir: st.Dir(), opt: o, closeFn: func() { _ = st.Close() }}
	if m, err := ReadManifest(st.Dir()); err == nil {
		s.Manifest = m
		s.Bucket, s.Prefix = m.Org.Bucket, m.Org.Prefix
	}
	return s, nil
}

// Close releases the source.
func (s *Source) Close() { s.closeFn() }

// Trail is the bucket and prefix digests must name: bucket and prefix when
// given, else what the source says.
func (s *Source) Trail(bucket, prefix string) (string, string) {
	if bucket == "" {
		bucket = s.Bucket
	}
	if prefix == "" {
		prefix = s.Prefix
	}
	return bucket, prefix
}

// Location names an object of the source as a user finds it: a path in a
// folder, an s3:// URL in a bucket.
func (s *Source) Location(key string) string {
	if s.Dir != "" {
		return filepath.Join(s.Dir, key)
	}
	return "s3://" + s.Bucket + "/" + key
}

// DemoFile is the path of a demo folder's own file (ConfigFile,
// SnapshotFile, PublicKeysFile), or "" when the source is not a demo
// folder (or nil) or the file is not there.
func (s *Source) DemoFile(name string) string {
	if s == nil || s.Manifest == nil || s.Dir == "" {
		return ""
	}
	p := filepath.Join(s.Dir, name)
	if _, err := os.Stat(p); err != nil {
		return ""
	}
	return p
}

// DemoWindow is a demo folder's time range; ok is false for any other
// source.
func (s *Source) DemoWindow() (start, end time.Time, ok bool) {
	if s.Manifest == nil || s.Dir == "" {
		return time.Time{}, time.Time{}, false
	}
	return s.Manifest.Start, s.Manifest.End, true
}

// ReadManifest reads a demo folder's manifest.
func ReadManifest(dir string) (*demo.Manifest, error) {
	data, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var m demo.Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, ManifestFile), err)
	}
	return &m, nil
}

// PublicKeys finds the keys that verify the source's digests between start
// and end: the key file at path; else a demo folder's own keys; else, for
// an s3:// source on AWS, each region's keys from CloudTrail's
// ListPublicKeys (the second result, with the source's credentials).
func (s *Source) PublicKeys(ctx context.Context, path string, start, end time.Time) (
	*digest.KeySet, func(context.Context, string) (*digest.KeySet, error), error) {
	if path == "" && s.Dir == "" && s.opt.Endpoint == "" {
		client, err := trailkeys.New(ctx, trailkeys.Options{Profile: s.opt.Profile, RoleARN: s.opt.RoleARN, ExternalID: s.opt.ExternalID,
			Timeout: s.opt.Timeout})
		if err != nil {
			return nil, nil, &Error{Kind: KindCloudTrail, Err: err}
		}
		return nil, client.KeysFor(start, end), nil
	}
	if path == "" && s.Dir != "" {
		if _, err := os.Stat(filepath.Join(s.Dir, PublicKeysFile)); err == nil {
			path = filepath.Join(s.Dir, PublicKeysFile)
		}
	}
	if path == "" {
		return nil, nil, ErrNoKeys
	}
	ks, err := ReadKeyFile(path)
	return ks, nil, err
}

// ReadKeyFile reads the JSON `aws cloudtrail list-public-keys` prints.
func ReadKeyFile(path string) (*digest.KeySet, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Kind: KindKeyFile, Path: path, Err: err}
	}
	defer func() { _ = f.Close() }()
	ks, err := digest.ReadKeySet(f)
	if err != nil {
		return nil, &Error{Kind: KindKeyParse, Path: path, Err: err}
	}
	return ks, nil
}

// SaveDemo writes what a demo keeps beside its objects: the public keys
// and the manifest, in a folder's .trailwarden/ directory or beside the
// objects in a bucket; a folder also gets the demo organization's
// trailwarden.yaml and a snapshot of its configuration taken when its logs
// end, so audit and plan can be tried offline.
func (s *Source) SaveDemo(ctx context.Context, res *demo.Result) error {
	manifest, err := json.MarshalIndent(res.Manifest, "", "  ")
	if err != nil {
		return fmt.Errorf("source: save the demo manifest: %w", err)
	}
	if s.Dir == "" {
		root := s.Prefix
		if root != "" {
			root += "/"
		}
		for _, f := range []struct {
			name string
			body []byte
		}{{PublicKeysFile, res.PublicKeys}, {ManifestFile, manifest}} {
			if err := s.Store.Put(ctx, root+f.name, bytes.NewReader(f.body), int64(len(f.body)), nil); err != nil {
				return err
			}
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Join(s.Dir, ".trailwarden"), 0o750); err != nil {
		return err
	}
	if err := safefile.Write(filepath.Join(s.Dir, PublicKeysFile), res.PublicKeys, 0o644); err != nil {
		return err
	}
	if err := safefile.Write(filepath.Join(s.Dir, ManifestFile), manifest, 0o644); err != nil {
		return err
	}
	m := res.Manifest
	if err := safefile.Write(filepath.Join(s.Dir, ConfigFile), config.Render(m.Org.Config()), 0o644); err != nil {
		return err
	}
	snap, err := m.Org.Snapshot(m.End)
	if err != nil {
		return err
	}
	return snapshot.WriteFile(filepath.Join(s.Dir, SnapshotFile), snap)
}
