//go:build faults

package faulttest

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// faultProxy stands between the binary and MinIO, and injects faults at
// the moment an object is fetched: after the pull listed it, before its
// GET reaches the server. The proxy keeps the Host header, so the
// client's signatures still verify at MinIO, and every response is
// MinIO's own.
type faultProxy struct {
	bucket string
	rp     *httputil.ReverseProxy
	srv    *httptest.Server

	mu    sync.Mutex
	onGet map[string]func() // per key, run once before its first GET is forwarded
	fired map[string]int    // keys whose action ran, and how many GETs they got
	hold  chan struct{}     // when set, every request waits for it to close
}

func newFaultProxy(t *testing.T, endpoint, bucket string) *faultProxy {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{bucket: bucket, rp: httputil.NewSingleHostReverseProxy(target), onGet: map[string]func(){}, fired: map[string]int{}}
	p.rp.Transport = &http.Transport{Proxy: nil}
	p.srv = httptest.NewServer(p)
	t.Cleanup(func() {
		p.release()
		p.srv.CloseClientConnections()
		p.srv.Close()
	})
	return p
}

// URL is the endpoint to give the binary.
func (p *faultProxy) URL() string { return p.srv.URL }

// at runs fn when key is first fetched, before the GET goes on.
func (p *faultProxy) at(key string, fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onGet[key] = fn
}

// firedFor says how many GETs of key went through after its action ran.
func (p *faultProxy) firedFor(key string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fired[key]
}

// stall makes every request from now on wait, as a server that accepted
// the connection and stopped answering; release lets them go on.
func (p *faultProxy) stall() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold == nil {
		p.hold = make(chan struct{})
	}
}

func (p *faultProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.hold != nil {
		close(p.hold)
		p.hold = nil
	}
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	hold := p.hold
	var action func()
	key, isObject := strings.CutPrefix(r.URL.Path, "/"+p.bucket+"/")
	if isObject && r.Method == http.MethodGet && !r.URL.Query().Has("list-type") {
		if fn, ok := p.onGet[key]; ok {
			action = fn
			delete(p.onGet, key)
		}
		if _, ok := p.fired[key]; ok || action != nil {
			p.fired[key]++
		}
	}
	p.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done():
			return
		}
	}
	if action != nil {
		action()
	}
	p.rp.ServeHTTP(w, r)
}
