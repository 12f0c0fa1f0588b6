package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// File is one CloudTrail log file to load.
type File struct {
	// Key is the object key; it names the file in ingested_files and
	// events.source_key. Account, Region and Day come from it
	// (layout.Parse): Day is the delivery date folder.
	Key, Account, Region string
	Day                  time.Time
	// Path is a local copy of the gzipped log file, already verified by
	// the caller. The store only reads it.
	Path string
	// Verified says whether a digest vouched for the file's bytes.
	Verified bool
}

// Ingested counts what a load did: events inserted, and events skipped as
// duplicates of an event already stored or earlier in the same batch.
type Ingested struct {
	Events, Duplicates int
}

// ErrBadFile matches errors for a file that is not a CloudTrail log file:
// not gzip, not JSON, truncated, or without a Records array (a digest or
// Insights file). Nothing of a batch holding such a file is loaded.
var ErrBadFile = errors.New("not a CloudTrail log file")

// BadFileError names the bad file of a batch, so a caller can set it aside
// and load the rest.
type BadFileError struct {
	Key string
	Err error
}

func (e *BadFileError) Error() string {
	return fmt.Sprintf("store: ingest %s: %v: %v", e.Key, ErrBadFile, e.Err)
}

// Unwrap makes errors.Is(err, ErrBadFile) hold and exposes the cause.
func (e *BadFileError) Unwrap() []error { return []error{ErrBadFile, e.Err} }

// IngestFile loads one log file; see IngestFiles.
func (s *Store) IngestFile(ctx context.Context, f File) (Ingested, error) {
	return s.IngestFiles(ctx, []File{f})
}

// IngestFiles loads a batch of log files in one transaction, together with
// their rows in ingested_files: after a crash either the whole batch is
// stored or none of it. DuckDB's JSON reader reads the files, many at a
// time, in chunks of bounded size (see loadBatch). Files already ingested
// (and repeats of a key within the batch) are skipped, so loading a batch
// again is a no-op. Events are deduplicated on (event_id,
// recipient_account_id) within the batch and against the table. A bad
// file fails the whole batch with a *BadFileError naming it.
//
// Batches are several times faster than single files (one transaction,
// one scan for duplicates, parallel reads, one query plan): callers should
// batch, a few dozen files or more at a time.
func (s *Store) IngestFiles(ctx context.Context, files []File) (Ingested, error) {
	if s.opt.ReadOnly {
		return Ingested{}, fmt.Errorf("store: ingest into %s: opened read-only", s.path)
	}
	batch, err := normalize(files)
	if err != nil || len(batch) == 0 {
		return Ingested{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return Ingested{}, fmt.Errorf("store: ingest into %s: %w", s.path, err)
	}
	defer func() { _ = conn.Close() }()
	batch, err = dropIngested(ctx, conn, batch)
	if err != nil || len(batch) == 0 {
		return Ingested{}, err
	}
	got, err := s.loadBatch(ctx, conn, batch, false)
	var de *duckdb.Error
	if errors.As(err, &de) && (de.Type == duckdb.ErrorTypeObjectSize || de.Type == duckdb.ErrorTypeOutOfMemory) {
		// A file larger than its gzip trailer claimed (several gzip
		// members), or files that parse bigger than estimated: streamed,
		// every record is a small object.
		got, err = s.loadBatch(ctx, conn, batch, true)
	}
	return got, err
}

// normalize checks a batch, makes paths absolute (read_json's filename
// column is matched back to them), drops repeated keys and sorts it.
func normalize(files []File) ([]File, error) {
	out := make([]File, 0, len(files))
	seen := make(map[string]bool, len(files))
	for _, f := range files {
		if f.Key == "" || f.Path == "" || f.Account == "" || f.Region == "" || f.Day.IsZero() {
			return nil, fmt.Errorf("store: ingest %q: Key, Path, Account, Region and Day are required", f.Key)
		}
		if seen[f.Key] {
			continue
		}
		seen[f.Key] = true
		abs, err := filepath.Abs(f.Path)
		if err != nil {
			return nil, fmt.Errorf("store: ingest %s: %w", f.Key, err)
		}
		f.Path = abs
		f.Day = f.Day.UTC().Truncate(24 * time.Hour)
		out = append(out, f)
	}
	// Insertion order follows the batch's; see loadChunk.
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if !a.Day.Equal(b.Day) {
			return a.Day.Before(b.Day)
		}
		return a.Key < b.Key
	})
	return out, nil
}

// dropIngested removes files already recorded in ingested_files.
func dropIngested(ctx context.Context, conn *sql.Conn, batch []File) ([]File, error) {
	keys := make([]any, len(batch))
	for i, f := range batch {
		keys[i] = f.Key
	}
	done := map[string]bool{}
	for start := 0; start < len(keys); start += paramChunk {
		part := keys[start:min(start+paramChunk, len(keys))]
		q := `SELECT key FROM ingested_files WHERE key IN (` + placeholders(len(part)) + `)` //nolint:gosec // only "?" placeholders are concatenated
		rows, err := conn.QueryContext(ctx, q, part...)
		if err != nil {
			return nil, fmt.Errorf("store: look up ingested files: %w", err)
		}
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				_ = rows.Close()
				return nil, fmt.Errorf("store: look up ingested files: %w", err)
			}
			done[k] = true
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("store: look up ingested files: %w", err)
		}
	}
	out := batch[:0:0]
	for _, f := range batch {
		if !done[f.Key] {
			out = append(out, f)
		}
	}
	return out, nil
}

// Has says whether the file with this key has been ingested.
func (s *Store) Has(ctx context.Context, key string) (bool, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM ingested_files WHERE key = ?`, key).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: look up %s: %w", key, err)
	}
	return n > 0, nil
}

// IngestedKeys returns the keys of the ingested files under prefix ("" for
// all), so the puller can skip them without asking file by file.
func (s *Store) IngestedKeys(ctx context.Context, prefix string) (map[string]bool, error) {
	// A range on key (besides starts_with) lets DuckDB skip row groups by
	// their min/max key.
	q, args := `SELECT key FROM ingested_files WHERE starts_with(key, ?) AND key >= ?`, []any{prefix, prefix}
	if hi, ok := prefixEnd(prefix); ok {
		q, args = q+` AND key < ?`, append(args, hi)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list ingested files under %q: %w", prefix, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: list ingested files under %q: %w", prefix, err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list ingested files under %q: %w", prefix, err)
	}
	return out, nil
}

// prefixEnd is the smallest string above every string with this prefix,
// for ASCII prefixes (keys are in practice); ok is false otherwise.
func prefixEnd(p string) (string, bool) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] >= 0x7f {
			return "", false
		}
		if p[i] < 0x7e {
			return p[:i] + string(p[i]+1), true
		}
	}
	return "", false
}

// paramChunk bounds the parameters of one statement.
const paramChunk = 500

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// input is how one file of a batch is read.
type input struct {
	path     string // what read_json reads: the file, or its streamed copy
	streamed bool   // path is a newline-delimited copy (see large.go)
	size     int64  // decompressed bytes, estimated for direct files
	object   int64  // the largest JSON object DuckDB reads from it
}

// prepareInputs streams the files too large for DuckDB's whole-object
// reader (or all of them, when force is set) into newline-delimited copies
// in the temp folder, and returns a cleanup for the copies.
func (s *Store) prepareInputs(batch []File, force bool) ([]input, func(), error) {
	var tmp []string
	cleanup := func() {
		for _, p := range tmp {
			_ = os.Remove(p)
		}
	}
	in := make([]input, len(batch))
	for i, f := range batch {
		size, err := gzipSize(f.Path)
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("store: ingest %s: %w", f.Key, err)
		}
		// Glob characters would make read_json expand the path.
		if !force && size <= s.maxObject && !strings.ContainsAny(f.Path, "*?[{") {
			in[i] = input{path: f.Path, size: size, object: size}
			continue
		}
		out, err := os.CreateTemp(s.opt.TempDir, "trailwarden-records-*.ndjson")
		if err != nil {
			cleanup()
			return nil, nil, fmt.Errorf("store: ingest %s: %w", f.Key, err)
		}
		tmp = append(tmp, out.Name())
		longest, err := splitRecords(f.Path, out)
		var written int64
		if st, serr := out.Stat(); serr == nil {
			written = st.Size()
		}
		if errClose := out.Close(); err == nil && errClose != nil {
			err = errClose
		}
		if err != nil {
			cleanup()
			var be *BadFileError
			if errors.As(err, &be) {
				be.Key = f.Key
				return nil, nil, be
			}
			return nil, nil, fmt.Errorf("store: ingest %s: %w", f.Key, err)
		}
		in[i] = input{path: out.Name(), streamed: true, size: written, object: int64(longest)}
	}
	return in, cleanup, nil
}
