// Package query is what the query engines share: the Engine interface that
// the embedded DuckDB store and Amazon Athena implement, the named queries
// for the common questions, and rendering of results as a table, CSV or
// JSON lines. It imports neither DuckDB nor the AWS SDK.
package query

import (
	"context"
)

// Rows streams a result, one row at a time, so a large result never has to
// fit in memory.
type Rows interface {
	Columns() []string
	// Next advances to the next row; it returns false at the end or on an
	// error (see Err).
	Next() bool
	// Row returns the current row's values: nil (SQL NULL), bool, int64,
	// float64, string, time.Time, or JSON for nested values (structs,
	// lists, maps) and JSON columns.
	Row() []any
	Err() error
	Close() error
}

// JSON is a value that is JSON text: a STRUCT, LIST, MAP or JSON column.
// The JSON formats write it as the JSON it holds (an object, an array, a
// number, null ...), the table and CSV as its text. A plain string that
// happens to look like JSON is a string, not a JSON, and stays a string.
type JSON string

// Engine runs SQL.
type Engine interface {
	// Name is "duckdb" or "athena": the key of a named query's dialect.
	Name() string
	Query(ctx context.Context, sql string) (Rows, error)
}

// Named is one of the common questions, with its SQL for each engine.
type Named struct {
	Name        string            `json:"name"`
	Title       string            `json:"title"`
	Description string            `json:"description"`
	SQL         map[string]string `json:"sql"` // by Engine.Name()
}
