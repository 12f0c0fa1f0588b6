package plan

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
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

// DefaultJobs is how many accounts' trail steps Apply runs at once.
const DefaultJobs = 4

// Options configure Apply and Rollback.
type Options struct {
	Backups Backups
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Progress, when set, is called after every call.
	Progress func(Event)
	// ConfirmIrreversible is asked, before any call, about each step that
	// cannot be undone; without it, or when it says no, the step is
	// skipped.
	ConfirmIrreversible func(Step) bool
	// Jobs bounds how many accounts' trail steps run at once (1 when 0).
	Jobs int
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
	// Skipped are the steps not run because of a predicted error or
	// because they are irreversible and were not confirmed.
	Skipped []Step `json:"skipped,omitempty"`
	// Unconfirmed names the irreversible steps skipped for want of a
	// confirmation.
	Unconfirmed []string `json:"unconfirmed,omitempty"`
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
		case s.Irreversible != "" && (o.ConfirmIrreversible == nil || !o.ConfirmIrreversible(s)):
			res.Skipped = append(res.Skipped, s)
			res.Unconfirmed = append(res.Unconfirmed, s.Title())
			o.report(Event{Step: s.Title(), Skipped: true, Reason: "irreversible and not confirmed: " + s.Irreversible})
		default:
			bk.Steps = append(bk.Steps, BackupStep{Kind: s.Kind, Account: s.Account, Region: s.Region, Name: s.Name, Change: s.Change, Calls: s.Calls,
				Irreversible: s.Irreversible})
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
	for i := 0; i < len(bk.Steps); {
		// The trails of several accounts are independent of each other:
		// they run together, the other steps one at a time.
		j := i + 1
		for bk.Steps[i].Kind == KindTrail && j < len(bk.Steps) && bk.Steps[j].Kind == KindTrail {
			j++
		}
		if err := runSteps(ctx, bk, bk.Steps[i:j], ex, o, res); err != nil {
			return res, fail(ctx, bk, ex, o, res, err)
		}
		i = j
	}
	bk.Status = StatusApplied
	return res, save(bk, o)
}

// runSteps makes the calls of steps, up to o.Jobs steps at once, each
// step's calls in order. After a failure no new call starts, but calls
// under way finish: a call cut off might still take effect unrecorded,
// and then no rollback would undo it. Every change to the backup and
// every report is made under one lock.
func runSteps(ctx context.Context, bk *Backup, steps []BackupStep, ex Executor, o Options, res *Result) error {
	var (
		mu    sync.Mutex
		first error
	)
	run := func(st *BackupStep) {
		for {
			mu.Lock()
			if first != nil || st.Done == len(st.Calls) {
				if first == nil {
					res.Applied++
				}
				mu.Unlock()
				return
			}
			a := st.Calls[st.Done].Do
			mu.Unlock()
			err := ex.Do(ctx, a)
			mu.Lock()
			o.report(Event{Step: st.Title(), Action: a, Err: err})
			if err != nil {
				if first == nil {
					first = fmt.Errorf("%s: %w", a, err)
				}
				mu.Unlock()
				return
			}
			st.Done++
			if err := save(bk, o); err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}
	}
	jobs := max(o.Jobs, 1)
	if len(steps) == 1 || jobs == 1 {
		for i := range steps {
			run(&steps[i])
		}
		return first
	}
	var g errgroup.Group
	g.SetLimit(jobs)
	for i := range steps {
		st := &steps[i]
		g.Go(func() error { run(st); return nil })
	}
	_ = g.Wait()
	return first
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
// after each. The trails of several accounts are undone together, like
// they were applied. It stops at the first undo call that fails (calls
// under way finish), so that a later rollback --to resumes exactly there.
func undo(ctx context.Context, bk *Backup, ex Executor, o Options) error {
	// A cancelled apply (Ctrl-C) must still be able to put things back.
	ctx = context.WithoutCancel(ctx)
	for i := len(bk.Steps) - 1; i >= 0; {
		j := i - 1
		for bk.Steps[i].Kind == KindTrail && j >= 0 && bk.Steps[j].Kind == KindTrail {
			j--
		}
		if err := undoSteps(ctx, bk, bk.Steps[j+1:i+1], ex, o); err != nil {
			return err
		}
		i = j
	}
	return nil
}

// objectLockOn reports whether the run turned Object Lock on for bucket.
func objectLockOn(bk *Backup, bucket string) bool {
	for _, st := range bk.Steps {
		if st.Kind == KindObjectLock && st.Name == bucket && st.Done > 0 {
			return true
		}
	}
	return false
}

func undoSteps(ctx context.Context, bk *Backup, steps []BackupStep, ex Executor, o Options) error {
	var (
		mu    sync.Mutex
		first error
	)
	run := func(st *BackupStep) {
		mu.Lock()
		if st.Irreversible != "" && st.Undone < st.Done {
			o.report(Event{Step: st.Title(), Undo: true, Skipped: true, Reason: "cannot be undone: " + st.Irreversible})
		}
		if st.Kind == KindBucketVersioning && st.Undone < st.Done && objectLockOn(bk, st.Name) {
			// S3 refuses to suspend versioning under Object Lock.
			o.report(Event{Step: st.Title(), Undo: true, Skipped: true, Reason: "cannot be undone: versioning stays enabled, as S3 requires once Object Lock is on"})
			st.Undone = st.Done
			if err := save(bk, o); err != nil && first == nil {
				first = err
			}
		}
		mu.Unlock()
		for {
			mu.Lock()
			if first != nil || st.Undone >= st.Done {
				mu.Unlock()
				return
			}
			c := st.Calls[st.Done-1-st.Undone]
			mu.Unlock()
			for _, a := range c.Undo {
				err := ex.Do(ctx, a)
				mu.Lock()
				o.report(Event{Step: st.Title(), Action: a, Undo: true, Err: err})
				if err != nil && first == nil {
					first = fmt.Errorf("%s: %w", a, err)
				}
				mu.Unlock()
				if err != nil {
					return
				}
			}
			mu.Lock()
			st.Undone++
			if err := save(bk, o); err != nil && first == nil {
				first = err
			}
			mu.Unlock()
		}
	}
	jobs := max(o.Jobs, 1)
	if len(steps) == 1 || jobs == 1 {
		// Last step first.
		for i := len(steps) - 1; i >= 0; i-- {
			run(&steps[i])
		}
		return first
	}
	var g errgroup.Group
	g.SetLimit(jobs)
	for i := len(steps) - 1; i >= 0; i-- {
		st := &steps[i]
		g.Go(func() error { run(st); return nil })
	}
	_ = g.Wait()
	return first
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
