// Package oracle drives the reference IAM evaluator in test/oracle (the npm package
// @cloud-copilot/iam-simulate) for differential tests of internal/eval.
//
// It is test support only. The evaluator is AGPL, so it runs solely as a separate Node
// process fed JSON lines over stdin/stdout; nothing of it is linked into trailwarden.
package oracle

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PinnedVersion is the iam-simulate version the expectations are written against.
const PinnedVersion = "0.1.173"

// ErrNotInstalled means node or the pinned iam-simulate package is missing.
var ErrNotInstalled = errors.New("IAM oracle not installed (run `make setup`: it needs Node >= 20 and npm)")

// Answer is the oracle's verdict on one Case.
type Answer struct {
	ID string `json:"id"`
	// Decision is Allowed, ExplicitlyDenied, ImplicitlyDenied, or empty on error.
	Decision string `json:"decision"`
	// ResultType is single, wildcard (the resource contained *), or error.
	ResultType string `json:"resultType"`
	// BlockedBy lists what blocked an otherwise allowed request, comma-separated
	// (scp, rcp, identity, resource, pb, vpce, s3-bpa).
	BlockedBy string `json:"blockedBy"`
	// IgnoredContextKeys were dropped as not applicable to the action; a test whose
	// condition keys land here is not testing what it claims.
	IgnoredContextKeys []string `json:"ignoredContextKeys"`
	Errors             []string `json:"errors"`
}

// Oracle is one running Node process. Its methods may be called from several
// goroutines; Runs are serialized because answers are matched to cases by order.
type Oracle struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	out    *json.Decoder
	stderr *tail
	seq    uint64
	failed error // set once the stream may be out of step; the process is then killed
	closed bool

	exited  chan struct{} // closed when the process has exited and stderr is complete
	waitErr error         // cmd.Wait's result, readable once exited is closed
}

const script = "oracle.mjs"

// FindDir walks up from the working directory (a package directory under go test)
// to the repository's test/oracle.
func FindDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, "test", "oracle")
		if _, err := os.Stat(filepath.Join(candidate, script)); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("oracle: no test/oracle/" + script + " above the working directory")
		}
		dir = parent
	}
}

// Start launches the oracle in dir (the path to test/oracle) and checks it answers a
// probe. ctx bounds only the start-up; the process lives until Close.
func Start(ctx context.Context, dir string) (*Oracle, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("%w: node is not on PATH", ErrNotInstalled)
	}
	if err := checkInstalled(dir); err != nil {
		return nil, err
	}
	cmd := exec.Command(node, script) //nolint:gosec // node from PATH running this repository's own script
	cmd.Dir = dir
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	o := &Oracle{
		cmd: cmd, stdin: stdin, out: json.NewDecoder(bufio.NewReader(stdout)),
		stderr: &tail{}, exited: make(chan struct{}),
	}
	cmd.Stderr = o.stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("oracle: start node: %w", err)
	}
	// Node exits only when its input closes (Close) or it dies, so by then every
	// answer has been read and Wait closing stdout loses nothing.
	go func() {
		o.waitErr = cmd.Wait()
		close(o.exited)
	}()
	if err := o.probe(ctx); err != nil {
		_ = o.Close()
		if strings.Contains(o.stderr.String(), "ERR_MODULE_NOT_FOUND") {
			return nil, fmt.Errorf("%w: %w", ErrNotInstalled, err)
		}
		return nil, err
	}
	return o, nil
}

// checkInstalled reads the installed package's version rather than trusting that
// node_modules exists: a stale install would silently change the expectations.
func checkInstalled(dir string) error {
	if _, err := os.Stat(filepath.Join(dir, script)); err != nil {
		return fmt.Errorf("oracle: %s is not the test/oracle directory: %w", dir, err)
	}
	manifest := filepath.Join(dir, "node_modules", "@cloud-copilot", "iam-simulate", "package.json")
	data, err := os.ReadFile(manifest)
	if err != nil {
		return fmt.Errorf("%w: @cloud-copilot/iam-simulate is missing from %s", ErrNotInstalled, dir)
	}
	var pkg struct{ Version string }
	if err := json.Unmarshal(data, &pkg); err != nil || pkg.Version != PinnedVersion {
		return fmt.Errorf("%w: %s has version %q, want %s", ErrNotInstalled, manifest, pkg.Version, PinnedVersion)
	}
	return nil
}

// probe runs one known-allowed request so a broken install fails at Start, with
// Node's own message, instead of in the middle of a test.
func (o *Oracle) probe(ctx context.Context) error {
	allow := json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	answers, err := o.Run(ctx, []Case{{
		ID: "probe", Principal: "arn:aws:iam::111111111111:user/probe", Action: "s3:GetObject",
		Resource: "arn:aws:s3:::probe/key", ResourceAccount: "111111111111",
		IdentityPolicies: []json.RawMessage{allow},
	}})
	if err != nil {
		return err
	}
	if a := answers[0]; a.Decision != "Allowed" {
		return fmt.Errorf("oracle: probe answered %q, errors %q", a.Decision, a.Errors)
	}
	return nil
}

// Run sends cases through the process and returns one Answer per case, in order,
// each carrying its case's ID. A case the oracle cannot evaluate gets an Answer with
// Errors; an error return means the process failed, after which the Oracle is unusable.
func (o *Oracle) Run(ctx context.Context, cases []Case) ([]Answer, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil, errors.New("oracle: Run after Close")
	}
	if o.failed != nil {
		return nil, o.failed
	}
	base := o.seq
	o.seq += uint64(len(cases))
	// Cancelling ctx kills the process, which unblocks both the writer and the reader.
	stop := context.AfterFunc(ctx, func() { _ = o.cmd.Process.Kill() })
	defer stop()

	writeErr := make(chan error, 1)
	go func() { writeErr <- o.write(base, cases) }()
	answers, err := o.read(base, cases)
	if err != nil {
		_ = o.cmd.Process.Kill() // the writer may be blocked on a full pipe
	}
	if werr := <-writeErr; err == nil && werr != nil {
		err = werr
	}
	if err == nil && !stop() {
		// ctx ended just as the batch completed: the answers are whole, but the
		// process is (being) killed.
		o.failed = fmt.Errorf("oracle: %w", ctx.Err())
		return answers, nil
	}
	if err != nil {
		_ = o.cmd.Process.Kill()
		<-o.exited // so that stderr is complete in the message
		if ctx.Err() != nil {
			err = ctx.Err()
		}
		o.failed = fmt.Errorf("oracle: %w%s", err, o.stderr.suffix())
		return nil, o.failed
	}
	return answers, nil
}

// wireCase is one input line; the id is a sequence number, so answers can be checked
// against the stream position whatever the callers' IDs are.
type wireCase struct {
	ID         string      `json:"id"`
	Simulation *simulation `json:"simulation"`
}

// write encodes one case at a time, so memory does not grow with the batch.
func (o *Oracle) write(base uint64, cases []Case) error {
	w := bufio.NewWriterSize(o.stdin, 64<<10)
	enc := json.NewEncoder(w)
	for i := range cases {
		sim := cases[i].simulation()
		line := wireCase{ID: strconv.FormatUint(base+uint64(i), 10), Simulation: &sim}
		if err := enc.Encode(line); err != nil {
			// Invalid caller JSON: send a null simulation, which the oracle answers
			// with an error, so the stream stays in step.
			line.Simulation = nil
			if err := enc.Encode(line); err != nil {
				return err
			}
		}
	}
	return w.Flush()
}

func (o *Oracle) read(base uint64, cases []Case) ([]Answer, error) {
	answers := make([]Answer, len(cases))
	for i := range cases {
		a := &answers[i]
		if err := o.out.Decode(a); err != nil {
			return nil, fmt.Errorf("reading answer %d of %d: %w", i+1, len(cases), err)
		}
		if want := strconv.FormatUint(base+uint64(i), 10); a.ID != want {
			return nil, fmt.Errorf("answer id %q, want %q: stream out of step", a.ID, want)
		}
		a.ID = cases[i].ID
	}
	return answers, nil
}

// Close ends the process by closing its input and waits for it to exit.
func (o *Oracle) Close() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return nil
	}
	o.closed = true
	_ = o.stdin.Close()
	select {
	case <-o.exited:
	case <-time.After(10 * time.Second):
		_ = o.cmd.Process.Kill()
		<-o.exited
		return errors.New("oracle: node did not exit after its input closed")
	}
	if o.waitErr != nil && o.failed == nil {
		return fmt.Errorf("oracle: node exited: %w%s", o.waitErr, o.stderr.suffix())
	}
	return nil
}

// tail keeps the last few KiB of Node's stderr for error messages.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailSize = 4 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailSize {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// suffix is the stderr tail formatted for the end of an error message.
func (t *tail) suffix() string {
	if s := t.String(); s != "" {
		return "; node stderr: " + s
	}
	return ""
}
