package duckdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// exportMarker marks a folder as an export, so a later export may replace
// it; a folder without it is never deleted. Parquet readers skip
// dot-files.
const exportMarker = ".trailwarden-export"

// ExportParquet writes the events as Parquet under dir, partitioned Hive
// style by account, region and event_date
// (dir/account=.../region=.../event_date=.../data_0.parquet), ready for
// Athena or any Parquet reader. It writes into a temporary sibling folder
// and renames it into place, so dir is never half written; an earlier
// export in dir is replaced, any other non-empty folder is refused.
//
// A store opened read-only must be opened for export (Options.Export): a
// sealed store cannot write files.
func (s *Store) ExportParquet(ctx context.Context, dir string) error {
	if s.opt.ReadOnly && !s.opt.Export {
		return fmt.Errorf("store: export %s: opened read-only for queries, which write no file: open it for export", s.path)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("store: export %s: %w", dir, err)
	}
	replace, err := replaceable(abs)
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".tmp-")
	if err != nil {
		return fmt.Errorf("store: export %s: %w", dir, err)
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	// Sorted like the table, so each Parquet file's row groups are ordered
	// by time and readers can skip them by min/max too.
	//nolint:gosec // the path is quoted by sqlString; COPY takes no parameters
	_, err = s.db.ExecContext(ctx, `COPY (SELECT * FROM events ORDER BY account, region, event_date, event_time)
TO `+sqlString(tmp)+` (FORMAT parquet, COMPRESSION zstd, PARTITION_BY (account, region, event_date), OVERWRITE_OR_IGNORE)`)
	if err != nil {
		return fmt.Errorf("store: export %s: %w", dir, err)
	}
	stamp := []byte(`{"exportedAt":"` + time.Now().UTC().Format(time.RFC3339) + `"}` + "\n")
	if err := os.WriteFile(filepath.Join(tmp, exportMarker), stamp, filePerm); err != nil {
		return fmt.Errorf("store: export %s: %w", dir, err)
	}
	// DuckDB wrote the files with the process umask; an export holds the
	// events as the store does, so it is the owner's alone too. tmp has
	// been 0700 from the start (MkdirTemp), so no one else could open
	// them meanwhile.
	if err := privateTree(tmp); err != nil {
		return fmt.Errorf("store: export %s: %w", dir, err)
	}
	if replace {
		old := tmp + ".old"
		if err := os.Rename(abs, old); err != nil {
			return fmt.Errorf("store: export %s: move the previous export aside: %w", dir, err)
		}
		defer func() { _ = os.RemoveAll(old) }()
	}
	if err := os.Rename(tmp, abs); err != nil {
		return fmt.Errorf("store: export %s: %w", dir, err)
	}
	done = true
	return nil
}

// replaceable says whether dir exists and must be swapped out: it may be
// missing, an empty folder, or an earlier export.
func replaceable(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: export %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return true, nil
	}
	if _, err := os.Stat(filepath.Join(dir, exportMarker)); err != nil {
		return false, fmt.Errorf("store: export %s: folder exists and is not a trailwarden export; choose an empty or new folder", dir)
	}
	return true, nil
}
