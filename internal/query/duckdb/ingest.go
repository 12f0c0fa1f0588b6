package duckdb

import (
	"context"
	"fmt"
	"strings"
)

// Ingested counts what a load did: events inserted, and events skipped as
// duplicates of an event already stored or earlier in the same batch.
type Ingested struct {
	Events, Duplicates int
}

// Has says whether the file with this key has been ingested.
func (s *Store) Has(ctx context.Context, key string) (bool, error) {
	var n int64
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM ingested_files WHERE key = ?`, key).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("store: look up %s: %w", key, err)
	}
	return n > 0, nil
}

// IngestedKeys returns the keys of the ingested files under prefix ("" for
// all), so the puller can skip them without asking file by file.
func (s *Store) IngestedKeys(ctx context.Context, prefix string) (map[string]bool, error) {
	// A range on key (besides starts_with) lets DuckDB skip row groups by
	// their min/max key.
	q, args := `SELECT key FROM ingested_files WHERE starts_with(key, ?) AND key >= ?`, []any{prefix, prefix}
	if hi, ok := prefixEnd(prefix); ok {
		q, args = q+` AND key < ?`, append(args, hi)
	}
	rows, err := s.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list ingested files under %q: %w", prefix, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]bool{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: list ingested files under %q: %w", prefix, err)
		}
		out[k] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: list ingested files under %q: %w", prefix, err)
	}
	return out, nil
}

// prefixEnd is the smallest string above every string with this prefix,
// for ASCII prefixes (keys are in practice); ok is false otherwise.
func prefixEnd(p string) (string, bool) {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] >= 0x7f {
			return "", false
		}
		if p[i] < 0x7e {
			return p[:i] + string(p[i]+1), true
		}
	}
	return "", false
}

// paramChunk bounds the parameters of one statement.
const paramChunk = 500

func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
