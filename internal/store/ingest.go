package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/record"
)

// File is one local CloudTrail log file for IngestFiles.
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

// IngestFiles loads local gzipped log files in one transaction, together
// with their rows in ingested_files: after a crash either all of them are
// stored or none. Files already ingested (and repeats of a key) are
// skipped, so loading them again is a no-op. Events are deduplicated on
// (event_id, recipient_account_id) among the files and against the table.
// A bad file fails the call with a *BadFileError naming it, and nothing
// is loaded. The files' records are held in memory until they are
// inserted (files above bigFile are streamed): callers batch a few
// hundred files at a time. Pulls use a Loader directly.
func (s *Store) IngestFiles(ctx context.Context, files []File) (Ingested, error) {
	if s.opt.ReadOnly {
		return Ingested{}, fmt.Errorf("store: ingest into %s: opened read-only", s.path)
	}
	files, err := normalize(files)
	if err != nil || len(files) == 0 {
		return Ingested{}, err
	}
	l, err := s.NewLoader(ctx, 1)
	if err != nil {
		return Ingested{}, err
	}
	defer func() { _ = l.Close() }()
	l.manual = true
	files, err = dropIngested(ctx, l.writers[0].conn, files)
	if err != nil || len(files) == 0 {
		return Ingested{}, err
	}
	var p batch.Parser
	var b batch.Events
	var got Ingested
	load := func(b *batch.Events) error {
		if err := l.Prepare(ctx, b); err != nil {
			return err
		}
		n, err := l.Load(ctx, b)
		got.Events += n.Events
		got.Duplicates += n.Duplicates
		b.Reset()
		return err
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return Ingested{}, err
		}
		bf := batch.File{Key: f.Key, Account: f.Account, Region: f.Region, Day: f.Day, Verified: f.Verified}
		if err := s.parseFile(&p, &b, bf, f.Path, load); err != nil {
			return Ingested{}, err
		}
		b.Commit()
	}
	if err := load(&b); err != nil {
		return Ingested{}, err
	}
	if err := l.Commit(ctx); err != nil {
		return Ingested{}, err
	}
	return got, nil
}

// parseFile appends the records of the gzipped log file at path to b,
// leaving them open for the caller to commit.
func (s *Store) parseFile(p *batch.Parser, b *batch.Events, f batch.File, path string, load func(*batch.Events) error) error {
	st, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("store: ingest %s: %w", f.Key, err)
	}
	if st.Size() <= s.bigFile {
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("store: ingest %s: %w", f.Key, err)
		}
		_, err = p.Append(b, f, data, batch.InMemoryRecords)
		if !errors.Is(err, batch.ErrTooLarge) {
			return badFile(f.Key, err)
		}
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) } //nolint:gosec // the caller's file
	return badFile(f.Key, p.Stream(b, f, open, "", 64<<20, load))
}

// badFile turns a parse or gzip error into a *BadFileError; I/O errors
// stay what they are.
func badFile(key string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, record.ErrNotLogFile) || errors.Is(err, digest.ErrCorrupt) || errors.Is(err, digest.ErrTrailingData) ||
		errors.Is(err, batch.ErrRecordTooLarge) {
		return &BadFileError{Key: key, Err: err}
	}
	return fmt.Errorf("store: ingest %s: %w", key, err)
}

// normalize checks a batch, makes paths absolute, drops repeated keys and
// sorts it.
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
	// Insertion order follows the batch's; see schema.
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
