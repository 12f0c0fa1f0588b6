package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailwarden/trailwarden/internal/batch"
)

// ErrLost matches a *LoadError.
var ErrLost = errors.New("files rolled back")

// LoadError is a Loader's error for files DuckDB refused to store: a
// batch it could not insert, or a transaction it could not commit (out of
// memory, say). Everything the refused transaction held is rolled back,
// Keys names its files (nothing of them is stored, and they are not
// recorded as ingested), and the Loader goes on: the caller can load them
// again one at a time to find the file responsible, and load the rest.
// Events, Duplicates and Files are what earlier Loads reported of them (to
// take back from a running count).
type LoadError struct {
	Keys               []string
	Events, Duplicates int
	Files              int
	// Refused says that the batch given to Load was not loaded at all
	// (its files are among Keys; Events and Files do not count it).
	Refused bool
	// AtCommit says that DuckDB refused to commit the files (rather than
	// to insert a batch). Loading them again in smaller transactions is
	// not safe then: with DuckDB 1.4.5, a commit of many large values
	// that fits in memory can be followed by a checkpoint that does not,
	// and a failed automatic checkpoint lost the table's committed events
	// while ingested_files kept its rows. So they are not loaded again.
	AtCommit bool
	Err      error
}

func (e *LoadError) Error() string {
	return fmt.Sprintf("store: %d files rolled back: %v", len(e.Keys), e.Err)
}

// Is makes errors.Is(err, ErrLost) hold.
func (e *LoadError) Is(target error) bool { return target == ErrLost }

func (e *LoadError) Unwrap() error { return e.Err }

// Reason is what DuckDB said, on one line: the reason a file loaded alone
// was refused.
func (e *LoadError) Reason() string {
	var de *duckdb.Error
	msg := e.Err.Error()
	if errors.As(e.Err, &de) {
		msg = de.Msg
	}
	first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	return first
}

// errBroken is the reason for a batch refused because it holds a part of a
// file whose earlier parts were rolled back: loading the rest would record
// the file with part of its events.
var errBroken = errors.New("an earlier part of a file in the batch was rolled back")

// held is what a writer's open transaction holds, to say what a roll back
// loses.
type held struct {
	keys  []string
	got   Ingested
	files int
	gens  []uint64
}

// hold notes a batch loaded into w's open transaction.
func (w *writer) hold(b *batch.Events, gen uint64, got Ingested) {
	for _, f := range b.Files() {
		w.held.keys = append(w.held.keys, f.Key)
		if !f.Partial {
			w.held.files++
		}
	}
	w.held.got.Events += got.Events
	w.held.got.Duplicates += got.Duplicates
	w.held.gens = append(w.held.gens, gen)
}

// refused says whether err is DuckDB refusing what it was given (out of
// memory, a value it cannot convert), which loading the files again one
// at a time can pin on one, rather than a failure of the store itself
// (I/O, a failed checkpoint, a database DuckDB has invalidated), which
// stops the load.
func refused(err error) bool {
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return false
	}
	if msg := strings.ToLower(de.Msg); strings.Contains(msg, "checkpoint") || strings.Contains(msg, "invalidated") {
		return false
	}
	switch de.Type {
	case duckdb.ErrorTypeOutOfMemory, duckdb.ErrorTypeConversion, duckdb.ErrorTypeInvalidInput, duckdb.ErrorTypeOutOfRange,
		duckdb.ErrorTypeObjectSize, duckdb.ErrorTypeConstraint, duckdb.ErrorTypeTransaction, duckdb.ErrorTypeMismatchType,
		duckdb.ErrorTypeInvalidType:
		return true
	}
	return false
}

// brokenIn returns the keys of b's files if one of them had earlier parts
// rolled back; nil otherwise. l.mu is held.
func (l *Loader) brokenIn(b *batch.Events) []string {
	for _, f := range b.Files() {
		if l.broken[f.Key] {
			return fileKeys(b)
		}
	}
	return nil
}

func fileKeys(b *batch.Events) []string {
	var keys []string
	for _, f := range b.Files() {
		keys = append(keys, f.Key)
	}
	return keys
}

// rollBack ends w's transaction without committing it, after DuckDB
// refused err, and returns the LoadError for what it held (and for b, the
// batch being loaded, nil when none). The keys the transaction held are
// forgotten by deduplication, and the files it held parts of are broken:
// their later parts are refused.
func (l *Loader) rollBack(w *writer, b *batch.Events, gen uint64, err error) *LoadError {
	if w.tx != nil {
		_ = w.tx.Rollback()
		w.tx = nil
	}
	lost := w.held
	w.held = held{}
	keys := lost.keys
	gens := map[uint64]bool{}
	if b != nil {
		// b was refused before Load reported anything of it.
		keys = append(keys, fileKeys(b)...)
		gens[gen] = true
		for _, f := range b.Files() {
			if f.Partial {
				l.broken[f.Key] = true
			}
		}
	}
	for _, g := range lost.gens {
		gens[g] = true
	}
	for _, k := range keys {
		if _, ok := l.parts[k]; ok {
			delete(l.parts, k)
			l.broken[k] = true
		}
	}
	for g := range gens {
		delete(l.loaded, g)
	}
	l.seen.Forget(gens)
	slices.Sort(keys)
	return &LoadError{Keys: slices.Compact(keys), Events: lost.got.Events, Duplicates: lost.got.Duplicates, Files: lost.files,
		Refused: b != nil, Err: err}
}

// join adds o's files to e (nil for none).
func (e *LoadError) join(o *LoadError) *LoadError {
	if e == nil {
		return o
	}
	keys := append(e.Keys, o.Keys...)
	slices.Sort(keys)
	return &LoadError{Keys: slices.Compact(keys), Events: e.Events + o.Events, Duplicates: e.Duplicates + o.Duplicates,
		Files: e.Files + o.Files, Refused: e.Refused || o.Refused, AtCommit: e.AtCommit || o.AtCommit, Err: errors.Join(e.Err, o.Err)}
}

// ErrEventsLost matches the error of a commit after which the store holds
// fewer events than ingested_files records for its files.
var ErrEventsLost = errors.New("the store holds fewer events than it records for its files")

// checkCounts checks, after a commit, that the events table holds at
// least the events ingested_files records (more when files loaded in
// parts have parts committed and are not recorded yet). With DuckDB 1.4.5
// an automatic checkpoint that failed for lack of memory (during a
// commit of large values) left the events table empty while
// ingested_files kept its rows: the store would then skip those files
// forever. Both counts are cheap (DuckDB counts a table's rows from its
// metadata; ingested_files has a row per file). The counts are read on a
// connection of their own, as a new reader would see the store: the
// Loader's read connection carries the Arrow scans and temporary tables
// of duplicate searches, and once (under a load average of 18) a count
// on it failed with DuckDB's "unsuccessful or closed pending query
// result" after a good commit.
func (l *Loader) checkCounts(ctx context.Context) error {
	return checkCounts(ctx, l.s.db)
}

// checkCounts is Loader.checkCounts on q, the check a store opened for
// writing makes too: a pull with nothing new would otherwise pass over
// a store that lost events.
func checkCounts(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}) error {
	var events, recorded int64
	err := q.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM events), (SELECT coalesce(sum(events), 0) FROM ingested_files)`).
		Scan(&events, &recorded)
	if err != nil {
		return fmt.Errorf("count events: %w", err)
	}
	if events < recorded {
		return fmt.Errorf("%w: %d events, %d recorded (DuckDB lost committed events; restore the store from a copy or pull again into a new one)",
			ErrEventsLost, events, recorded)
	}
	return nil
}
