//go:build !unix

package duckdb

// removeCrashLeftover is a no-op where file locks are not fcntl's: an
// empty store file left by a crash is refused by DuckDB there.
func removeCrashLeftover(string) error { return nil }
