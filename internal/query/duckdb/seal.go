package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// readPaths are the folders and files SQL on a sealed store may read,
// as DuckDB's allowed_directories and allowed_paths.
type readPaths struct {
	dirs, files []string
}

// readablePaths resolves Options.ReadFiles for DuckDB, which compares
// the path a query names, as written, with the allowed ones: each is
// allowed as its absolute path, its real path when a symbolic link leads
// to it, and, when relative, as given (with and without a leading ./),
// which DuckDB resolves against the working folder as the user does.
func readablePaths(paths []string) (*readPaths, error) {
	r := &readPaths{}
	for _, p := range paths {
		abs, err := filepath.Abs(p)
		if err != nil {
			return nil, fmt.Errorf("files to read: %w", err)
		}
		fi, err := os.Stat(abs)
		if err != nil {
			return nil, fmt.Errorf("files to read: %w", err)
		}
		names := []string{abs}
		if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
			names = append(names, real)
		}
		if rel := filepath.Clean(p); !filepath.IsAbs(rel) && rel != "." {
			names = append(names, rel, "."+string(filepath.Separator)+rel)
		}
		for _, n := range names {
			switch {
			case fi.IsDir():
				// The separator makes /data/ cover /data/x, never /database.
				r.dirs = append(r.dirs, strings.TrimSuffix(n, string(filepath.Separator))+string(filepath.Separator))
			default:
				r.files = append(r.files, n)
			}
		}
	}
	slices.Sort(r.dirs)
	slices.Sort(r.files)
	r.dirs, r.files = slices.Compact(r.dirs), slices.Compact(r.files)
	return r, nil
}

// seal cuts DuckDB off from everything but the store and r, in the order
// DuckDB requires: the limits were set when it opened (memory, threads,
// and the temporary folder beside the file, which DuckDB keeps writable);
// then the readable paths; then external access goes off; and last the
// configuration is locked, so no SQL can undo any of it or raise a limit.
//
// DuckDB keeps one instance per file in a process, so a second read-only
// open of a file still open finds it sealed already; it is accepted if
// the seal is the one asked for.
func (s *Store) seal(ctx context.Context, r *readPaths) error {
	// Two opens of one file sealing at once would mix their settings.
	sealMu.Lock()
	defer sealMu.Unlock()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	defer func() { _ = conn.Close() }()
	var locked bool
	if err := conn.QueryRowContext(ctx, `SELECT current_setting('lock_configuration')`).Scan(&locked); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if locked {
		return s.sealedAs(ctx, conn, r)
	}
	for _, stmt := range []string{
		`SET GLOBAL allowed_directories = ` + sqlList(r.dirs),
		`SET GLOBAL allowed_paths = ` + sqlList(r.files),
		`SET GLOBAL enable_external_access = false`,
		`SET GLOBAL lock_configuration = true`,
	} {
		if _, err := conn.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store: open %s: seal: %w", s.path, err)
		}
	}
	return nil
}

var sealMu sync.Mutex

// sealedAs checks that an instance sealed by an earlier open in this
// process is sealed as r asks.
func (s *Store) sealedAs(ctx context.Context, conn *sql.Conn, r *readPaths) error {
	var external bool
	var dirs, files []any
	err := conn.QueryRowContext(ctx, `SELECT current_setting('enable_external_access'),
  current_setting('allowed_directories'), current_setting('allowed_paths')`).Scan(&external, &dirs, &files)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if external || !sameSet(s.path, dirs, r.dirs) || !sameSet(s.path, files, r.files) {
		return fmt.Errorf("store: open %s read-only: already open in this process with other access to files", s.path)
	}
	return nil
}

// sameSet compares DuckDB's list setting got with want, ignoring order,
// repeats and the paths DuckDB adds itself: the duckdb's file, its
// write-ahead log and its temporary folder, all named after it.
func sameSet(store string, got []any, want []string) bool {
	g := map[string]bool{}
	for _, v := range got {
		str, ok := v.(string)
		if !ok {
			return false
		}
		if !strings.HasPrefix(str, store) {
			g[str] = true
		}
	}
	w := map[string]bool{}
	for _, v := range want {
		w[v] = true
	}
	if len(g) != len(w) {
		return false
	}
	for k := range w {
		if !g[k] {
			return false
		}
	}
	return true
}

func sqlList(items []string) string {
	quoted := make([]string, len(items))
	for i, it := range items {
		quoted[i] = sqlString(it)
	}
	return "[" + strings.Join(quoted, ", ") + "]::VARCHAR[]"
}

// ErrLoaderViews matches the error of a read-only open of a store that
// holds the views an earlier trailwarden's pull left in it.
var ErrLoaderViews = errors.New("it holds views that a pull by an earlier trailwarden left")

// loaderViewsWhere selects the views that pulls by earlier trailwardens
// left in the duckdb's catalog: Arrow views holding the address of a
// stream long gone (see view), which crash DuckDB when a query reads
// them.
const loaderViewsWhere = `database_name = current_database() AND schema_name = 'main' AND NOT temporary AND NOT internal
  AND (view_name LIKE 'tw\_insert\_%' ESCAPE '\' OR view_name = 'tw_dups')`

// loaderViews deals with the views earlier pulls left: a store opened for
// writing (by a pull) drops them, in one transaction; a sealed store,
// which cannot drop them and cannot keep a query from reading them, is
// refused. A store opened for export ignores them: the export reads the
// events table alone.
func (s *Store) loaderViews(ctx context.Context) error {
	if s.opt.Export {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	rows, err := tx.QueryContext(ctx, `SELECT view_name FROM duckdb_views() WHERE `+loaderViewsWhere+` ORDER BY view_name`)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			_ = rows.Close()
			return fmt.Errorf("store: open %s: %w", s.path, err)
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if len(names) == 0 {
		return nil
	}
	if s.opt.ReadOnly {
		return fmt.Errorf("store: open %s read-only: %w (%s), which crash DuckDB when a query reads them; a pull into the store removes them",
			s.path, ErrLoaderViews, strings.Join(names, ", "))
	}
	for _, n := range names {
		// Dropping a view does not read it.
		if _, err := tx.ExecContext(ctx, `DROP VIEW `+quoteIdent(n)); err != nil { //nolint:gosec // quoted
			return fmt.Errorf("store: open %s: drop the view %s an earlier pull left: %w", s.path, n, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: open %s: drop the views an earlier pull left: %w", s.path, err)
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
