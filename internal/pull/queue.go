package pull

import (
	"container/heap"
	"context"
	"sync"
)

// queue hands the listed log files to the download workers: oldest first
// among those a valid digest already vouches for. Digests are verified
// chain by chain while the pull runs, so loading starts once the first
// chains are verified instead of after all of them, and it is back to
// oldest first across chains once verification is over. Without
// verification every file is ready at once.
type queue struct {
	mu       sync.Mutex
	verify   bool
	hashes   map[string]string // what valid digests vouch for, by log file key
	waiting  map[string]object // listed, not vouched for yet
	ready    byTime
	listed   bool // list was called: waiting and ready hold every file
	verified bool // verification is over: nothing more will be vouched for
	changed  chan struct{}
}

// ticket is a file for a worker and the hash its digest vouches for
// ("" without verification). uncovered means verification is over and
// no valid digest lists the file.
type ticket struct {
	object
	want      string
	uncovered bool
}

func newQueue(verify bool) *queue {
	return &queue{verify: verify, hashes: map[string]string{}, waiting: map[string]object{}, changed: make(chan struct{})}
}

// vouch records that a valid digest lists key with hash. A log file is
// listed by one digest; should two valid digests disagree, the later one
// wins for files not handed out yet, and the file's bytes must still
// match the hash it is checked against.
func (q *queue) vouch(key, hash string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.hashes[key] = hash
	if o, ok := q.waiting[key]; ok {
		delete(q.waiting, key)
		heap.Push(&q.ready, o)
		q.signal()
	}
}

// list adds the files to pull, once.
func (q *queue) list(todo []object) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, o := range todo {
		if _, ok := q.hashes[o.key]; ok || !q.verify || q.verified {
			q.ready = append(q.ready, o)
		} else {
			q.waiting[o.key] = o
		}
	}
	heap.Init(&q.ready)
	q.listed = true
	q.signal()
}

// done says verification is over: files still waiting are handed out
// as uncovered.
func (q *queue) done() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.verified = true
	for key, o := range q.waiting {
		delete(q.waiting, key)
		heap.Push(&q.ready, o)
	}
	q.signal()
}

// next returns the next file, waiting until one is ready; false once
// every file has been handed out.
func (q *queue) next(ctx context.Context) (ticket, bool, error) {
	for {
		q.mu.Lock()
		if q.ready.Len() > 0 {
			o := heap.Pop(&q.ready).(object)
			h, ok := q.hashes[o.key]
			q.mu.Unlock()
			return ticket{object: o, want: h, uncovered: q.verify && !ok}, true, nil
		}
		if q.listed && len(q.waiting) == 0 {
			q.mu.Unlock()
			return ticket{}, false, nil
		}
		changed := q.changed
		q.mu.Unlock()
		select {
		case <-changed:
		case <-ctx.Done():
			return ticket{}, false, ctx.Err()
		}
	}
}

// signal wakes the waiting workers; q.mu is held.
func (q *queue) signal() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// byTime is a heap of files, oldest first (by key among equal times).
type byTime []object

func (h byTime) Len() int { return len(h) }
func (h byTime) Less(i, j int) bool {
	if !h[i].k.FileTime.Equal(h[j].k.FileTime) {
		return h[i].k.FileTime.Before(h[j].k.FileTime)
	}
	return h[i].key < h[j].key
}
func (h byTime) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *byTime) Push(x any)   { *h = append(*h, x.(object)) }
func (h *byTime) Pop() any {
	old := *h
	o := old[len(old)-1]
	*h = old[:len(old)-1]
	return o
}

// hash is what a valid digest vouches for key ("" when none does).
func (q *queue) hash(key string) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.hashes[key]
}
