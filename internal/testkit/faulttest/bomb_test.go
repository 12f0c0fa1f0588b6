//go:build faults

package faulttest

import (
	"bytes"
	le "encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/gzip"
)

// gzipBomb is a log file of a few MB that inflates to size bytes of JSON:
// one record whose userAgent is nearly all of it. With lie, the gzip
// trailer claims 2,000 bytes, so a reader that sizes its buffer from the
// trailer is fooled too.
func gzipBomb(t *testing.T, size int64, lie bool) []byte {
	t.Helper()
	head := `{"Records":[{"eventVersion":"1.08","eventTime":"2026-11-20T01:00:00Z","eventSource":"s3.amazonaws.com",` +
		`"eventName":"GetObject","eventID":"00000000-0000-4000-8000-00000000b0mb","recipientAccountId":"111111111111","userAgent":"`
	const tail = `"}]}`
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestSpeed)
	if err != nil {
		t.Fatal(err)
	}
	fill := bytes.Repeat([]byte("A"), 1<<20)
	_, _ = zw.Write([]byte(head))
	for left := size - int64(len(head)+len(tail)); left > 0; left -= int64(len(fill)) {
		if _, err := zw.Write(fill[:min(left, int64(len(fill)))]); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = zw.Write([]byte(tail))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	b := out.Bytes()
	if lie {
		le.LittleEndian.PutUint32(b[len(b)-4:], 2000)
	}
	return b
}

// TestFaultsGzipBomb replaces two log files of a demo folder with gzip
// bombs of FAULTS_BOMB_MB (1 GiB by default) of JSON, one with an honest
// gzip trailer and one whose trailer lies about the size, and pulls them
// with --no-verify and verified against their digests. Each time both
// bombs are named bad and not stored, every other file is, and the pull's
// peak RSS (measured by the kernel, as the benchmark does) stays under the
// memory bound pull --help promises. Once the files are back, a pull stores
// exactly what a clean pull does.
func TestFaultsGzipBomb(t *testing.T) {
	f := demo(t)
	isolate(t)
	dir := f.copyDemo(t)
	size := int64(cfg.bombMB) << 20
	began := time.Now()
	bombs := map[bool][]byte{false: gzipBomb(t, size, false), true: gzipBomb(t, size, true)}
	t.Logf("two gzip bombs of %d MiB made in %v: %d and %d bytes compressed", cfg.bombMB, time.Since(began).Round(time.Millisecond),
		len(bombs[false]), len(bombs[true]))
	r := rng(t)
	order := r.Perm(len(f.logFiles))
	victims := []string{f.logFiles[order[0]], f.logFiles[order[1]]}
	originals := map[string][]byte{}
	for i, key := range victims {
		path := filepath.Join(dir, filepath.FromSlash(key))
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		originals[key] = data
		if err := os.WriteFile(path, bombs[i == 1], 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"no-verify", []string{"--no-verify"}}, {"verified", nil}} {
		t.Run(mode.name, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "trail.duckdb")
			res, peakMB := measured(t, f.pullArgs(dir, db, f.until, mode.extra...)...)
			sum := summary(t, res)
			t.Logf("%s: pull of two %d MiB bombs and %d other files: exit %d in %v, peak RSS %.0f MB", mode.name, cfg.bombMB,
				len(f.logFiles)-2, res.code, res.elapsed.Round(time.Millisecond), peakMB)
			tally.add("gzip bombs of "+fmt.Sprint(cfg.bombMB)+" MiB pulled", len(victims))
			tally.peak(peakMB)
			if peakMB >= pullMemoryLimitMB {
				t.Errorf("peak RSS %.0f MB, over the %d MB pull --help promises", peakMB, pullMemoryLimitMB)
			}
			if res.code != 1 || sum.OK {
				t.Fatalf("want exit 1 and the bombs named: %v", res)
			}
			bad := map[string]string{}
			for _, b := range sum.Bad {
				bad[b.Key] = b.Problem
			}
			for i, key := range victims {
				if _, ok := bad[key]; !ok {
					t.Errorf("bomb %d (%s) not named bad", i+1, key)
				}
			}
			if len(bad) != len(victims) {
				t.Errorf("bad files %v, want only the two bombs", bad)
			}
			got := state(t, db)
			if err := got.consistent(); err != nil {
				t.Fatal(err)
			}
			if got.Files != f.clean.Files-2 {
				t.Fatalf("%d files stored, want all but the two bombs: %d", got.Files, f.clean.Files-2)
			}
			q := run(t, "query", "--db", db, "--format", "csv", "SELECT count(*) AS n FROM ingested_files WHERE key IN ('"+strings.Join(victims, "','")+"')")
			if q.code != 0 || strings.TrimSpace(q.stdout) != "n\n0" {
				t.Fatalf("a bomb is in the store: %v", q)
			}
			for key, problem := range bad {
				t.Logf("%s: %s", key, problem)
			}
		})
	}
	// The files are back: a pull stores exactly a clean pull.
	for key, data := range originals {
		if err := os.WriteFile(filepath.Join(dir, filepath.FromSlash(key)), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	if res := run(t, f.pullArgs(dir, db, f.until)...); res.code != 0 {
		t.Fatalf("pull once the files are back: %v", res)
	}
	if got := state(t, db); !got.same(f.clean) {
		t.Fatalf("once the files are back the store holds %v; a clean pull holds %v", got, f.clean)
	}
}
