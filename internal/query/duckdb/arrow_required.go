//go:build !duckdb_arrow

package duckdb

// The store loads through DuckDB's Arrow interface, which duckdb-go only
// builds with the duckdb_arrow tag. Build with make, or set
// GOFLAGS=-tags=duckdb_arrow; without it the line below fails to compile
// and names the fix.
var _ = build_with_GOFLAGS_tags_duckdb_arrow_see_Makefile
