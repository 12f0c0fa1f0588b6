package duckdb

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/trailwarden/trailwarden/internal/pull"
)

// TestSink_Close: a store the sink created is removed when the pull fails
// with nothing committed, and kept otherwise; a store that existed before
// is always kept.
func TestSink_Close(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name            string
		existed, failed bool
		wantKept        bool
	}{
		{"created, failed", false, true, false},
		{"created, succeeded", false, false, true},
		{"existed, failed", true, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "trail.duckdb")
			if tc.existed {
				s, err := Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
			sink, err := OpenSink(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := sink.TempDir(), path+".tmp"; got != want {
				t.Errorf("TempDir = %s, want %s", got, want)
			}
			if err := sink.Close(ctx, tc.failed); err != nil {
				t.Fatal(err)
			}
			_, err = os.Stat(path)
			if kept := err == nil; kept != tc.wantKept {
				t.Errorf("store kept %v, want %v", kept, tc.wantKept)
			}
		})
	}
}

// TestSink_LostError: the loader's LoadError reaches the pull as its
// LostError, field for field; other errors pass as they are.
func TestSink_LostError(t *testing.T) {
	le := &LoadError{Keys: []string{"a", "b"}, Events: 3, Duplicates: 1, Files: 2, Refused: true, AtCommit: true, Err: errors.New("no")}
	var lost *pull.LostError
	if !errors.As(lostError(le), &lost) {
		t.Fatalf("lostError(LoadError) = %v", lostError(le))
	}
	if len(lost.Keys) != 2 || lost.Loaded.Events != 3 || lost.Loaded.Duplicates != 1 || lost.Files != 2 || !lost.Refused || !lost.AtCommit || lost.Reason != le.Reason() {
		t.Errorf("LostError = %+v from %+v", lost, le)
	}
	other := errors.New("other")
	if err := lostError(other); !errors.Is(err, other) || err.Error() != other.Error() || lostError(nil) != nil {
		t.Error("an error that is not a LoadError changed")
	}
}
