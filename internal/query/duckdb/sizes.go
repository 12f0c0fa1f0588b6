package duckdb

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// parseBytes reads a size like DuckDB's memory_limit takes ("256MB", "2GiB").
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, err := strconv.ParseFloat(t[:i], 64)
	if err != nil || num <= 0 {
		return 0, fmt.Errorf("%q is not a size like 256MB", s)
	}
	units := map[string]float64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
	u, ok := units[strings.ToLower(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("%q is not a size like 256MB", s)
	}
	return int64(num * u), nil
}

// sqlString quotes s as a SQL string literal, for the few places (table
// function arguments) where DuckDB takes no parameters.
func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
