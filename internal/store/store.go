// Package store is trailwarden's local event store: an embedded DuckDB
// database file holding CloudTrail events, loaded straight from the gzipped
// log files by DuckDB's own JSON reader and queried with DuckDB SQL. It is
// the only package that imports DuckDB (and so the only cgo user).
//
// # One process
//
// A store file is opened read-write by one process at a time: DuckDB locks
// the file, and a second process gets an error naming the lock. Within the
// process a Store is safe for concurrent use: ingests are serialized (so
// deduplication never races), queries run beside them on their own
// connections and see only committed data.
//
// # Crash safety
//
// A batch of files is loaded in one transaction together with the rows
// that record those files in ingested_files. A process killed mid-batch
// leaves neither its events nor its file records, so asking IngestedKeys
// what is done and ingesting the rest resumes with no loss and no
// duplicates.
//
// # SQL
//
// Query runs whatever SQL it is given, with the rights of the user on a
// file the user owns: it is not a sandbox. DuckDB can read and write other
// files from SQL (read_csv, COPY ... TO, ATTACH); that is the user's
// business, as it would be in the duckdb shell.
package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strconv"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
)

// DefaultMemoryLimit bounds DuckDB's memory unless Options say otherwise;
// DuckDB spills sorts and large inserts to a temporary folder beside the
// database file instead of growing past it. DuckDB's process footprint is
// about 250 MB above the limit while it ingests (allocations its buffer
// manager does not count), so 128 MB keeps a pull under 512 MB. It also
// gives one thread (see defaultThreads), which ingests with 45% less CPU
// than two: 9.0 instead of 16.8 CPU seconds for 370,000 events, measured
// with internal/store's ingest on a 2-core machine.
const DefaultMemoryLimit = "128MB"

// Options tune a store. The zero value is a sensible default.
type Options struct {
	// MemoryLimit is DuckDB's memory_limit, e.g. "256MB" or "2GB".
	MemoryLimit string
	// Threads is DuckDB's thread count; 0 means GOMAXPROCS capped at one
	// per 96MB of MemoryLimit, what DuckDB's JSON reading needs per thread
	// (see large.go). More threads than that can fail ingests with
	// DuckDB's "Out of Memory Error".
	Threads int
	// ReadOnly opens an existing store without taking the write lock, so
	// several read-only processes can query one file (no ingest then).
	ReadOnly bool
	// TempDir holds the newline-delimited copies of log files too large for
	// DuckDB's single-object JSON reader; "" means the OS temp folder.
	TempDir string
}

// Store is an open event store.
type Store struct {
	db   *sql.DB
	path string
	opt  Options
	// maxObject is the largest decompressed log file read whole, chunk the
	// JSON bytes staged at a time; see large.go.
	maxObject, chunk int64

	// mu serializes ingests: deduplication reads the table it writes.
	mu sync.Mutex
	// afterEvents, when set by tests, runs inside an ingest transaction
	// after the events are inserted and before the files are recorded.
	afterEvents func()
}

// Open creates or opens the store at path with default Options.
func Open(ctx context.Context, path string) (*Store, error) {
	return OpenWith(ctx, path, Options{})
}

// OpenWith creates or opens the store at path. A store written by a newer
// trailwarden (a higher schema version) is refused, never modified.
func OpenWith(ctx context.Context, path string, opt Options) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: open: empty path")
	}
	if opt.MemoryLimit == "" {
		opt.MemoryLimit = DefaultMemoryLimit
	}
	limit, err := parseBytes(opt.MemoryLimit)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: memory limit: %w", path, err)
	}
	if opt.Threads <= 0 {
		opt.Threads = defaultThreads(limit, runtime.GOMAXPROCS(0))
	}
	q := url.Values{}
	q.Set("memory_limit", opt.MemoryLimit)
	q.Set("threads", strconv.Itoa(opt.Threads))
	// Keeping insertion order makes parallel inserts buffer rows to
	// reorder them; ingest does not need it (see loadChunk) and queries
	// that care say ORDER BY.
	q.Set("preserve_insertion_order", "false")
	// DuckDB's allocator keeps freed pages unless background threads
	// return them: without them a 370,000-event ingest peaked at 650 MB
	// of RSS instead of 390 MB.
	q.Set("allocator_background_threads", "true")
	if opt.ReadOnly {
		q.Set("access_mode", "READ_ONLY")
	}
	conn, err := duckdb.NewConnector(path+"?"+q.Encode(), func(driver.ExecerContext) error { return nil })
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{db: sql.OpenDB(conn), path: path, opt: opt,
		maxObject: maxObjectSize(limit, opt.Threads), chunk: chunkBytes(limit)}
	if err := s.migrate(ctx); err != nil {
		_ = s.db.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database; DuckDB checkpoints its write-ahead log.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	return nil
}

// Name is the query engine's name, the key of a named query's dialect.
func (s *Store) Name() string { return "duckdb" }

// Path is the database file.
func (s *Store) Path() string { return s.path }
