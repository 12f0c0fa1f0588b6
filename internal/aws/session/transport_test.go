package session

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// rawServer accepts loopback connections and hands each to serve; it
// counts the connections.
type rawServer struct {
	ln    net.Listener
	conns atomic.Int64
}

func startRaw(t *testing.T, serve func(c net.Conn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln}
	done := make(chan struct{})
	var open []net.Conn
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.conns.Add(1)
			open = append(open, c)
			go serve(c)
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		<-done
		for _, c := range open {
			_ = c.Close()
		}
	})
	return s
}

func (s *rawServer) url() string { return "http://" + s.ln.Addr().String() }

// readRequest reads one request's head (and no body) from c.
func readRequest(c net.Conn) (*bufio.Reader, error) {
	br := bufio.NewReader(c)
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return br, err
		}
		if line == "\r\n" {
			return br, nil
		}
	}
}

func get(ctx context.Context, c *http.Client, url string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	return c.Do(req)
}

func client(idle time.Duration) *http.Client {
	return &http.Client{Transport: HTTPClient(idle).Freeze().(*http.Client).Transport}
}

func wantStall(t *testing.T, err error, op string, elapsed, idle time.Duration) {
	t.Helper()
	var se *StallError
	if !errors.Is(err, ErrStalled) || !errors.As(err, &se) {
		t.Fatalf("error %v (%T), want a stall", err, err)
	}
	if se.Op != op || se.Limit != idle || !strings.Contains(err.Error(), "(stalled endpoint)") {
		t.Fatalf("stall %+v (%v), want op %s after %s", se, err, op, idle)
	}
	if elapsed < idle || elapsed > idle+2*time.Second {
		t.Fatalf("failed after %s, want about %s", elapsed, idle)
	}
}

// TestHTTPClient_StalledResponse: a server that accepts and never
// answers, or stops in the middle of a body, fails the call once nothing
// came for the idle limit, rather than hanging.
func TestHTTPClient_StalledResponse(t *testing.T) {
	const idle = 300 * time.Millisecond
	t.Run("NoFirstByte", func(t *testing.T) {
		srv := startRaw(t, func(c net.Conn) { _, _ = readRequest(c) })
		start := time.Now()
		resp, err := get(context.Background(), client(idle), srv.url())
		if err == nil {
			_ = resp.Body.Close()
		}
		wantStall(t, err, "read", time.Since(start), idle)
	})
	t.Run("BodyStopsMidway", func(t *testing.T) {
		srv := startRaw(t, func(c net.Conn) {
			if _, err := readRequest(c); err == nil {
				_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"+strings.Repeat("x", 400))
			}
		})
		resp, err := get(context.Background(), client(idle), srv.url())
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = resp.Body.Close() }()
		start := time.Now()
		n, err := io.Copy(io.Discard, resp.Body)
		if n != 400 {
			t.Fatalf("read %d bytes before the stall, want 400", n)
		}
		wantStall(t, err, "read", time.Since(start), idle)
	})
}

// TestHTTPClient_StalledRequest: a server that stops reading the request
// fails the upload once no byte was accepted for the idle limit.
func TestHTTPClient_StalledRequest(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv := startRaw(t, func(c net.Conn) {}) // accepts, never reads
	// Larger than what the loopback socket buffers can absorb.
	body := io.LimitReader(zeros{}, 256<<20)
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPut, srv.url(), body)
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = 256 << 20
	start := time.Now()
	resp, err := client(idle).Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	wantStall(t, err, "write", time.Since(start), idle)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestHTTPClient_SlowButMoving: the limit is on idleness, not on the
// call: a response that trickles in for several times the limit, and a
// consumer that pauses longer than the limit between reads, both finish.
func TestHTTPClient_SlowButMoving(t *testing.T) {
	const idle = 300 * time.Millisecond
	const parts = 8
	srv := startRaw(t, func(c net.Conn) {
		if _, err := readRequest(c); err != nil {
			return
		}
		_, _ = fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", parts)
		for range parts {
			time.Sleep(idle / 3)
			if _, err := c.Write([]byte("x")); err != nil {
				return
			}
		}
	})
	start := time.Now()
	resp, err := get(context.Background(), client(idle), srv.url())
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil || len(b) != parts {
		t.Fatalf("read %d bytes, %v", len(b), err)
	}
	if d := time.Since(start); d < 2*idle {
		t.Fatalf("took %s; the test needs a response slower than the limit", d)
	}

	// A consumer that waits longer than the limit before reading on.
	srv2 := startRaw(t, func(c net.Conn) {
		if _, err := readRequest(c); err == nil {
			_, _ = io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabcdef")
		}
	})
	resp, err = get(context.Background(), client(idle), srv2.url())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	first := make([]byte, 3)
	if _, err := io.ReadFull(resp.Body, first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * idle)
	rest, err := io.ReadAll(resp.Body)
	if err != nil || string(first)+string(rest) != "abcdef" {
		t.Fatalf("after a pause: %q %q %v", first, rest, err)
	}
}

// TestLoad_StallRetriedThenReported: through an SDK client, a stalled
// endpoint is retried by the SDK's retryer on new connections, then the
// call fails with the stall, well within attempts x limit plus backoff.
func TestLoad_StallRetriedThenReported(t *testing.T) {
	for _, mode := range []string{"", "legacy", "standard", "in-region", "cross-region", "mobile", "auto"} {
		t.Run("DefaultsMode="+mode, func(t *testing.T) {
			isolate(t)
			// A defaults mode makes service clients set their own connect
			// timeout, which must not drop the watchdog.
			t.Setenv("AWS_DEFAULTS_MODE", mode)
			stallRetriedThenReported(t)
		})
	}
}

func stallRetriedThenReported(t *testing.T) {
	const idle = 300 * time.Millisecond
	srv := startRaw(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }) // reads, never answers
	cfg, endpoint, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: srv.url(), Timeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	api := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), 50*time.Millisecond)
	})
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, err = api.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	elapsed := time.Since(start)
	if !errors.Is(err, ErrStalled) {
		t.Fatalf("error %v, want a stall", err)
	}
	if got := srv.conns.Load(); got != 3 {
		t.Fatalf("%d connections, want 3 (the SDK's 3 attempts, each on a new connection)", got)
	}
	if elapsed < 3*idle || elapsed > 3*idle+2*time.Second {
		t.Fatalf("failed after %s, want about 3 x %s", elapsed, idle)
	}
}

// TestLimitStallRetries: a retryer with many attempts for throttling
// gives a stalled call only StallAttempts of them.
func TestLimitStallRetries(t *testing.T) {
	isolate(t)
	const idle = 200 * time.Millisecond
	srv := startRaw(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	cfg, endpoint, err := Load(context.Background(), Options{Region: "us-east-1", Endpoint: srv.url(), Timeout: idle})
	if err != nil {
		t.Fatal(err)
	}
	generous := retry.AddWithMaxBackoffDelay(retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10 }), 10*time.Millisecond)
	api := sts.NewFromConfig(cfg, func(o *sts.Options) {
		o.BaseEndpoint = aws.String(endpoint)
		o.Retryer = LimitStallRetries(generous)
	})
	_, err = api.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	var mae *retry.MaxAttemptsError
	if !errors.Is(err, ErrStalled) || !errors.As(err, &mae) || mae.Attempt != StallAttempts {
		t.Fatalf("error %v, want a stall after %d attempts", err, StallAttempts)
	}
	if got := srv.conns.Load(); got != StallAttempts {
		t.Fatalf("%d connections, want %d", got, StallAttempts)
	}
}

// isolate gives the SDK static keys and no shared config.
func isolate(t *testing.T) {
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDSTALLTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_MAX_ATTEMPTS", "")
	t.Setenv("AWS_RETRY_MODE", "")
	t.Setenv("AWS_DEFAULTS_MODE", "")
}

func TestLoad_RejectsNegativeTimeout(t *testing.T) {
	if _, _, err := Load(context.Background(), Options{Timeout: -time.Second}); err == nil {
		t.Fatal("a negative timeout was accepted")
	}
}
