//go:build faults

package faulttest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFaultsHostileSQL is the hook for the read-only query part of issue
// 14 ("the store can only be changed by pull"): it is listed in the
// Makefile's FAULTS_PENDING until that part is merged, then runs with the
// rest. Each statement the issue found running is given to query on a
// pulled store: each must be refused (exit 1 or 2, never a crash), the
// store must still hold exactly what the pull stored, and nothing may be
// written outside it.
func TestFaultsHostileSQL(t *testing.T) {
	f := demo(t)
	isolate(t)
	data, err := os.ReadFile(f.cleanDB)
	if err != nil {
		t.Fatal(err)
	}
	// Each statement gets its own copy of the store, a symlink to it, and
	// a folder to write into.
	fresh := func(t *testing.T) (db, link, out string) {
		dir := t.TempDir()
		db, link, out = filepath.Join(dir, "trail.duckdb"), filepath.Join(dir, "link.duckdb"), filepath.Join(dir, "out")
		if err := os.WriteFile(db, data, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(db, link); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(out, 0o700); err != nil {
			t.Fatal(err)
		}
		return db, link, out
	}
	statements := []struct {
		name string
		sql  func(db, link, out string) string
	}{
		{"attach the store read-write by another spelling", func(db, _, _ string) string {
			return fmt.Sprintf("ATTACH '%s' AS rw (READ_ONLY false); DELETE FROM rw.events", strings.Replace(db, "/", "//", 1))
		}},
		{"attach the store read-write through a symlink", func(_, link, _ string) string {
			return fmt.Sprintf("ATTACH '%s' AS rw (READ_ONLY false); DELETE FROM rw.events", link)
		}},
		{"copy to a file", func(_, _, out string) string {
			return fmt.Sprintf("COPY events TO '%s'", filepath.Join(out, "events.csv"))
		}},
		{"export the database", func(_, _, out string) string {
			return fmt.Sprintf("EXPORT DATABASE '%s'", filepath.Join(out, "export"))
		}},
		{"read a local file", func(string, string, string) string { return "SELECT * FROM read_csv('/etc/passwd')" }},
		{"list a folder", func(string, string, string) string { return "SELECT * FROM glob('/root/*')" }},
		{"raise the memory limit", func(string, string, string) string { return "SET memory_limit='100GB'" }},
		{"install an extension", func(string, string, string) string { return "INSTALL httpfs" }},
		{"load an extension", func(string, string, string) string { return "LOAD httpfs" }},
		{"read a loader's leftover view", func(string, string, string) string { return "SELECT * FROM tw_insert_1 LIMIT 1" }},
	}
	for _, s := range statements {
		t.Run(s.name, func(t *testing.T) {
			db, link, out := fresh(t)
			sql := s.sql(db, link, out)
			res := run(t, "query", "--db", db, sql)
			tally.add("hostile SQL statements given to query", 1)
			if res.code != 1 && res.code != 2 {
				t.Errorf("%s: want it refused (exit 1 or 2), got %v", sql, res)
			}
			if got := state(t, db); !got.same(f.clean) {
				t.Fatalf("after %s the store holds %v; the pull stored %v", sql, got, f.clean)
			}
			if n := leftovers(out); n != 0 {
				t.Fatalf("after %s, %d files were written outside the store", sql, n)
			}
		})
	}
}
