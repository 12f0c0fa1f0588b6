package session

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// Network limits every AWS client shares.
const (
	// DefaultTimeout is how long a connection may go without progress: no
	// byte of a response (its first byte included) and no byte of a
	// request accepted for this long is a stalled endpoint. It is not a
	// deadline on a whole call: a large download that keeps moving is
	// never cut.
	DefaultTimeout = 30 * time.Second
	// ConnectTimeout bounds a TCP connect (at most the idle limit).
	ConnectTimeout = 10 * time.Second
	// TLSHandshakeTimeout bounds a TLS handshake.
	TLSHandshakeTimeout = 10 * time.Second
	// writeChunk is the most written to a connection under one deadline,
	// so a slow but moving upload never looks stalled.
	writeChunk = 64 << 10
)

// ErrStalled is returned (wrapped, as a *StallError) when an endpoint
// stopped answering: no connection within the connect limit, or no
// progress on a connection for the idle limit. The SDK's retryer retries
// it like any timeout; once the retries are spent, it is the call's error.
var ErrStalled = errors.New("stalled endpoint")

// StallError is a connection that made no progress.
type StallError struct {
	// Op is "connect", "read" (no byte came) or "write" (no byte was
	// accepted).
	Op string
	// Addr is the host:port dialed: the endpoint, or the proxy to it.
	Addr string
	// Limit is how long the connection waited.
	Limit time.Duration
}

// Problem says what did not happen, without the address.
func (e *StallError) Problem() string {
	switch e.Op {
	case "connect":
		return fmt.Sprintf("no connection in %s", e.Limit)
	case "write":
		return fmt.Sprintf("no byte of the request accepted for %s", e.Limit)
	}
	return fmt.Sprintf("no data for %s", e.Limit)
}

func (e *StallError) Error() string {
	return fmt.Sprintf("%s: %s (stalled endpoint)", e.Addr, e.Problem())
}

// Is makes errors.Is(err, ErrStalled) true.
func (e *StallError) Is(target error) bool { return target == ErrStalled }

// Timeout and Temporary make the SDK's retryer retry a stall, on a new
// connection, with its backoff.
func (e *StallError) Timeout() bool { return true }

// Temporary reports true: another connection may well answer.
func (e *StallError) Temporary() bool { return true }

// HTTPClient is the SDK HTTP client every adapter uses: the SDK's own
// (proxy settings, redirect rules, TLS 1.2 minimum) with a connect limit,
// a TLS handshake limit and a watchdog on every connection that fails a
// read or a write once it has made no progress for idle (DefaultTimeout
// when idle <= 0). Waiting for a response's first byte is such a read.
func HTTPClient(idle time.Duration) *awshttp.BuildableClient {
	if idle <= 0 {
		idle = DefaultTimeout
	}
	dialer := &net.Dialer{Timeout: min(ConnectTimeout, idle), KeepAlive: 30 * time.Second}
	return awshttp.NewBuildableClient().
		// The watchdog replaces the SDK's own read timeout, which only some
		// services get, and only with an environment variable.
		WithReadTimeout(0).
		WithTransportOptions(func(tr *http.Transport) {
			tr.DialContext = watchedDial(dialer, idle)
			tr.TLSHandshakeTimeout = TLSHandshakeTimeout
			// An idle pooled connection is closed by the pool before its
			// watchdog would fire on it.
			tr.IdleConnTimeout = min(tr.IdleConnTimeout, idle/2)
		})
}

// watchedDial dials with dialer and watches the connection.
func watchedDial(dialer *net.Dialer, idle time.Duration) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			var ne net.Error
			if ctx.Err() == nil && errors.As(err, &ne) && ne.Timeout() {
				return nil, &net.OpError{Op: "dial", Net: network, Err: &StallError{Op: "connect", Addr: addr, Limit: dialer.Timeout}}
			}
			return nil, err
		}
		return &watchedConn{Conn: c, addr: addr, idle: idle}, nil
	}
}

// watchedConn fails a Read that gets no byte for idle, and a Write of
// which no byte is accepted for idle. While a request is being written,
// its response is not overdue: reads are untimed until the write ends,
// and the write has its own limit. Reads are only timed while the caller
// reads, so a slow consumer never looks like a stalled endpoint. Once the
// connection has stalled, its later errors (the transport closing it) are
// that stall.
type watchedConn struct {
	net.Conn
	addr string
	idle time.Duration

	mu      sync.Mutex
	writing int
	stall   atomic.Pointer[StallError]
}

func (c *watchedConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	var deadline time.Time
	if c.writing == 0 {
		deadline = time.Now().Add(c.idle)
	}
	err := c.SetReadDeadline(deadline)
	c.mu.Unlock()
	if err != nil {
		return 0, c.explain(err, "read")
	}
	n, err := c.Conn.Read(p)
	return n, c.explain(err, "read")
}

func (c *watchedConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.writing++
	_ = c.SetReadDeadline(time.Time{})
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.writing--; c.writing == 0 {
			_ = c.SetReadDeadline(time.Now().Add(c.idle))
		}
		c.mu.Unlock()
	}()
	written := 0
	for len(p) > 0 {
		part := p[:min(len(p), writeChunk)]
		if err := c.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
			return written, c.explain(err, "write")
		}
		n, err := c.Conn.Write(part)
		written += n
		if err != nil {
			return written, c.explain(err, "write")
		}
		p = p[n:]
	}
	return written, nil
}

// explain turns a deadline into the connection's stall, and any error
// after a stall into that stall.
func (c *watchedConn) explain(err error, op string) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.stall.CompareAndSwap(nil, &StallError{Op: op, Addr: c.addr, Limit: c.idle})
	}
	if s := c.stall.Load(); s != nil {
		return s
	}
	return err
}

// StallAttempts is the most attempts a stalled call gets from a retryer
// wrapped by LimitStallRetries, however many it allows for throttling:
// each attempt has already waited the idle limit.
const StallAttempts = 3

// LimitStallRetries wraps r so that a call that keeps stalling stops after
// StallAttempts attempts; other errors are retried as r says.
func LimitStallRetries(r aws.Retryer) aws.Retryer { return stallLimited{r} }

type stallLimited struct{ aws.Retryer }

// RetryDelay ends the retries of a call whose attempt number attempt
// stalled, once it is the StallAttempts-th.
func (s stallLimited) RetryDelay(attempt int, err error) (time.Duration, error) {
	if attempt >= StallAttempts && errors.Is(err, ErrStalled) {
		return 0, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
	}
	return s.Retryer.RetryDelay(attempt, err)
}
