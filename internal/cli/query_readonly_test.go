package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/query"
)

// pulledDemo pulls a small demo organization from a local folder into a
// new store, as a user would, and returns the duckdb's folder and path.
func pulledDemo(t *testing.T) (dir, db string) {
	t.Helper()
	dir = t.TempDir()
	demo := filepath.Join(dir, "bucket")
	if _, stderr, code := run("demo", "--out", demo, "--accounts", "3", "--regions", "us-east-1", "--days", "1"); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	db = filepath.Join(dir, "trail.duckdb")
	if _, stderr, code := run("pull", "--source", demo, "--public-keys", filepath.Join(demo, ".trailwarden", "public-keys.json"),
		"--db", db, "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-21T00:00:00Z"); code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, stderr)
	}
	return dir, db
}

func countEvents(t *testing.T, db string) string {
	t.Helper()
	stdout, stderr, code := run("query", "--db", db, "--format", "csv", "select count(*) as n from events")
	if code != 0 {
		t.Fatalf("count: exit %d\n%s", code, stderr)
	}
	return stdout
}

// The statements of issue 14, and their kin, through trailwarden query on
// a pulled store: each is refused, exit 2, with what to do instead, and
// the store and the folders around it are as they were.
func TestQueryCannotChangeTheStore(t *testing.T) {
	dir, db := pulledDemo(t)
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(cwd, db)
	if err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(t.TempDir(), "link.duckdb")
	if err := os.Symlink(db, link); err != nil {
		t.Fatal(err)
	}
	out := t.TempDir()
	before, events := listTree(t, dir, out), countEvents(t, db)
	for _, c := range []struct{ sql, err, hint string }{
		{"attach '" + dir + "//trail.duckdb' as rw (READ_ONLY false); delete from rw.events where true",
			"the store is read-only: ATTACH is not allowed", "only trailwarden pull changes the store"},
		{"attach '" + link + "' as rw", "ATTACH is not allowed", "trailwarden pull"},
		{"attach '" + rel + "' as rw (READ_ONLY false)", "ATTACH is not allowed", "trailwarden pull"},
		{"delete from events", "the store is read-only: DELETE is not allowed", "trailwarden pull"},
		{"copy events to '" + filepath.Join(out, "events.csv") + "'", "the store is read-only: COPY is not allowed", "trailwarden export"},
		{"export database '" + filepath.Join(out, "db") + "'", "EXPORT is not allowed", "trailwarden export"},
		{"select * from read_csv('/etc/passwd')", `reading files outside the store is not allowed: file "/etc/passwd"`, "reading files needs --allow-files"},
		{"select * from glob('/root/*')", `not allowed: file "/root/*"`, "--allow-files"},
		{"set memory_limit='100GB'", "settings and extensions are locked: SET memory_limit is not allowed", "--memory-limit"},
		{"install httpfs", "INSTALL httpfs is not allowed", "extensions are never installed or loaded"},
		{"load httpfs", "LOAD httpfs is not allowed", "extensions are never installed or loaded"},
		{"explain analyze copy (select 1) to '" + filepath.Join(out, "x.csv") + "'", "EXPLAIN ANALYZE COPY is not allowed", "run the SELECT itself"},
		{"pivot events on account using count(*) group by event_name", "PIVOT is not allowed", "give the PIVOT its values"},
		// The views pulls used to leave, which crashed a query reading them.
		{"select * from tw_insert_1 limit 1", "Table with name tw_insert_1 does not exist", ""},
		{"selec 1", "syntax error", ""},
	} {
		stdout, stderr, code := run("query", "--db", db, c.sql)
		if code != ExitBadInput || !strings.Contains(stderr, c.err) || !hinted(stderr, c.hint) || stdout != "" {
			t.Errorf("query %q: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit 2, %q and the hint %q", c.sql, code, stdout, stderr, c.err, c.hint)
		}
	}
	if got := countEvents(t, db); got != events {
		t.Errorf("events after the statements:\n%s\nbefore:\n%s", got, events)
	}
	if got := listTree(t, dir, out); !slices.Equal(got, before) {
		t.Errorf("files after the statements:\n%v\nbefore:\n%v", got, before)
	}
	// Nothing of the loads is left for a query to trip on.
	stdout, stderr, code := run("query", "--db", db, "--format", "csv",
		"select (select count(*) from duckdb_views() where not internal) as views, (select count(*) from (show tables)) as tables")
	if code != 0 || stdout != "views,tables\n0,3\n" {
		t.Errorf("views and tables: exit %d\n%s%s", code, stdout, stderr)
	}
}

// hinted says whether stderr's hint (the Try: line) holds hint; an empty
// hint wants none.
func hinted(stderr, hint string) bool {
	_, line, found := strings.Cut(stderr, "\nTry: ")
	if hint == "" {
		return !found
	}
	line, _, _ = strings.Cut(line, "\n")
	return found && strings.Contains(line, hint)
}

func listTree(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, d := range dirs {
		if err := filepath.Walk(d, func(p string, _ os.FileInfo, err error) error {
			out = append(out, p)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// Every named query runs on the sealed store, and export, which is not a
// query, still writes its Parquet.
func TestQueryNamedAndExportOnAPulledStore(t *testing.T) {
	dir, db := pulledDemo(t)
	for _, n := range query.NamedQueries() {
		if _, stderr, code := run("query", "--db", db, "--named", n.Name, "--format", "csv"); code != 0 {
			t.Errorf("named query %s: exit %d\n%s", n.Name, code, stderr)
		}
	}
	out := filepath.Join(dir, "parquet")
	if _, stderr, code := run("export", "--db", db, "--out", out); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, stderr)
	}
	stdout, stderr, code := run("query", "--db", db, "--allow-files", out, "--format", "csv",
		"select (select count(*) from read_parquet('"+out+"/**/*.parquet')) = (select count(*) from events) as same")
	if code != 0 || stdout != "same\ntrue\n" {
		t.Fatalf("the export read back: exit %d\n%s%s", code, stdout, stderr)
	}
}

// --allow-files lets a query read the files and folders it names, by the
// path as given or absolute, and nothing else; writing into them stays
// refused.
func TestQueryAllowFiles(t *testing.T) {
	dir, db := pulledDemo(t)
	t.Chdir(dir)
	if err := os.Mkdir("lists", 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{"lists/ips.csv": "ip,name\n10.0.0.1,office\n", "accounts.csv": "id\n111111111111\n"} {
		if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct {
		args       []string
		code       int
		out, hint  string
		wantStderr string
	}{
		{[]string{"--allow-files", "lists", "select name from read_csv('lists/ips.csv')"}, 0, "name\noffice\n", "", ""},
		{[]string{"--allow-files", "./lists/", "select name from read_csv('" + filepath.Join(dir, "lists", "ips.csv") + "')"}, 0, "name\noffice\n", "", ""},
		{[]string{"--allow-files", "accounts.csv", "--allow-files", "lists", "select count(*) as n from read_csv('accounts.csv'), glob('lists/*')"}, 0, "n\n1\n", "", ""},
		{[]string{"select * from read_csv('accounts.csv')"}, 2, "", "reading files needs --allow-files", `file "accounts.csv"`},
		{[]string{"--allow-files", "lists", "select * from read_csv('accounts.csv')"}, 2, "", "that file is outside --allow-files lists", `file "accounts.csv"`},
		{[]string{"--allow-files", "lists", "copy (select 1) to 'lists/out.csv'"}, 2, "", "trailwarden export", "COPY is not allowed"},
		{[]string{"--allow-files", "lists", "attach '" + db + "' as rw (READ_ONLY false)"}, 2, "", "trailwarden pull", "ATTACH is not allowed"},
		{[]string{"--allow-files", "missing", "select 1"}, 2, "", "give a file or folder that exists", "--allow-files"},
		{[]string{"--engine", "athena", "--allow-files", "lists", "select 1"}, 2, "", "leave --allow-files out", "--engine duckdb"},
	} {
		args := append([]string{"query", "--db", db, "--format", "csv"}, c.args...)
		stdout, stderr, code := run(args...)
		if code != c.code || stdout != c.out || !hinted(stderr, c.hint) || !strings.Contains(stderr, c.wantStderr) {
			t.Errorf("%q: exit %d\nstdout:\n%s\nstderr:\n%s\nwant exit %d, %q, hint %q", c.args, code, stdout, stderr, c.code, c.out, c.hint)
		}
	}
	if entries, _ := os.ReadDir("lists"); len(entries) != 1 {
		t.Errorf("lists holds %d files, want its one", len(entries))
	}
}

// TestQueryShowsNoStagingTables: the views and tables a pull loads
// through (tw_insert_0, tw_insert_1, tw_dups, tw_keys) live only inside
// the pull's own transactions and connection: after a pull, and after a
// pull killed while loading, no catalog query of trailwarden query shows
// them.
func TestQueryShowsNoStagingTables(t *testing.T) {
	dir, db := pulledDemo(t)
	// A pull killed while it loads (stopped once the duckdb's temporary
	// folder exists, then killed).
	p := start(t, nil, "pull", "--source", filepath.Join(dir, "bucket"), "--db", db, "--no-verify", "--since", "2026-11-19T00:00:00Z")
	if p.stopWhen(t, db+".tmp") {
		_ = p.cmd.Process.Kill()
	}
	p.wait(t)
	for _, q := range []string{
		"show tables", "show all tables", "select * from duckdb_views()", "select * from duckdb_tables()",
		"select * from information_schema.tables", "select * from sqlite_master",
	} {
		stdout, stderr, code := run("query", "--db", db, "--format", "csv", q)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s", q, code, stderr)
		}
		if strings.Contains(stdout, "tw_") {
			t.Errorf("%s shows a staging table or view:\n%s", q, stdout)
		}
		if strings.HasPrefix(q, "show") && !strings.Contains(stdout, "events") {
			t.Errorf("%s does not show the events table:\n%s", q, stdout)
		}
	}
}
