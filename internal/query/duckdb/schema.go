package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// SchemaVersion is the layout of the tables this trailwarden writes. Bump
// it with every incompatible change and add the step to migrate, so an old
// trailwarden refuses a newer file instead of misreading it.
const SchemaVersion = 2

// ErrNewerSchema matches the error Open returns for a store written by a
// newer trailwarden (a *NewerSchemaError).
var ErrNewerSchema = errors.New("store written by a newer trailwarden")

// NewerSchemaError says which version a store has and which this build
// reads; the fix is always to upgrade, never to rewrite the file.
type NewerSchemaError struct {
	Path               string
	Version, Supported int
}

func (e *NewerSchemaError) Error() string {
	return fmt.Sprintf("store: %s has schema version %d, this trailwarden reads up to %d: upgrade trailwarden",
		e.Path, e.Version, e.Supported)
}

// Is makes errors.Is(err, ErrNewerSchema) hold.
func (e *NewerSchemaError) Is(target error) bool { return target == ErrNewerSchema }

// userIdentityType is userIdentity as a typed STRUCT, snake_case like every
// column. Times are TIMESTAMP and flags BOOLEAN where CloudTrail writes them
// as strings.
const userIdentityType = `STRUCT(
    type VARCHAR, principal_id VARCHAR, arn VARCHAR, account_id VARCHAR,
    access_key_id VARCHAR, user_name VARCHAR, invoked_by VARCHAR, identity_provider VARCHAR,
    session_context STRUCT(
      attributes STRUCT(creation_date TIMESTAMP, mfa_authenticated BOOLEAN),
      session_issuer STRUCT(type VARCHAR, principal_id VARCHAR, arn VARCHAR, account_id VARCHAR, user_name VARCHAR),
      source_identity VARCHAR))`

// eventColumns are the columns a load fills, in the order of the Arrow
// batches (package batch) less their bookkeeping columns.
const eventColumns = `event_id, event_version, event_source, event_name, aws_region, source_ip_address,
  user_agent, error_code, error_message, request_id, event_type, event_category, recipient_account_id,
  shared_event_id, vpc_endpoint_id, session_credential_from_console, request_parameters, response_elements,
  additional_event_data, resources, service_event_details, tls_details, addendum, edge_device_details,
  insight_details, extra, event_time, read_only, management_event, user_identity, event_date, account,
  region, source_key`

// schema creates the current version. Every field of a record is kept:
// typed columns for the common ones, JSON text for request and response
// bodies and the other nested fields, and extra for everything else (see
// record.Event.Extra). events has no primary key on purpose: a
// DuckDB ART index must fit in memory (a (event_id, recipient_account_id)
// key overflows 256MB at about two million events), so duplicates are
// found in Go and by a search of the table instead (see Loader). Queries
// by time are made cheap by insertion order, not an index: a pull loads
// files oldest first, so each row group's min/max zonemaps cover a narrow
// range of event_time and event_date and DuckDB skips the rest.
// ingested_files has no key for the same reason. The ids and addresses
// that are unique, or nearly, per event are stored uncompressed, as
// DuckDB ends up storing them anyway: naming it saves DuckDB trying a
// dictionary on every row group (2% of a pull's CPU time).
var schema = []string{
	`CREATE TABLE IF NOT EXISTS events (
  event_id VARCHAR USING COMPRESSION uncompressed,
  event_time TIMESTAMP,
  event_version VARCHAR,
  event_source VARCHAR,
  event_name VARCHAR,
  aws_region VARCHAR,
  source_ip_address VARCHAR USING COMPRESSION uncompressed,
  user_agent VARCHAR,
  user_identity ` + userIdentityType + `,
  error_code VARCHAR,
  error_message VARCHAR,
  request_parameters JSON,
  response_elements JSON,
  additional_event_data JSON,
  request_id VARCHAR USING COMPRESSION uncompressed,
  event_type VARCHAR,
  event_category VARCHAR,
  read_only BOOLEAN,
  management_event BOOLEAN,
  recipient_account_id VARCHAR,
  shared_event_id VARCHAR,
  vpc_endpoint_id VARCHAR,
  session_credential_from_console VARCHAR,
  resources JSON,
  service_event_details JSON,
  tls_details JSON,
  addendum JSON,
  edge_device_details JSON,
  insight_details JSON,
  extra JSON,
  account VARCHAR NOT NULL,
  region VARCHAR NOT NULL,
  event_date DATE NOT NULL,
  source_key VARCHAR NOT NULL
)`,
	`CREATE TABLE IF NOT EXISTS ingested_files (
  key VARCHAR NOT NULL,
  account VARCHAR NOT NULL,
  region VARCHAR NOT NULL,
  day DATE,
  events BIGINT NOT NULL,
  duplicates BIGINT NOT NULL,
  verified BOOLEAN NOT NULL,
  ingested_at TIMESTAMP NOT NULL
)`,
}

// migrations[i] turns version i+1 into i+2.
var migrations = []string{
	// 1 to 2: the verbatim record column becomes extra. Version 2 keeps in
	// extra only what no other column holds; the old rows keep their
	// whole record there, which still drops nothing.
	`ALTER TABLE events RENAME COLUMN record TO extra;
ALTER TABLE events ALTER COLUMN extra DROP NOT NULL`,
}

// migrate creates the schema of a new file and checks the version of an
// existing one, in one transaction so a half-created store never exists.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", s.path, err)
	}
	defer func() { _ = tx.Rollback() }()
	v, err := s.schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	if v > SchemaVersion {
		return &NewerSchemaError{Path: s.path, Version: v, Supported: SchemaVersion}
	}
	if v == SchemaVersion {
		return nil
	}
	if s.opt.ReadOnly && v == 0 {
		return fmt.Errorf("store: open %s read-only: not a trailwarden store (no schema); ingest into it first", s.path)
	}
	if s.opt.ReadOnly {
		return fmt.Errorf("store: open %s read-only: it has schema version %d, this trailwarden writes %d: open it once read-write (pull) to upgrade it", s.path, v, SchemaVersion)
	}
	stmts := []string{`CREATE TABLE IF NOT EXISTS trailwarden_meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)`}
	if v == 0 {
		stmts = append(stmts, schema...)
	} else {
		stmts = append(stmts, migrations[v-1:]...)
	}
	stmts = append(stmts, `INSERT OR REPLACE INTO trailwarden_meta VALUES ('schema_version', '`+strconv.Itoa(SchemaVersion)+`')`)
	for _, q := range stmts {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("store: create schema in %s: %w", s.path, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: create schema in %s: %w", s.path, err)
	}
	return nil
}

// schemaVersion is the file's version, 0 for a file without trailwarden's
// tables (a new one).
func (s *Store) schemaVersion(ctx context.Context, tx *sql.Tx) (int, error) {
	var meta, ours int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FILTER (table_name = 'trailwarden_meta'),
  count(*) FILTER (table_name IN ('events', 'ingested_files'))
FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = 'main'`).Scan(&meta, &ours)
	if err != nil {
		return 0, fmt.Errorf("store: open %s: %w", s.path, err)
	}
	if meta == 0 && ours > 0 {
		// Someone else's tables: adding ours beside them would mix data.
		return 0, fmt.Errorf("store: %s has an events or ingested_files table but no trailwarden_meta: not a trailwarden store", s.path)
	}
	if meta == 0 {
		return 0, nil
	}
	var raw string
	err = tx.QueryRowContext(ctx, `SELECT value FROM trailwarden_meta WHERE key = 'schema_version'`).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("store: %s has a trailwarden_meta table without a schema version: not a trailwarden store", s.path)
	}
	if err != nil {
		return 0, fmt.Errorf("store: read schema version of %s: %w", s.path, err)
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < 1 {
		return 0, fmt.Errorf("store: %s has schema version %q: not a trailwarden store", s.path, raw)
	}
	return v, nil
}
