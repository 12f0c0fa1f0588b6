//go:build faults

package faulttest

import (
	"bytes"
	"context"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	s3store "github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

// minioDemo starts MinIO with the suite's demo organization in
// demo-bucket, written by trailwarden demo, and returns the server and a
// store on it for the test's own changes.
func minioDemo(t *testing.T, f *fixture) (*miniotest.Server, objstore.Store) {
	t.Helper()
	srv := miniotest.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "demo-bucket")
	if r := run(t, append([]string{"demo", "--s3", "s3://demo-bucket", "--endpoint-url", srv.Endpoint}, f.demoArgs...)...); r.code != 0 {
		t.Fatalf("demo into MinIO: %v", r)
	}
	st, err := s3store.New(contextFor(t), s3store.Options{Bucket: "demo-bucket", Region: miniotest.Region, Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	return srv, st
}

func get(t *testing.T, st objstore.Store, key string) []byte {
	t.Helper()
	body, _, err := st.Get(contextFor(t), key)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = body.Close() }()
	data, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func put(st objstore.Store, key string, data []byte) {
	// The action runs in the proxy's handler: a failure shows up as the
	// wrong problem (or none) for the file, which the test reports.
	_ = st.Put(context.Background(), key, bytes.NewReader(data), int64(len(data)), nil)
}

// TestFaultsObjectsChangeBetweenListAndGet deletes, corrupts, empties,
// truncates and swaps for a gzip bomb log files of MinIO at the moment
// the pull fetches them, after it listed them (the listing's size is no
// longer the object's), with and without --no-verify. Each such file is
// named bad and not stored, every other file is stored, the pull exits 1,
// and once the files are back a pull stores exactly what a clean pull
// does.
func TestFaultsObjectsChangeBetweenListAndGet(t *testing.T) {
	f := demo(t)
	isolate(t)
	srv, st := minioDemo(t, f)
	bomb := gzipBomb(t, 128<<20, false)
	kinds := []struct {
		name, problem string // problem: what the bad file's problem says ("" for any)
		act           func(key string, original []byte)
	}{
		{"deleted", "not found", func(key string, _ []byte) { _ = st.Delete(context.Background(), key) }},
		{"corrupted", "", func(key string, original []byte) {
			junk := bytes.Repeat([]byte{0x5a, 0xa5, 0x1f}, len(original)/3+1)[:len(original)]
			put(st, key, junk)
		}},
		{"emptied", "", func(key string, _ []byte) { put(st, key, nil) }},
		{"truncated", "", func(key string, original []byte) { put(st, key, original[:len(original)/2]) }},
		{"swapped for a 128 MiB gzip bomb", "", func(key string, _ []byte) { put(st, key, bomb) }},
	}
	r := rng(t)
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"verified", nil}, {"no-verify", []string{"--no-verify"}}} {
		t.Run(mode.name, func(t *testing.T) {
			proxy := newFaultProxy(t, srv.Endpoint, "demo-bucket")
			db := filepath.Join(t.TempDir(), "trail.duckdb")
			order := r.Perm(len(f.logFiles))
			victims := map[string]int{} // key -> kind
			originals := map[string][]byte{}
			for i := range 2 * len(kinds) {
				key := f.logFiles[order[i]]
				victims[key] = i % len(kinds)
				originals[key] = get(t, st, key)
				kind := kinds[i%len(kinds)]
				proxy.at(key, func() { kind.act(key, originals[key]) })
			}
			res := run(t, f.pullArgs("s3://demo-bucket", db, f.until, append([]string{"--endpoint-url", proxy.URL()}, mode.extra...)...)...)
			sum := summary(t, res)
			if res.code != 1 || sum.OK {
				t.Fatalf("pull with %d files changed under it: want exit 1, got %v", len(victims), res)
			}
			bad := map[string]string{}
			for _, b := range sum.Bad {
				bad[b.Key] = b.Problem
			}
			for key, k := range victims {
				kind := kinds[k]
				if proxy.firedFor(key) == 0 {
					t.Errorf("%s (%s): never fetched, the fault was not injected", key, kind.name)
					continue
				}
				problem, named := bad[key]
				switch {
				case !named:
					t.Errorf("%s (%s): not named bad", key, kind.name)
				case !strings.Contains(problem, kind.problem):
					t.Errorf("%s (%s): problem %q, want one saying %q", key, kind.name, problem, kind.problem)
				}
			}
			for key, problem := range bad {
				if _, ok := victims[key]; !ok {
					t.Errorf("%s named bad (%s), although nothing happened to it", key, problem)
				}
			}
			got := state(t, db)
			if err := got.consistent(); err != nil {
				t.Fatalf("store: %v", err)
			}
			if got.Files != f.clean.Files-int64(len(victims)) {
				t.Fatalf("%d files stored; want the %d of a clean pull but the %d changed", got.Files, f.clean.Files, len(victims))
			}
			keys := slices.Sorted(maps.Keys(victims))
			q := run(t, "query", "--db", db, "--format", "csv", "SELECT count(*) AS n FROM ingested_files WHERE key IN ('"+strings.Join(keys, "','")+"')")
			if q.code != 0 || strings.TrimSpace(q.stdout) != "n\n0" {
				t.Fatalf("changed files in the store: %v", q)
			}
			tally.add("objects deleted, corrupted, emptied, truncated or swapped for a bomb between listing and GET", len(victims))
			// The files are back: the next pull stores exactly a clean pull.
			for key, data := range originals {
				put(st, key, data)
			}
			again := run(t, f.pullArgs("s3://demo-bucket", db, f.until, append([]string{"--endpoint-url", proxy.URL()}, mode.extra...)...)...)
			if again.code != 0 {
				t.Fatalf("pull once the files are back: %v", again)
			}
			if got := state(t, db); !got.same(f.clean) {
				t.Fatalf("once the files are back the store holds %v; a clean pull holds %v", got, f.clean)
			}
		})
	}
}
