package duckdb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
)

// File is one local log file for the tests to load: its key (which names
// it in ingested_files and events.source_key), its partition and the path
// of its gzipped bytes.
type File struct {
	Key, Account, Region string
	Day                  time.Time
	Path                 string
	Verified             bool
}

// badFileError is a file batch.BadContent calls bad, named.
type badFileError struct {
	Key string
	Err error
}

func (e *badFileError) Error() string { return fmt.Sprintf("bad file %s: %v", e.Key, e.Err) }
func (e *badFileError) Unwrap() error { return e.Err }

// ingest loads files through the path a pull takes: the duckdb's Sink
// (IngestedKeys, Prepare, Load, Commit). Files already ingested are
// skipped; each file is parsed whole, or streamed in parts above
// batch.InMemoryFile; a bad file stops the call before its Commit, so
// nothing since the last automatic commit is kept.
func ingest(ctx context.Context, s *Store, files ...File) (Ingested, error) {
	return ingestWith(ctx, s, batch.InMemoryFile, files...)
}

// ingestWith is ingest streaming the files above streamAbove bytes.
func ingestWith(ctx context.Context, s *Store, streamAbove int64, files ...File) (Ingested, error) {
	sink := &Sink{st: s}
	defer func() { _ = sink.endLoader() }()
	done, err := sink.IngestedKeys(ctx, "")
	if err != nil {
		return Ingested{}, err
	}
	var got Ingested
	var p batch.Parser
	var b batch.Events
	load := func(b *batch.Events) error {
		if err := sink.Prepare(ctx, b); err != nil {
			return err
		}
		n, err := sink.Load(ctx, b)
		got.Events += n.Events
		got.Duplicates += n.Duplicates
		b.Reset()
		return err
	}
	for _, f := range files {
		if done[f.Key] {
			continue
		}
		done[f.Key] = true
		if err := ctx.Err(); err != nil {
			return Ingested{}, err
		}
		bf := batch.File{Key: f.Key, Account: f.Account, Region: f.Region, Day: f.Day, Verified: f.Verified}
		st, err := os.Stat(f.Path)
		if err != nil {
			return Ingested{}, err
		}
		if st.Size() <= streamAbove {
			data, err := os.ReadFile(f.Path)
			if err != nil {
				return Ingested{}, err
			}
			_, err = p.Append(&b, bf, data, batch.InMemoryRecords)
			if err == nil {
				b.Commit()
				continue
			}
			if !errors.Is(err, batch.ErrTooLarge) {
				return Ingested{}, bad(f.Key, err)
			}
		}
		open := func() (io.ReadCloser, error) { return os.Open(f.Path) }
		if err := p.Stream(&b, bf, open, "", 64<<20, load); err != nil {
			return Ingested{}, bad(f.Key, err)
		}
		b.Commit()
	}
	if err := load(&b); err != nil {
		return Ingested{}, err
	}
	if err := sink.Commit(ctx); err != nil {
		return Ingested{}, err
	}
	return got, nil
}

func bad(key string, err error) error {
	if batch.BadContent(err) {
		return &badFileError{Key: key, Err: err}
	}
	return err
}
