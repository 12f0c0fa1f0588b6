package duckdb

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// A store holds every event of an organization, so its files are the
// owner's alone: the database file and its write-ahead log are 0600, and
// the temporary folder beside them (DuckDB's spills and a pull's
// downloads) is 0700. DuckDB creates its files with the process umask
// (0644 under the usual 022), so a store opened for writing makes them
// private itself: a new duckdb's write-ahead log is created 0600 before
// DuckDB opens it (DuckDB appends to the file it finds), the database
// file is made 0600 as soon as DuckDB has created it and before anything
// is stored in it, and the log, which DuckDB deletes at each checkpoint,
// is created 0600 again after every commit.
const (
	filePerm = 0o600
	dirPerm  = 0o700
)

// walPath is DuckDB's write-ahead log of the store at path.
func walPath(path string) string { return path + ".wal" }

// TempDir is the duckdb's folder for temporary files: DuckDB spills there,
// and a pull downloads the log files too large for memory there. A store
// opened for writing creates it (0700) and empties it of what a killed
// process left; Close removes it when it is empty. Nothing of a store
// goes to the system's temporary folder.
func (s *Store) TempDir() string { return s.path + ".tmp" }

// prepareFiles runs before DuckDB opens path for writing. For a new store
// it creates the write-ahead log 0600, so DuckDB never writes the store's
// first transaction to a file others can read; it reports whether it
// created it (to be removed again should the open fail).
func prepareFiles(path string) (createdWAL bool) {
	if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) { //nolint:gosec // the store's path, the caller's to choose
		return false
	}
	f, err := os.OpenFile(walPath(path), os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm) //nolint:gosec // beside the store
	if err != nil {
		return false // DuckDB creates it, and private makes it 0600
	}
	_ = f.Close()
	return true
}

// unprepareFiles undoes prepareFiles after a failed open: the log it
// created goes, unless DuckDB created the store beside it.
func unprepareFiles(path string, createdWAL bool) {
	if !createdWAL {
		return
	}
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) { //nolint:gosec // the store's path, the caller's to choose
		_ = os.Remove(walPath(path)) //nolint:gosec // beside the store
	}
}

// private runs once a store is open for writing (its lock held, its
// schema in place): it makes the database file and its log 0600, creates
// the temporary folder 0700 and removes from it what processes killed
// before opened left there (DuckDB's spill files, a pull's downloads).
// Files DuckDB spilled since opened are kept.
func (s *Store) private(opened time.Time) error {
	if err := os.Chmod(s.path, filePerm); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if err := s.privateWAL(); err != nil {
		return err
	}
	dir := s.TempDir()
	if err := os.Mkdir(dir, dirPerm); err != nil && !errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("store: temporary folder %s: %w", dir, err)
	}
	if err := os.Chmod(dir, dirPerm); err != nil {
		return fmt.Errorf("store: temporary folder %s: %w", dir, err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("store: temporary folder %s: %w", dir, err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(opened) {
			continue
		}
		if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
			return fmt.Errorf("store: remove what a killed process left in %s: %w", dir, err)
		}
	}
	return nil
}

// privateWAL makes the write-ahead log 0600, creating it empty if DuckDB
// deleted it (at a checkpoint): DuckDB appends to the file it finds and
// keeps its mode. Called with no write in progress (open, after a commit).
func (s *Store) privateWAL() error {
	wal := walPath(s.path)
	f, err := os.OpenFile(wal, os.O_WRONLY|os.O_CREATE|os.O_EXCL, filePerm)
	if err == nil {
		return f.Close()
	}
	if err := os.Chmod(wal, filePerm); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("store: %s: %w", wal, err)
	}
	return nil
}

// privateTree makes the folders under dir 0700 and the files 0600,
// without following links out of it.
func privateTree(dir string) error {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return err
	}
	defer func() { _ = root.Close() }()
	return fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		perm := fs.FileMode(filePerm)
		if d.IsDir() {
			perm = dirPerm
		}
		return root.Chmod(p, perm)
	})
}

// removeEmptyTempDir removes the temporary folder once the store is
// closed, if nothing is left in it.
func (s *Store) removeEmptyTempDir() {
	_ = os.Remove(s.TempDir()) //nolint:gosec // beside the store
}

// LockedError is ErrLocked with what DuckDB says of the process holding
// the duckdb's lock.
type LockedError struct {
	Path string
	// PID is the holder's process id, 0 when DuckDB did not name it.
	PID int
	// Program is the holder's executable as DuckDB names it ("" when it
	// did not).
	Program string
	// Pulling says that the holder's command line is a trailwarden pull
	// (known on Linux only).
	Pulling bool
	Err     error
}

func (e *LockedError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("store: %s is in use by another process: %v", e.Path, e.Err)
	}
	return fmt.Sprintf("store: %s is in use by another process (%s, PID %d)", e.Path, filepath.Base(e.Program), e.PID)
}

// Is makes errors.Is(err, ErrLocked) hold.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

func (e *LockedError) Unwrap() error { return e.Err }

// lockHolder is how DuckDB names the holder of a lock: "Conflicting lock
// is held in /usr/local/bin/trailwarden (PID 12345)".
var lockHolder = regexp.MustCompile(`Conflicting lock is held in (.*?) \(PID (\d+)\)`)

// lockedError reads DuckDB's lock error.
func lockedError(path string, err error) *LockedError {
	le := &LockedError{Path: path, Err: err}
	if m := lockHolder.FindStringSubmatch(err.Error()); m != nil {
		le.Program = m[1]
		le.PID, _ = strconv.Atoi(m[2])
		le.Pulling = isPull(le.PID)
	}
	return le
}

// isPull says whether process pid runs "trailwarden ... pull ...", from
// its command line where the system shows it (Linux's /proc).
func isPull(pid int) bool {
	if pid <= 0 {
		return false
	}
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return false
	}
	args := bytes.Split(bytes.TrimRight(cmdline, "\x00"), []byte{0})
	for _, a := range args[1:] {
		if string(a) == "pull" {
			return true
		}
		if len(a) > 0 && a[0] != '-' {
			return false // the first word that is not a flag is the command
		}
	}
	return false
}
