package duckdb

import (
	"context"
	"regexp"
	"testing"
)

func TestDuckDBVersion(t *testing.T) {
	v, err := DuckDBVersion(context.Background())
	if err != nil || !regexp.MustCompile(`^v\d+\.\d+\.\d+`).MatchString(v) {
		t.Fatalf("DuckDBVersion() = %q, %v", v, err)
	}
}
