package duckdb

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

var (
	benchOnce sync.Once
	benchData *demoBucket
	benchErr  error
)

// benchDemo is larger than the tests' demo: 5 accounts x 2 regions x 1 day
// at 200 events per hour, about 48,000 events in 240 files.
func benchDemo(b *testing.B) *demoBucket {
	benchOnce.Do(func() {
		dir, err := os.MkdirTemp("", "store-bench-")
		if err != nil {
			benchErr = err
			return
		}
		benchData, benchErr = generateDemo(dir, 5, 1, 200)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchData
}

// BenchmarkIngest loads the whole bench demo into a new store per
// iteration: file by file, in batches, and in batches through the
// streaming path that large files take. It reports events/s.
func BenchmarkIngest(b *testing.B) {
	d := benchDemo(b)
	want := int(d.manifest.Events - d.manifest.Duplicates)
	cases := []struct {
		name  string
		batch int
	}{
		{"file", 1},
		{"batch=16", 16},
		{"batch=64", 64},
		{"batch=all", len(d.files)},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			events := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s, err := Open(ctx, filepath.Join(b.TempDir(), "bench.duckdb"))
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				got := 0
				for start := 0; start < len(d.files); start += c.batch {
					n, err := ingest(ctx, s, d.files[start:min(start+c.batch, len(d.files))]...)
					if err != nil {
						b.Fatal(err)
					}
					got += n.Events
				}
				b.StopTimer()
				if got != want {
					b.Fatalf("ingested %d events, want %d", got, want)
				}
				events += got
				_ = s.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
		})
	}
}
