//go:build unix

package duckdb

import (
	"io"
	"os"
	"syscall"
)

// removeCrashLeftover removes path when it is an empty regular file that
// no process holds. That is what a pull killed while DuckDB created the
// store leaves: DuckDB creates the file, locks it, then writes its
// header, and refuses an empty file ever after ("not a valid DuckDB
// database file"), so every later pull would fail until someone deleted
// it. An empty file holds nothing to lose. One that another process has
// locked (a store being created right now) is left to DuckDB, which then
// says it is in use.
func removeCrashLeftover(path string) error {
	fi, err := os.Lstat(path) // #nosec G703 -- the store the user named with --db
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != 0 {
		return nil //nolint:nilerr // not there or not an empty file: DuckDB decides
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0) // #nosec G703 -- the store the user named with --db
	if err != nil {
		return nil //nolint:nilerr // DuckDB will say why it cannot open it
	}
	defer func() { _ = f.Close() }()
	// DuckDB's own lock: fcntl, on the whole file.
	lock := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLK, &lock); err != nil {
		return nil //nolint:nilerr // held by another process: not a leftover
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != 0 {
		return nil //nolint:nilerr // written meanwhile: not empty after all
	}
	return os.Remove(path) // #nosec G703 -- an empty, unheld store file, checked above
}
