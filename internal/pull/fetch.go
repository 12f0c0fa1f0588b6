package pull

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// fetched is one download's outcome.
type fetched struct {
	file File
	bad  *BadFile
	wait bool // no digest covers it yet
}

// fetchAndLoad downloads with Jobs workers and loads with one writer: the
// store takes one writer at a time, and batching makes loading cheap. At
// most Jobs downloads and one batch exist at once, on disk, not in memory.
func fetchAndLoad(ctx context.Context, store objstore.Store, sink Sink, opt Options, tmp string,
	todo []object, expected map[string]string, sum *Summary) error {
	prog := Progress{FilesTotal: len(todo), Started: time.Now()}
	results := make(chan fetched, opt.Jobs)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		defer close(results)
		dl, dctx := errgroup.WithContext(gctx)
		dl.SetLimit(opt.Jobs)
		for i, o := range todo {
			dl.Go(func() error {
				r, err := fetch(dctx, store, opt, tmp, i, o, expected)
				if err != nil {
					return err
				}
				select {
				case results <- r:
					return nil
				case <-dctx.Done():
					return dctx.Err()
				}
			})
		}
		return dl.Wait()
	})
	g.Go(func() error {
		var batch []File
		var batchBytes int64
		flush := func() error {
			if len(batch) == 0 {
				return nil
			}
			got, err := sink.Load(gctx, batch)
			// A rejected file is set aside and the rest loaded again, so one
			// bad file never stops the pull.
			for err != nil && len(batch) > 0 {
				var rej *RejectedError
				if !errors.As(err, &rej) {
					break
				}
				kept := batch[:0]
				for _, f := range batch {
					if f.Key == rej.Key {
						_ = os.Remove(f.Path)
						sum.Bad = append(sum.Bad, BadFile{Key: f.Key, Problem: rej.Err.Error()})
						continue
					}
					kept = append(kept, f)
				}
				if len(kept) == len(batch) {
					break // the sink named a file that is not in the batch
				}
				batch = kept
				got, err = sink.Load(gctx, batch)
			}
			for _, f := range batch {
				_ = os.Remove(f.Path)
			}
			if err != nil {
				return fmt.Errorf("pull: load %d files: %w", len(batch), err)
			}
			sum.Loaded += len(batch)
			sum.Events += got.Events
			sum.Duplicates += got.Duplicates
			prog.Events += got.Events
			batch, batchBytes = batch[:0], 0
			return nil
		}
		for r := range results {
			prog.FilesDone++
			switch {
			case r.bad != nil:
				sum.Bad = append(sum.Bad, *r.bad)
			case r.wait:
				sum.Unverified++
			default:
				batch = append(batch, r.file)
				batchBytes += r.file.Bytes
				sum.Bytes += r.file.Bytes
				prog.Bytes += r.file.Bytes
			}
			if len(batch) >= opt.BatchFiles || batchBytes >= opt.BatchBytes {
				if err := flush(); err != nil {
					return err
				}
			}
			if opt.Progress != nil {
				opt.Progress(prog)
			}
		}
		return flush()
	})
	return g.Wait()
}

// fetch downloads one log file to disk, hashing its uncompressed bytes on
// the way: the bytes that are checked are the bytes that get loaded.
func fetch(ctx context.Context, store objstore.Store, opt Options, tmp string, i int, o object, expected map[string]string) (fetched, error) {
	want, covered := expected[o.key]
	if !opt.NoVerify && !covered {
		return fetched{wait: true}, nil
	}
	body, _, err := store.Get(ctx, o.key)
	if err != nil {
		if ctx.Err() != nil {
			return fetched{}, ctx.Err()
		}
		return fetched{bad: &BadFile{Key: o.key, Problem: problem(err)}}, nil
	}
	defer func() { _ = body.Close() }()
	path := filepath.Join(tmp, strconv.Itoa(i)+".json.gz")
	f, err := os.Create(path)
	if err != nil {
		return fetched{}, fmt.Errorf("pull: %w", err)
	}
	counter := &countingWriter{w: f}
	hash, _, herr := digest.HashGzip(io.TeeReader(body, counter))
	if cerr := f.Close(); cerr != nil && herr == nil {
		herr = cerr
	}
	bad := func(p string) (fetched, error) {
		_ = os.Remove(path)
		return fetched{bad: &BadFile{Key: o.key, Problem: p}}, nil
	}
	switch {
	case herr != nil:
		if ctx.Err() != nil {
			return fetched{}, ctx.Err()
		}
		return bad(problem(herr))
	case !opt.NoVerify && hash != want:
		return bad("hash value doesn't match its digest")
	}
	day := time.Date(o.k.Year, time.Month(o.k.Month), o.k.Day, 0, 0, 0, 0, time.UTC)
	return fetched{file: File{Key: o.key, Account: o.k.Account, Region: o.k.Region, Day: day, Path: path,
		Bytes: counter.n, Verified: !opt.NoVerify}}, nil
}

func problem(err error) string {
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return "not found"
	case errors.Is(err, digest.ErrTrailingData):
		return "unexpected data after end of compressed stream"
	case errors.Is(err, digest.ErrCorrupt):
		return "not a valid gzip file: " + err.Error()
	}
	return err.Error()
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
