package duckdb

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailwarden/trailwarden/internal/batch"
)

// commitRows is how many rows a Loader inserts between commits: eight of
// DuckDB's row groups (122,880 rows each), about ten seconds of a pull,
// the most a killed pull loads again. Full row groups are written
// straight to the database file as they are inserted, so a commit is
// cheap, but each commit leaves a partial row group that a checkpoint
// later rewrites: committing every 245,760 rows made a 2-million-event
// pull spend 11 s of its 30 s in commits, every 983,040 rows 0.4 s.
const commitRows = 8 * 122_880

// Loader inserts batches of parsed log files (see package batch) into the
// store. It holds the duckdb's write lock from NewLoader to Close, and
// inserts through one or two writers, each a connection with its own
// transaction; all are committed together every commitRows rows and by
// Commit. A batch's events and the rows recording its files in
// ingested_files are always in the same transaction (a file loaded in
// parts: all of them in the first writer's), so after a crash a file is
// either fully stored and recorded or neither, and pulling again resumes
// without loss or duplicates.
type Loader struct {
	s       *Store
	writers []*writer
	// read and readArrow search committed events for duplicates, outside
	// the transactions; seen holds the keys of the batches prepared since
	// the last commit, each batch's as its generation (see Prepare).
	read      *sql.Conn
	readArrow *duckdb.Arrow
	mu        sync.Mutex // guards the fields below between Prepare, Load and Commit
	seen      *batch.Seen
	// stored spans, per recipient, the events in the table that seen does
	// not cover; open those the transactions inserted. A batch outside
	// stored needs no search of the table: its events cannot be there.
	stored, open map[string]batch.Span
	prepared     uint64                   // generations handed out by Prepare
	gens         map[*batch.Events]uint64 // prepared batches' generations, until loaded
	loaded       map[uint64]bool          // generations loaded since the last commit
	pending      int
	every        int // commitRows, lowered by tests
	// parts counts the rows of files loaded in parts so far, until their
	// last part records them.
	parts map[string]*Ingested
	// broken are files loaded in parts whose earlier parts were rolled
	// back (see LoadError): their later parts are refused.
	broken   map[string]bool
	commitMu sync.Mutex // one Commit at a time
}

// writer is a connection inserting in its own transaction. Its token is
// in free while no Load or Commit uses it.
type writer struct {
	conn  *sql.Conn
	arrow *duckdb.Arrow
	tx    *sql.Tx
	free  chan struct{}
	// view names the writer's Arrow view (see view).
	view string
	// held is what tx holds (see LoadError).
	held held
}

// MaxWriters is the most writers a Loader inserts through at once.
// DuckDB inserts a batch on one thread however many it is given (more
// threads only slowed it down), so a pull on two or more cores loads two
// batches at once, each in its own transaction, 1.4 times as fast.
const MaxWriters = 2

// NewLoader starts loading through writers (1 to MaxWriters) concurrent
// Loads. Close must be called; until then other loads and ingests wait.
func (s *Store) NewLoader(ctx context.Context, writers int) (*Loader, error) {
	if s.opt.ReadOnly {
		return nil, fmt.Errorf("store: ingest into %s: opened read-only", s.path)
	}
	s.mu.Lock()
	l := &Loader{s: s, parts: map[string]*Ingested{}, broken: map[string]bool{}, seen: &batch.Seen{}, every: commitRows,
		gens: map[*batch.Events]uint64{}, loaded: map[uint64]bool{}}
	fail := func(err error) (*Loader, error) {
		_ = l.Close()
		return nil, fmt.Errorf("store: ingest into %s: %w", s.path, err)
	}
	for range min(max(writers, 1), MaxWriters) {
		w := &writer{free: make(chan struct{}, 1), view: fmt.Sprintf("tw_insert_%d", len(l.writers))}
		var err error
		if w.conn, err = s.db.Conn(ctx); err != nil {
			return fail(err)
		}
		l.writers = append(l.writers, w)
		if w.arrow, err = arrowOf(w.conn); err != nil {
			return fail(err)
		}
		w.free <- struct{}{}
	}
	var err error
	if l.read, err = s.db.Conn(ctx); err != nil {
		return fail(err)
	}
	if l.readArrow, err = arrowOf(l.read); err != nil {
		return fail(err)
	}
	if l.stored, err = storedSpans(ctx, l.read); err != nil {
		return fail(err)
	}
	l.open = map[string]batch.Span{}
	return l, nil
}

// storedSpans reads the time span of the stored events with an event id,
// per recipient account.
func storedSpans(ctx context.Context, conn *sql.Conn) (map[string]batch.Span, error) {
	rows, err := conn.QueryContext(ctx, `SELECT recipient_account_id, epoch_us(min(event_time)), epoch_us(max(event_time)),
  bool_or(event_time IS NULL) FROM events WHERE event_id IS NOT NULL GROUP BY recipient_account_id`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	out := map[string]batch.Span{}
	for rows.Next() {
		var r sql.NullString
		var first, last sql.NullInt64
		var untimed bool
		if err := rows.Scan(&r, &first, &last, &untimed); err != nil {
			return nil, err
		}
		key := batch.NoRecipient
		if r.Valid {
			key = r.String
		}
		out[key] = batch.SpanOf(first.Int64, last.Int64, first.Valid, untimed)
	}
	return out, rows.Err()
}

func arrowOf(conn *sql.Conn) (*duckdb.Arrow, error) {
	var a *duckdb.Arrow
	err := conn.Raw(func(dc any) error {
		var err error
		a, err = duckdb.NewArrowFromConn(dc.(driver.Conn))
		return err
	})
	return a, err
}

// Prepare finds the batch's duplicates, records whose (event_id,
// recipient_account_id) is already stored, loaded by this Loader, or
// earlier in the batch, and removes them from it (counting them as their
// files' duplicates). It may run while Load inserts the previous batch,
// so finding duplicates and inserting use both cores; batches must be
// prepared and loaded in the same order, one Prepare at a time.
func (l *Loader) Prepare(ctx context.Context, b *batch.Events) error {
	l.mu.Lock()
	l.prepared++
	l.gens[b] = l.prepared
	dup := b.DropSeen(l.seen, l.prepared)
	l.mu.Unlock()
	if err := l.committedDuplicates(ctx, b, dup); err != nil {
		return l.fail(ctx, fmt.Errorf("find duplicates: %w", err))
	}
	b.Compact()
	return nil
}

// Load inserts a prepared batch's records and records its files (the
// last part of a file loaded in parts records the whole file). Loads may
// run concurrently, as many as the Loader has writers.
//
// Should DuckDB refuse the batch, or the commit Load may make, the error
// is a *LoadError and the Loader goes on; got is then what the batch
// itself loaded (zero if it was refused), and the LoadError says what is
// lost, the batch's files included when they are.
func (l *Loader) Load(ctx context.Context, b *batch.Events) (Ingested, error) {
	l.mu.Lock()
	gen := l.gens[b]
	delete(l.gens, b)
	first := len(l.parts) > 0
	for _, f := range b.Files() {
		first = first || f.Partial
	}
	broken := l.brokenIn(b)
	l.mu.Unlock()
	if broken != nil {
		l.mu.Lock()
		l.seen.Forget(map[uint64]bool{gen: true})
		l.mu.Unlock()
		return Ingested{}, &LoadError{Keys: broken, Refused: true, Err: errBroken}
	}
	w, err := l.acquire(ctx, first)
	if err != nil {
		return Ingested{}, l.fail(ctx, err)
	}
	got, err := l.load(ctx, w, b)
	if err != nil {
		if ctx.Err() == nil && refused(err) {
			l.mu.Lock()
			lost := l.rollBack(w, b, gen, err)
			l.mu.Unlock()
			err = lost
		}
		w.free <- struct{}{}
		return Ingested{}, err
	}
	w.hold(b, gen, got)
	w.free <- struct{}{}
	l.mu.Lock()
	l.loaded[gen] = true
	l.pending += b.Rows()
	commit := l.pending >= l.every
	l.mu.Unlock()
	if commit {
		if err := l.Commit(ctx); err != nil {
			return got, err
		}
	}
	return got, nil
}

// acquire takes a free writer: the first one when first is set (the
// parts of a file are all loaded in its transaction).
func (l *Loader) acquire(ctx context.Context, first bool) (*writer, error) {
	var other <-chan struct{} // nil blocks forever in select
	if !first && len(l.writers) > 1 {
		other = l.writers[1].free
	}
	select {
	case <-l.writers[0].free:
		return l.writers[0], nil
	case <-other:
		return l.writers[1], nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *Loader) load(ctx context.Context, w *writer, b *batch.Events) (Ingested, error) {
	if w.tx == nil {
		// The transaction outlives this Load (database/sql would roll it
		// back when ctx ends): Commit or Close ends it.
		tx, err := w.conn.BeginTx(context.WithoutCancel(ctx), nil)
		if err != nil {
			return Ingested{}, l.fail(ctx, err)
		}
		w.tx = tx
	}
	if b.Rows() > 0 {
		// SELECT * and no WHERE (see batch.Events.KeyArrow): duplicates
		// were removed from the batch itself (Prepare).
		if err := view(ctx, w.arrow, w.tx, b.Arrow(), w.view, func() error {
			_, err := w.tx.ExecContext(ctx, `INSERT INTO events (`+eventColumns+`) SELECT * FROM `+w.view) //nolint:gosec // our own view name
			return err
		}); err != nil {
			return Ingested{}, l.fail(ctx, fmt.Errorf("insert events: %w", err))
		}
	}
	if l.s.afterEvents != nil {
		l.s.afterEvents()
	}
	got, err := l.record(ctx, w.tx, b.Files())
	if err != nil {
		return Ingested{}, l.fail(ctx, fmt.Errorf("record files: %w", err))
	}
	spans := b.Spans()
	l.mu.Lock()
	for r, sp := range spans {
		l.open[r] = l.open[r].Merge(sp)
	}
	l.mu.Unlock()
	return got, nil
}

// Commit makes everything loaded so far durable: it waits for the Loads
// in progress, then commits every writer's transaction.
func (l *Loader) Commit(ctx context.Context) error {
	l.commitMu.Lock()
	defer l.commitMu.Unlock()
	for i, w := range l.writers {
		select {
		case <-w.free:
		case <-ctx.Done():
			for _, held := range l.writers[:i] {
				held.free <- struct{}{}
			}
			return l.fail(ctx, ctx.Err())
		}
	}
	var err error
	var lost *LoadError
	l.mu.Lock()
	for _, w := range l.writers {
		if w.tx == nil {
			continue
		}
		cerr := w.tx.Commit()
		w.tx = nil
		switch {
		case cerr == nil:
			w.held = held{}
		case ctx.Err() == nil && refused(cerr):
			// DuckDB rolled the transaction back: say what it held.
			le := l.rollBack(w, nil, 0, cerr)
			le.AtCommit = true
			lost = lost.join(le)
		default:
			err = errors.Join(err, cerr)
		}
	}
	l.mu.Unlock()
	// A commit may checkpoint, and DuckDB deletes the log then: it is
	// created again, 0600, before anything is written to it.
	err = errors.Join(err, l.s.privateWAL())
	l.mu.Lock()
	l.pending = 0
	if err == nil {
		// The loaded batches' events are now found by committedDuplicates.
		l.seen.Forget(l.loaded)
		l.loaded = map[uint64]bool{}
		for r, sp := range l.open {
			l.stored[r] = l.stored[r].Merge(sp)
		}
		l.open = map[string]batch.Span{}
	}
	l.mu.Unlock()
	for _, w := range l.writers {
		w.free <- struct{}{}
	}
	if err == nil {
		err = l.checkCounts(ctx)
	}
	if err != nil {
		return l.fail(ctx, fmt.Errorf("commit: %w", err))
	}
	if lost != nil {
		return lost
	}
	return nil
}

// Close rolls back what was not committed and releases the store. No
// Load or Commit may be running.
func (l *Loader) Close() error {
	if l.s == nil {
		return nil
	}
	var err error
	for _, w := range l.writers {
		if w.tx != nil {
			_ = w.tx.Rollback()
			w.tx = nil
		}
		err = errors.Join(err, w.conn.Close())
	}
	if l.read != nil {
		err = errors.Join(err, l.read.Close())
	}
	l.s.mu.Unlock()
	l.s = nil
	if err != nil {
		return fmt.Errorf("store: close loader: %w", err)
	}
	return nil
}

func (l *Loader) fail(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		err = errors.Join(cerr, err)
	}
	return fmt.Errorf("store: ingest into %s: %w", l.s.path, err)
}

// view runs fn while the record is visible to SQL on a's connection as
// the table name. An Arrow view can be scanned once, so each statement
// gets its own.
//
// DuckDB registers an Arrow view as a lasting view of the duckdb's own
// catalog (the C API offers no temporary one), holding the address of
// this process's stream: once released, a query that reads the view
// dereferences freed memory, and in another process a random address,
// and crashes. So the view is created and dropped inside tx, the
// transaction of a's connection: no committed catalog ever holds it, and
// a pull killed in between leaves nothing, as its rollback drops the
// view with the rest. The view is dropped before its stream is released.
func view(ctx context.Context, a *duckdb.Arrow, tx *sql.Tx, rec arrow.RecordBatch, name string, fn func() error) error {
	rr, err := array.NewRecordReader(rec.Schema(), []arrow.RecordBatch{rec})
	if err != nil {
		return err
	}
	release, err := a.RegisterView(rr, name)
	if err != nil {
		return err
	}
	defer release()
	if err := fn(); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DROP VIEW `+name) //nolint:gosec // our own view name
	return err
}

// committedDuplicates drops (b.Drop) the rows matching committed events,
// found by DuckDB on the second connection, which does not see the open
// transaction (whose rows DuckDB would otherwise scan whole for every
// batch; seen covers them). dup are the rows DropSeen dropped. A
// duplicate is the same event delivered again, with the same eventTime,
// so committed events are searched only within the batch's time range
// and recipient accounts; DuckDB answers that from the few row groups
// whose zonemaps overlap it.
func (l *Loader) committedDuplicates(ctx context.Context, b *batch.Events, dup []int32) error {
	spans := b.Spans()
	if !l.mayBeStored(spans) {
		return nil
	}
	keys := batch.KeysOf(spans)
	if keys.Rows == 0 {
		return nil
	}
	// The keys are copied out of the Arrow scan with SELECT * (see
	// batch.Events.KeyArrow) and searched in DuckDB's own table. The copy
	// runs in a transaction of its own, which drops the view (see view).
	tx, err := l.read.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	err = view(ctx, l.readArrow, tx, b.KeyArrow(), "tw_dups", func() error {
		_, err := tx.ExecContext(ctx, `CREATE OR REPLACE TEMP TABLE tw_keys AS SELECT * FROM tw_dups`)
		return err
	})
	if err == nil {
		err = tx.Commit()
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	q := `SELECT k."row" FROM tw_keys k WHERE k.event_id IS NOT NULL AND EXISTS (
  SELECT 1 FROM events e WHERE e.event_id = k.event_id
    AND e.recipient_account_id IS NOT DISTINCT FROM k.recipient_account_id`
	var args []any
	if keys.Timed {
		q += ` AND e.event_time BETWEEN make_timestamp(?::BIGINT) AND make_timestamp(?::BIGINT)`
		args = append(args, keys.First, keys.Last)
	}
	if n := len(keys.Recipients); n > 0 && n <= maxRecipientFilter {
		q += ` AND e.recipient_account_id IN (` + placeholders(n) + `)` //nolint:gosec // only "?" placeholders
		for _, r := range keys.Recipients {
			args = append(args, r)
		}
	}
	q += `)`
	rows, err := l.read.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer func() { _ = rows.Close() }()
	dropped := make(map[int32]bool, len(dup))
	for _, r := range dup {
		dropped[r] = true
	}
	var found []int32
	for rows.Next() {
		var r int32
		if err := rows.Scan(&r); err != nil {
			return err
		}
		if !dropped[r] {
			found = append(found, r)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	b.Drop(found)
	return nil
}

// mayBeStored says whether some event of a batch (by its spans) could be
// among the stored events that seen does not cover: same recipient,
// overlapping times.
func (l *Loader) mayBeStored(spans map[string]batch.Span) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for r, sp := range spans {
		if st, ok := l.stored[r]; ok && sp.Overlaps(st) {
			return true
		}
	}
	return false
}

// maxRecipientFilter bounds the constants of the recipient filter; a batch
// with more recipients than that searches the time range alone.
const maxRecipientFilter = 64

// record adds the batch's whole files to ingested_files with their
// counts, and returns the batch's counts.
func (l *Loader) record(ctx context.Context, tx *sql.Tx, files []batch.FileRows) (Ingested, error) {
	var got Ingested
	var args []any
	now := time.Now().UTC()
	l.mu.Lock()
	for _, f := range files {
		c := Ingested{Events: f.Rows, Duplicates: f.Duplicates}
		got.Events += c.Events
		got.Duplicates += c.Duplicates
		if p := l.parts[f.Key]; p != nil {
			c.Events += p.Events
			c.Duplicates += p.Duplicates
		}
		if f.Partial {
			l.parts[f.Key] = &c
			continue
		}
		delete(l.parts, f.Key)
		args = append(args, f.Key, f.Account, f.Region, f.Day, c.Events, c.Duplicates, f.Verified, now)
	}
	l.mu.Unlock()
	const per = paramChunk / 8
	for start := 0; start < len(args); start += per * 8 {
		part := args[start:min(start+per*8, len(args))]
		q := `INSERT INTO ingested_files VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", len(part)/8), ", ") //nolint:gosec // only placeholders
		if _, err := tx.ExecContext(ctx, q, part...); err != nil {
			return Ingested{}, err
		}
	}
	return got, nil
}
