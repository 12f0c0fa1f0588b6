package plan

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Executor makes one AWS call. internal/aws/deploy implements it with the
// AWS SDK; tests use an in-memory one.
type Executor interface {
	Do(ctx context.Context, a Action) error
}

// Event reports one call (or a skipped step) as it happens.
type Event struct {
	Step   string // the step's title
	Action Action
	// Undo is true for calls made by a rollback.
	Undo bool
	// Skipped is set (with Reason) for a step apply does not run.
	Skipped bool
	Reason  string
	Err     error
}

// Options configure Apply and Rollback.
type Options struct {
	Backups Backups
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Progress, when set, is called after every call.
	Progress func(Event)
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now().UTC()
	}
	return time.Now().UTC()
}

func (o Options) report(e Event) {
	if o.Progress != nil {
		o.Progress(e)
	}
}

// Result is what an apply run did.
type Result struct {
	// BackupID is the run's backup ("" when nothing was applied).
	BackupID string `json:"backup_id,omitempty"`
	// Applied counts the steps that completed.
	Applied int `json:"applied"`
	// Skipped are the steps not run because of a predicted error.
	Skipped []Step `json:"skipped,omitempty"`
	// Failure is the call that failed ("" when every step completed).
	Failure string `json:"failure,omitempty"`
	// RolledBack is true when a failure was undone completely;
	// RollbackError is the undo call that failed otherwise.
	RolledBack    bool   `json:"rolled_back"`
	RollbackError string `json:"rollback_error,omitempty"`
}

// OK reports whether every step was applied.
func (r *Result) OK() bool { return r.Failure == "" && len(r.Skipped) == 0 }

// Apply runs the plan's changing steps in order. Steps with a predicted
// error are skipped. Before the first call it saves a backup holding every
// undo call, and updates it after each call; when a call fails, the calls
// already made are undone in reverse order. The error is only for what
// stops Apply from running or recording (e.g. the backup cannot be
// written); a failed call is reported in the Result.
func Apply(ctx context.Context, p *Plan, ex Executor, o Options) (*Result, error) {
	res := &Result{}
	bk := &Backup{Version: BackupVersion, Status: StatusApplying}
	for _, s := range p.Steps {
		switch {
		case s.Change == NoOp:
		case len(s.Predicted) > 0:
			res.Skipped = append(res.Skipped, s)
			o.report(Event{Step: s.Title(), Skipped: true, Reason: s.Predicted[0].Code + ": " + s.Predicted[0].Message})
		default:
			bk.Steps = append(bk.Steps, BackupStep{Kind: s.Kind, Account: s.Account, Region: s.Region, Name: s.Name, Change: s.Change, Calls: s.Calls})
		}
	}
	if len(bk.Steps) == 0 {
		return res, nil
	}
	now := o.now()
	id, err := NewID(now)
	if err != nil {
		return nil, err
	}
	bk.ID, bk.Created, bk.Updated = id, now, now
	if err := o.Backups.Save(bk); err != nil {
		return nil, fmt.Errorf("apply: nothing changed: %w", err)
	}
	res.BackupID = id
	for i := range bk.Steps {
		st := &bk.Steps[i]
		for st.Done < len(st.Calls) {
			a := st.Calls[st.Done].Do
			err := ex.Do(ctx, a)
			o.report(Event{Step: st.Title(), Action: a, Err: err})
			if err != nil {
				return res, fail(ctx, bk, ex, o, res, fmt.Errorf("%s: %w", a, err))
			}
			st.Done++
			if err := save(bk, o); err != nil {
				return res, fail(ctx, bk, ex, o, res, err)
			}
		}
		res.Applied++
	}
	bk.Status = StatusApplied
	return res, save(bk, o)
}

func save(bk *Backup, o Options) error {
	bk.Updated = o.now()
	return o.Backups.Save(bk)
}

// fail rolls back after a failed call and records both. It returns an
// error only when the backup cannot be written.
func fail(ctx context.Context, bk *Backup, ex Executor, o Options, res *Result, cause error) error {
	bk.Failure, res.Failure = cause.Error(), cause.Error()
	undoErr := undo(ctx, bk, ex, o)
	if undoErr != nil {
		bk.Status, bk.RollbackError, res.RollbackError = StatusRollbackIncomplete, undoErr.Error(), undoErr.Error()
	} else {
		bk.Status, res.RolledBack = StatusFailedRolledBack, true
	}
	if err := save(bk, o); err != nil {
		return fmt.Errorf("apply failed (%w) and the backup could not be updated: %w", cause, err)
	}
	return nil
}

// undo reverts every done call not yet undone, last first, saving progress
// after each. It stops at the first undo call that fails, so that a later
// rollback --to resumes exactly there.
func undo(ctx context.Context, bk *Backup, ex Executor, o Options) error {
	// A cancelled apply (Ctrl-C) must still be able to put things back.
	ctx = context.WithoutCancel(ctx)
	for i := len(bk.Steps) - 1; i >= 0; i-- {
		st := &bk.Steps[i]
		for st.Undone < st.Done {
			c := st.Calls[st.Done-1-st.Undone]
			for _, a := range c.Undo {
				err := ex.Do(ctx, a)
				o.report(Event{Step: st.Title(), Action: a, Undo: true, Err: err})
				if err != nil {
					return fmt.Errorf("%s: %w", a, err)
				}
			}
			st.Undone++
			if err := save(bk, o); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrRolledBack is returned by Rollback for a run already rolled back.
var ErrRolledBack = errors.New("already rolled back")

// Rollback undoes the run recorded in backup id, last call first, and
// records the outcome in the backup. A rollback that stopped part-way
// resumes where it stopped.
func Rollback(ctx context.Context, id string, ex Executor, o Options) (*Backup, error) {
	bk, err := o.Backups.Load(id)
	if err != nil {
		return nil, err
	}
	if bk.Status == StatusRolledBack || bk.Status == StatusFailedRolledBack {
		return bk, fmt.Errorf("rollback %s: %w (status %q)", id, ErrRolledBack, bk.Status)
	}
	if err := undo(ctx, bk, ex, o); err != nil {
		bk.Status, bk.RollbackError = StatusRollbackIncomplete, err.Error()
		if serr := save(bk, o); serr != nil {
			return bk, fmt.Errorf("rollback %s: %w; the backup could not be updated: %w", id, err, serr)
		}
		return bk, fmt.Errorf("rollback %s: %w", id, err)
	}
	bk.Status, bk.RollbackError = StatusRolledBack, ""
	return bk, save(bk, o)
}
