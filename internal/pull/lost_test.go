package pull_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/pull"
)

// txSink is a sink with transactions, as the store has them: a batch it
// refuses (one holding poison, at Load or at Commit) rolls back everything
// since the last commit, which it reports in a *pull.LostError.
type txSink struct {
	mu        sync.Mutex
	poison    string
	atCommit  bool // refuse at Commit rather than at Load
	every     int  // commit every this many Loads
	loads     int
	committed map[string]int // whole files committed, and how often
	events    int            // rows committed
	open      []txLoad
	refusals  int
	// broken are files loaded in parts with a part rolled back: their
	// later parts are refused, until the next Commit.
	broken map[string]bool
}

type txLoad struct {
	keys, whole []string
	rows        int
}

func newTxSink(poison string, atCommit bool) *txSink {
	return &txSink{poison: poison, atCommit: atCommit, every: 3, committed: map[string]int{}, broken: map[string]bool{}}
}

func (m *txSink) IngestedKeys(_ context.Context, prefix string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for k := range m.committed {
		if strings.HasPrefix(k, prefix) {
			out[k] = true
		}
	}
	return out, nil
}

func (m *txSink) Prepare(context.Context, *batch.Events) error { return nil }

func (m *txSink) rollBack() *pull.LostError {
	m.refusals++
	lost := &pull.LostError{Reason: "Out of Memory Error: test", AtCommit: m.atCommit}
	for _, l := range m.open {
		lost.Keys = append(lost.Keys, l.keys...)
		lost.Files += len(l.whole)
		lost.Loaded.Events += l.rows
		for _, k := range l.keys {
			if !slices.Contains(l.whole, k) {
				m.broken[k] = true
			}
		}
	}
	m.open = nil
	return lost
}

func (m *txSink) Load(_ context.Context, b *batch.Events) (pull.Loaded, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := txLoad{rows: b.Rows()}
	for _, f := range b.Files() {
		l.keys = append(l.keys, f.Key)
		if !f.Partial {
			l.whole = append(l.whole, f.Key)
		}
	}
	if slices.ContainsFunc(l.keys, func(k string) bool { return m.broken[k] }) {
		m.refusals++
		return pull.Loaded{}, &pull.LostError{Keys: l.keys, Refused: true, Reason: "an earlier part was rolled back"}
	}
	if !m.atCommit && slices.Contains(l.keys, m.poison) {
		lost := m.rollBack()
		lost.Keys, lost.Refused = append(lost.Keys, l.keys...), true
		return pull.Loaded{}, lost
	}
	m.open = append(m.open, l)
	got := pull.Loaded{Events: b.Rows()}
	if m.loads++; m.loads%m.every == 0 {
		return got, m.commit()
	}
	return got, nil
}

func (m *txSink) commit() error {
	for _, l := range m.open {
		if m.atCommit && slices.Contains(l.keys, m.poison) {
			return m.rollBack()
		}
	}
	for _, l := range m.open {
		m.events += l.rows
		for _, k := range l.whole {
			m.committed[k]++
		}
	}
	m.open = nil
	return nil
}

func (m *txSink) Commit(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.broken)
	return m.commit()
}

// A file the sink refuses makes it roll back the files loaded beside it;
// the pull loads them again one at a time, names the one refused alone
// as bad with the sink's reason, and loads every other file once, with
// the summary's counts those of what the sink committed: verified or not,
// in memory or in parts.
func TestPullLoadsAgainWhatTheSinkRollsBack(t *testing.T) {
	st, res := bucket(t)
	var poison string
	var poisonSize int64
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		if poison == "" && strings.Contains(o.Key, "/CloudTrail/eu-west-1/") && strings.HasSuffix(o.Key, ".json.gz") {
			poison, poisonSize = o.Key, o.Size
		}
		return nil
	})
	for _, c := range []struct {
		name               string
		noVerify, streamed bool
	}{{"verified", false, false}, {"unverified", true, false}, {"in parts", false, true}} {
		t.Run(c.name, func(t *testing.T) {
			opt := options(t, res)
			opt.NoVerify, opt.BatchFiles = c.noVerify, 4
			if c.streamed {
				opt.InMemoryFile, opt.BatchBytes = 1, 2<<10
			}
			sink := newTxSink(poison, false)
			sum, err := pull.Run(context.Background(), st, sink, opt)
			if err != nil {
				t.Fatal(err)
			}
			if sink.refusals < 2 {
				t.Fatalf("the sink refused %d times: the poisoned file was never loaded alone", sink.refusals)
			}
			want := []pull.BadFile{{Key: poison, Problem: "the store could not load it: Out of Memory Error: test"}}
			if sum.OK || !slices.Equal(sum.Bad, want) || int64(sum.Loaded) != res.Manifest.LogFiles-1 || sum.Events != sink.events ||
				len(sink.committed) != sum.Loaded {
				t.Fatalf("summary: ok %v, bad %v, %d loaded, %d events; the sink committed %d files, %d events; want only %s bad",
					sum.OK, sum.Bad, sum.Loaded, sum.Events, len(sink.committed), sink.events, poison)
			}
			for k, n := range sink.committed {
				if n != 1 || k == poison {
					t.Fatalf("%s committed %d times", k, n)
				}
			}
			// The refused file still matched its digest.
			if d := sum.Digests; !c.noVerify && (d == nil || d.LogFilesValid != sum.Loaded+1 || d.LogFiles != sum.Loaded+1 || d.Bytes != sum.Bytes+poisonSize) {
				t.Fatalf("digest report %+v: want all %d files checked valid, %d bytes (%d loaded)", d, sum.Loaded+1, sum.Bytes+poisonSize, sum.Bytes)
			}
		})
	}
}

// Files the sink could not commit are bad files, named with the sink's
// reason, and not loaded again in this pull (a smaller commit is not
// safe for the store, see duckdb.LoadError); the rest is loaded and the
// counts are those of what the sink committed.
func TestPullNamesFilesTheSinkCouldNotCommit(t *testing.T) {
	st, res := bucket(t)
	var poison string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		if poison == "" && strings.Contains(o.Key, "/CloudTrail/us-east-1/") && strings.HasSuffix(o.Key, ".json.gz") {
			poison = o.Key
		}
		return nil
	})
	opt := options(t, res)
	opt.BatchFiles, opt.Loaders = 4, 1
	sink := newTxSink(poison, true)
	sum, err := pull.Run(context.Background(), st, sink, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sink.refusals != 1 || len(sum.Bad) < 2 || !slices.ContainsFunc(sum.Bad, func(b pull.BadFile) bool { return b.Key == poison }) {
		t.Fatalf("%d refusals, bad %v; want one refused commit naming %s and the files beside it", sink.refusals, sum.Bad, poison)
	}
	for _, b := range sum.Bad {
		if b.Problem != "the store could not commit it with the files loaded beside it: Out of Memory Error: test" || sink.committed[b.Key] != 0 {
			t.Fatalf("bad %v, committed %d times", b, sink.committed[b.Key])
		}
	}
	if sum.OK || int64(sum.Loaded+len(sum.Bad)) != res.Manifest.LogFiles || sum.Loaded != len(sink.committed) || sum.Events != sink.events {
		t.Fatalf("%d loaded, %d bad, %d events; the sink committed %d files, %d events; the demo has %d files",
			sum.Loaded, len(sum.Bad), sum.Events, len(sink.committed), sink.events, res.Manifest.LogFiles)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}
