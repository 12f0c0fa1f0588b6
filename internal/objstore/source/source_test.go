package source_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/objstore/source"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// TestDemoFolder: a folder the demo wrote says its trail, window, keys,
// config and snapshot; reopened, it names its objects by path.
func TestDemoFolder(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "demo-bucket")
	w, err := source.Open(ctx, source.Options{Source: dir, Create: true})
	if err != nil {
		t.Fatal(err)
	}
	res, err := demo.Generate(ctx, w.Store, demo.Options{Accounts: 2, Regions: []string{"us-east-1"}, Days: 1, Seed: 7,
		Bucket: "demo-bucket", Prefix: "p", Trail: "org-trail", EventsPerHour: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.SaveDemo(ctx, res); err != nil {
		t.Fatal(err)
	}
	w.Close()

	s, err := source.Open(ctx, source.Options{Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Manifest == nil || s.Bucket != "demo-bucket" || s.Prefix != "p" {
		t.Fatalf("manifest %v, trail %s/%s; want the demo's", s.Manifest != nil, s.Bucket, s.Prefix)
	}
	if b, p := s.Trail("", ""); b != "demo-bucket" || p != "p" {
		t.Errorf("Trail() = %s, %s", b, p)
	}
	if b, p := s.Trail("other", "q"); b != "other" || p != "q" {
		t.Errorf("Trail(other, q) = %s, %s", b, p)
	}
	start, end, ok := s.DemoWindow()
	if !ok || !start.Equal(res.Manifest.Start) || !end.Equal(res.Manifest.End) {
		t.Errorf("DemoWindow = %v %v %v, want the manifest's", start, end, ok)
	}
	if got, want := s.Location("AWSLogs/x"), filepath.Join(dir, "AWSLogs/x"); got != want {
		t.Errorf("Location = %s, want %s", got, want)
	}
	cfgPath := s.DemoFile(source.ConfigFile)
	f, err := os.Open(cfgPath)
	if err != nil {
		t.Fatalf("demo config %q: %v", cfgPath, err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, cfgPath)
	if err != nil || c.Bucket != "demo-bucket" {
		t.Fatalf("demo config: %v, bucket %v", err, c)
	}
	if _, err := snapshot.ReadFile(s.DemoFile(source.SnapshotFile)); err != nil {
		t.Errorf("demo snapshot: %v", err)
	}
	ks, keysFor, err := s.PublicKeys(ctx, "", start, end)
	if err != nil || ks == nil || keysFor != nil || len(ks.Keys()) == 0 {
		t.Errorf("PublicKeys = %v, %v, %v; want the demo's own keys", ks, keysFor != nil, err)
	}
	var nilSource *source.Source
	if nilSource.DemoFile(source.ConfigFile) != "" {
		t.Error("a nil source has demo files")
	}
}

// TestErrors: each way a source or its keys fail is told apart.
func TestErrors(t *testing.T) {
	ctx := context.Background()
	plain := t.TempDir()
	notKeys := filepath.Join(plain, "keys.json")
	if err := os.WriteFile(notKeys, []byte(`{"PublicKeyList": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	var se *source.Error
	kind := func(err error) source.Kind {
		if errors.As(err, &se) {
			return se.Kind
		}
		return 0
	}
	for _, tc := range []struct {
		name string
		err  func() error
		is   error
		kind source.Kind
	}{
		{"no source", func() error { _, err := source.Open(ctx, source.Options{}); return err }, source.ErrNoSource, 0},
		{"endpoint with a folder", func() error {
			_, err := source.Open(ctx, source.Options{Source: plain, Endpoint: "http://127.0.0.1:1"})
			return err
		}, source.ErrEndpointOnFolder, 0},
		{"bad URL", func() error { _, err := source.Open(ctx, source.Options{Source: "s3://"}); return err }, nil, source.KindURL},
		{"missing folder", func() error {
			_, err := source.Open(ctx, source.Options{Source: filepath.Join(plain, "none")})
			return err
		}, nil, source.KindFolder},
		{"no keys for a plain folder", func() error { return keysErr(ctx, t, plain, "") }, source.ErrNoKeys, 0},
		{"key file missing", func() error { return keysErr(ctx, t, plain, filepath.Join(plain, "none.json")) }, nil, source.KindKeyFile},
		{"key file not keys", func() error { return keysErr(ctx, t, plain, notKeys) }, nil, source.KindKeyParse},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.err()
			if err == nil {
				t.Fatal("no error")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("%v, want %v", err, tc.is)
			}
			if kind(err) != tc.kind {
				t.Errorf("%v: kind %d, want %d", err, kind(err), tc.kind)
			}
		})
	}
}

func keysErr(ctx context.Context, t *testing.T, dir, path string) error {
	t.Helper()
	s, err := source.Open(ctx, source.Options{Source: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, _, err = s.PublicKeys(ctx, path, time.Time{}, time.Now())
	return err
}
