package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func TestExportParquet(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	ctx := context.Background()
	if _, err := ingest(ctx, s, d.files...); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "parquet")
	for range 2 { // the second export replaces the first
		if err := s.ExportParquet(ctx, out); err != nil {
			t.Fatal(err)
		}
	}
	want := count(t, s, `SELECT count(*) FROM events`)
	glob := sqlString(filepath.Join(out, "**", "*.parquet"))
	if n := count(t, s, `SELECT count(*) FROM read_parquet(`+glob+`, hive_partitioning = true)`); n != want {
		t.Fatalf("parquet holds %d events, the store %d", n, want)
	}
	// Partition folders and typed columns survive.
	n := count(t, s, `SELECT count(*) FROM read_parquet(`+glob+`, hive_partitioning = true)
WHERE account = '`+d.manifest.Org.Management+`' AND event_date = DATE '2026-11-20' AND user_identity.type IS NOT NULL`)
	if n == 0 {
		t.Fatal("no management-account events found through the partitions")
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	if len(entries) != 1 {
		t.Fatalf("export left temporary folders beside it: %v", entries)
	}
	// A folder that is not an earlier export is never replaced.
	foreign := t.TempDir()
	if err := os.WriteFile(filepath.Join(foreign, "notes.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.ExportParquet(ctx, foreign); err == nil {
		t.Fatal("exported over a folder that is not an export")
	}
	if _, err := os.Stat(filepath.Join(foreign, "notes.txt")); err != nil {
		t.Fatal("the foreign folder was touched")
	}
}

func TestStatsEmpty(t *testing.T) {
	s := openStore(t)
	st, err := s.Stats(context.Background())
	if err != nil || st != (Stats{}) {
		t.Fatalf("Stats of an empty store = %+v, %v", st, err)
	}
}
