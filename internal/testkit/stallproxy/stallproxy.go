// Package stallproxy is a loopback TCP proxy for tests that stops
// forwarding on command: its connections stay open, and nothing more is
// read from or written to either side, as a client sees a half-open
// connection, a stopped server process or a proxy that stops reading.
// Resume lets the bytes flow again.
package stallproxy

import (
	"net"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
)

// chunk is how much a pump reads at once; a stall takes effect between
// chunks.
const chunk = 16 << 10

// Proxy forwards 127.0.0.1:<port> to a target address.
type Proxy struct {
	// Addr is host:port of the proxy; URL is http://Addr.
	Addr, URL string

	target string
	ln     net.Listener

	mu      sync.Mutex
	stalled bool          // every connection, and new ones
	frozen  int64         // connections with an epoch below are stalled
	epoch   int64         // the next connection's
	resumed chan struct{} // closed on Resume; replaced by a stall
	// stallAfter, when > 0, stalls once that many more bytes have gone
	// from the target to the clients: every connection, or (openOnly)
	// those open at that moment.
	stallAfter int64
	openOnly   bool
	conns      map[net.Conn]bool
	closed     bool

	toClient atomic.Int64 // bytes forwarded from the target, in total
	accepted atomic.Int64
	wg       sync.WaitGroup
}

// Start listens on 127.0.0.1 and forwards to target (host:port, or an
// http:// URL whose host is taken). The proxy is closed when the test
// ends.
func Start(t testing.TB, target string) *Proxy {
	t.Helper()
	if u, err := url.Parse(target); err == nil && u.Host != "" {
		target = u.Host
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("stallproxy: %v", err)
	}
	p := &Proxy{Addr: ln.Addr().String(), target: target, ln: ln, resumed: make(chan struct{}), conns: map[net.Conn]bool{}}
	close(p.resumed)
	p.URL = "http://" + p.Addr
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.Close)
	return p
}

// Stall stops forwarding now: connections already open and those opened
// from now on are held open, silent.
func (p *Proxy) Stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stallLocked(false)
}

func (p *Proxy) stallLocked(openOnly bool) {
	if !p.stalled && p.frozen == 0 {
		p.resumed = make(chan struct{})
	}
	if openOnly {
		p.frozen = p.epoch
	} else {
		p.stalled = true
	}
	p.stallAfter = 0
}

// StallAfter lets n more bytes through from the target to the clients,
// then stalls every connection, cutting a response in the middle when n
// ends there.
func (p *Proxy) StallAfter(n int64) { p.setStallAfter(n, false) }

// StallOpenAfter is StallAfter for the connections open at that moment
// only: connections opened later are served, as when one connection goes
// half-open and the endpoint is otherwise fine.
func (p *Proxy) StallOpenAfter(n int64) { p.setStallAfter(n, true) }

func (p *Proxy) setStallAfter(n int64, openOnly bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n <= 0 {
		p.stallLocked(openOnly)
		return
	}
	p.stallAfter, p.openOnly = n, openOnly
}

// Resume forwards again, the bytes held during the stall first.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stallAfter = 0
	if p.stalled || p.frozen > 0 {
		p.stalled, p.frozen = false, 0
		close(p.resumed)
	}
}

// Stalled reports whether any connection is stalled now.
func (p *Proxy) Stalled() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stalled || p.frozen > 0
}

// BytesToClients is how many bytes the target has sent through the proxy.
func (p *Proxy) BytesToClients() int64 { return p.toClient.Load() }

// Accepted is how many connections the proxy has accepted.
func (p *Proxy) Accepted() int64 { return p.accepted.Load() }

// Close stops listening and closes every connection.
func (p *Proxy) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	_ = p.ln.Close()
	for c := range p.conns {
		_ = c.Close()
	}
	if p.stalled || p.frozen > 0 {
		p.stalled, p.frozen = false, 0
		close(p.resumed)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = true
	return true
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.accepted.Add(1)
		if !p.track(client) {
			return
		}
		p.mu.Lock()
		l := &link{epoch: p.epoch}
		p.epoch++
		p.mu.Unlock()
		p.wg.Add(1)
		go p.serve(l, client)
	}
}

// link is one client connection and its connection to the target.
type link struct{ epoch int64 }

func (p *Proxy) serve(l *link, client net.Conn) {
	defer p.wg.Done()
	// A stalled proxy does not even reach the target: the client's
	// connection is accepted and left silent.
	if !p.wait(l) {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = client.Close()
		return
	}
	if !p.track(server) {
		_ = client.Close()
		return
	}
	p.wg.Add(2)
	go p.pump(l, server, client, false)
	go p.pump(l, client, server, true)
}

// stalledLocked says whether l is stalled now.
func (p *Proxy) stalledLocked(l *link) bool { return p.stalled || l.epoch < p.frozen }

// wait blocks while l is stalled; false once the proxy is closed.
func (p *Proxy) wait(l *link) bool {
	for {
		p.mu.Lock()
		stalled, resumed, closed := p.stalledLocked(l), p.resumed, p.closed
		p.mu.Unlock()
		if closed {
			return false
		}
		if !stalled {
			return true
		}
		<-resumed
	}
}

// allow says how many of n bytes to the client may go on l before a
// pending StallAfter stalls it.
func (p *Proxy) allow(l *link, n int) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stalledLocked(l) {
		return 0
	}
	if p.stallAfter <= 0 {
		return n
	}
	if int64(n) < p.stallAfter {
		p.stallAfter -= int64(n)
		return n
	}
	ok := int(p.stallAfter)
	p.stallLocked(p.openOnly)
	return ok
}

// pump copies src to dst, a chunk at a time, never while l is stalled.
// An error on either side (EOF or a reset from src) closes both.
func (p *Proxy) pump(l *link, dst, src net.Conn, toClient bool) {
	defer p.wg.Done()
	defer func() { _ = dst.Close(); _ = src.Close() }()
	buf := make([]byte, chunk)
	for {
		if !p.wait(l) {
			return
		}
		n, err := src.Read(buf)
		data := buf[:n]
		for len(data) > 0 {
			k := len(data)
			if toClient {
				k = p.allow(l, k)
			}
			if k > 0 {
				if _, werr := dst.Write(data[:k]); werr != nil {
					return
				}
				if toClient {
					p.toClient.Add(int64(k))
				}
				data = data[k:]
			}
			if len(data) > 0 && !p.wait(l) {
				return
			}
		}
		if err != nil {
			return
		}
	}
}
