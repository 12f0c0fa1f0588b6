package safefile_test

import (
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
