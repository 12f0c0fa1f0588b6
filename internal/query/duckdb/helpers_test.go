package duckdb

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
)

// demoBucket is a small generated organization shared by the tests: its
// log files as Files ready to ingest, and the manifest's ground truth.
type demoBucket struct {
	dir      string
	files    []File
	digests  []File // digest files, as a careless caller might pass them
	manifest *demo.Manifest
}

var (
	demoOnce sync.Once
	demoData *demoBucket
	demoErr  error
)

// TestMain removes the demo buckets shared by the tests and benchmarks.
// Run with TW_HOLD_STORE set, the test binary is instead a second process
// holding that store open until its stdin closes (see
// TestOpenSaysWhenAnotherProcessHoldsTheStore); with TW_QUERY_STORE, it
// runs a query on that store (see queryInChild); with TW_MEASURE_INTO, it
// runs a command and measures it (see measured).
func TestMain(m *testing.M) {
	if path := os.Getenv("TW_HOLD_STORE"); path != "" {
		os.Exit(holdStore(path))
	}
	if path := os.Getenv("TW_QUERY_STORE"); path != "" {
		os.Exit(queryStore(path, os.Getenv("TW_QUERY_SQL")))
	}
	if path := os.Getenv("TW_LOCK_EMPTY"); path != "" {
		os.Exit(lockEmpty(path))
	}
	if path := os.Getenv("TW_MEASURE_INTO"); path != "" {
		os.Exit(measure(path, os.Args[1:]))
	}
	code := m.Run()
	for _, d := range []*demoBucket{demoData, benchData} {
		if d != nil {
			_ = os.RemoveAll(d.dir)
		}
	}
	os.Exit(code)
}

// sharedDemo generates the bucket once per test binary; tests only read it.
func sharedDemo(tb testing.TB) *demoBucket {
	tb.Helper()
	demoOnce.Do(func() {
		dir, err := os.MkdirTemp("", "store-demo-")
		if err != nil {
			demoErr = err
			return
		}
		demoData, demoErr = generateDemo(dir, 3, 1, 24)
	})
	if demoErr != nil {
		tb.Fatal(demoErr)
	}
	return demoData
}

func generateDemo(dir string, accounts, days, perHour int) (*demoBucket, error) {
	ctx := context.Background()
	st, err := folder.Create(dir)
	if err != nil {
		return nil, err
	}
	st.WithoutSync()
	res, err := demo.Generate(ctx, st, demo.Options{Accounts: accounts, Regions: []string{"us-east-1", "eu-west-1"},
		Days: days, Seed: 42, Bucket: "demo-bucket", Trail: "org-trail", EventsPerHour: perHour})
	if err != nil {
		return nil, err
	}
	d := &demoBucket{dir: dir, manifest: res.Manifest}
	err = st.List(ctx, "", "", func(o objstore.Object) error {
		k, err := layout.Parse(o.Key)
		if err != nil {
			return err
		}
		f := File{Key: o.Key, Account: k.Account, Region: k.Region,
			Day:  time.Date(k.Year, time.Month(k.Month), k.Day, 0, 0, 0, 0, time.UTC),
			Path: filepath.Join(dir, filepath.FromSlash(o.Key)), Verified: true}
		switch k.Kind {
		case layout.LogFile:
			d.files = append(d.files, f)
		case layout.DigestFile:
			d.digests = append(d.digests, f)
		}
		return nil
	})
	return d, err
}

func openStore(tb testing.TB) *Store {
	tb.Helper()
	s, err := Open(context.Background(), filepath.Join(tb.TempDir(), "trail.duckdb"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// writeGz writes body gzipped to a new file and returns a File for it.
func writeGz(tb testing.TB, name string, body []byte) File {
	tb.Helper()
	return writeRaw(tb, name, gzBytes(tb, string(body)))
}

func gzBytes(tb testing.TB, body string) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(body))
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func writeRaw(tb testing.TB, name string, raw []byte) File {
	tb.Helper()
	p := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(p, raw, 0o644); err != nil {
		tb.Fatal(err)
	}
	return File{Key: "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/" + name, Account: "111122223333",
		Region: "us-east-1", Day: time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), Path: p}
}

// count runs a single-value query.
func count(tb testing.TB, s *Store, q string) int64 {
	tb.Helper()
	var n int64
	if err := s.db.QueryRow(q).Scan(&n); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return n
}

// queryAll runs q through the query.Engine interface and collects rows.
func queryAll(tb testing.TB, s *Store, q string) ([]string, [][]any) {
	tb.Helper()
	rows, err := s.Query(context.Background(), q)
	if err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	defer func() { _ = rows.Close() }()
	var out [][]any
	for rows.Next() {
		out = append(out, rows.Row())
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("%s: %v", q, err)
	}
	return rows.Columns(), out
}

func holdStore(path string) int {
	s, err := Open(context.Background(), path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = s.Close() }()
	fmt.Fprintln(os.Stdout, "holding") // the test that started this process waits for it
	_, _ = io.Copy(io.Discard, os.Stdin)
	return 0
}
