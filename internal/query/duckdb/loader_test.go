package duckdb

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
)

// Duplicates are found whether the first copy is in the same batch, an
// earlier batch of the open transaction, or one already committed (by
// this loader or before it), and whatever the recipient.
func TestLoaderFindsDuplicatesAcrossBatchesAndCommits(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	if _, err := ingest(ctx, s, writeGz(t, "before.json.gz", []byte(`{"Records":[
 {"eventID":"old","recipientAccountId":"111122223333","eventTime":"2026-11-20T08:00:00Z"},
 {"eventID":"norcpt","eventTime":"2026-11-20T08:00:00Z"}]}`))); err != nil {
		t.Fatal(err)
	}
	runs := 0
	for _, writers := range []int{1, MaxWriters} {
		for _, every := range []int{1, commitRows} {
			runs++
			t.Run(fmt.Sprintf("%d writers, commit every %d rows", writers, every), func(t *testing.T) {
				loadThreeFiles(t, s, writers, every, fmt.Sprint(writers, "-", every))
			})
		}
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != int64(2+3*runs) {
		t.Fatalf("%d events stored, want %d", n, 2+3*runs)
	}
}

// loadThreeFiles loads three files with duplicates in the same batch, in
// earlier batches and in committed events through a new Loader.
func loadThreeFiles(t *testing.T, s *Store, writers, every int, run string) {
	t.Helper()
	ctx := context.Background()
	l, err := s.NewLoader(ctx, writers)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	l.every = every
	var p batch.Parser
	var got Ingested
	for i, body := range []string{
		`{"Records":[{"eventID":"a` + run + `","recipientAccountId":"1","eventTime":"2026-11-20T10:00:00Z"},
		  {"eventID":"a` + run + `","recipientAccountId":"1","eventTime":"2026-11-20T10:00:00Z"},
		  {"eventID":"a` + run + `","recipientAccountId":"2","eventTime":"2026-11-20T10:00:00Z"}]}`,
		`{"Records":[{"eventID":"a` + run + `","recipientAccountId":"1","eventTime":"2026-11-20T10:00:00Z"},
		  {"eventID":"old","recipientAccountId":"111122223333","eventTime":"2026-11-20T08:00:00Z"},
		  {"eventID":"norcpt","eventTime":"2026-11-20T08:00:00Z"},
		  {"eventID":"b` + run + `","eventTime":"2026-11-20T10:00:00Z"}]}`,
		`{"Records":[{"eventID":"b` + run + `","eventTime":"2026-11-20T10:00:00Z"},
		  {"eventID":"a` + run + `","recipientAccountId":"2","eventTime":"2026-11-20T10:00:00Z"}]}`,
	} {
		var b batch.Events
		f := batch.File{Key: fmt.Sprintf("%s-%d", run, i), Account: "1", Region: "r", Day: time.Now()}
		if _, err := p.Append(&b, f, gzBytes(t, body), 1<<20); err != nil {
			t.Fatal(err)
		}
		b.Commit()
		if err := l.Prepare(ctx, &b); err != nil {
			t.Fatal(err)
		}
		n, err := l.Load(ctx, &b)
		if err != nil {
			t.Fatal(err)
		}
		got.Events += n.Events
		got.Duplicates += n.Duplicates
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got != (Ingested{Events: 3, Duplicates: 6}) {
		t.Fatalf("loaded %+v, want 3 events (a for two recipients, b) and 6 duplicates", got)
	}
}

// Two Loads at once, through two writers, with the same events in many
// batches: each event is stored once whatever the order the loads and
// commits interleave in, and every file is recorded once.
func TestLoaderLoadsConcurrentlyWithoutDuplicates(t *testing.T) {
	ctx := context.Background()
	s := openStore(t)
	l, err := s.NewLoader(ctx, MaxWriters)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	l.every = 7 // commits between and during loads
	const batches, perBatch, distinct = 40, 5, 60
	prepared := make(chan *batch.Events)
	errs := make(chan error, 3)
	go func() {
		defer close(prepared)
		var p batch.Parser
		for i := range batches {
			var body strings.Builder
			body.WriteString(`{"Records":[`)
			for r := range perBatch {
				if r > 0 {
					body.WriteByte(',')
				}
				// Events repeat across batches, some far apart.
				fmt.Fprintf(&body, `{"eventID":"e%d","recipientAccountId":"1","eventTime":"2026-11-20T10:00:00Z"}`, (i*3+r*11)%distinct)
			}
			body.WriteString(`]}`)
			b := &batch.Events{}
			f := batch.File{Key: fmt.Sprintf("f%02d", i), Account: "1", Region: "r", Day: time.Now()}
			if _, err := p.Append(b, f, gzBytes(t, body.String()), 1<<20); err != nil {
				errs <- err
				return
			}
			b.Commit()
			if err := l.Prepare(ctx, b); err != nil {
				errs <- err
				return
			}
			prepared <- b
		}
		errs <- nil
	}()
	var mu sync.Mutex
	var got Ingested
	for range MaxWriters {
		go func() {
			for b := range prepared {
				n, err := l.Load(ctx, b)
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				got.Events += n.Events
				got.Duplicates += n.Duplicates
				mu.Unlock()
			}
			errs <- nil
		}()
	}
	for range 1 + MaxWriters {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	stored := count(t, s, `SELECT count(*) FROM events`)
	unique := count(t, s, `SELECT count(DISTINCT event_id) FROM events`)
	files := count(t, s, `SELECT count(*) FROM ingested_files`)
	if stored != unique || got.Events != int(stored) || got.Events+got.Duplicates != batches*perBatch || files != batches {
		t.Fatalf("stored %d events (%d distinct), loaded %+v, %d files recorded; want each event once and %d files",
			stored, unique, got, files, batches)
	}
}
