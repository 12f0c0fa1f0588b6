package duckdb

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Stats summarize a store.
type Stats struct {
	Events     int64 `json:"events"`
	Duplicates int64 `json:"duplicates"` // skipped at ingest
	Files      int64 `json:"files"`
	// UnverifiedFiles were ingested without a digest vouching for them.
	UnverifiedFiles int64     `json:"unverified_files"`
	Accounts        int64     `json:"accounts"`
	Regions         int64     `json:"regions"`
	First           time.Time `json:"first,omitzero"` // earliest event_time; zero when empty
	Last            time.Time `json:"last,omitzero"`
}

// Stats counts events, files, accounts and regions, and the time span.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	var first, last sql.NullTime
	err := s.db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT account), count(DISTINCT region),
  min(event_time), max(event_time) FROM events`).Scan(&st.Events, &st.Accounts, &st.Regions, &first, &last)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats of %s: %w", s.path, err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(duplicates), 0)::BIGINT,
  count(*) FILTER (NOT verified) FROM ingested_files`).Scan(&st.Files, &st.Duplicates, &st.UnverifiedFiles)
	if err != nil {
		return Stats{}, fmt.Errorf("store: stats of %s: %w", s.path, err)
	}
	st.First, st.Last = first.Time, last.Time
	return st, nil
}
