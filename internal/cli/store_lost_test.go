package cli

import (
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A store that holds fewer events than it records (DuckDB 1.4.5 can lose
// committed events when a checkpoint fails) still answers queries and
// exports what is left, but never as if it were whole: the answer exits 1
// and says why, after the results. Before, query printed a short count
// and exited 0.
func TestQueryOnAStoreThatLostEvents(t *testing.T) {
	_, db := pulledDemo(t)
	before := countEvents(t, db)
	loseEvents(t, db)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"query", []string{"query", "--db", db, "--format", "csv", "select count(*) as n from events"}},
		{"named query", []string{"query", "--db", db, "--named", "root-activity", "--format", "csv"}},
		{"export", []string{"export", "--db", db, "--out", filepath.Join(t.TempDir(), "parquet")}},
	} {
		t.Run(c.name, func(t *testing.T) {
			stdout, stderr, code := run(c.args...)
			if code != ExitFailure {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, ExitFailure, stdout, stderr)
			}
			if !strings.Contains(stderr, "DuckDB lost committed events") || !strings.Contains(stderr, "missing the lost events") {
				t.Errorf("stderr does not say the answer is short:\n%s", stderr)
			}
			if strings.TrimSpace(stdout) == "" {
				t.Errorf("nothing printed: what is left should still be readable")
			}
			if c.name == "query" && stdout == before {
				t.Errorf("count unchanged (%q): the test did not lose events", stdout)
			}
		})
	}
}

// loseEvents deletes one file's events behind trailwarden's back, as a
// failed DuckDB checkpoint did, leaving ingested_files as it was. The
// driver is registered by the store package the CLI imports.
func loseEvents(t *testing.T, db string) {
	t.Helper()
	h, err := sql.Open("duckdb", db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Close() }()
	res, err := h.Exec(`DELETE FROM events WHERE source_key = (SELECT min(key) FROM ingested_files WHERE events > 0)`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatal("no events deleted")
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(db, 0o600); err != nil {
		t.Fatal(err)
	}
}
