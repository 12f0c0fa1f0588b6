package safefile_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailwarden/trailwarden/internal/safefile"
)

func TestWriteReplacesAtomically(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "policy.json")
	if err := safefile.Write(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := safefile.Write(path, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "new" {
		t.Fatalf("content %q, %v", got, err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", st.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left behind: %v", entries)
	}
}

func TestWriteIntoMissingDirFails(t *testing.T) {
	err := safefile.Write(filepath.Join(t.TempDir(), "nope", "x.json"), []byte("x"), 0o644)
	if err == nil {
		t.Fatal("want an error for a missing directory")
	}
}

// A path naming a folder is refused with ErrDirectory, and the folder and
// what it holds are left as they were.
func TestWriteOverAFolderFails(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "keep"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := safefile.Write(dir, []byte("x"), 0o644)
	if !errors.Is(err, safefile.ErrDirectory) {
		t.Fatalf("err = %v, want ErrDirectory", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("the folder holds %v", entries)
	}
}
