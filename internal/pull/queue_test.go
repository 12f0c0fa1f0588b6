package pull

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/layout"
)

func queued(key string, minute int) object {
	return object{key: key, k: layout.Key{FileTime: time.Date(2026, 11, 20, 0, minute, 0, 0, time.UTC)}}
}

// drain takes what the queue has ready now, without waiting.
func drain(t *testing.T, q *queue) []ticket {
	t.Helper()
	var out []ticket
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		tk, ok, err := q.next(ctx)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) || !ok {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, tk)
	}
}

func keysOf(ts []ticket) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.key)
	}
	return out
}

func TestQueueHandsOutVouchedFilesOldestFirstThenTheRestAsUncovered(t *testing.T) {
	q := newQueue(true)
	q.vouch("c", "hash-c") // vouched before it is listed
	q.list([]object{queued("a", 3), queued("b", 1), queued("c", 2), queued("d", 0)})
	if got := keysOf(drain(t, q)); len(got) != 1 || got[0] != "c" {
		t.Fatalf("before more digests: %v, want [c]", got)
	}
	q.vouch("a", "hash-a")
	q.vouch("b", "hash-b")
	got := drain(t, q)
	if k := keysOf(got); len(k) != 2 || k[0] != "b" || k[1] != "a" {
		t.Fatalf("after vouching a and b: %v, want [b a] (oldest first)", k)
	}
	if got[0].want != "hash-b" || got[0].uncovered {
		t.Fatalf("b: %+v", got[0])
	}
	q.done()
	rest := drain(t, q)
	if len(rest) != 1 || rest[0].key != "d" || !rest[0].uncovered || rest[0].want != "" {
		t.Fatalf("after verification: %+v, want d uncovered", rest)
	}
	if _, ok, err := q.next(context.Background()); ok || err != nil {
		t.Fatalf("an empty, finished queue must say so: ok=%v err=%v", ok, err)
	}
}

func TestQueueWithoutVerificationIsOldestFirstAtOnce(t *testing.T) {
	q := newQueue(false)
	q.done()
	q.list([]object{queued("x", 5), queued("y", 1), queued("z", 1)})
	got := drain(t, q)
	if k := keysOf(got); len(k) != 3 || k[0] != "y" || k[1] != "z" || k[2] != "x" {
		t.Fatalf("got %v, want [y z x]", k)
	}
	for _, tk := range got {
		if tk.uncovered || tk.want != "" {
			t.Fatalf("%+v: nothing is uncovered without verification", tk)
		}
	}
}

func TestQueueWaitsForAVouchAndStopsWithTheContext(t *testing.T) {
	q := newQueue(true)
	q.list([]object{queued("a", 0)})
	got := make(chan ticket)
	go func() {
		tk, _, _ := q.next(context.Background())
		got <- tk
	}()
	select {
	case tk := <-got:
		t.Fatalf("handed out %+v before any digest vouched for it", tk)
	case <-time.After(30 * time.Millisecond):
	}
	q.vouch("a", "h")
	if tk := <-got; tk.key != "a" || tk.want != "h" {
		t.Fatalf("got %+v", tk)
	}

	q2 := newQueue(true)
	q2.list([]object{queued("b", 0)})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := q2.next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}
