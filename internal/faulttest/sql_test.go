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
	dir := t.TempDir()
	db := filepath.Join(dir, "trail.duckdb")
	data, err := os.ReadFile(f.cleanDB)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(db, data, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.duckdb")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	doubled := strings.Replace(db, "/", "//", 1)
	statements := []struct{ name, sql string }{
		{"attach the store read-write by another spelling", fmt.Sprintf("ATTACH '%s' AS rw (READ_ONLY false); DELETE FROM rw.events", doubled)},
		{"attach the store read-write through a symlink", fmt.Sprintf("ATTACH '%s' AS rw (READ_ONLY false); DELETE FROM rw.events", link)},
		{"copy to a file", fmt.Sprintf("COPY events TO '%s'", filepath.Join(out, "events.csv"))},
		{"export the database", fmt.Sprintf("EXPORT DATABASE '%s'", filepath.Join(out, "export"))},
		{"read a local file", "SELECT * FROM read_csv('/etc/passwd')"},
		{"list a folder", "SELECT * FROM glob('/root/*')"},
		{"raise the memory limit", "SET memory_limit='100GB'"},
		{"install an extension", "INSTALL httpfs"},
		{"load an extension", "LOAD httpfs"},
		{"read a loader's leftover view", "SELECT * FROM tw_insert_1 LIMIT 1"},
	}
	for _, s := range statements {
		t.Run(s.name, func(t *testing.T) {
			res := run(t, "query", "--db", db, s.sql)
			tally.add("hostile SQL statements given to query", 1)
			if res.code != 1 && res.code != 2 {
				t.Errorf("%s: want it refused (exit 1 or 2), got %v", s.sql, res)
			}
			if got := state(t, db); !got.same(f.clean) {
				t.Fatalf("after %s the store holds %v; the pull stored %v", s.sql, got, f.clean)
			}
			if n := leftovers(out); n != 0 {
				t.Fatalf("after %s, %d files were written outside the store", s.sql, n)
			}
		})
	}
}
