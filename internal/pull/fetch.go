package pull

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/record"
)

// memoryBudget bounds a pull's memory whatever the files' sizes, with
// the batch.InMemory* limits: a file is held in memory decompressed only
// within this budget, shared by all workers; larger files go to disk and
// are streamed.
const memoryBudget = 128 << 20

// job is a batch for the loader; done, when set, is closed once the batch
// has been loaded and emptied (a streamed file reuses its batch).
type job struct {
	b    *batch.Events
	done chan struct{}
}

// pipeline is one pull's download, parse and load stages.
type pipeline struct {
	store    objstore.Store
	sink     Sink
	opt      Options
	tmp      string
	queue    *queue
	memory   *semaphore.Weighted
	free     chan *batch.Events // empty batches: the bound on parsed rows in memory
	loads    chan job           // parsed batches, to prepare
	prepared chan job           // prepared batches, to load

	mu   sync.Mutex // guards sum and prog
	sum  *Summary
	prog Progress
}

// fetchAndLoad downloads and parses the queue's files with Jobs workers,
// filling batches from a small pool (partly filled ones go back to it),
// finds each full batch's duplicates in one stage and loads the batches
// with Options.Loaders loaders, then commits. A file's records are kept
// only once its bytes match its digest, so nothing unverified is ever
// inserted.
func fetchAndLoad(ctx context.Context, store objstore.Store, sink Sink, opt Options, tmp string,
	files int, q *queue, sum *Summary) error {
	// Parsing is CPU work: more batches than cores only hold memory.
	// Downloads, which wait on the network, still run Jobs at once.
	parsers := min(opt.Jobs, runtime.GOMAXPROCS(0))
	p := &pipeline{store: store, sink: sink, opt: opt, tmp: tmp, queue: q, sum: sum,
		memory: semaphore.NewWeighted(memoryBudget), free: make(chan *batch.Events, parsers+1+opt.Loaders),
		loads: make(chan job, opt.Jobs), prepared: make(chan job), prog: Progress{FilesTotal: files, Started: time.Now()}}
	// One batch per parser, one being prepared, one per loader.
	for range parsers + 1 + opt.Loaders {
		p.free <- &batch.Events{}
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return p.prepare(gctx) })
	g.Go(func() error {
		l, lctx := errgroup.WithContext(gctx)
		for range opt.Loaders {
			l.Go(func() error { return p.load(lctx) })
		}
		if err := l.Wait(); err != nil {
			return err
		}
		return p.sink.Commit(gctx)
	})
	g.Go(func() error {
		defer close(p.loads)
		w, wctx := errgroup.WithContext(gctx)
		for range min(opt.Jobs, files) {
			w.Go(func() error {
				var parser batch.Parser
				for {
					t, ok, err := q.next(wctx)
					if err != nil || !ok {
						return err
					}
					if err := p.file(wctx, &parser, t); err != nil {
						return err
					}
				}
			})
		}
		if err := w.Wait(); err != nil {
			return err
		}
		// Every worker is done, so every partly filled batch is back in
		// the pool; the loader only returns empty ones.
		for {
			select {
			case b := <-p.free:
				if len(b.Files()) > 0 {
					if err := p.send(gctx, job{b: b}); err != nil {
						return err
					}
				}
			default:
				return nil
			}
		}
	})
	return g.Wait()
}

// file pulls one log file into a batch from the pool and gives the batch
// back, or hands it to the loader once it is full. No batch is held while
// a file downloads, so batches go to whichever worker has bytes to parse.
func (p *pipeline) file(ctx context.Context, parser *batch.Parser, t ticket) error {
	if t.uncovered {
		// Verification is over and no valid digest lists the file: once
		// the pull is done, it is bad or waits for its digest.
		p.update(func(s *Summary, pr *Progress) {
			s.uncovered = append(s.uncovered, uncovered{key: t.key, k: t.k})
			pr.FilesDone++
		})
		return nil
	}
	o := t.object
	day := time.Date(o.k.Year, time.Month(o.k.Month), o.k.Day, 0, 0, 0, 0, time.UTC)
	f := batch.File{Key: o.key, Account: o.k.Account, Region: o.k.Region, Day: day, Verified: !p.opt.NoVerify}
	var b *batch.Events
	size, problem, err := p.parse(ctx, parser, &b, f, t)
	if err != nil {
		return err
	}
	p.update(func(s *Summary, pr *Progress) {
		pr.FilesDone++
		if problem == "" {
			s.Bytes += size
			pr.Bytes += size
		} else {
			s.Bad = append(s.Bad, BadFile{Key: o.key, Problem: problem})
		}
		if t.want != "" {
			s.countChecked(o.k.Account, o.k.Region, problem == "", size)
		}
	})
	switch {
	case b == nil:
		return nil
	case b.Bytes() < p.opt.BatchBytes && len(b.Files()) < p.opt.BatchFiles:
		p.free <- b
		return nil
	}
	return p.send(ctx, job{b: b})
}

// parse downloads t and appends its records to *b (committed only when
// its hash is t.want, or t.want is ""), taking a batch from the pool once
// the download is done. A bad file is a problem, not an error.
//
// Waits are ordered so they cannot deadlock: a download holds no shared
// resource (Jobs downloads of at most InMemoryFile bytes are the bound),
// a worker without a batch holds nothing else while it waits for one, and
// decompression memory is taken by batch holders only and given back
// before anything else is waited for.
func (p *pipeline) parse(ctx context.Context, parser *batch.Parser, b **batch.Events, f batch.File, t ticket) (int64, string, error) {
	o := t.object
	if o.size > p.opt.InMemoryFile {
		if err := p.take(ctx, b); err != nil {
			return 0, "", err
		}
		return p.stream(ctx, parser, *b, f, o, t.want)
	}
	data, err := p.get(ctx, o)
	if err != nil {
		return 0, problemOf(err), ctxErr(ctx, err)
	}
	if err := p.take(ctx, b); err != nil {
		return 0, "", err
	}
	// The gzip trailer's size (modulo 2^32, exact for these sizes) says
	// how much memory the records take; a file that decompresses to more
	// than it says is corrupt, and the reader says so.
	need := int64(0)
	if len(data) >= 4 {
		need = int64(binary.LittleEndian.Uint32(data[len(data)-4:]))
	}
	if need > batch.InMemoryRecords {
		return p.stream(ctx, parser, *b, f, o, t.want)
	}
	if err := p.memory.Acquire(ctx, need); err != nil {
		return 0, "", err
	}
	hash, err := parser.Append(*b, f, data, int(need))
	p.memory.Release(need)
	switch {
	case errors.Is(err, batch.ErrTooLarge):
		return p.stream(ctx, parser, *b, f, o, t.want)
	case err != nil:
		return 0, problemOf(err), nil
	}
	// The records are parsed; they are kept only if the digests vouch for
	// exactly these bytes.
	if t.want != "" && hash != t.want {
		(*b).Abort()
		return 0, problemOf(batch.ErrHashMismatch), nil
	}
	(*b).Commit()
	return int64(len(data)), "", nil
}

// take gets an empty batch from the pool unless *b is one already.
func (p *pipeline) take(ctx context.Context, b **batch.Events) error {
	if *b != nil {
		return nil
	}
	select {
	case *b = <-p.free:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// get downloads o into memory. An error is a bad (missing, unreadable)
// file unless ctx ended.
func (p *pipeline) get(ctx context.Context, o object) ([]byte, error) {
	body, _, err := p.store.Get(ctx, o.key)
	if err != nil {
		return nil, err
	}
	defer func() { _ = body.Close() }()
	buf := bytes.NewBuffer(make([]byte, 0, o.size+bytes.MinRead))
	if _, err := buf.ReadFrom(io.LimitReader(body, p.opt.InMemoryFile+1)); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// stream pulls a file too large for memory: downloaded to disk, then read
// twice from there (verified, then loaded in parts), never downloaded
// twice.
func (p *pipeline) stream(ctx context.Context, parser *batch.Parser, b *batch.Events, f batch.File, o object, want string) (int64, string, error) {
	path, size, err := p.download(ctx, o.key)
	if path != "" {
		defer func() { _ = os.Remove(path) }()
	}
	if err != nil {
		return 0, problemOf(err), ctxErr(ctx, err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) } //nolint:gosec // our own temporary file
	emit := func(b *batch.Events) error {
		done := make(chan struct{})
		if err := p.send(ctx, job{b: b, done: done}); err != nil {
			return err
		}
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	err = parser.Stream(b, f, open, want, p.opt.BatchBytes, emit)
	if err != nil {
		if ctx.Err() != nil {
			return 0, "", ctx.Err()
		}
		if isBad(err) {
			return 0, problemOf(err), nil
		}
		return 0, "", fmt.Errorf("pull: %s: %w", o.key, err)
	}
	b.Commit()
	return size, "", nil
}

// download copies the object to a new file in the pull's temporary
// folder and returns its path ("" when none was created).
func (p *pipeline) download(ctx context.Context, key string) (string, int64, error) {
	body, _, err := p.store.Get(ctx, key)
	if err != nil {
		return "", 0, err
	}
	defer func() { _ = body.Close() }()
	out, err := os.CreateTemp(p.tmp, "log-*.json.gz")
	if err != nil {
		return "", 0, fmt.Errorf("pull: %w", err)
	}
	n, err := io.Copy(out, body)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return out.Name(), n, err
}

func (p *pipeline) send(ctx context.Context, j job) error {
	select {
	case p.loads <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// prepare finds each batch's duplicates while the loader inserts the
// previous batch, and passes it on in order.
func (p *pipeline) prepare(ctx context.Context) error {
	defer close(p.prepared)
	for j := range p.loads {
		if err := p.sink.Prepare(ctx, j.b); err != nil {
			return fmt.Errorf("pull: load %d files: %w", len(j.b.Files()), err)
		}
		select {
		case p.prepared <- j:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// load is one of the Loaders: it inserts prepared batches, empties them
// and hands them back.
func (p *pipeline) load(ctx context.Context) error {
	for j := range p.prepared {
		got, err := p.sink.Load(ctx, j.b)
		if err != nil {
			return fmt.Errorf("pull: load %d files: %w", len(j.b.Files()), err)
		}
		whole := 0
		for _, f := range j.b.Files() {
			if !f.Partial {
				whole++
			}
		}
		p.update(func(s *Summary, pr *Progress) {
			for _, f := range j.b.Files() {
				s.addRepeated(f)
			}
			s.Loaded += whole
			s.Events += got.Events
			s.Duplicates += got.Duplicates
			pr.Events += got.Events
		})
		j.b.Reset()
		if j.done != nil {
			close(j.done)
		} else {
			p.free <- j.b
		}
	}
	return nil
}

// update changes the summary and progress together and reports progress.
func (p *pipeline) update(fn func(*Summary, *Progress)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	fn(p.sum, &p.prog)
	if p.opt.Progress != nil {
		p.opt.Progress(p.prog)
	}
}

func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

// isBad says whether err is about the file's content rather than the pull.
func isBad(err error) bool {
	return errors.Is(err, record.ErrNotLogFile) || errors.Is(err, digest.ErrCorrupt) || errors.Is(err, batch.ErrRecordTooLarge) ||
		errors.Is(err, digest.ErrTrailingData) || errors.Is(err, batch.ErrHashMismatch) || errors.Is(err, objstore.ErrNotFound)
}

func problemOf(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, objstore.ErrNotFound):
		return "not found"
	case errors.Is(err, digest.ErrTrailingData):
		return "unexpected data after end of compressed stream"
	case errors.Is(err, digest.ErrCorrupt):
		// "hash gzip: corrupt gzip stream: gzip: invalid header" says
		// less than "not a valid gzip file: invalid header".
		msg := err.Error()
		for _, p := range []string{"hash gzip: ", digest.ErrCorrupt.Error() + ": ", "gzip: ", "flate: "} {
			msg = strings.TrimPrefix(msg, p)
		}
		return "not a valid gzip file: " + msg
	case errors.Is(err, record.ErrNotLogFile):
		return "not a CloudTrail log file: " + err.Error()
	}
	return err.Error()
}
