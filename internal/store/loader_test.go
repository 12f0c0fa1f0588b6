package store

import (
	"context"
	"fmt"
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
	if _, err := s.IngestFile(ctx, writeGz(t, "before.json.gz", []byte(`{"Records":[
 {"eventID":"old","recipientAccountId":"111122223333","eventTime":"2026-11-20T08:00:00Z"},
 {"eventID":"norcpt","eventTime":"2026-11-20T08:00:00Z"}]}`))); err != nil {
		t.Fatal(err)
	}
	for _, every := range []int{1, commitRows} {
		t.Run(fmt.Sprintf("commit every %d rows", every), func(t *testing.T) {
			l, err := s.NewLoader(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = l.Close() }()
			l.every = every
			var p batch.Parser
			var got Ingested
			run := fmt.Sprint(every)
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
		})
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != 2+3+3 {
		t.Fatalf("%d events stored, want 8", n)
	}
}
