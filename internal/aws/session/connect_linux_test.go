package session

import (
	"context"
	"net"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// fullListener is a loopback socket that listens with a backlog of zero
// and never accepts: once its queue is full, the kernel drops new SYNs and
// a connect hangs, as it does to a host that drops packets.
func fullListener(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	// Fill the queue.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { _ = c.Close() })
	}
	t.Skip("the kernel kept accepting connections into a zero backlog")
	return ""
}

// TestHTTPClient_ConnectLimit: a connect that gets no answer fails as a
// stall after the connect limit (the idle limit, when shorter).
func TestHTTPClient_ConnectLimit(t *testing.T) {
	addr := fullListener(t)
	const idle = 300 * time.Millisecond
	start := time.Now()
	resp, err := get(context.Background(), client(idle), "http://"+addr+"/")
	if err == nil {
		_ = resp.Body.Close()
	}
	wantStall(t, err, "connect", time.Since(start), idle)
}
