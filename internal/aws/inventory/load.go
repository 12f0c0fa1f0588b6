package inventory

import (
	"context"
	"fmt"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// SnapshotError is a snapshot file that cannot stand for the live state:
// it does not read, or it was taken for another pipeline (Mismatch).
type SnapshotError struct {
	Path     string
	Mismatch bool
	Err      error
}

func (e *SnapshotError) Error() string {
	if e.Mismatch {
		return fmt.Sprintf("%s: %v", e.Path, e.Err)
	}
	return e.Err.Error()
}

func (e *SnapshotError) Unwrap() error { return e.Err }

// StartError is a live read that could not start: what stops a whole read
// is the caller's identity (no or wrong credentials, no STS access).
type StartError struct{ Err error }

func (e *StartError) Error() string { return "read the live configuration: " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// State is the state of the pipeline c describes, from one of two places:
// the snapshot file at snapshotPath (checked to be of c's bucket and
// organization), or, when snapshotPath is "", AWS read now with o. audit,
// plan and apply decide from it, so a file and a live read decide alike.
func State(ctx context.Context, c *config.Config, snapshotPath string, o Options) (*snapshot.Snapshot, error) {
	if snapshotPath != "" {
		s, err := snapshot.ReadFile(snapshotPath)
		if err != nil {
			return nil, &SnapshotError{Path: snapshotPath, Err: err}
		}
		if err := s.CheckTakenFor(c.Bucket, c.OrganizationID); err != nil {
			return nil, &SnapshotError{Path: snapshotPath, Mismatch: true, Err: err}
		}
		return s, nil
	}
	s, err := Read(ctx, c, o)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("read the live configuration: %w", err)
		}
		return nil, &StartError{Err: err}
	}
	return s, nil
}
