// Package duckdb is trailwarden's local event store: an embedded DuckDB
// database file holding CloudTrail events, loaded from batches parsed in
// Go (package batch) through DuckDB's Arrow interface, without a copy, and
// queried with DuckDB SQL. It is the only package that imports DuckDB (and
// so the only cgo user).
//
// # One process
//
// A store file is opened read-write by one process at a time: DuckDB locks
// the file, and a second process gets a *LockedError naming the process
// that holds it. Within the process a Store is safe for concurrent use:
// ingests are serialized (so deduplication never races), queries run
// beside them on their own connections and see only committed data.
//
// # Crash safety
//
// Files are loaded in transactions together with the rows that record
// them in ingested_files (see Loader). A process killed mid-batch
// leaves neither its events nor its file records, so asking IngestedKeys
// what is done and ingesting the rest resumes with no loss and no
// duplicates.
//
// # SQL
//
// Only a pull changes a store. A store opened read-only (Options.ReadOnly)
// is sealed: DuckDB opens the file read-only, with its access to other
// files and to the network off (but for the files and folders of
// Options.ReadFiles, which SQL may read), no extension installed or
// loaded on demand, and its configuration locked after the limits are
// set, so SQL cannot raise them. DuckDB still lets SQL ATTACH the store's
// own file again for writing (under another spelling of its path, such as
// a doubled slash), so Query also checks each statement before it runs
// it and refuses those that could write (ATTACH, COPY, EXPORT), change
// settings or extensions (SET, PRAGMA, INSTALL, LOAD), or hide the
// statement they run (PREPARE, EXECUTE, EXPLAIN ANALYZE of anything but a
// SELECT): see RefusedError. Exporting is its own path (Options.Export,
// ExportParquet).
package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// DefaultMemoryLimit bounds DuckDB's memory unless Options say otherwise;
// DuckDB spills sorts and large inserts to a temporary folder beside the
// database file instead of growing past it.
const DefaultMemoryLimit = "256MB"

// ErrLocked matches errors for a store another process has open for
// writing (a pull holds its store until it ends).
var ErrLocked = errors.New("store in use by another process")

// ErrNotStore matches errors for a path that holds some other file than
// a DuckDB database.
var ErrNotStore = errors.New("not a DuckDB database file")

// ErrEmptyStore matches errors for a store file that is empty: what a
// pull killed while DuckDB created the store leaves. It holds no events;
// the next pull replaces it.
var ErrEmptyStore = errors.New("the store file is empty (a pull stopped before it wrote anything leaves such a file)")

// openErr marks DuckDB's errors for a file another process holds the
// lock on (a *LockedError, ErrLocked) and for a file that is no database (ErrNotStore):
// each needs its own fix.
func openErr(path string, err error) error {
	switch msg := err.Error(); {
	case strings.Contains(msg, "Could not set lock on file"):
		return lockedError(path, err)
	case strings.Contains(msg, "not a valid DuckDB database file"):
		return fmt.Errorf("%w: %w", err, ErrNotStore)
	}
	return err
}

// Options tune a store. The zero value is a sensible default.
type Options struct {
	// MemoryLimit is DuckDB's memory_limit, e.g. "256MB" or "2GB".
	MemoryLimit string
	// Threads is DuckDB's thread count; 0 means GOMAXPROCS. A pull wants
	// 1: DuckDB inserts its batches faster on one thread than on two
	// (2.4 s instead of 3.6 s for 378,000 events on 2 cores), and the
	// other cores parse.
	Threads int
	// ReadOnly opens an existing store without taking the write lock, so
	// several read-only processes can query one file (no ingest then).
	// The store is sealed (see the package comment) unless Export is set.
	ReadOnly bool
	// ReadFiles are the files and folders (with everything under them)
	// that SQL on a sealed store may read, with read_csv and the like.
	// Query still refuses the statements that write (COPY, ATTACH...).
	ReadFiles []string
	// Export opens a read-only store for ExportParquet alone: DuckDB
	// keeps its access to files, to write the export, so Query refuses to
	// run on such a store.
	Export bool
}

// Store is an open event store.
type Store struct {
	db   *sql.DB
	path string
	opt  Options

	// mu serializes ingests: deduplication reads the table it writes.
	mu sync.Mutex
	// afterEvents, when set by tests, runs inside an ingest transaction
	// after the events are inserted and before the files are recorded.
	afterEvents func()

	// lost is ErrEventsLost when a store opened read-only holds fewer
	// events than it records: its answers are short.
	lost error
}

// Lost says whether a store opened read-only holds fewer events than it
// records for its files (ErrEventsLost, wrapped), or nil. Such a store
// still opens, so that what is left can be read or exported, but every
// answer from it is short and must say so.
func (s *Store) Lost() error { return s.lost }

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
	if _, err := parseBytes(opt.MemoryLimit); err != nil {
		return nil, fmt.Errorf("store: open %s: memory limit: %w", path, err)
	}
	if opt.Threads <= 0 {
		opt.Threads = runtime.GOMAXPROCS(0)
	}
	q := url.Values{}
	q.Set("memory_limit", opt.MemoryLimit)
	q.Set("threads", strconv.Itoa(opt.Threads))
	// Keeping insertion order makes parallel inserts buffer rows to
	// reorder them; loads do not need it and queries that care say ORDER
	// BY.
	q.Set("preserve_insertion_order", "false")
	// DuckDB's allocator keeps freed pages unless background threads
	// return them: without them a 370,000-event ingest peaked at 650 MB
	// of RSS instead of 390 MB.
	q.Set("allocator_background_threads", "true")
	if len(opt.ReadFiles) > 0 && (!opt.ReadOnly || opt.Export) {
		return nil, fmt.Errorf("store: open %s: files to read are for a store opened read-only for queries", path)
	}
	sealed := opt.ReadOnly && !opt.Export
	if opt.ReadOnly {
		q.Set("access_mode", "READ_ONLY")
	} else {
		// FSST, DuckDB's costliest string compression, is off for what
		// trailwarden writes: inserts take 18% less time (1.75 s instead
		// of 2.14 s for 378,000 events) for a file about 1.6 times as
		// large (84 MB instead of 53 MB).
		q.Set("disabled_compression_methods", "fsst")
	}

	var readable *readPaths
	if sealed {
		// Startup settings, which DuckDB applies in no set order: none of
		// these depends on another. Extensions are neither downloaded nor
		// loaded on demand (a query naming an s3:// path would otherwise
		// fetch httpfs over the network).
		q.Set("autoinstall_known_extensions", "false")
		q.Set("autoload_known_extensions", "false")
		q.Set("allow_community_extensions", "false")
		q.Set("allow_persistent_secrets", "false")
		var err error
		if readable, err = readablePaths(opt.ReadFiles); err != nil {
			return nil, fmt.Errorf("store: open %s: %w", path, err)
		}
	}

	if opt.ReadOnly {
		// DuckDB calls an empty file "not a valid DuckDB database file",
		// which would send the user after the wrong problem.
		fi, err := os.Stat(path) // #nosec G703 -- the store the user named with --db
		if err == nil && fi.Mode().IsRegular() && fi.Size() == 0 {
			return nil, fmt.Errorf("store: open %s: %w", path, ErrEmptyStore)
		}
	}
	dsn, init := path+"?"+q.Encode(), func(driver.ExecerContext) error { return nil }
	opened, createdWAL := time.Now(), false
	if !opt.ReadOnly {
		if err := removeCrashLeftover(path); err != nil {
			return nil, fmt.Errorf("store: open %s: remove the empty file a crash left: %w", path, err)
		}
		dsn, init = attached(path, q)
		createdWAL = prepareFiles(path)
	}
	failOpen := func(err error) (*Store, error) {
		unprepareFiles(path, createdWAL)
		return nil, openErr(path, err)
	}
	conn, err := duckdb.NewConnector(dsn, init)
	if err != nil {
		return failOpen(fmt.Errorf("store: open %s: %w", path, err))
	}
	s := &Store{db: sql.OpenDB(conn), path: path, opt: opt}
	fail := func(err error) (*Store, error) {
		_ = s.db.Close()
		return failOpen(err)
	}
	if sealed {
		if err := s.seal(ctx, readable); err != nil {
			return fail(err)
		}
		// A connection keeps what a query left on it (temporary tables,
		// variables, an open transaction): each query gets a new one.
		s.db.SetMaxIdleConns(0)
	}
	if err := s.migrate(ctx); err != nil {
		return fail(err)
	}
	if opt.ReadOnly {
		// A write-open refuses such a store; a read keeps going, marked.
		if err := checkCounts(ctx, s.db); errors.Is(err, ErrEventsLost) {
			s.lost = fmt.Errorf("store %s: %w", path, err)
		} else if err != nil {
			return fail(fmt.Errorf("store: open %s: %w", path, err))
		}
	} else {
		err := s.private(opened)
		if err == nil {
			if err = checkCounts(ctx, s.db); err != nil {
				err = fmt.Errorf("store: open %s: %w", path, err)
			}
		}
		if err != nil {
			_ = s.db.Close()
			return nil, err
		}
	}
	if err := s.loaderViews(ctx); err != nil {
		return fail(err)
	}
	return s, nil
}

// RowGroupSize is how many rows DuckDB puts in a row group of a store
// opened for writing. DuckDB builds a row group uncompressed in memory
// and compresses it to the file once full; at its default of 122,880
// rows, a row group of CloudTrail events is about 160 MB of text, more
// than a pull's memory limit, so DuckDB spilled every one to temporary
// files and read it back (1.3 GB for 2 million events, 12% of the pull's
// CPU time in compression, writes and reads). Two writers' row groups of
// 32,768 rows fit in the limit.
const RowGroupSize = 32_768

// attachedName is the catalog a store opened for writing is attached as.
const attachedName = "trailwarden_store"

// attached opens the store the one way DuckDB takes a row group size: an
// in-memory database that ATTACHes the file (each connection attaches it
// if no other has yet, and makes it the default). Temporary files go
// where DuckDB puts them for a database file, beside it.
func attached(path string, q url.Values) (string, func(driver.ExecerContext) error) {
	q.Set("temp_directory", path+".tmp")
	stmt := fmt.Sprintf("ATTACH IF NOT EXISTS %s AS %s (ROW_GROUP_SIZE %d); USE %s",
		sqlString(path), attachedName, RowGroupSize, attachedName)
	return ":memory:?" + q.Encode(), func(e driver.ExecerContext) error {
		_, err := e.ExecContext(context.Background(), stmt, nil)
		return err
	}
}

// Close closes the database; DuckDB checkpoints its write-ahead log.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("store: close %s: %w", s.path, err)
	}
	if !s.opt.ReadOnly {
		s.removeEmptyTempDir()
	}
	return nil
}

// Name is the query engine's name, the key of a named query's dialect.
func (s *Store) Name() string { return "duckdb" }

// Path is the database file.
func (s *Store) Path() string { return s.path }
