package duckdb

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"runtime/debug"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/pull"
)

// Memory of a pull. One DuckDB thread: a statement inserts a batch faster
// on one than on two, so the loader inserts two batches at once instead,
// through two connections (MaxWriters). 112 MB for DuckDB, which spills
// beyond it (two writers' row groups of RowGroupSize rows mostly fit),
// and a soft 144 MiB for Go's heap (unless GOMEMLIMIT says otherwise) keep
// a 2-million-event pull near 450 MB peak RSS.
const (
	pullThreads     = 1
	pullMemoryLimit = "112MB"
	pullGoHeap      = 144 << 20
)

// Sink is a store opened for one pull: it implements pull.Sink with one
// loader, started at the first batch and finished by Commit.
type Sink struct {
	st      *Store
	l       *Loader
	path    string
	created bool
}

var _ pull.Sink = (*Sink)(nil)

// OpenSink opens the store at path for a pull, creating it when it does
// not exist, with the pull's memory settings: DuckDB's threads and memory
// limit, and a soft limit for Go's heap unless GOMEMLIMIT sets one (it
// applies to the whole process). Errors are those of OpenWith; a store
// this call created is removed again when it fails.
func OpenSink(ctx context.Context, path string) (*Sink, error) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(pullGoHeap)
	}
	_, statErr := os.Stat(path)
	created := errors.Is(statErr, fs.ErrNotExist)
	st, err := OpenWith(ctx, path, Options{Threads: pullThreads, MemoryLimit: pullMemoryLimit})
	if err != nil {
		if created && !errors.Is(err, ErrLocked) && !errors.Is(err, ErrNotStore) && !errors.Is(err, ErrEventsLost) {
			_ = Remove(path)
		}
		return nil, err
	}
	return &Sink{st: st, path: path, created: created}, nil
}

// TempDir is the duckdb's own temporary folder, where a pull downloads
// files too large to hold in memory.
func (s *Sink) TempDir() string { return s.st.TempDir() }

// IngestedKeys implements pull.Sink.
func (s *Sink) IngestedKeys(ctx context.Context, prefix string) (map[string]bool, error) {
	return s.st.IngestedKeys(ctx, prefix)
}

// Prepare implements pull.Sink; it comes first for every batch, so it
// starts the loader.
func (s *Sink) Prepare(ctx context.Context, b *batch.Events) error {
	if s.l == nil {
		l, err := s.st.NewLoader(ctx, MaxWriters)
		if err != nil {
			return err
		}
		s.l = l
	}
	return s.l.Prepare(ctx, b)
}

// Load implements pull.Sink.
func (s *Sink) Load(ctx context.Context, b *batch.Events) (pull.Loaded, error) {
	got, err := s.l.Load(ctx, b)
	return pull.Loaded{Events: got.Events, Duplicates: got.Duplicates}, lostError(err)
}

// Commit implements pull.Sink.
func (s *Sink) Commit(ctx context.Context) error {
	if s.l == nil {
		return nil
	}
	err := s.l.Commit(ctx)
	return errors.Join(lostError(err), s.endLoader())
}

// lostError is the duckdb's LoadError as pull's LostError.
func lostError(err error) error {
	var le *LoadError
	if !errors.As(err, &le) {
		return err
	}
	return &pull.LostError{Keys: le.Keys, Loaded: pull.Loaded{Events: le.Events, Duplicates: le.Duplicates}, Files: le.Files,
		Refused: le.Refused, AtCommit: le.AtCommit, Reason: le.Reason()}
}

// endLoader ends the loader, rolling back what was not committed.
func (s *Sink) endLoader() error {
	if s.l == nil {
		return nil
	}
	err := s.l.Close()
	s.l = nil
	return err
}

// Close rolls back what was not committed and closes the store. When the
// pull failed and the store is one OpenSink created with nothing committed
// to it, the store file is removed: no empty or half-made store is left
// (a store it cannot read is kept). The error is the removal's.
func (s *Sink) Close(ctx context.Context, failed bool) error {
	_ = s.endLoader()
	remove := false
	if s.created && failed {
		empty, err := s.st.Empty(context.WithoutCancel(ctx))
		remove = err == nil && empty
	}
	_ = s.st.Close()
	if remove {
		return Remove(s.path)
	}
	return nil
}
