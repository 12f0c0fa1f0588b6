package duckdb

import (
	"context"
	"database/sql"
	"fmt"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// DuckDBVersion is the version of the DuckDB library linked in, as
// "select version()" gives it (e.g. v1.4.1), read from an in-memory
// database.
func DuckDBVersion(ctx context.Context) (string, error) {
	conn, err := duckdb.NewConnector("", nil)
	if err != nil {
		return "", fmt.Errorf("store: open in-memory database: %w", err)
	}
	db := sql.OpenDB(conn)
	defer func() { _ = db.Close() }()
	var v string
	if err := db.QueryRowContext(ctx, "select version()").Scan(&v); err != nil {
		return "", fmt.Errorf("store: read the DuckDB version: %w", err)
	}
	return v, nil
}
