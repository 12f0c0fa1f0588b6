package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// loadBatch runs one batch's transaction on conn. The batch is loaded in
// chunks of about s.chunk bytes of JSON, so memory stays bounded however
// large the batch: each chunk is staged, checked (a bad file fails the
// whole batch), deduplicated against the table (which includes the
// earlier chunks: a transaction sees its own rows) and inserted. Then the
// files are recorded and everything commits at once. The temporary tables
// are created inside the transaction, so a rollback removes them.
func (s *Store) loadBatch(ctx context.Context, conn *sql.Conn, batch []File, force bool) (Ingested, error) {
	in, cleanup, err := s.prepareInputs(batch, force)
	if err != nil {
		return Ingested{}, err
	}
	defer cleanup()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return Ingested{}, fmt.Errorf("store: ingest into %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	fail := func(err error) (Ingested, error) {
		if be := badFileIn(err, batch, in); be != nil {
			return Ingested{}, be
		}
		if cerr := ctx.Err(); cerr != nil {
			err = errors.Join(cerr, err)
		}
		return Ingested{}, fmt.Errorf("store: ingest %w", err)
	}
	if err := createBatchFiles(ctx, tx, batch, in); err != nil {
		return fail(fmt.Errorf("batch: %w", err))
	}
	for lo := 0; lo < len(batch); {
		hi, size := lo, int64(0)
		for hi < len(batch) && (hi == lo || size+in[hi].size <= s.chunk) {
			size += in[hi].size
			hi++
		}
		if err := loadChunk(ctx, tx, batch, in, lo, hi); err != nil {
			return fail(err)
		}
		lo = hi
	}
	if s.afterEvents != nil {
		s.afterEvents()
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO ingested_files
SELECT f.key, f.account, f.region, f.day, c.events, c.duplicates, f.verified, ?
FROM batch_files f JOIN file_counts c USING (fidx) ORDER BY f.fidx`, time.Now().UTC())
	if err != nil {
		return fail(fmt.Errorf("record files: %w", err))
	}
	var got Ingested
	err = tx.QueryRowContext(ctx, `SELECT coalesce(sum(events), 0)::BIGINT, coalesce(sum(duplicates), 0)::BIGINT FROM file_counts`).
		Scan(&got.Events, &got.Duplicates)
	if err != nil {
		return fail(fmt.Errorf("count events: %w", err))
	}
	for _, t := range []string{"file_counts", "batch_files"} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE temp.`+t); err != nil {
			return fail(fmt.Errorf("drop %s: %w", t, err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(fmt.Errorf("commit: %w", err))
	}
	return got, nil
}

// loadChunk stages, checks, deduplicates and inserts files [lo, hi) of the
// batch and adds their counts to file_counts.
func loadChunk(ctx context.Context, tx *sql.Tx, batch []File, in []input, lo, hi int) error {
	var direct, split []string
	var directMax, splitMax int64
	for _, x := range in[lo:hi] {
		if x.streamed {
			split, splitMax = append(split, x.path), max(splitMax, x.object)
		} else {
			direct, directMax = append(direct, x.path), max(directMax, x.object)
		}
	}
	if _, err := tx.ExecContext(ctx, stageSQL(direct, split, directMax, splitMax)); err != nil {
		return fmt.Errorf("read log files: %w", err)
	}
	if err := checkStaged(ctx, tx, batch, lo, hi); err != nil {
		return fmt.Errorf("check log files: %w", err)
	}
	if err := markDuplicates(ctx, tx); err != nil {
		return fmt.Errorf("find duplicates: %w", err)
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO file_counts
SELECT f.fidx, count(s.fidx) FILTER (s.ok AND d.fidx IS NULL), count(d.fidx)
FROM batch_files f LEFT JOIN staged s USING (fidx) LEFT JOIN dup d USING (fidx, ord)
WHERE f.fidx >= ? AND f.fidx < ? GROUP BY f.fidx`, lo, hi)
	if err != nil {
		return fmt.Errorf("count events: %w", err)
	}
	// No ORDER BY: DuckDB inserts in chunks of records of one file, each
	// thread reading its files in batch order (normalize sorts batches by
	// account, region, day and key). That is close enough to (account,
	// region, event_date, event_time) order for each row group's zonemaps
	// to cover few accounts, regions and days, so filtered queries skip
	// most of the table. An exact ORDER BY sorts every column of every
	// row and doubled the insert's time.
	if _, err = tx.ExecContext(ctx, insertSQL); err != nil {
		return fmt.Errorf("insert events: %w", err)
	}
	for _, t := range []string{"dup", "staged"} {
		if _, err := tx.ExecContext(ctx, `DROP TABLE temp.`+t); err != nil {
			return fmt.Errorf("drop %s: %w", t, err)
		}
	}
	return nil
}

// createBatchFiles fills batch_files, one row per file with the path
// read_json reports for it, and creates the empty file_counts.
func createBatchFiles(ctx context.Context, tx *sql.Tx, batch []File, in []input) error {
	_, err := tx.ExecContext(ctx, `CREATE TEMP TABLE batch_files (fidx INTEGER, path VARCHAR, key VARCHAR,
  account VARCHAR, region VARCHAR, day DATE, verified BOOLEAN, streamed BOOLEAN)`)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `CREATE TEMP TABLE file_counts (fidx INTEGER, events BIGINT, duplicates BIGINT)`)
	if err != nil {
		return err
	}
	const per = paramChunk / 8
	for start := 0; start < len(batch); start += per {
		end := min(start+per, len(batch))
		var args []any
		for i := start; i < end; i++ {
			f := batch[i]
			args = append(args, i, in[i].path, f.Key, f.Account, f.Region, f.Day, f.Verified, in[i].streamed)
		}
		q := `INSERT INTO batch_files VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", end-start), ", ") //nolint:gosec // only placeholders
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// checkStaged finds the first bad file of a chunk: one that gave no JSON
// object, whose object has no Records array, or whose Records hold
// something other than objects. Streamed files were checked while split.
func checkStaged(ctx context.Context, tx *sql.Tx, batch []File, lo, hi int) error {
	var fidx int
	var why string
	err := tx.QueryRowContext(ctx, `SELECT f.fidx, CASE
    WHEN c.fidx IS NULL THEN 'no JSON object'
    WHEN c.missing THEN 'no Records array (a digest, or not a CloudTrail log file)'
    ELSE 'record ' || c.first_bad || ' is not a JSON object' END
FROM batch_files f LEFT JOIN (
  SELECT fidx, bool_or(n IS NULL) AS missing, min(ord) FILTER (n > 0 AND NOT ok) AS first_bad
  FROM staged GROUP BY fidx) c USING (fidx)
WHERE f.fidx >= ? AND f.fidx < ? AND ((NOT f.streamed AND (c.fidx IS NULL OR c.missing)) OR c.first_bad IS NOT NULL)
ORDER BY f.fidx LIMIT 1`, lo, hi).Scan(&fidx, &why)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	return &BadFileError{Key: batch[fidx].Key, Err: errors.New(why)}
}

// markDuplicates fills dup with the staged records not to insert: repeats
// within the chunk (the first occurrence is kept) and events already in
// the table, earlier chunks of the batch included. A duplicate is the same event delivered again, so it has the
// same eventTime: the table is only searched within the batch's time range,
// which DuckDB answers from the few row groups whose zonemaps overlap it
// rather than a scan of every event ever stored. Records without an
// eventID cannot be matched and are always kept.
func markDuplicates(ctx context.Context, tx *sql.Tx) error {
	var lo, hi sql.NullTime
	var untimed bool
	err := tx.QueryRowContext(ctx, `SELECT min(event_time), max(event_time), coalesce(bool_or(event_time IS NULL), false)
FROM staged WHERE ok AND event_id IS NOT NULL`).Scan(&lo, &hi, &untimed)
	if err != nil {
		return err
	}
	window, args := "", []any{}
	if lo.Valid && !untimed {
		window, args = ` AND e.event_time BETWEEN ? AND ?`, []any{lo.Time, hi.Time}
	}
	// The recipients as constants too: events are stored in account
	// order, so DuckDB skips the row groups of every other account
	// instead of hashing the whole time window of the organization.
	recipients, err := stagedRecipients(ctx, tx)
	if err != nil {
		return err
	}
	if n := len(recipients); n > 0 && n <= maxRecipientFilter {
		window += ` AND e.recipient_account_id IN (` + placeholders(n) + `)`
		args = append(args, recipients...)
	}
	//nolint:gosec // window is a fixed clause with "?" placeholders
	_, err = tx.ExecContext(ctx, `CREATE TEMP TABLE dup AS
SELECT fidx, ord FROM (
  SELECT fidx, ord, row_number() OVER (PARTITION BY event_id, recipient_account_id ORDER BY fidx, ord) AS rn
  FROM staged WHERE ok AND event_id IS NOT NULL)
WHERE rn > 1
UNION
SELECT fidx, ord FROM staged s
WHERE ok AND event_id IS NOT NULL AND EXISTS (
  SELECT 1 FROM events e WHERE e.event_id = s.event_id
    AND e.recipient_account_id IS NOT DISTINCT FROM s.recipient_account_id`+window+`)`, args...)
	return err
}

// maxRecipientFilter bounds the constants of the recipient filter; a chunk
// with more recipients than that scans the time window alone.
const maxRecipientFilter = 64

// stagedRecipients lists the distinct recipient accounts of the staged
// records, or nil when some record has none (it must then be matched
// against every account's events).
func stagedRecipients(ctx context.Context, tx *sql.Tx) ([]any, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT recipient_account_id FROM staged WHERE ok AND event_id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	defer func() { _ = rows.Close() }()
	var out []any
	for rows.Next() {
		var r sql.NullString
		if err := rows.Scan(&r); err != nil {
			return nil, err
		}
		if !r.Valid {
			return nil, rows.Err()
		}
		out = append(out, r.String)
	}
	return out, rows.Err()
}

// badFileIn turns DuckDB's reader errors, which name the path of the file
// that failed, into a BadFileError naming its key.
func badFileIn(err error, batch []File, in []input) error {
	var be *BadFileError
	if errors.As(err, &be) {
		return be
	}
	var de *duckdb.Error
	if !errors.As(err, &de) || de.Type != duckdb.ErrorTypeInvalidInput && de.Type != duckdb.ErrorTypeIO {
		return nil
	}
	// The longest path first, so /x/a1 is not taken for /x/a.
	best := -1
	for i, x := range in {
		if strings.Contains(de.Msg, x.path) && (best < 0 || len(x.path) > len(in[best].path)) {
			best = i
		}
	}
	if best >= 0 {
		return &BadFileError{Key: batch[best].Key, Err: errors.New(firstLine(de.Msg))}
	}
	return nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}
