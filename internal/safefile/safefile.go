// Package safefile writes files atomically: a reader sees the old content or
// the new, never half of either, even if the process is killed mid-write.
package safefile

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrDirectory is the error of a path that names a folder, where a file
// is to be written.
var ErrDirectory = errors.New("is a folder, not a file")

// Write replaces path with data through a temporary file in the same
// directory, fsynced and renamed over the target.
func Write(path string, data []byte, perm os.FileMode) (err error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("write %s: %w", path, ErrDirectory)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
