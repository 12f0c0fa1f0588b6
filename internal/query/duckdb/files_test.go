package duckdb

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// withUmask runs the test under umask mask, as a user's shell sets it.
func withUmask(t *testing.T, mask int) {
	t.Helper()
	old := syscall.Umask(mask)
	t.Cleanup(func() { syscall.Umask(old) })
}

func mode(t *testing.T, path string) fs.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// A store holds every event of an organization: under the usual umask
// (022), its file, its write-ahead log (which DuckDB deletes at every
// checkpoint and creates again) and its temporary folder are the owner's
// alone, from the first write to the last; an older duckdb's 0644 file
// becomes 0600 when it is next opened for writing.
func TestStoreFilesArePrivate(t *testing.T) {
	withUmask(t, 0o022)
	ctx := context.Background()
	d := sharedDemo(t)
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string) {
		t.Helper()
		if m := mode(t, path); m != 0o600 {
			t.Errorf("%s: store file %v, want 0600", when, m)
		}
		if st, err := os.Stat(walPath(path)); err == nil && st.Mode().Perm() != 0o600 {
			t.Errorf("%s: write-ahead log %v, want 0600", when, st.Mode().Perm())
		}
		if m := mode(t, s.TempDir()); m != 0o700 {
			t.Errorf("%s: temporary folder %v, want 0700", when, m)
		}
	}
	check("open")
	for i, f := range d.files[:6] {
		if _, err := ingest(ctx, s, f); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			// DuckDB deletes the log at a checkpoint; the next write
			// creates it again.
			if _, err := s.db.ExecContext(ctx, `CHECKPOINT`); err != nil {
				t.Fatal(err)
			}
		}
		check("after an ingest")
	}
	if _, err := os.Stat(walPath(path)); err != nil {
		t.Fatalf("no write-ahead log to check: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	check("reopened")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// What a killed process left in the duckdb's temporary folder (a pull's
// partial download, DuckDB's spill files) is removed when the store is
// next opened for writing, and the folder itself once the store is
// closed; a store opened read-only touches nothing.
func TestOpenRemovesWhatAKilledProcessLeft(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("an empty temporary folder stays after Close: %v", err)
	}
	tmp := path + ".tmp"
	left := []string{filepath.Join(tmp, "pull-123", "log-1.json.gz"), filepath.Join(tmp, "duckdb_temp_storage_DEFAULT-0.tmp")}
	plant := func() {
		for _, p := range left {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, make([]byte, 1<<20), 0o644); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-time.Minute)
			for _, q := range []string{p, filepath.Dir(p)} {
				if err := os.Chtimes(q, old, old); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	plant()
	ro, err := OpenWith(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range left {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("a read-only open removed %s: %v", p, err)
		}
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(s.TempDir())
	if err != nil || len(entries) != 0 {
		t.Fatalf("temporary folder after open: %v, %v; want it empty", entries, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary folder after Close: %v, want it removed", err)
	}
}

// A failed open of a new store leaves no file behind, its write-ahead
// log included.
func TestFailedOpenLeavesNoLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if s, err := OpenWith(ctx, path, Options{}); err == nil {
		_ = s.Close()
		t.Fatal("opened with a cancelled context")
	}
	for _, p := range []string{path, walPath(path), path + ".tmp"} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a failed open of a new store left %s: %v", p, err)
		}
	}
}

// An export holds the events as the store does: under the usual umask,
// its folders are 0700 and its files 0600, the folder given included.
func TestExportIsPrivate(t *testing.T) {
	withUmask(t, 0o022)
	d := sharedDemo(t)
	s := openStore(t)
	ctx := context.Background()
	if _, err := ingest(ctx, s, d.files[:8]...); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "parquet")
	if err := s.ExportParquet(ctx, out); err != nil {
		t.Fatal(err)
	}
	files := 0
	err := filepath.WalkDir(out, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		want := fs.FileMode(0o600)
		if e.IsDir() {
			want = 0o700
		} else {
			files++
		}
		if m := mode(t, p); m != want {
			t.Errorf("%s: %v, want %v", p, m, want)
		}
		return nil
	})
	if err != nil || files < 2 {
		t.Fatalf("walked %d files: %v", files, err)
	}
}
