package duckdb

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"
)

func TestOpenCreatesAndReopens(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name() != "duckdb" {
		t.Fatalf("Name = %q", s.Name())
	}
	if n := count(t, s, `SELECT value::INT FROM trailwarden_meta WHERE key = 'schema_version'`); n != SchemaVersion {
		t.Fatalf("schema version %d", n)
	}
	f := writeGz(t, "a.json.gz", []byte(twoEvents))
	if _, err := ingest(ctx, s, f); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenWith(ctx, path, Options{ReadOnly: true, MemoryLimit: "128MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if ok, err := s.Has(ctx, f.Key); err != nil || !ok {
		t.Fatalf("Has after reopen = %v, %v", ok, err)
	}
	if _, err := ingest(ctx, s, writeGz(t, "b.json.gz", []byte(twoEvents))); err == nil {
		t.Fatal("a read-only store accepted an ingest")
	}
}

// rawExec changes a store file behind trailwarden's back.
func rawExec(t *testing.T, path string, stmts ...string) {
	t.Helper()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	rawExec(t, path, `UPDATE trailwarden_meta SET value = '3' WHERE key = 'schema_version'`)
	_, err = Open(ctx, path)
	if !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("err = %v, want ErrNewerSchema", err)
	}
	want := "store: " + path + " has schema version 3, this trailwarden reads up to 2: upgrade trailwarden"
	if err.Error() != want {
		t.Fatalf("err = %q\nwant %q", err, want)
	}
	// Refused, not modified.
	rawExec(t, path, `CREATE TABLE check_v AS SELECT value FROM trailwarden_meta WHERE value = '3'`)
}

func TestOpenRefusesForeignDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.duckdb")
	rawExec(t, path, `CREATE TABLE events (id INT)`)
	if _, err := Open(context.Background(), path); err == nil {
		t.Fatal("opened a database with someone else's events table")
	}
	garbage := filepath.Join(t.TempDir(), "garbage.duckdb")
	if err := os.WriteFile(garbage, []byte("not a database at all, just text that is long enough"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), garbage); err == nil {
		t.Fatal("opened a file that is not a database")
	}
	if _, err := OpenWith(context.Background(), filepath.Join(t.TempDir(), "x.duckdb"), Options{MemoryLimit: "lots"}); err == nil {
		t.Fatal("accepted a memory limit that is not a size")
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"256MB": 256e6, "1GiB": 1 << 30, "1.5 GB": 15e8, "512": 512} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}

func TestQueriesRunBesideIngest(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	ctx := context.Background()
	done := make(chan error, 1)
	go func() {
		var err error
		for start := 0; start < len(d.files) && err == nil; start += 10 {
			_, err = ingest(ctx, s, d.files[start:min(start+10, len(d.files))]...)
		}
		done <- err
	}()
	last := int64(-1)
	for running := true; running; {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			running = false
		default:
		}
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if st.Events < last {
			t.Fatalf("events went from %d to %d", last, st.Events)
		}
		last = st.Events
		// Committed batches only: every stored event's file is recorded.
		if n := count(t, s, `SELECT count(*) FROM events WHERE source_key NOT IN (SELECT key FROM ingested_files)`); n != 0 {
			t.Fatalf("%d events visible before their file was recorded", n)
		}
	}
	if last != d.manifest.Events-d.manifest.Duplicates {
		t.Fatalf("%d events at the end", last)
	}
}

// A store written with schema 1 (the verbatim record column) is upgraded
// in place: its records stay whole in extra, and new loads go on.
func TestOpenMigratesSchema1(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	v1 := strings.Replace(schema[0], "extra JSON,", "record JSON NOT NULL,", 1)
	rawExec(t, path, `CREATE TABLE trailwarden_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`,
		`INSERT INTO trailwarden_meta VALUES ('schema_version', '1')`, v1, schema[1],
		`INSERT INTO events (event_id, record, account, region, event_date, source_key)
		 VALUES ('old', '{"eventID":"old","eventName":"X"}', '111122223333', 'us-east-1', DATE '2026-11-19', 'k0')`)
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	if _, rows := queryAll(t, s, `SELECT extra->>'$.eventName' FROM events WHERE event_id = 'old'`); rows[0][0] != "X" {
		t.Fatalf("the old record is not in extra: %v", rows)
	}
	if _, err := ingest(ctx, s, writeGz(t, "new.json.gz", []byte(twoEvents))); err != nil {
		t.Fatal(err)
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != 4 {
		t.Fatalf("%d events after the upgrade, want 4", n)
	}
	if n := count(t, s, `SELECT value::INTEGER FROM trailwarden_meta WHERE key = 'schema_version'`); n != SchemaVersion {
		t.Fatalf("schema version %d after the upgrade", n)
	}
}

// A store another process has open for writing is refused with ErrLocked,
// so the CLI can say so instead of suggesting a pull.
func TestOpenSaysWhenAnotherProcessHoldsTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TW_HOLD_STORE="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "holding\n" {
		t.Fatalf("the holder said %q, %v", line, err)
	}
	for _, opt := range []Options{{}, {ReadOnly: true}} {
		_, err := OpenWith(context.Background(), path, opt)
		if !errors.Is(err, ErrLocked) {
			t.Fatalf("read-only %v: err = %v, want ErrLocked", opt.ReadOnly, err)
		}
		// The holder is named, so the user knows which process to wait for.
		var le *LockedError
		if !errors.As(err, &le) || le.PID != cmd.Process.Pid || filepath.Base(le.Program) != filepath.Base(os.Args[0]) || le.Pulling {
			t.Fatalf("read-only %v: %#v, want the holder's PID %d and program %s, not pulling", opt.ReadOnly, le, cmd.Process.Pid, os.Args[0])
		}
	}
}

// A path holding some other file is ErrNotStore, short or long, read-only
// or not, so the CLI can say to check --db rather than to pull first.
func TestOpenSaysWhenTheFileIsNotADatabase(t *testing.T) {
	for _, content := range []string{"x\n", strings.Repeat("not a database at all. ", 1000)} {
		path := filepath.Join(t.TempDir(), "notes.duckdb")
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		for _, ro := range []bool{false, true} {
			_, err := OpenWith(context.Background(), path, Options{ReadOnly: ro})
			if !errors.Is(err, ErrNotStore) {
				t.Fatalf("%d bytes, read-only %v: err = %v, want ErrNotStore", len(content), ro, err)
			}
		}
	}
}

// TestWritableStoreRowGroups checks how a store opened for writing is
// attached: row groups of RowGroupSize rows (DuckDB's default would not
// fit a pull's memory), temporary files beside the file, and the ids
// that are unique per event stored uncompressed.
func TestWritableStoreRowGroups(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	const rows = 2*RowGroupSize + 100
	if _, err := s.db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO events (event_id, request_id, event_name, account, region, event_date, source_key)
SELECT uuid()::VARCHAR, uuid()::VARCHAR, 'Get' || (i %% 7), '111111111111', 'us-east-1', DATE '2026-11-20', 'k'
FROM range(%d) t(i); CHECKPOINT`, rows)); err != nil {
		t.Fatal(err)
	}
	var groups, largest int64
	if err := s.db.QueryRowContext(ctx, `SELECT count(*), max(n) FROM (SELECT row_group_id, sum(count) AS n
FROM pragma_storage_info('events') WHERE column_name = 'event_id' AND segment_type = 'VARCHAR' GROUP BY ALL)`).Scan(&groups, &largest); err != nil {
		t.Fatal(err)
	}
	if groups != 3 || largest > RowGroupSize {
		t.Errorf("%d rows in %d row groups of at most %d rows, want 3 of at most %d", rows, groups, largest, RowGroupSize)
	}
	var dir, compression string
	if err := s.db.QueryRowContext(ctx, `SELECT current_setting('temp_directory')`).Scan(&dir); err != nil {
		t.Fatal(err)
	}
	if dir != s.Path()+".tmp" {
		t.Errorf("temporary files go to %q, want %q beside the store", dir, s.Path()+".tmp")
	}
	if err := s.db.QueryRowContext(ctx, `SELECT string_agg(DISTINCT compression, ',') FROM pragma_storage_info('events')
WHERE column_name IN ('event_id', 'request_id') AND segment_type = 'VARCHAR'`).Scan(&compression); err != nil {
		t.Fatal(err)
	}
	if compression != "Uncompressed" {
		t.Errorf("event_id and request_id stored as %s, want Uncompressed", compression)
	}
}

// A store created and left without an ingested file is Empty, and Remove
// deletes it with what DuckDB keeps beside it.
func TestStore_EmptyAndRemove(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.duckdb")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	empty, err := st.Empty(ctx)
	if err != nil || !empty {
		t.Fatalf("new store: empty %v, %v", empty, err)
	}
	if _, err := ingest(ctx, st, writeGz(t, "a.json.gz", []byte(`{"Records":[{"eventID":"e1","eventTime":"2026-11-20T00:01:00Z"}]}`))); err != nil {
		t.Fatal(err)
	}
	if empty, err = st.Empty(ctx); err != nil || empty {
		t.Fatalf("store with a file: empty %v, %v", empty, err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".wal", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(path+".tmp", "spill"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := Remove(path); err != nil {
		t.Fatal(err)
	}
	left, _ := filepath.Glob(path + "*")
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	if err := Remove(path); err != nil {
		t.Fatalf("removing a removed store: %v", err)
	}
}
