package duckdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/query"
)

// demoStore ingests the shared demo into a new store at dir/trail.duckdb
// and closes it.
func demoStore(t *testing.T) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	path = filepath.Join(dir, "trail.duckdb")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest(t.Context(), s, sharedDemo(t).files...); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

func openSealed(t *testing.T, path string, files ...string) *Store {
	t.Helper()
	s, err := OpenWith(t.Context(), path, Options{ReadOnly: true, ReadFiles: files})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// loadConcurrently loads each file as a batch of its own through a
// Loader of two writers, two loads at once, committing every few rows,
// as a pull does.
func loadConcurrently(t *testing.T, s *Store, files []File) {
	t.Helper()
	ctx := t.Context()
	l, err := s.NewLoader(ctx, MaxWriters)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	l.every = 50
	prepared := make(chan *batch.Events)
	errs := make(chan error, 1+MaxWriters)
	go func() {
		defer close(prepared)
		var p batch.Parser
		for _, f := range files {
			data, err := os.ReadFile(f.Path)
			if err != nil {
				errs <- err
				return
			}
			b := &batch.Events{}
			bf := batch.File{Key: f.Key, Account: f.Account, Region: f.Region, Day: f.Day, Verified: true}
			if _, err := p.Append(b, bf, data, 1<<20); err != nil {
				errs <- err
				return
			}
			b.Commit()
			if err := l.Prepare(ctx, b); err != nil {
				errs <- err
				return
			}
			prepared <- b
		}
		errs <- nil
	}()
	var wg sync.WaitGroup
	for range MaxWriters {
		wg.Go(func() {
			for b := range prepared {
				if _, err := l.Load(ctx, b); err != nil {
					errs <- err
					for range prepared {
					}
					return
				}
			}
		})
	}
	wg.Wait()
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// Loads through two writers at once, and a load that searches the
// committed events for duplicates, leave no view in the store: DuckDB
// registers each Arrow batch as a view, which must not outlive its
// transaction (issue 14: tw_insert_0 and tw_insert_1 were left, and
// reading them crashed DuckDB).
func TestLoadsLeaveNoViews(t *testing.T) {
	d := sharedDemo(t)
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	loadConcurrently(t, s, d.files)
	// The same events under another key: their duplicates are searched
	// for among the committed events (the tw_dups view).
	again := d.files[0]
	again.Key += ".again"
	got, err := ingest(t.Context(), s, again)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != 0 || got.Duplicates == 0 {
		t.Fatalf("loading a file again gave %+v, want only duplicates", got)
	}
	if n := count(t, s, `SELECT count(*) FROM duckdb_views() WHERE NOT internal`); n != 0 {
		_, rows := queryAll(t, s, `SELECT view_name FROM duckdb_views() WHERE NOT internal`)
		t.Fatalf("the loads left %d views: %v", n, rows)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	ro := openSealed(t, path)
	_, rows := queryAll(t, ro, `SHOW TABLES`)
	var names []string
	for _, r := range rows {
		names = append(names, r[0].(string))
	}
	if want := []string{"events", "ingested_files", "trailwarden_meta"}; !slices.Equal(names, want) {
		t.Fatalf("SHOW TABLES after the loads = %v, want %v", names, want)
	}
	for _, v := range []string{"tw_insert_0", "tw_insert_1", "tw_dups"} {
		if _, err := ro.Query(t.Context(), `SELECT * FROM `+v+` LIMIT 1`); !errors.Is(err, ErrBadSQL) {
			t.Errorf("SELECT * FROM %s: %v, want no such table", v, err)
		}
	}
	if n := count(t, ro, `SELECT count(*) FROM events`); n != d.manifest.Events-d.manifest.Duplicates {
		t.Fatalf("%d events stored, want %d", n, d.manifest.Events-d.manifest.Duplicates)
	}
}

// leaveLoaderViews does to the store at path what pulls did before issue
// 14: an Arrow view registered outside a transaction, committed, and its
// stream released.
func leaveLoaderViews(t *testing.T, path string, names ...string) {
	t.Helper()
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	a, err := arrowOf(conn)
	if err != nil {
		t.Fatal(err)
	}
	var p batch.Parser
	var b batch.Events
	f := batch.File{Key: "old", Account: "1", Region: "r", Day: time.Now()}
	if _, err := p.Append(&b, f, gzBytes(t, twoEvents), 1<<20); err != nil {
		t.Fatal(err)
	}
	b.Commit()
	rec := b.Arrow()
	for _, n := range names {
		rr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
		if err != nil {
			t.Fatal(err)
		}
		release, err := a.RegisterView(rr, n)
		if err != nil {
			t.Fatal(err)
		}
		release()
	}
	var left int
	if err := conn.QueryRowContext(t.Context(), `SELECT count(*) FROM duckdb_views() WHERE `+loaderViewsWhere).Scan(&left); err != nil || left != len(names) {
		t.Fatalf("left %d views (%v), want %d", left, err, len(names))
	}
}

// queryInChild runs sql on the store at path, opened read-only, in a
// child process (see TestMain): reading a view an old pull left crashes
// DuckDB, which must not take the test binary with it.
func queryInChild(t *testing.T, path, sql string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TW_QUERY_STORE="+path, "TW_QUERY_SQL="+sql)
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// queryStore is the child of queryInChild: exit 0 with the rows, 3 with
// the error, anything else is a crash.
func queryStore(path, sql string) int {
	ctx := context.Background()
	s, err := OpenWith(ctx, path, Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(os.Stdout, err)
		return 3
	}
	defer func() { _ = s.Close() }()
	rows, err := s.Query(ctx, sql)
	if err != nil {
		fmt.Fprintln(os.Stdout, err)
		return 3
	}
	defer func() { _ = rows.Close() }()
	if _, err := query.Render(os.Stdout, rows, "csv"); err != nil {
		fmt.Fprintln(os.Stdout, err)
		return 3
	}
	return 0
}

// A store an older trailwarden pulled into holds Arrow views whose
// streams are gone. Reading one crashed the query (SIGSEGV in cgo, issue
// 14); now a read-only open refuses such a store and says that a pull
// removes them, the next pull drops them, and an export, which reads the
// events table alone, still works.
func TestViewsAnEarlierPullLeft(t *testing.T) {
	dir, path := demoStore(t)
	leaveLoaderViews(t, path, "tw_insert_0", "tw_insert_1", "tw_dups")

	out, code := queryInChild(t, path, `SELECT * FROM tw_insert_1 LIMIT 1`)
	if code != 3 || !strings.Contains(out, "a pull by an earlier trailwarden left (tw_dups, tw_insert_0, tw_insert_1)") ||
		!strings.Contains(out, "a pull into the store removes them") {
		t.Fatalf("query of a store with leftover views: exit %d\n%s", code, out)
	}
	_, err := OpenWith(t.Context(), path, Options{ReadOnly: true})
	if !errors.Is(err, ErrLoaderViews) {
		t.Fatalf("read-only open: %v, want ErrLoaderViews", err)
	}
	ex, err := OpenWith(t.Context(), path, Options{ReadOnly: true, Export: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := ex.ExportParquet(t.Context(), filepath.Join(dir, "parquet")); err != nil {
		t.Fatal(err)
	}
	if err := ex.Close(); err != nil {
		t.Fatal(err)
	}

	// What a pull opens: the views go.
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM duckdb_views() WHERE NOT internal`); n != 0 {
		t.Fatalf("%d views left after the store was opened for a pull", n)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	out, code = queryInChild(t, path, `SELECT * FROM tw_insert_1 LIMIT 1`)
	if code != 3 || !strings.Contains(out, "Table with name tw_insert_1 does not exist") {
		t.Fatalf("query after the pull: exit %d\n%s", code, out)
	}
	out, code = queryInChild(t, path, `SELECT count(*) AS n FROM events`)
	if want := fmt.Sprintf("n\n%d\n", sharedDemo(t).manifest.Events-sharedDemo(t).manifest.Duplicates); code != 0 || out != want {
		t.Fatalf("count after the pull: exit %d\n%s\nwant\n%s", code, out, want)
	}
}

// hostile are statements a query of the store must not run: each is
// refused as Why says (0: DuckDB cannot prepare it at all). %[1]s is the
// folder of the store, trail.duckdb; %[2]s a folder outside it.
var hostile = []struct {
	sql string
	why Refusal
}{
	// Writing the store through a second, writable ATTACH of its own
	// file, under other spellings of its path.
	{`ATTACH '%[1]s//trail.duckdb' AS rw (READ_ONLY false)`, Writes},
	{`SELECT 1; ATTACH '%[1]s//trail.duckdb' AS rw (READ_ONLY false); DELETE FROM rw.events`, Writes},
	{`attach '%[1]s/link.duckdb' as rw`, Writes},
	{`/* a comment */ ATTACH IF NOT EXISTS '%[1]s/./trail.duckdb' AS rw`, Writes},
	{`DETACH trail`, Writes},
	{`ATTACH ':memory:' AS m`, Writes},
	// Writing files.
	{`COPY events TO '%[2]s/events.csv'`, Writes},
	{`COPY (SELECT 1) TO '%[2]s/one.csv'`, Writes},
	{`COPY (SELECT 1) TO '%[1]s.tmp/one.csv'`, Writes},
	{`EXPORT DATABASE '%[2]s/exported'`, Writes},
	{`IMPORT DATABASE '%[2]s'`, Writes},
	{`VACUUM`, Writes},
	{`EXPLAIN ANALYZE COPY (SELECT 1) TO '%[2]s/explained.csv'`, Unchecked},
	{`PREPARE p AS COPY (SELECT 1) TO '%[2]s/prepared.csv'`, Unchecked},
	{`EXECUTE p`, Unchecked},
	// Changing the duckdb's tables.
	{`DELETE FROM events`, Writes},
	{`UPDATE events SET event_name = 'x'`, Writes},
	{`DROP TABLE ingested_files`, Writes},
	{`CREATE TABLE mine AS SELECT 1 AS x`, Writes},
	{`INSERT INTO trailwarden_meta VALUES ('schema_version', '99')`, Writes},
	// Reading files and the network.
	{`SELECT * FROM read_csv('/etc/passwd')`, ReadsFiles},
	{`SELECT * FROM glob('/root/*')`, ReadsFiles},
	{`SELECT * FROM read_text('/etc/hostname')`, ReadsFiles},
	{`SELECT * FROM read_json('%[2]s/*.json')`, ReadsFiles},
	{`SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')`, ReadsFiles},
	{`SELECT * FROM '/etc/passwd'`, 0},
	// Settings and extensions.
	{`SET memory_limit = '100GB'`, Settings},
	{`set threads = 64`, Settings},
	{`RESET memory_limit`, Settings},
	{`PRAGMA memory_limit = '100GB'`, Settings},
	{`SET enable_external_access = true`, Settings},
	{`SET lock_configuration = false`, Settings},
	{`SET GLOBAL allowed_directories = ['/']`, Settings},
	{`PRAGMA enable_verification`, Settings},
	{`USE system`, Settings},
	{`SELECT 42; SET memory_limit = '100GB'`, Settings},
	{`INSTALL httpfs`, Settings},
	{`LOAD httpfs`, Settings},
	{`FORCE INSTALL httpfs FROM 'http://127.0.0.1:9'`, Settings},
	// A statement DuckDB runs as several, which cannot be checked one by one.
	{`PIVOT events ON account USING count(*) GROUP BY event_name`, Unchecked},
	{`COPY FROM DATABASE trail TO other`, Writes},
}

// Every statement of hostile is refused with the reason it names, and
// none changes the store, the settings or any file (issue 14: a doubled
// slash in ATTACH deleted 849 rows; COPY, EXPORT DATABASE, read_csv,
// glob and SET memory_limit all ran).
func TestSealedStoreRefusesHostileSQL(t *testing.T) {
	dir, path := demoStore(t)
	outside := t.TempDir()
	if err := os.Symlink(path, filepath.Join(dir, "link.duckdb")); err != nil {
		t.Fatal(err)
	}
	s := openSealed(t, path)
	ctx := t.Context()
	events := count(t, s, `SELECT count(*) FROM events`)
	before := listFiles(t, dir, outside)
	var limit string
	if err := s.db.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&limit); err != nil {
		t.Fatal(err)
	}
	for _, h := range hostile {
		sql := strings.NewReplacer("%[1]s", dir, "%[2]s", outside).Replace(h.sql)
		rows, err := s.Query(ctx, sql)
		if err == nil {
			_ = rows.Close()
			t.Errorf("%s: ran", sql)
			continue
		}
		var re *RefusedError
		switch {
		case h.why == 0 && !errors.Is(err, ErrBadSQL):
			t.Errorf("%s: %v, want ErrBadSQL", sql, err)
		case h.why != 0 && (!errors.As(err, &re) || re.Why != h.why):
			t.Errorf("%s: %v, want refused as %d", sql, err, h.why)
		case h.why != 0 && !errors.Is(err, ErrRefused):
			t.Errorf("%s: %v does not match ErrRefused", sql, err)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != events {
		t.Errorf("%d events after the hostile statements, %d before", n, events)
	}
	var after string
	if err := s.db.QueryRowContext(ctx, `SELECT current_setting('memory_limit')`).Scan(&after); err != nil || after != limit {
		t.Errorf("memory_limit %q after, %q before (%v)", after, limit, err)
	}
	if n := count(t, s, `SELECT count(*) FROM duckdb_databases() WHERE NOT internal`); n != 1 {
		t.Errorf("%d databases attached, want the store alone", n)
	}
	if got := listFiles(t, dir, outside); !slices.Equal(got, before) {
		t.Errorf("files after the hostile statements:\n%v\nbefore:\n%v", got, before)
	}
	// And none was a write that DuckDB kept to itself: a writable open
	// finds the store as it was.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	rw, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rw.Close() }()
	if n := count(t, rw, `SELECT count(*) FROM events`); n != events {
		t.Errorf("%d events in the file, %d before", n, events)
	}
}

func listFiles(t *testing.T, dirs ...string) []string {
	t.Helper()
	var out []string
	for _, d := range dirs {
		err := filepath.Walk(d, func(p string, _ os.FileInfo, err error) error {
			out = append(out, p)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// What a query needs still runs on a sealed store: the JSON functions,
// several statements with temporary tables and variables, EXPLAIN of a
// SELECT, SHOW and DESCRIBE, a PIVOT with its values, and every named
// query. What a query leaves on its connection is gone for the next.
func TestSealedStoreRunsQueries(t *testing.T) {
	d := sharedDemo(t)
	_, path := demoStore(t)
	s := openSealed(t, path)
	total := fmt.Sprint(d.manifest.Events - d.manifest.Duplicates)
	for _, c := range []struct{ sql, want string }{
		{`SELECT count(*) FROM events WHERE json_extract_string(request_parameters, '$.bucketName') = 'demo-bucket'
		  AND (request_parameters->>'$.bucketName') = 'demo-bucket' AND json_valid(request_parameters)`, ""},
		{`SET VARIABLE n = 2; SELECT getvariable('n') + 1`, "3"},
		{`CREATE TEMP TABLE t AS SELECT count(*) AS n FROM events; INSERT INTO t VALUES (1); SELECT max(n) FROM t`, total},
		{`CREATE TEMP MACRO twice(x) AS 2 * x; SELECT twice(21)`, "42"},
		{`SELECT 1; -- a trailing comment`, "1"},
		{`EXPLAIN SELECT count(*) FROM events`, "physical_plan"},
		{`EXPLAIN ANALYZE SELECT count(*) FROM events`, "analyzed_plan"},
		{`SHOW TABLES`, "events"},
		{`DESCRIBE events`, "event_id"},
		{`PRAGMA version`, "v1."},
		{`CALL pragma_version()`, "v1."},
		{`BEGIN; SELECT 5; `, "5"},
		{`PIVOT (SELECT event_name, account FROM events) ON account IN ('` + d.manifest.Org.Management + `') USING count(*) GROUP BY event_name ORDER BY 1 LIMIT 1`, ""},
		{`SELECT current_setting('enable_external_access'), current_setting('lock_configuration')`, "false"},
	} {
		_, rows := queryAll(t, s, c.sql)
		if len(rows) == 0 {
			t.Errorf("%s: no rows", c.sql)
			continue
		}
		if got := fmt.Sprint(rows[0]...); c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: first row %q, want %q in it", c.sql, got, c.want)
		}
	}
	for _, n := range query.NamedQueries() {
		if cols, _ := queryAll(t, s, n.SQL[s.Name()]); len(cols) == 0 {
			t.Errorf("named query %s: no columns", n.Name)
		}
	}
	if _, err := s.Query(t.Context(), `SELECT * FROM t`); !errors.Is(err, ErrBadSQL) {
		t.Errorf("a temporary table outlived its query: %v", err)
	}
	if _, err := s.Query(t.Context(), ` ; -- nothing`); !errors.Is(err, ErrBadSQL) {
		t.Errorf("empty SQL: %v, want ErrBadSQL", err)
	}
	if err := s.ExportParquet(t.Context(), filepath.Join(t.TempDir(), "p")); err == nil {
		t.Error("a store sealed for queries exported")
	}
}

// Options.ReadFiles lets SQL read those files and folders and no other,
// and writing into them stays refused.
func TestSealedStoreReadsOnlyTheFilesItIsGiven(t *testing.T) {
	_, path := demoStore(t)
	data, other := t.TempDir(), t.TempDir()
	one := filepath.Join(other, "one.csv")
	for p, body := range map[string]string{
		filepath.Join(data, "ips.csv"): "ip,name\n10.0.0.1,office\n",
		one:                            "n\n7\n",
		filepath.Join(other, "no.csv"): "n\n8\n",
	} {
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(data, link); err != nil {
		t.Fatal(err)
	}
	s := openSealed(t, path, link, one)
	for _, c := range []struct{ sql, want string }{
		{`SELECT name FROM read_csv('` + filepath.Join(data, "ips.csv") + `')`, "office"},
		{`SELECT name FROM read_csv('` + filepath.Join(link, "ips.csv") + `')`, "office"},
		{`SELECT count(*) FROM glob('` + data + `/*')`, "1"},
		{`SELECT n FROM read_csv('` + one + `')`, "7"},
	} {
		_, rows := queryAll(t, s, c.sql)
		if len(rows) != 1 || fmt.Sprint(rows[0]...) != c.want {
			t.Errorf("%s: %v, want %s", c.sql, rows, c.want)
		}
	}
	for _, c := range []struct {
		sql string
		why Refusal
	}{
		{`SELECT * FROM read_csv('` + filepath.Join(other, "no.csv") + `')`, ReadsFiles},
		{`SELECT * FROM glob('` + other + `/*')`, ReadsFiles},
		{`SELECT * FROM read_csv('` + data + `/../` + filepath.Base(other) + `/no.csv')`, ReadsFiles},
		{`COPY (SELECT 1) TO '` + filepath.Join(data, "out.csv") + `'`, Writes},
		{`COPY (SELECT 1) TO '` + one + `'`, Writes},
		{`ATTACH '` + filepath.Join(data, "new.duckdb") + `' AS n`, Writes},
	} {
		var re *RefusedError
		if _, err := s.Query(t.Context(), c.sql); !errors.As(err, &re) || re.Why != c.why {
			t.Errorf("%s: %v, want refused as %d", c.sql, err, c.why)
		}
	}
	if entries, _ := os.ReadDir(data); len(entries) != 1 {
		t.Errorf("the readable folder holds %d files, want its one", len(entries))
	}
	if b, _ := os.ReadFile(one); string(b) != "n\n7\n" {
		t.Errorf("the readable file now holds %q", b)
	}
	if _, err := OpenWith(t.Context(), path, Options{ReadOnly: true, ReadFiles: []string{filepath.Join(data, "missing")}}); err == nil {
		t.Error("opened with a file to read that does not exist")
	}
	if _, err := OpenWith(t.Context(), path, Options{ReadFiles: []string{data}}); err == nil {
		t.Error("a store opened for writing took files to read")
	}
}

// DuckDB shares one instance per file in a process: a second read-only
// open of a store still open gets the sealed instance, which is accepted
// when sealed alike and refused otherwise.
func TestSealedStoreOpenedTwice(t *testing.T) {
	_, path := demoStore(t)
	data := t.TempDir()
	a := openSealed(t, path, data)
	b := openSealed(t, path, data)
	for _, s := range []*Store{a, b} {
		if n := count(t, s, `SELECT count(*) FROM events`); n == 0 {
			t.Fatal("no events")
		}
	}
	if _, err := OpenWith(t.Context(), path, Options{ReadOnly: true}); err == nil || !strings.Contains(err.Error(), "other access to files") {
		t.Fatalf("second open with other files to read: %v", err)
	}
}

// Query on a store opened for export refuses: its DuckDB can write.
func TestExportStoreRunsNoQuery(t *testing.T) {
	_, path := demoStore(t)
	s, err := OpenWith(t.Context(), path, Options{ReadOnly: true, Export: true})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if _, err := s.Query(t.Context(), `SELECT 1`); err == nil {
		t.Fatal("a store opened for export ran a query")
	}
}

func TestSplitStatements(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`SELECT 1`, []string{`SELECT 1`}},
		{`SELECT 1; SELECT 2;`, []string{`SELECT 1`, `SELECT 2`}},
		{" ;; \n-- only a comment; here\n /* and; this */ ", nil},
		{`SELECT ';' AS a; SELECT 'it''s; fine'`, []string{`SELECT ';' AS a`, `SELECT 'it''s; fine'`}},
		{`SELECT "a;b" FROM t; SELECT 2`, []string{`SELECT "a;b" FROM t`, `SELECT 2`}},
		{`SELECT E'\';' ; SELECT 2`, []string{`SELECT E'\';'`, `SELECT 2`}},
		{`SELECT e'a\\'; SELECT 2`, []string{`SELECT e'a\\'`, `SELECT 2`}},
		{`SELECT 'a\'; SELECT 2`, []string{`SELECT 'a\'`, `SELECT 2`}},
		{`SELECT $$;$$; SELECT $x$ ; $ $x$`, []string{`SELECT $$;$$`, `SELECT $x$ ; $ $x$`}},
		{`SELECT $1; SELECT 2`, []string{`SELECT $1`, `SELECT 2`}},
		{`SELECT 1 /* a /* nested; */ comment; */; SELECT 2 -- c; d`, []string{`SELECT 1 /* a /* nested; */ comment; */`, `SELECT 2 -- c; d`}},
		{`SELECT 'unterminated; SELECT 2`, []string{`SELECT 'unterminated; SELECT 2`}},
	} {
		if got := splitStatements(c.in); !slices.Equal(got, c.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// check prepares what it is given with DuckDB's parser, so text that
// holds more than one statement, as a mistake of splitStatements could
// leave, is refused rather than run.
func TestCheckRefusesSeveralStatementsAsOne(t *testing.T) {
	_, path := demoStore(t)
	s := openSealed(t, path)
	conn, err := s.db.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	for _, sql := range []string{`SELECT 1; ATTACH '` + path + `' AS rw (READ_ONLY false)`, `SELECT 1; SELECT 2`} {
		var re *RefusedError
		if err := check(t.Context(), conn, sql, true); !errors.As(err, &re) || re.Why != Unchecked {
			t.Errorf("check(%q) = %v, want refused as unchecked", sql, err)
		}
	}
	if n := count(t, s, `SELECT count(*) FROM duckdb_databases() WHERE NOT internal`); n != 1 {
		t.Fatalf("%d databases attached", n)
	}
}
