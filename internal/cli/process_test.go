package cli

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/objstore/source"
)

// These tests run trailwarden as users do, a process of its own built from
// cmd/trailwarden, to send it signals and to hold a duckdb's lock in one
// process while another wants it.

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// trailwardenBinary builds cmd/trailwarden once per test binary.
func trailwardenBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trailwarden-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "trailwarden")
		out, err := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", binPath,
			"github.com/trailwarden/trailwarden/cmd/trailwarden").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		_ = os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// started is a trailwarden process and its output.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

func start(t *testing.T, env []string, args ...string) *started {
	t.Helper()
	p := &started{cmd: exec.Command(trailwardenBinary(t), args...)} //nolint:gosec // the binary this test built
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	p.cmd.Env = append(os.Environ(), env...)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			_ = p.cmd.Process.Kill()
			_ = p.cmd.Wait()
		}
	})
	return p
}

// stopWhen waits until path exists and stops the process there
// (SIGSTOP); false if the process ended first.
func (p *started) stopWhen(t *testing.T, path string) bool {
	t.Helper()
	exited := make(chan struct{})
	go func() {
		for {
			if _, err := os.Stat(path); err == nil {
				_ = p.cmd.Process.Signal(syscall.SIGSTOP)
				close(exited)
				return
			}
			if err := p.cmd.Process.Signal(syscall.Signal(0)); err != nil {
				close(exited)
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	select {
	case <-exited:
	case <-time.After(60 * time.Second):
		t.Fatalf("%s did not appear within a minute", path)
	}
	_, err := os.Stat(path)
	return err == nil && p.cmd.Process.Signal(syscall.Signal(0)) == nil
}

// wait waits for the process and returns its exit code.
func (p *started) wait(t *testing.T) int {
	t.Helper()
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatal(err)
	}
	return p.cmd.ProcessState.ExitCode()
}

// storeCounts reads what a store holds: events, distinct (event id,
// recipient) keys, and files recorded.
func storeCounts(t *testing.T, db string) (events, keys, files int) {
	t.Helper()
	stdout, stderr, code := run("query", "--db", db, "--format", "csv",
		"select (select count(*) from events), (select count(distinct (event_id, recipient_account_id)) from events), (select count(*) from ingested_files)")
	if code != 0 {
		t.Fatalf("query: exit %d\n%s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	f := strings.Split(lines[len(lines)-1], ",")
	if len(f) != 3 {
		t.Fatalf("query printed %q", stdout)
	}
	n := make([]int, 3)
	for i := range f {
		var err error
		if n[i], err = strconv.Atoi(f[i]); err != nil {
			t.Fatalf("query printed %q", stdout)
		}
	}
	return n[0], n[1], n[2]
}

// checkComplete says whether db holds exactly the demo's events, each
// once, and every log file.
func checkComplete(t *testing.T, dir, db string) {
	t.Helper()
	m, err := source.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	events, keys, files := storeCounts(t, db)
	if int64(events) != m.Events-m.Duplicates || events != keys || int64(files) != m.LogFiles {
		t.Fatalf("store holds %d events (%d distinct) from %d files; the demo has %d events (%d of them duplicates) in %d files",
			events, keys, files, m.Events, m.Duplicates, m.LogFiles)
	}
}

// An interrupted pull (SIGINT or SIGTERM, once the store is open) stops
// cleanly: it prints "interrupted", nothing about a cancelled context or
// --db, exits 130 and leaves no temporary folder; pulling again loads
// the rest without loss or duplicates.
func TestInterruptedPullExits130AndResumes(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := makeDemo(t, "--days", "2")
			db := filepath.Join(t.TempDir(), "trail.duckdb")
			var p *started
			for range 5 {
				_ = os.Remove(db)
				p = start(t, nil, "pull", "--source", dir, "--db", db)
				// The duckdb's temporary folder exists from the moment its
				// lock is held until it is closed.
				if p.stopWhen(t, db+".tmp") {
					break
				}
				p.wait(t)
				p = nil
			}
			if p == nil {
				t.Fatal("every pull ended before it could be interrupted")
			}
			_ = p.cmd.Process.Signal(sig)
			_ = p.cmd.Process.Signal(syscall.SIGCONT)
			code := p.wait(t)
			stderr := p.stderr.String()
			if code != ExitInterrupted || !strings.Contains(stderr, "interrupted\n") ||
				strings.Contains(stderr, "context canceled") || strings.Contains(stderr, "--db") || strings.Contains(stderr, "Error") {
				t.Fatalf("interrupted pull: exit %d, want %d\nstderr:\n%s\nstdout:\n%s", code, ExitInterrupted, stderr, p.stdout.String())
			}
			if _, err := os.Stat(db + ".tmp"); err == nil {
				t.Error("the interrupted pull left its temporary folder")
			}
			if _, stderr, code := run("pull", "--source", dir, "--db", db); code != 0 {
				t.Fatalf("pull after the interrupted one: exit %d\n%s", code, stderr)
			}
			checkComplete(t, dir, db)
		})
	}
}

// Any command stops the same way: the demo generator, interrupted while
// it writes.
func TestInterruptStopsAnyCommand(t *testing.T) {
	out := filepath.Join(t.TempDir(), "demo")
	p := start(t, nil, "demo", "--out", out, "--accounts", "12", "--regions", "us-east-1,eu-west-1,eu-central-1", "--days", "3")
	if !p.stopWhen(t, out) {
		t.Fatalf("demo ended before it could be interrupted: %s", p.stderr.String())
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	_ = p.cmd.Process.Signal(syscall.SIGCONT)
	if code := p.wait(t); code != ExitInterrupted || strings.TrimSpace(p.stderr.String()) != "interrupted" {
		t.Fatalf("interrupted demo: exit %d, want %d\nstderr:\n%s", code, ExitInterrupted, p.stderr.String())
	}
}

// A second pull into a store another pull is loading is not bad input:
// it exits 1 and names the process to wait for; so does a query. The
// first pull is unaffected.
func TestLockedStoreNamesTheProcessToWaitFor(t *testing.T) {
	dir := makeDemo(t, "--days", "2")
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	var holder *started
	for range 5 {
		_ = os.Remove(db)
		holder = start(t, nil, "pull", "--source", dir, "--db", db)
		if holder.stopWhen(t, db+".tmp") {
			break
		}
		holder.wait(t)
		holder = nil
	}
	if holder == nil {
		t.Fatal("every pull ended before a second could be started")
	}
	pid := holder.cmd.Process.Pid
	_, stderr, code := run("pull", "--source", dir, "--db", db)
	want := fmt.Sprintf("another trailwarden (process %d) is pulling into %s: wait for process %d to finish", pid, db, pid)
	if code != ExitFailure || !strings.Contains(stderr, want) {
		t.Errorf("second pull: exit %d, stderr:\n%s\nwant exit %d and %q", code, stderr, ExitFailure, want)
	}
	_, stderr, code = run("query", "--db", db, "select 1")
	if code != ExitFailure || !strings.Contains(stderr, fmt.Sprintf("wait for process %d to finish", pid)) {
		t.Errorf("query: exit %d, stderr:\n%s\nwant exit %d naming process %d", code, stderr, ExitFailure, pid)
	}
	_ = holder.cmd.Process.Signal(syscall.SIGCONT)
	if code := holder.wait(t); code != 0 {
		t.Fatalf("the first pull: exit %d\n%s", code, holder.stderr.String())
	}
	checkComplete(t, dir, db)
}

// bigLogFile writes a log file of dir, replacing one the demo wrote, with
// over 8 MB of compressed records, so a pull downloads it to disk to
// stream it. Its records are unverified (--no-verify).
func bigLogFile(t *testing.T, dir string) string {
	t.Helper()
	var logs []string
	_ = filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && strings.Contains(p, "/CloudTrail/") && strings.HasSuffix(p, ".json.gz") {
			logs = append(logs, p)
		}
		return nil
	})
	sort.Strings(logs)
	path := logs[len(logs)/2]
	account := strings.Split(filepath.Base(path), "_")[0]
	var raw bytes.Buffer
	raw.WriteString(`{"Records":[`)
	blob := make([]byte, 450)
	for i := range 24000 {
		if i > 0 {
			raw.WriteByte(',')
		}
		_, _ = rand.Read(blob)
		fmt.Fprintf(&raw, `{"eventVersion":"1.08","eventID":"big-%d","eventTime":"2026-11-20T12:00:%02dZ","eventName":"PutObject","recipientAccountId":"%s","requestParameters":{"blob":"%s"}}`,
			i, i%60, account, base64.StdEncoding.EncodeToString(blob))
	}
	raw.WriteString("]}")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, _ = zw.Write(raw.Bytes())
	_ = zw.Close()
	if gz.Len() <= 8<<20 {
		t.Fatalf("the big log file is %d bytes compressed, not over 8 MB", gz.Len())
	}
	if err := os.WriteFile(path, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A pull keeps its temporary downloads in the duckdb's folder (<db>.tmp,
// 0700), never in the system's temporary folder; what a killed pull left
// there (simulated, and by a real SIGKILL) is removed by the next pull,
// and the folder itself when the pull ends. The store file is 0600.
func TestPullTemporaryFilesStayWithTheStore(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := makeDemo(t)
	bigLogFile(t, dir)
	trailwardenBinary(t) // built before TMPDIR changes, so its folder is not counted below
	sysTmp := t.TempDir()
	t.Setenv("TMPDIR", sysTmp)
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	// A pull killed while it downloads.
	p := start(t, []string{"TMPDIR=" + sysTmp}, "pull", "--source", dir, "--db", db, "--no-verify")
	if p.stopWhen(t, db+".tmp") {
		_ = p.cmd.Process.Kill()
		p.wait(t)
	}
	// And what an older one left, as a killed pull leaves it.
	left := filepath.Join(db+".tmp", "pull-1234", "log-1.json.gz")
	if err := os.MkdirAll(filepath.Dir(left), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(left, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	long := time.Now().Add(-time.Hour)
	for _, q := range []string{left, filepath.Dir(left)} {
		if err := os.Chtimes(q, long, long); err != nil {
			t.Fatal(err)
		}
	}
	stdout, stderr, code := run("pull", "--source", dir, "--db", db, "--no-verify")
	if code != 0 {
		t.Fatalf("pull: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, err := os.Stat(db + ".tmp"); err == nil {
		entries, _ := os.ReadDir(db + ".tmp")
		t.Errorf("the store's temporary folder stays after the pull, holding %v", entries)
	}
	if entries, _ := os.ReadDir(sysTmp); len(entries) != 0 {
		t.Errorf("the system's temporary folder holds %v", entries)
	}
	if st, err := os.Stat(db); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("store file: %v, %v; want mode 0600", st.Mode(), err)
	}
	if events, _, _ := storeCounts(t, db); events < 24000 {
		t.Errorf("the store holds %d events, not the big file's 24,000 and more", events)
	}
}
