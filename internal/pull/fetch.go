package pull

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
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

	mu   sync.Mutex // guards sum, prog, lost and given
	sum  *Summary
	prog Progress
	// lost are the files the sink rolled back (see LostError), loaded
	// again one at a time once the others are; given are those it could
	// not commit, bad files.
	lost, given map[string]bool
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
	p := &pipeline{store: store, sink: sink, opt: opt, tmp: tmp, queue: q, sum: sum, lost: map[string]bool{}, given: map[string]bool{},
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
		return p.commit(gctx)
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
	if err := g.Wait(); err != nil {
		return err
	}
	return p.retryLost(ctx)
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
		switch {
		case problem == "" && p.given[o.key]:
			// The sink could not commit its parts so far (see lose).
		case problem == "":
			s.Bytes += size
			pr.Bytes += size
		default:
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
		return 0, problemOf(err), stopErr(ctx, err)
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
	if t.want != "" {
		if err := digest.CheckHash(hash, t.want); err != nil {
			(*b).Abort()
			return 0, problemOf(err), nil
		}
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
// file unless ctx ended or the endpoint stalled (stopErr).
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
		return 0, problemOf(err), stopErr(ctx, err)
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) } //nolint:gosec // our own temporary file
	emit := func(b *batch.Events) error {
		done := make(chan struct{})
		if err := p.send(ctx, job{b: b, done: done}); err != nil {
			return err
		}
		select {
		case <-done:
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.isLost(f.Key) {
			return errLost // its parts so far were rolled back: it is loaded again later
		}
		return nil
	}
	err = parser.Stream(b, f, open, want, p.opt.BatchBytes, emit)
	if err != nil {
		if ctx.Err() != nil {
			return 0, "", ctx.Err()
		}
		if errors.Is(err, errLost) {
			return size, "", nil
		}
		if isBad(err) {
			return 0, problemOf(err), nil
		}
		return 0, "", fmt.Errorf("pull: %s: %w", o.key, err)
	}
	if p.isLost(f.Key) {
		b.Abort() // its last part: the sink would refuse it
		return size, "", nil
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
// and hands them back. Files the sink rolls back are set aside for
// retryLost.
func (p *pipeline) load(ctx context.Context) error {
	for j := range p.prepared {
		got, err := p.sink.Load(ctx, j.b)
		var lost *LostError
		if err != nil && !errors.As(err, &lost) {
			return fmt.Errorf("pull: load %d files: %w", len(j.b.Files()), err)
		}
		whole := 0
		for _, f := range j.b.Files() {
			if !f.Partial {
				whole++
			}
		}
		sizes := p.sizes(ctx, lost)
		p.update(func(s *Summary, pr *Progress) {
			if lost == nil || !lost.Refused {
				for _, f := range j.b.Files() {
					s.addRepeated(f)
				}
				s.Loaded += whole
				s.Events += got.Events
				s.Duplicates += got.Duplicates
				pr.Events += got.Events
			}
			p.lose(s, pr, lost, sizes)
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

// stopErr is the error that stops the pull when a download failed with
// err: the context's, or the duckdb's endpoint stalling (the file is not
// bad; the pull stops, keeping only the whole files it committed, and the
// next pull loads the rest). nil means the file is bad.
func stopErr(ctx context.Context, err error) error {
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	case objstore.Stalled(err) != nil:
		return fmt.Errorf("pull: %w", objstore.Stalled(err))
	}
	return nil
}

// isBad says whether err is about the file rather than the pull: its
// content (batch.BadContent), or its absence.
func isBad(err error) bool {
	return batch.BadContent(err) || errors.Is(err, objstore.ErrNotFound)
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

// errLost stops reading a file in parts whose earlier parts the sink
// rolled back: it is loaded again, alone, by retryLost.
var errLost = errors.New("rolled back by the store")

// isLost says whether the sink rolled back file key.
func (p *pipeline) isLost(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.lost[key] || p.given[key]
}

// lose takes back from the summary what the sink reported of the files it
// rolled back, and sets them aside for retryLost; p.mu is held. lost may
// be nil.
func (p *pipeline) lose(s *Summary, pr *Progress, lost *LostError, sizes map[string]int64) {
	if lost == nil {
		return
	}
	s.Loaded -= lost.Files
	s.Events -= lost.Loaded.Events
	s.Duplicates -= lost.Loaded.Duplicates
	pr.Events -= lost.Loaded.Events
	for _, k := range lost.Keys {
		switch {
		case !lost.AtCommit:
			p.lost[k] = true
		case !p.given[k]:
			// Checked and parsed, not stored: its digest check stays
			// valid, its bytes are not loaded.
			p.given[k] = true
			delete(p.lost, k)
			s.Bytes -= sizes[k]
			pr.Bytes -= sizes[k]
			s.Bad = append(s.Bad, BadFile{Key: k, Problem: "the store could not commit it with the files loaded beside it: " + lost.Reason})
		}
	}
	s.RepeatedKeys = slices.DeleteFunc(s.RepeatedKeys, func(r FileRepeatedKeys) bool { return p.lost[r.Key] || p.given[r.Key] })
}

// commit commits what the loaders loaded; files the sink rolls back are
// set aside for retryLost.
func (p *pipeline) commit(ctx context.Context) error {
	err := p.sink.Commit(ctx)
	var lost *LostError
	if !errors.As(err, &lost) {
		return err
	}
	sizes := p.sizes(ctx, lost)
	p.update(func(s *Summary, pr *Progress) { p.lose(s, pr, lost, sizes) })
	return nil
}

// sizes reads the sizes of the files the sink could not commit (counted
// in Summary.Bytes when they were parsed): the pipeline does not keep
// every file's size until it is committed. A size it cannot read is 0.
func (p *pipeline) sizes(ctx context.Context, lost *LostError) map[string]int64 {
	if lost == nil || !lost.AtCommit {
		return nil
	}
	out := map[string]int64{}
	for _, k := range lost.Keys {
		if o, _, err := p.store.Head(ctx, k); err == nil {
			out[k] = o.Size
		}
	}
	return out
}

// retryLost loads the files the sink rolled back one at a time, each
// downloaded and checked again and committed alone, so that a file the
// sink refuses alone is a bad file with the sink's reason, and the others
// are loaded.
func (p *pipeline) retryLost(ctx context.Context) error {
	keys := slices.Sorted(maps.Keys(p.lost))
	var parser batch.Parser
	for _, key := range keys {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := layout.Parse(key)
		if err != nil {
			return fmt.Errorf("pull: load %s again: %w", key, err)
		}
		day := time.Date(k.Year, time.Month(k.Month), k.Day, 0, 0, 0, 0, time.UTC)
		f := batch.File{Key: key, Account: k.Account, Region: k.Region, Day: day, Verified: !p.opt.NoVerify}
		want := p.queue.hash(key)
		p.mu.Lock()
		given := p.given[key]
		p.mu.Unlock()
		if given {
			continue // refused at a commit meanwhile: not loaded again
		}
		got, parts, size, problem, refused, err := p.alone(ctx, &parser, f, want)
		if err != nil {
			return err
		}
		p.update(func(s *Summary, pr *Progress) {
			if problem != "" {
				// Counted as loaded when it was parsed: no more. Refused
				// by the sink, it still matched its digest; read again and
				// found bad, it did not.
				s.Bytes -= size
				pr.Bytes -= size
				s.Bad = append(s.Bad, BadFile{Key: key, Problem: problem})
				if want != "" && !refused {
					s.uncountChecked(k.Account, k.Region, size)
				}
				return
			}
			s.Loaded++
			s.Events += got.Events
			s.Duplicates += got.Duplicates
			pr.Events += got.Events
			for _, f := range parts {
				s.addRepeated(f)
			}
		})
	}
	return nil
}

// alone loads file f by itself, from a download to disk (its size is not
// kept from the listing), checked against want as before, and commits
// it. A file the sink refuses (refused) or found bad this time is a
// problem, not an error.
func (p *pipeline) alone(ctx context.Context, parser *batch.Parser, f batch.File, want string) (
	got Loaded, parts []batch.FileRows, size int64, problem string, refused bool, err error) {
	path, size, err := p.download(ctx, f.Key)
	if path != "" {
		defer func() { _ = os.Remove(path) }()
	}
	if err != nil {
		return Loaded{}, nil, 0, problemOf(err), false, stopErr(ctx, err)
	}
	b := &batch.Events{}
	load := func(b *batch.Events) error {
		if err := p.sink.Prepare(ctx, b); err != nil {
			return err
		}
		n, err := p.sink.Load(ctx, b)
		got.Events += n.Events
		got.Duplicates += n.Duplicates
		parts = append(parts, b.Files()...)
		b.Reset()
		return err
	}
	open := func() (io.ReadCloser, error) { return os.Open(path) } //nolint:gosec // our own temporary file
	err = parser.Stream(b, f, open, want, p.opt.BatchBytes, load)
	if err == nil {
		b.Commit()
		if err = load(b); err == nil {
			err = p.sink.Commit(ctx)
		}
	}
	var lost *LostError
	switch {
	case err == nil:
		return got, parts, size, "", false, nil
	case ctx.Err() != nil:
		return Loaded{}, nil, 0, "", false, ctx.Err()
	case errors.As(err, &lost) && lost.AtCommit:
		return Loaded{}, nil, size, "the store could not commit it: " + lost.Reason, true, nil
	case errors.As(err, &lost):
		// Nothing of it is stored: a rolled back part took the others
		// with it. The sink goes on without it.
		return Loaded{}, nil, size, "the store could not load it: " + lost.Reason, true, nil
	case isBad(err):
		return Loaded{}, nil, size, problemOf(err), false, nil
	}
	return Loaded{}, nil, 0, "", false, fmt.Errorf("pull: load %s again: %w", f.Key, err)
}
