package pull_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/storetest"
	"github.com/trailwarden/trailwarden/internal/pull"
)

// TestPullStopsOnAStalledEndpoint: a file the endpoint stalled on is not a
// bad file. Wherever the store stalls (a log file before or in the middle
// of its body, in memory or streamed to disk, or a digest), the pull stops
// with the duckdb's error rather than listing the file as bad and
// reporting the rest as pulled; the next pull loads everything.
func TestPullStopsOnAStalledEndpoint(t *testing.T) {
	st, res := bucket(t)
	var logKey, digestKey string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		switch {
		case logKey == "" && strings.Contains(o.Key, "/CloudTrail/eu-west-1/"):
			logKey = o.Key
		case digestKey == "" && strings.Contains(o.Key, "/CloudTrail-Digest/us-east-1/"):
			digestKey = o.Key
		}
		return nil
	})
	tests := []struct {
		name     string
		op, key  string
		streamed bool // files above the in-memory size go to disk first
	}{
		{"LogFileGet", storetest.StallGet, logKey, false},
		{"LogFileBody", storetest.StallBody, logKey, false},
		{"StreamedLogFileBody", storetest.StallBody, logKey, true},
		{"DigestGet", storetest.StallGet, digestKey, false},
		{"DigestBody", storetest.StallBody, digestKey, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &storetest.Stalling{Store: st, Match: func(op, key string) bool { return op == tt.op && key == tt.key }}
			sink := &memSink{keys: map[string]int{}}
			opt := options(t, res)
			if tt.streamed {
				opt.InMemoryFile = 1
			}
			sum, err := pull.Run(context.Background(), s, sink, opt)
			if !errors.Is(err, objstore.ErrStalled) || sum != nil {
				var bad []pull.BadFile
				if sum != nil {
					bad = sum.Bad
				}
				t.Fatalf("error %v, bad files %v: want the stall and no summary", err, bad)
			}
			if !strings.HasPrefix(err.Error(), "pull: stalltest: ") && !strings.Contains(err.Error(), "verify: stalltest: ") {
				t.Errorf("error %q: want the store's own words", err)
			}
			again, err := pull.Run(context.Background(), st, sink, options(t, res))
			if err != nil || !again.OK || int64(len(sink.keys)) != res.Manifest.LogFiles {
				t.Fatalf("the pull after: %v, %+v, %d of %d files", err, again, len(sink.keys), res.Manifest.LogFiles)
			}
			for k, n := range sink.keys {
				if n != 1 {
					t.Errorf("%s loaded %d times", k, n)
				}
			}
		})
	}
}
