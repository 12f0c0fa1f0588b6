package plan

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func objectLockStepOf(t *testing.T, p *Plan) Step {
	t.Helper()
	for _, st := range p.Steps {
		if st.Kind == KindObjectLock {
			return st
		}
	}
	t.Fatalf("no Object Lock step: %s", kinds(p))
	return Step{}
}

// TestObjectLockIsIrreversible: a COMPLIANCE retention the config asks
// for is a step that says it cannot be undone; apply skips it unless
// confirmed; once made, rollback undoes everything else and keeps it,
// and the versioning step gives up its undo (S3 never suspends
// versioning under Object Lock).
func TestObjectLockIsIrreversible(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	c.BucketSettings.ObjectLock = config.ObjectLock{Mode: "COMPLIANCE", Days: 548}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	start := freshWorld(c)
	start.Bucket.Versioning = "Suspended"
	p, err := Build(c, clone(t, start))
	if err != nil {
		t.Fatal(err)
	}
	st := objectLockStepOf(t, p)
	if st.Change != Create || !strings.Contains(st.Irreversible, "never be turned off") || !strings.Contains(st.Irreversible, "root user included") ||
		len(st.Calls) != 1 || len(st.Calls[0].Undo) != 0 || st.Calls[0].Do.ObjectLock.Mode != "COMPLIANCE" || st.Calls[0].Do.ObjectLock.Days != 548 {
		t.Fatalf("step %+v", st)
	}
	if irr := p.Irreversible(); len(irr) != 1 || irr[0].Kind != KindObjectLock {
		t.Errorf("Irreversible() = %+v", irr)
	}
	// Not confirmed (no terminal, no --allow-irreversible): skipped,
	// everything else applied, the result is not OK; a rollback then
	// returns the world to the start, versioning included.
	w := &world{s: clone(t, start)}
	skipped := Backups{Dir: t.TempDir()}
	res, err := Apply(context.Background(), p, w, Options{Backups: skipped})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || len(res.Unconfirmed) != 1 || w.s.Bucket.ObjectLock != nil {
		t.Errorf("unconfirmed Object Lock: result %+v, lock %+v", res, w.s.Bucket.ObjectLock)
	}
	for _, a := range w.calls {
		if a.Op == OpPutObjectLockConfiguration {
			t.Error("PutObjectLockConfiguration called without confirmation")
		}
	}
	if _, err := Rollback(context.Background(), res.BackupID, w, Options{Backups: skipped}); err != nil {
		t.Fatal(err)
	}
	if got := jsonOf(t, w.s); got != jsonOf(t, start) {
		t.Errorf("after rolling back a run without Object Lock the world is not the start:\n%s", got)
	}

	// Confirmed: made; rollback keeps it and says so.
	w = &world{s: clone(t, start)}
	bk := Backups{Dir: t.TempDir()}
	asked := 0
	res, err = Apply(context.Background(), p, w, Options{Backups: bk, ConfirmIrreversible: func(s Step) bool { asked++; return s.Kind == KindObjectLock }})
	if err != nil || !res.OK() || asked != 1 {
		t.Fatalf("confirmed apply: %v %+v (asked %d)", err, res, asked)
	}
	if l := w.s.Bucket.ObjectLock; l == nil || !l.Enabled || l.Mode != "COMPLIANCE" {
		t.Fatalf("lock after apply %+v", l)
	}
	var kept []string
	if _, err := Rollback(context.Background(), res.BackupID, w, Options{Backups: bk, Progress: func(e Event) {
		if e.Undo && e.Skipped {
			kept = append(kept, e.Step+": "+e.Reason)
		}
	}}); err != nil {
		t.Fatal(err)
	}
	if len(kept) != 2 || !strings.Contains(kept[0], "Object Lock of s3://acme-org-cloudtrail: cannot be undone") ||
		!strings.Contains(kept[1], "versioning of s3://acme-org-cloudtrail: cannot be undone: versioning stays enabled") {
		t.Errorf("rollback reports %q", kept)
	}
	want := clone(t, start)
	want.Bucket.ObjectLock, want.Bucket.Versioning = w.s.Bucket.ObjectLock, "Enabled"
	if got := jsonOf(t, w.s); got != jsonOf(t, want) {
		t.Errorf("after rollback, apart from Object Lock and versioning, the world is not the start:\n%s", got)
	}
}

// TestObjectLockGovernanceChangeHasUndo: changing an existing GOVERNANCE
// retention is reversible; already COMPLIANCE at the wanted period is a
// no-op; without versioning the step is blocked.
func TestObjectLockGovernanceChangeHasUndo(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	c.BucketSettings.ObjectLock = config.ObjectLock{Mode: "governance", Years: 2}
	s := freshWorld(c)
	s.Bucket.ObjectLock = &snapshot.ObjectLock{Enabled: true, Mode: "GOVERNANCE", Days: 30}
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	st := objectLockStepOf(t, p)
	if st.Irreversible != "" || len(st.Calls[0].Undo) != 1 || st.Calls[0].Undo[0].ObjectLock.Days != 30 || st.Calls[0].Do.ObjectLock.Years != 2 {
		t.Errorf("governance change %+v", st)
	}
	c.BucketSettings.ObjectLock = config.ObjectLock{Mode: "COMPLIANCE", Years: 2}
	s.Bucket.ObjectLock = &snapshot.ObjectLock{Enabled: true, Mode: "COMPLIANCE", Years: 2}
	if p, err = Build(c, s); err != nil {
		t.Fatal(err)
	}
	if st := objectLockStepOf(t, p); st.Change != NoOp {
		t.Errorf("the lock in place plans %+v", st)
	}
}

// TestApplyRunsAccountsConcurrently: the trail steps of several accounts
// run together (bounded by Jobs); when one account's call fails, calls
// under way finish, none starts, and everything is rolled back.
func TestApplyRunsAccountsConcurrently(t *testing.T) {
	c := loadConfig(t, "accounts.yaml")
	for i := 0; i < 6; i++ {
		c.SourceAccounts = append(c.SourceAccounts, fmt.Sprintf("9000000000%02d", i))
	}
	start := freshWorld(c)
	p, err := Build(c, clone(t, start))
	if err != nil {
		t.Fatal(err)
	}
	gate := &gatedWorld{world: world{s: clone(t, start)}, limit: 3}
	bk := Backups{Dir: t.TempDir()}
	res, err := Apply(context.Background(), p, gate, Options{Backups: bk, Jobs: 3})
	if err != nil || !res.OK() {
		t.Fatalf("apply %v %+v", err, res)
	}
	if gate.peak != 3 {
		t.Errorf("at most %d trail calls at once, want 3 (--jobs)", gate.peak)
	}
	// Rollback restores the accounts together too, and every one.
	gate.seenTrails, gate.peak = 0, 0
	if _, err := Rollback(context.Background(), res.BackupID, gate, Options{Backups: bk, Jobs: 3}); err != nil {
		t.Fatal(err)
	}
	if gate.peak != 3 {
		t.Errorf("rollback: at most %d trail calls at once, want 3", gate.peak)
	}
	if got, want := jsonOf(t, gate.s), jsonOf(t, start); got != want {
		t.Errorf("after rollback the world is not the start:\n%s", got)
	}

	failing := &world{s: clone(t, start), failOp: OpStartLogging, failAccount: "900000000003"}
	dir := t.TempDir()
	res, err = Apply(context.Background(), p, failing, Options{Backups: Backups{Dir: dir}, Jobs: 4})
	if err != nil {
		t.Fatal(err)
	}
	if !res.RolledBack || !strings.Contains(res.Failure, "StartLogging") {
		t.Fatalf("result %+v", res)
	}
	if got, want := jsonOf(t, failing.s), jsonOf(t, start); got != want {
		t.Errorf("the world is not back where it started:\n%s", got)
	}
	rec, err := Backups{Dir: dir}.Load(res.BackupID)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range rec.Steps {
		if st.Done != st.Undone {
			t.Errorf("%s: done %d undone %d", st.Title(), st.Done, st.Undone)
		}
	}
}

// gatedWorld counts how many trail calls are in flight at once, holding
// each until limit are, so that the peak shows the concurrency.
type gatedWorld struct {
	world
	limit      int
	gmu        sync.Mutex
	cond       *sync.Cond
	now, peak  int
	seenTrails int
}

func (g *gatedWorld) Do(ctx context.Context, a Action) error {
	if a.Trail == "" {
		return g.world.Do(ctx, a)
	}
	g.gmu.Lock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.gmu)
	}
	g.now++
	g.seenTrails++
	g.peak = max(g.peak, g.now)
	g.cond.Broadcast()
	// The first round waits until limit calls are in flight.
	for g.seenTrails <= g.limit && g.now < g.limit {
		g.cond.Wait()
	}
	g.gmu.Unlock()
	err := g.world.Do(ctx, a)
	g.gmu.Lock()
	g.now--
	g.gmu.Unlock()
	return err
}
