package inventory_test

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// TestState: a snapshot file and a live read give the same state; a
// snapshot of another bucket, a file that does not read and a read that
// cannot start are told apart by type.
func TestState(t *testing.T) {
	s := world(t)
	cfg := loadConfig(t)
	ctx := context.Background()
	opt := inventory.Options{Endpoint: s.URL, MaxBackoff: time.Millisecond}
	live, err := inventory.State(ctx, cfg, "", opt)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "snapshot.json")
	if err := snapshot.WriteFile(path, live); err != nil {
		t.Fatal(err)
	}
	fromFile, err := inventory.State(ctx, cfg, path, inventory.Options{Endpoint: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(encode(t, fromFile), encode(t, live)) {
		t.Error("the snapshot file does not give the state it was written from")
	}

	other := *cfg
	other.Bucket = "some-other-bucket"
	var se *inventory.SnapshotError
	if _, err := inventory.State(ctx, &other, path, opt); !errors.As(err, &se) || !se.Mismatch || se.Path != path {
		t.Errorf("snapshot of another bucket: %v, want a mismatch SnapshotError", err)
	}
	if _, err := inventory.State(ctx, cfg, filepath.Join(dir, "missing.json"), opt); !errors.As(err, &se) || se.Mismatch {
		t.Errorf("missing snapshot file: %v, want a SnapshotError", err)
	}
	var st *inventory.StartError
	if _, err := inventory.State(ctx, cfg, "", inventory.Options{Profile: "no-such-profile-anywhere"}); !errors.As(err, &st) {
		t.Errorf("live read with an unknown profile: %v, want a StartError", err)
	}
}
