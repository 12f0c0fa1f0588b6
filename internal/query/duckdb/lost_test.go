package duckdb

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/record"
)

// fileBatch is a batch of one file of n events (ids key-0 ... key-n-1),
// with userAgent values of size bytes; bad puts bytes DuckDB refuses
// (invalid UTF-8, which the record parser never leaves) in its last one.
// partial makes it a part of its file.
func fileBatch(key string, n, size int, bad, partial bool) *batch.Events {
	b := &batch.Events{}
	b.Begin(batch.File{Key: key, Account: "1", Region: "r", Day: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)})
	for i := range n {
		ua := strings.Repeat(string(rune('a'+i%26)), size)
		if bad && i == n-1 {
			ua = "bad \xff"
		}
		b.Add(&record.Event{EventID: record.Field(fmt.Sprint(key, "-", i)), RecipientAccountID: record.Field("1"),
			EventTime: record.Field("2026-11-20T10:00:00Z"), Time: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC).UnixMicro(),
			TimeOK: true, UserAgent: record.Field(ua)})
	}
	if partial {
		b.CommitPart()
	} else {
		b.Commit()
	}
	return b
}

func load(t *testing.T, l *Loader, b *batch.Events) (Ingested, error) {
	t.Helper()
	if err := l.Prepare(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	return l.Load(context.Background(), b)
}

func storedKeys(t *testing.T, s *Store) []string {
	t.Helper()
	keys, err := s.IngestedKeys(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for k := range keys {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// A batch DuckDB refuses to insert rolls back its writer's transaction:
// a *LoadError names every file the transaction held (nothing of them is
// stored or recorded) and what earlier Loads reported of them, and the
// Loader goes on. The lost files load again (their events are not taken
// for duplicates of the rolled-back ones), and a file loaded in parts
// whose earlier parts were lost is refused until it is loaded again whole.
func TestLoaderRollsBackABatchDuckDBRefuses(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	l, err := s.NewLoader(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	got, err := load(t, l, fileBatch("a", 3, 10, false, false))
	if err != nil || got.Events != 3 {
		t.Fatalf("a: %+v, %v", got, err)
	}
	if _, err := load(t, l, fileBatch("p", 2, 10, false, true)); err != nil { // the first part of p
		t.Fatal(err)
	}
	bad := fileBatch("x", 2, 10, true, false)
	_, err = load(t, l, bad)
	var le *LoadError
	if !errors.As(err, &le) || !errors.Is(err, ErrLost) || !slices.Equal(le.Keys, []string{"a", "p", "x"}) || le.Events != 5 || le.Files != 1 ||
		!le.Refused || le.AtCommit || !strings.HasPrefix(le.Reason(), "Invalid Input Error: Invalid unicode") {
		t.Fatalf("refused batch: %v (%+v), want a, p and x lost (5 events, 1 whole file), refused, with DuckDB's reason", err, le)
	}
	// p's next part is refused: its first is gone.
	_, err = load(t, l, fileBatch("p", 2, 10, false, false))
	if !errors.As(err, &le) || !slices.Equal(le.Keys, []string{"p"}) || !le.Refused {
		t.Fatalf("the rest of p: %v, want it refused", err)
	}
	// a loads again, whole, beside new files; the Loader commits.
	for _, k := range []string{"a", "b"} {
		if got, err := load(t, l, fileBatch(k, 3, 10, false, false)); err != nil || got.Events != 3 || got.Duplicates != 0 {
			t.Fatalf("%s: %+v, %v; want 3 events, none taken for a duplicate", k, got, err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := storedKeys(t, s); !slices.Equal(keys, []string{"a", "b"}) || count(t, s, `SELECT count(*) FROM events`) != 6 {
		t.Fatalf("stored %v and %d events, want a and b, 6 events", keys, count(t, s, `SELECT count(*) FROM events`))
	}
}

// A transaction DuckDB refuses to commit (out of memory here, under a
// small memory limit) is rolled back whole: a *LoadError marked AtCommit
// names its files, the store holds nothing of them and stays usable.
func TestLoaderRollsBackACommitDuckDBRefuses(t *testing.T) {
	ctx := context.Background()
	s, err := OpenWith(ctx, filepath.Join(t.TempDir(), "trail.duckdb"), Options{MemoryLimit: "16MB", Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	l, err := s.NewLoader(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	for _, k := range []string{"h1", "h2", "h3"} {
		if _, err := load(t, l, fileBatch(k, 40, 900<<10, false, false)); err != nil {
			t.Fatal(err)
		}
	}
	err = l.Commit(ctx)
	var le *LoadError
	if !errors.As(err, &le) || !slices.Equal(le.Keys, []string{"h1", "h2", "h3"}) || !le.AtCommit || le.Refused || le.Events != 120 || le.Files != 3 {
		t.Fatalf("commit: %v (%+v), want h1, h2 and h3 lost at the commit", err, le)
	}
	if got, err := load(t, l, fileBatch("small", 3, 10, false, false)); err != nil || got.Events != 3 {
		t.Fatalf("after the refused commit: %+v, %v", got, err)
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if keys := storedKeys(t, s); !slices.Equal(keys, []string{"small"}) || count(t, s, `SELECT count(*) FROM events`) != 3 {
		t.Fatalf("stored %v, want only small and its 3 events", keys)
	}
}

// A store holding fewer events than ingested_files records for its files
// (as DuckDB 1.4.5 left one after an automatic checkpoint failed for lack
// of memory) is not trusted: the next commit and the next open for
// writing say so, so that a pull neither skips those files forever nor
// passes over them.
func TestStoreThatLostEventsIsNotTrusted(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.NewLoader(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a", "b"} {
		if _, err := load(t, l, fileBatch(k, 3, 10, false, false)); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	healthy, err := OpenWith(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := healthy.Lost(); err != nil {
		t.Errorf("a store that holds every event it records: Lost() = %v, want nil", err)
	}
	_ = healthy.Close()
	if _, err := s.db.ExecContext(ctx, `DELETE FROM events WHERE source_key = 'a'`); err != nil {
		t.Fatal(err)
	}
	if _, err := load(t, l, fileBatch("c", 3, 10, false, false)); err != nil {
		t.Fatal(err)
	}
	if err := l.Commit(ctx); !errors.Is(err, ErrEventsLost) || !strings.Contains(err.Error(), "6 events, 9 recorded") {
		t.Fatalf("commit: %v, want ErrEventsLost with 6 events of 9 recorded", err)
	}
	_ = l.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, path); !errors.Is(err, ErrEventsLost) {
		t.Fatalf("open: %v, want ErrEventsLost", err)
	}
	ro, err := OpenWith(ctx, path, Options{ReadOnly: true})
	if err != nil {
		t.Fatalf("read-only open: %v (the events left can still be read)", err)
	}
	if err := ro.Lost(); !errors.Is(err, ErrEventsLost) || !strings.Contains(err.Error(), "6 events, 9 recorded") {
		t.Errorf("read-only store's Lost() = %v, want ErrEventsLost with 6 events of 9 recorded", err)
	}
	_ = ro.Close()
	for _, opt := range []Options{{ReadOnly: true, Export: true}} {
		st, err := OpenWith(ctx, path, opt)
		if err != nil {
			t.Fatalf("open %+v: %v", opt, err)
		}
		if !errors.Is(st.Lost(), ErrEventsLost) {
			t.Errorf("open %+v: Lost() = %v, want ErrEventsLost", opt, st.Lost())
		}
		_ = st.Close()
	}
}
