package folder_test

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/objstore/storetest"
)

func newStore(t *testing.T) *folder.Store {
	t.Helper()
	s, err := folder.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) objstore.Store {
		// A subdirectory, so HostileKeys can check its parent for escapes.
		s, err := folder.Create(filepath.Join(t.TempDir(), "bucket"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}

// The metadata file layout is a contract with `trailwarden demo` and
// `trailwarden verify`.
func TestMetadataLayout(t *testing.T) {
	s := newStore(t)
	key := "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/x.json.gz"
	body := "gzip bytes"
	err := s.Put(t.Context(), key, strings.NewReader(body), int64(len(body)),
		objstore.Metadata{"signature": "abc", "Signature-Algorithm": "SHA256withRSA"})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.Dir(), filepath.FromSlash(key))); err != nil || string(b) != body {
		t.Fatalf("object file: %q, %v", b, err)
	}
	data, err := os.ReadFile(filepath.Join(s.Dir(), ".trailwarden", "meta", filepath.FromSlash(key)+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	if want := map[string]string{"signature": "abc", "signature-algorithm": "SHA256withRSA"}; len(m) != 2 || m["signature"] != want["signature"] || m["signature-algorithm"] != want["signature-algorithm"] {
		t.Errorf("metadata file = %v, want %v", m, want)
	}
	// A metadata file written by hand is read back.
	if err := os.WriteFile(filepath.Join(s.Dir(), "hand"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), ".trailwarden", "meta", "hand.json"), []byte(`{"signature": "by hand"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, meta, err := s.Head(t.Context(), "hand"); err != nil || meta["signature"] != "by hand" {
		t.Errorf("Head(hand) = %v, %v", meta, err)
	}
	// The metadata tree is not listed; no temporary files are left.
	var keys []string
	if err := s.List(t.Context(), "", "", func(o objstore.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(keys, []string{key, "hand"}) {
		t.Errorf("List = %q", keys)
	}
	_ = filepath.WalkDir(s.Dir(), func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), "tmp") {
			t.Errorf("temporary file left behind: %s", p)
		}
		return nil
	})
}

func TestBrokenMetadataIsAnError(t *testing.T) {
	s := newStore(t)
	if err := s.Put(t.Context(), "k", strings.NewReader("x"), 1, objstore.Metadata{"signature": "s"}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.Dir(), ".trailwarden", "meta", "k.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(t.Context(), "k"); err == nil || !strings.Contains(err.Error(), "k.json") {
		t.Errorf("Get with a broken metadata file: %v, want an error naming the file", err)
	}
}

func TestSymlinkCannotEscape(t *testing.T) {
	outside := t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newStore(t)
	if err := os.Symlink(outside, filepath.Join(s.Dir(), "link")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if _, _, err := s.Get(t.Context(), "link/secret"); err == nil {
		t.Error("Get through a symlink leading outside the folder succeeded")
	}
	if err := s.Put(t.Context(), "link/planted", strings.NewReader("x"), 1, nil); err == nil {
		t.Error("Put through a symlink leading outside the folder succeeded")
	}
	if _, err := os.Stat(filepath.Join(outside, "planted")); err == nil {
		t.Error("Put planted a file outside the folder")
	}
	// List does not follow symbolic links.
	if err := s.List(t.Context(), "", "", func(o objstore.Object) error {
		t.Errorf("List returned %q", o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestValidateKey(t *testing.T) {
	for _, k := range []string{"a", "a/b", "AWSLogs/1/CloudTrail/x.json.gz", "a..b", "...", "a/.hidden", "é"} {
		if err := folder.ValidateKey(k); err != nil {
			t.Errorf("ValidateKey(%q) = %v, want nil", k, err)
		}
	}
	for _, k := range []string{"", "..", "../x", "a/..", "/a", "a//b", "a/", ".", "a/./b", "a\x00", "a\\b", ".trailwarden/x", "a/.trailwarden-tmp-1", "\xff", strings.Repeat("a", 1025)} {
		if err := folder.ValidateKey(k); !errors.Is(err, folder.ErrInvalidKey) {
			t.Errorf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
		}
	}
}

func TestKeyConflictError(t *testing.T) {
	s := newStore(t)
	if err := s.Put(t.Context(), "a/b", strings.NewReader("x"), 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "a/b/c", strings.NewReader("x"), 1, nil); !errors.Is(err, folder.ErrKeyConflict) {
		t.Errorf("Put(a/b/c) over object a/b: %v, want ErrKeyConflict", err)
	}
	if err := s.Put(t.Context(), "x/y/z", strings.NewReader("x"), 1, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(t.Context(), "x/y", strings.NewReader("x"), 1, nil); !errors.Is(err, folder.ErrKeyConflict) {
		t.Errorf("Put(x/y) over directory x/y: %v, want ErrKeyConflict", err)
	}
}

func TestNew(t *testing.T) {
	if _, err := folder.New(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("New of a missing directory succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := folder.New(f); err == nil {
		t.Error("New of a file succeeded")
	}
	s, err := folder.Create(filepath.Join(t.TempDir(), "new", "dir"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if !filepath.IsAbs(s.String()) {
		t.Errorf("String() = %q, want an absolute path", s.String())
	}
}
