package cli

import (
	"encoding/json"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	stdout, stderr, code := run("version", "--format", "json")
	var v buildInfo
	if err := json.Unmarshal([]byte(stdout), &v); err != nil || code != 0 {
		t.Fatalf("exit %d: %v\n%s%s", code, err, stdout, stderr)
	}
	if v.Version == "" || v.Go != runtime.Version() || !regexp.MustCompile(`^v\d+\.\d+\.\d+`).MatchString(v.DuckDB) ||
		!slices.Contains(v.BuildTags, "duckdb_arrow") || v.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Errorf("%+v", v)
	}
	text, _, code := run("version")
	for _, want := range []string{"trailwarden " + v.Version + "\n", "go: " + v.Go, "duckdb: " + v.DuckDB, "build tags: duckdb_arrow"} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("no %q in\n%s", want, text)
		}
	}
}
