package cli

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// progress shows how long work is going: a line rewritten in place on a
// terminal, an occasional line otherwise (logs of CI jobs stay short).
type progress struct {
	mu       sync.Mutex
	w        io.Writer
	label    string
	tty      bool
	every    time.Duration
	last     time.Time
	began    time.Time
	shown    bool
	disabled bool
}

func newProgress(w io.Writer, label string) *progress {
	now := time.Now()
	// Short runs print nothing: the first line waits one interval.
	p := &progress{w: w, label: label, every: 5 * time.Second, began: now, last: now}
	if _, ok := w.(*os.File); ok {
		if isTerminal(w) {
			p.tty, p.every = true, 100*time.Millisecond
		}
	} else {
		p.disabled = true // not the process's stderr: a test or a pipe we do not own
	}
	return p
}

func (p *progress) update(msg string) {
	if p == nil || p.disabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if now.Sub(p.last) < p.every {
		return
	}
	p.last = now
	elapsed := now.Sub(p.began).Truncate(time.Second)
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s: %s (%s)", p.label, msg, elapsed)
		p.shown = true
		return
	}
	fmt.Fprintf(p.w, "%s: %s (%s)\n", p.label, msg, elapsed)
}

func (p *progress) done() {
	if p == nil || p.disabled {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}
