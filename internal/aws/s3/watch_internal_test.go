package s3

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/objstore"
)

// blockingBody serves data, then blocks until its request's context ends,
// as an HTTP response body from a silent connection does.
type blockingBody struct {
	ctx  context.Context
	data []byte
}

func (b *blockingBody) Read(p []byte) (int, error) {
	if len(b.data) > 0 {
		n := copy(p, b.data)
		b.data = b.data[n:]
		return n, nil
	}
	<-b.ctx.Done()
	return 0, b.ctx.Err()
}

func (b *blockingBody) Close() error { return nil }

// TestWatch_BodyWatchdog: the body's own watchdog (independent of the
// connection's) ends a read that gets nothing for the limit, and does not
// count the time the caller spends between reads.
func TestWatch_BodyWatchdog(t *testing.T) {
	const idle = 150 * time.Millisecond
	s := &Store{bucket: "b", idle: idle, endpoint: "http://127.0.0.1:9000"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// No entity tag: the body cannot be resumed.
	rc := s.watch(context.Background(), "AWSLogs/k.json.gz", &blockingBody{ctx: ctx, data: []byte("abc")}, cancel, "", -1)
	defer func() { _ = rc.Close() }()
	got := make([]byte, 3)
	if _, err := io.ReadFull(rc, got); err != nil || string(got) != "abc" {
		t.Fatalf("read %q, %v", got, err)
	}
	time.Sleep(3 * idle) // the caller pauses: not a stall
	if ctx.Err() != nil {
		t.Fatal("the watchdog fired while nobody was reading")
	}
	start := time.Now()
	_, err := rc.Read(got)
	elapsed := time.Since(start)
	if !errors.Is(err, objstore.ErrStalled) {
		t.Fatalf("error %v, want a stall", err)
	}
	const want = "s3: get object s3://b/AWSLogs/k.json.gz from http://127.0.0.1:9000: no data for 150ms (stalled endpoint)"
	if err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if elapsed < idle || elapsed > idle+time.Second {
		t.Errorf("failed after %s, want about %s", elapsed, idle)
	}
}
