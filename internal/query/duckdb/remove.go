package duckdb

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Empty reports whether no file has been ingested (committed) into the
// store: what a command that created it and then failed may remove.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var found bool
	if err := s.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM ingested_files)`).Scan(&found); err != nil {
		return false, fmt.Errorf("store: read %s: %w", s.path, err)
	}
	return !found, nil
}

// Remove deletes a closed duckdb's database file and what DuckDB keeps
// beside it (its write-ahead log and temporary folder). Missing files are
// not an error. Only for a store the caller created: it never checks what
// the file holds.
func Remove(path string) error {
	var errs []error
	for _, p := range []string{path, path + ".wal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	if err := os.RemoveAll(path + ".tmp"); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("store: remove %s: %w", path, err)
	}
	return nil
}
