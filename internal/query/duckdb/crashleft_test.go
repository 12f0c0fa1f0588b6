//go:build unix

package duckdb

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
)

// A pull killed while DuckDB created the store leaves an empty file,
// which DuckDB refuses for good. Opening for writing replaces it with a
// new store; opening read-only refuses it as an empty store (not "some
// other file"), touching nothing.
func TestOpenReplacesTheEmptyFileACrashLeft(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	if err := os.WriteFile(path, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWith(context.Background(), path, Options{ReadOnly: true}); !errors.Is(err, ErrEmptyStore) {
		t.Fatalf("read-only open of an empty file: %v, want ErrEmptyStore", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() != 0 {
		t.Fatalf("read-only open changed the file: %v, %v", fi, err)
	}
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("open for writing over an empty file: %v", err)
	}
	empty, err := s.Empty(context.Background())
	if err != nil || !empty {
		t.Fatalf("new store: empty %v, %v", empty, err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenWith(context.Background(), path, Options{ReadOnly: true}); err != nil {
		t.Fatalf("the new store does not open read-only: %v", err)
	}
}

// An empty file another process holds locked is a store being created
// right now, not a leftover: it is left alone, and reported in use.
func TestOpenLeavesAnEmptyFileAnotherProcessHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trail.duckdb")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "TW_LOCK_EMPTY="+path)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stdin.Close(); _ = cmd.Wait() }()
	if line, err := bufio.NewReader(stdout).ReadString('\n'); err != nil || line != "holding\n" {
		t.Fatalf("the holder said %q, %v", line, err)
	}
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), path); !errors.Is(err, ErrLocked) {
		t.Fatalf("open of an empty file another process holds: %v, want ErrLocked", err)
	}
	after, err := os.Stat(path)
	if err != nil || !os.SameFile(before, after) {
		t.Fatalf("the held file was replaced: %v", err)
	}
}

// lockEmpty is the holder of TestOpenLeavesAnEmptyFileAnotherProcessHolds:
// it creates an empty file and locks it as DuckDB does before writing the
// header, until its stdin closes.
func lockEmpty(path string) int {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = f.Close() }()
	lock := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lock); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Fprintln(os.Stdout, "holding")
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}
