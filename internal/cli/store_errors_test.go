package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Every command that opens a store says, for a --db that is some other
// file, to check --db (exit 2), not to pull logs into it first.
func TestStoreCommandsSayWhenDBIsNotAStore(t *testing.T) {
	db := filepath.Join(t.TempDir(), "notes.duckdb")
	if err := os.WriteFile(db, []byte(strings.Repeat("meeting notes, not a database. ", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	demo := filepath.Join(t.TempDir(), "bucket")
	if _, stderr, code := run("demo", "--out", demo, "--accounts", "3", "--regions", "us-east-1", "--days", "1"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	for _, args := range [][]string{
		{"query", "--db", db, "select 1"},
		{"export", "--db", db, "--out", filepath.Join(t.TempDir(), "out")},
		{"pull", "--source", demo, "--db", db, "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-21T01:00:00Z"},
	} {
		_, stderr, code := run(args...)
		if code != ExitBadInput || !strings.Contains(stderr, "not a trailwarden store: check --db") || strings.Contains(stderr, "pull logs first") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d and a hint to check --db", args[0], code, stderr, ExitBadInput)
		}
	}
}

// A store file a killed pull left empty holds no events: query and export
// say so and that the next pull replaces it (exit 1), rather than calling
// it some other file.
func TestStoreCommandsOnAnEmptyStoreFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	if err := os.WriteFile(db, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"query", "--db", db, "select 1"},
		{"export", "--db", db, "--out", filepath.Join(t.TempDir(), "out")},
	} {
		_, stderr, code := run(args...)
		if code != ExitFailure || !strings.Contains(stderr, "the store file is empty") || !strings.Contains(stderr, "pull again") {
			t.Errorf("%s: exit %d, stderr:\n%s\nwant exit %d saying the store is empty and to pull again", args[0], code, stderr, ExitFailure)
		}
	}
}
