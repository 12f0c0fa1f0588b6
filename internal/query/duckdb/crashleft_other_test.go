//go:build !unix

package duckdb

// lockEmpty is unix-only (fcntl locks); see crashleft_test.go.
func lockEmpty(string) int { return 1 }
