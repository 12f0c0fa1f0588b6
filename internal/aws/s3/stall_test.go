package s3_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
	"github.com/trailwarden/trailwarden/internal/testkit/stallproxy"
)

// wantStall checks that err is a stall of op on the object at loc, named
// with the proxy's endpoint, that came within the limit's bound.
func wantStall(t *testing.T, err error, op, loc, endpoint string, elapsed, bound time.Duration) {
	t.Helper()
	if !errors.Is(err, objstore.ErrStalled) || !errors.Is(err, session.ErrStalled) {
		t.Fatalf("error %v, want a stall (objstore.ErrStalled and session.ErrStalled)", err)
	}
	want := "s3: " + op + " " + loc + " "
	if !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), endpoint+": ") || !strings.Contains(err.Error(), "(stalled endpoint)") {
		t.Fatalf("error %q, want it to start %q and say (stalled endpoint)", err, want)
	}
	t.Logf("%s: %v", op, err)
	if elapsed > bound {
		t.Fatalf("failed after %s, want at most %s", elapsed, bound)
	}
}

// TestStalledEndpoint runs the store through a proxy that stops
// forwarding: each call fails with a stall that names the object and the
// endpoint, after the SDK's retries, within attempts x limit plus
// backoff; once the proxy resumes, the same store works again.
func TestStalledEndpoint(t *testing.T) {
	srv := miniotest.Start(t)
	s3.IsolateAWSEnv(t, srv.AccessKey, srv.SecretKey)
	bucket := newBucket(t, srv)
	ctx := t.Context()
	const idle = 400 * time.Millisecond
	// 3 attempts of at most idle each, the SDK's backoff (under 2s, then
	// under 4s) between them, and slack for a loaded machine.
	const bound = 3*idle + 6*time.Second + 4*time.Second
	direct, err := s3.New(ctx, s3.Options{Bucket: bucket, Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	if err := direct.Put(ctx, "big.bin", bytes.NewReader(big), int64(len(big)), nil); err != nil {
		t.Fatal(err)
	}
	p := stallproxy.Start(t, srv.Endpoint)
	s, err := s3.New(ctx, s3.Options{Bucket: bucket, Endpoint: p.URL, Timeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	loc := "s3://" + bucket + "/big.bin"

	t.Run("GetNoAnswer", func(t *testing.T) {
		p.Stall()
		defer p.Resume()
		before := p.Accepted()
		start := time.Now()
		body, _, err := s.Get(ctx, "big.bin")
		if err == nil {
			_ = body.Close()
		}
		wantStall(t, err, "get object", loc, p.URL, time.Since(start), bound)
		// The fast path's attempt and the SDK's two others: three in all.
		if got := p.Accepted() - before; got != 3 {
			t.Errorf("%d connections, want 3 attempts", got)
		}
		if !strings.HasSuffix(err.Error(), ", 3 attempts") {
			t.Errorf("error %q does not count the SDK's attempts", err)
		}
	})
	t.Run("GetBodyStopsMidway", func(t *testing.T) {
		p.StallAfter(200 << 10) // the response's head and part of its body
		defer p.Resume()
		body, _, err := s.Get(ctx, "big.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = body.Close() }()
		before := p.Accepted()
		start := time.Now()
		n, err := io.Copy(io.Discard, body)
		if n < 100<<10 || n >= 200<<10 {
			t.Errorf("read %d bytes before the stall, want most of the 200 KiB let through", n)
		}
		// The body's own wait, then its resumption's attempts.
		wantStall(t, err, "get object", loc, p.URL, time.Since(start), idle+bound)
		if got := p.Accepted() - before; got != 3 {
			t.Errorf("%d connections to resume, want the SDK's 3 attempts", got)
		}
	})
	t.Run("GetBodyResumesOnANewConnection", func(t *testing.T) {
		// One connection goes half-open; new ones are served.
		p.StallOpenAfter(200 << 10)
		defer p.Resume()
		before := p.Accepted()
		start := time.Now()
		body, _, err := s.Get(ctx, "big.bin")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		_ = body.Close()
		t.Logf("read %d bytes in %s over %d connections", len(got), time.Since(start).Round(time.Millisecond), p.Accepted()-before)
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("read %d bytes (%v), want the whole object", len(got), err)
		}
		if p.Accepted()-before < 1 {
			t.Errorf("no new connection: the body was not resumed")
		}
	})
	t.Run("ChangedObjectIsNotResumed", func(t *testing.T) {
		if err := direct.Put(ctx, "changing.bin", bytes.NewReader(big), int64(len(big)), nil); err != nil {
			t.Fatal(err)
		}
		p.StallOpenAfter(200 << 10)
		defer p.Resume()
		body, _, err := s.Get(ctx, "changing.bin")
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = body.Close() }()
		type result struct {
			b   []byte
			err error
		}
		done := make(chan result, 1)
		go func() {
			b, err := io.ReadAll(body)
			done <- result{b, err}
		}()
		for !p.Stalled() {
			time.Sleep(time.Millisecond)
		}
		other := bytes.Repeat([]byte("x"), len(big))
		if err := direct.Put(ctx, "changing.bin", bytes.NewReader(other), int64(len(other)), nil); err != nil {
			t.Fatal(err)
		}
		r := <-done
		if !errors.Is(r.err, objstore.ErrStalled) || bytes.Contains(r.b, []byte("x")) {
			t.Fatalf("read %d bytes, %v: want the stall, and no byte of the new object", len(r.b), r.err)
		}
	})
	t.Run("List", func(t *testing.T) {
		p.Stall()
		defer p.Resume()
		start := time.Now()
		err := s.List(ctx, "", "", func(objstore.Object) error { return nil })
		wantStall(t, err, "list", "s3://"+bucket+"/", p.URL, time.Since(start), bound)
		start = time.Now()
		_, err = s.ListDirs(ctx, "a/")
		wantStall(t, err, "list", "s3://"+bucket+"/a/", p.URL, time.Since(start), bound)
	})
	t.Run("Head", func(t *testing.T) {
		p.Stall()
		defer p.Resume()
		start := time.Now()
		_, _, err := s.Head(ctx, "big.bin")
		wantStall(t, err, "head object", loc, p.URL, time.Since(start), bound)
	})
	t.Run("Put", func(t *testing.T) {
		p.Stall()
		defer p.Resume()
		start := time.Now()
		err := s.Put(ctx, "put.bin", bytes.NewReader(big), int64(len(big)), nil)
		wantStall(t, err, "put object", "s3://"+bucket+"/put.bin", p.URL, time.Since(start), bound)
		if !strings.Contains(err.Error(), " to "+p.URL) {
			t.Errorf("error %q: a put goes to the endpoint", err)
		}
	})
	t.Run("ResumedEndpointServesAgain", func(t *testing.T) {
		body, _, err := s.Get(ctx, "big.bin")
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(body)
		_ = body.Close()
		if err != nil || !bytes.Equal(got, big) {
			t.Fatalf("after resuming: %d bytes, %v", len(got), err)
		}
		// The abandoned put's bytes may still reach the server once the
		// proxy resumes: then the object is whole, never part of it.
		if b, _, err := direct.Get(ctx, "put.bin"); err == nil {
			got, err := io.ReadAll(b)
			_ = b.Close()
			if err != nil || !bytes.Equal(got, big) {
				t.Fatalf("a stalled put left %d bytes, %v", len(got), err)
			}
		} else if !errors.Is(err, objstore.ErrNotFound) {
			t.Fatal(err)
		}
	})
}
