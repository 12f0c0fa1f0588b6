package plan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func callOps(as []Action) string {
	var out []string
	for _, a := range as {
		out = append(out, string(a.Op))
	}
	return strings.Join(out, ",")
}

func TestApplyFailureRollsBack(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		failOp    Op
		failN     int
		wantCalls string
	}{
		{"key policy refused", "org.yaml", OpPutKeyPolicy, 1,
			"PutBucketPolicy,PutKeyPolicy,DeleteBucketPolicy"},
		{"inline policy refused after the role was created", "org.yaml", OpPutRolePolicy, 1,
			"PutBucketPolicy,PutKeyPolicy,CreateRole,PutRolePolicy,DeleteRole,PutKeyPolicy,DeleteBucketPolicy"},
		{"second account's trail refused", "accounts.yaml", OpCreateTrail, 2,
			"PutBucketPolicy,CreateRole,PutRolePolicy,CreateTrail,PutEventSelectors,StartLogging,CreateTrail," +
				"StopLogging,DeleteTrail,DeleteRolePolicy,DeleteRole,DeleteBucketPolicy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadConfig(t, tt.file)
			start := freshWorld(c)
			w := &world{s: clone(t, start), failOp: tt.failOp, failN: tt.failN}
			p, err := Build(c, clone(t, start))
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			var events []Event
			res, err := Apply(context.Background(), p, w, Options{Backups: Backups{Dir: dir}, Progress: func(e Event) { events = append(events, e) }})
			if err != nil {
				t.Fatal(err)
			}
			if res.OK() || !res.RolledBack || !strings.Contains(res.Failure, string(tt.failOp)) || !strings.Contains(res.Failure, "AccessDenied") {
				t.Errorf("result %+v", res)
			}
			if got := callOps(w.calls); got != tt.wantCalls {
				t.Errorf("calls\n got %s\nwant %s", got, tt.wantCalls)
			}
			if got, want := jsonOf(t, w.s), jsonOf(t, start); got != want {
				t.Errorf("the world is not back where it started:\n%s", got)
			}
			bk, err := Backups{Dir: dir}.Load(res.BackupID)
			if err != nil {
				t.Fatal(err)
			}
			if bk.Status != StatusFailedRolledBack || bk.Failure == "" {
				t.Errorf("backup status %q failure %q", bk.Status, bk.Failure)
			}
			for _, st := range bk.Steps {
				if st.Done != st.Undone {
					t.Errorf("step %s: done %d, undone %d", st.Title(), st.Done, st.Undone)
				}
			}
			undos := 0
			for _, e := range events {
				if e.Undo {
					undos++
				}
			}
			if undos == 0 {
				t.Error("no undo event reported")
			}
		})
	}
}

func TestRollbackTo(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	start := freshWorld(c)
	start.Bucket.Policy = `{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::acme-org-cloudtrail"}]}`
	w := &world{s: clone(t, start)}
	p, err := Build(c, clone(t, start))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Backups: Backups{Dir: t.TempDir()}, Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	res, err := Apply(context.Background(), p, w, opt)
	if err != nil || !res.OK() || res.Applied != 9 {
		t.Fatalf("apply: %v %+v", err, res)
	}
	if !strings.HasPrefix(res.BackupID, "20260301T120000Z-") {
		t.Errorf("backup id %q", res.BackupID)
	}
	w.calls = nil
	bk, err := Rollback(context.Background(), res.BackupID, w, opt)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := callOps(w.calls), "PutBucketLogging,DeleteBucket,DeleteBucketEncryption,DeleteBucketOwnershipControls,DeletePublicAccessBlock,StopLogging,DeleteTrail,DeleteRolePolicy,DeleteRole,PutKeyPolicy,PutBucketPolicy"; got != want {
		t.Errorf("rollback calls\n got %s\nwant %s", got, want)
	}
	if w.calls[len(w.calls)-1].Document != start.Bucket.Policy {
		t.Errorf("bucket policy restored to %s", w.calls[len(w.calls)-1].Document)
	}
	if got, want := jsonOf(t, w.s), jsonOf(t, start); got != want {
		t.Errorf("rollback did not restore the start:\n%s", got)
	}
	if bk.Status != StatusRolledBack {
		t.Errorf("status %q", bk.Status)
	}
	if _, err := Rollback(context.Background(), res.BackupID, w, opt); !errors.Is(err, ErrRolledBack) {
		t.Errorf("second rollback: %v, want ErrRolledBack", err)
	}
}

// A rollback that fails part-way stops, records where, and a second
// rollback resumes there.
func TestRollbackResumes(t *testing.T) {
	c := loadConfig(t, "accounts.yaml")
	start := freshWorld(c)
	w := &world{s: clone(t, start)}
	p, err := Build(c, clone(t, start))
	if err != nil {
		t.Fatal(err)
	}
	opt := Options{Backups: Backups{Dir: t.TempDir()}}
	res, err := Apply(context.Background(), p, w, opt)
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	w.failOp, w.failN, w.seen = OpDeleteRole, 1, nil
	bk, err := Rollback(context.Background(), res.BackupID, w, opt)
	if err == nil || !errors.Is(err, errInjected) || bk.Status != StatusRollbackIncomplete || !strings.Contains(bk.RollbackError, "DeleteRole") {
		t.Fatalf("first rollback: %v, status %q", err, bk.Status)
	}
	w.failOp, w.calls = "", nil
	if _, err := Rollback(context.Background(), res.BackupID, w, opt); err != nil {
		t.Fatal(err)
	}
	if got := callOps(w.calls); got != "DeleteRole,DeleteBucketPolicy" {
		t.Errorf("resumed rollback calls %s", got)
	}
	if got, want := jsonOf(t, w.s), jsonOf(t, start); got != want {
		t.Errorf("not restored:\n%s", got)
	}
}

func TestApplySkipsBlockedSteps(t *testing.T) {
	c := loadConfig(t, "accounts.yaml")
	start := freshWorld(c)
	for i := range 5 {
		start.Accounts[1].Trails = append(start.Accounts[1].Trails, snapshotTrail("555555555555", c.HomeRegion, i))
	}
	w := &world{s: clone(t, start)}
	p, err := Build(c, clone(t, start))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Apply(context.Background(), p, w, Options{Backups: Backups{Dir: t.TempDir()}})
	if err != nil {
		t.Fatal(err)
	}
	if res.OK() || len(res.Skipped) != 1 || res.Skipped[0].Account != "555555555555" || res.Applied != 8 || res.Failure != "" {
		t.Errorf("result %+v", res)
	}
	for _, a := range w.calls {
		if a.Account == "555555555555" {
			t.Errorf("blocked account called: %s", a)
		}
	}
}

func TestNothingToApply(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	w := &world{s: freshWorld(c)}
	dir := filepath.Join(t.TempDir(), "backups")
	res, err := Apply(context.Background(), &Plan{Steps: []Step{{Kind: KindTrail, Change: NoOp}}}, w, Options{Backups: Backups{Dir: dir}})
	if err != nil || res.BackupID != "" || !res.OK() || len(w.calls) != 0 {
		t.Errorf("res %+v err %v calls %d", res, err, len(w.calls))
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("backup folder created for nothing: %v", err)
	}
}

func TestBackupStore(t *testing.T) {
	b := Backups{Dir: filepath.Join(t.TempDir(), "b")}
	if list, err := b.List(); err != nil || len(list) != 0 {
		t.Fatalf("empty list: %v %v", list, err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	var ids []string
	for i := range 2 {
		id, err := NewID(now.Add(time.Duration(i) * time.Second))
		if err != nil {
			t.Fatal(err)
		}
		bk := &Backup{Version: BackupVersion, ID: id, Created: now, Status: StatusApplied,
			Steps: []BackupStep{{Kind: KindBucketPolicy, Name: "b", Calls: []Call{{Do: Action{Op: OpPutBucketPolicy, Document: `{"a":1}`}}}, Done: 1}}}
		if err := b.Save(bk); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	list, err := b.List()
	if err != nil || len(list) != 2 || list[0].ID != ids[0] || list[1].Steps[0].Calls[0].Do.Document != `{"a":1}` {
		t.Fatalf("list %v %v", list, err)
	}
	info, err := os.Stat(filepath.Join(b.Dir, ids[0]+".json"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("backup file mode %v %v", info, err)
	}
	for _, bad := range []string{"../etc/passwd", "20260101T000000Z-zzzzzz", ""} {
		if _, err := b.Load(bad); err == nil || strings.Contains(err.Error(), "no such file") {
			t.Errorf("Load(%q) = %v, want an id error", bad, err)
		}
	}
	if _, err := b.Load("20990101T000000Z-abcdef"); !errors.Is(err, ErrNoBackup) {
		t.Errorf("missing backup: %v", err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir, "20990101T000000Z-abcdef.json"), []byte(`{"version":1,"id":"20990101T000000Z-abcdef","extra":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Load("20990101T000000Z-abcdef"); err == nil {
		t.Error("a backup with an unknown field was accepted")
	}
}

// A later run that is still in effect on the same resources must be
// undone first; one rolled back, or touching other resources, does not
// stand in the way.
func TestLaterRuns(t *testing.T) {
	dir := t.TempDir()
	b := Backups{Dir: dir}
	step := func(name string, done int) BackupStep {
		return BackupStep{Kind: KindBucketPolicy, Account: "222222222222", Name: name, Change: Update, Done: done}
	}
	runs := []*Backup{
		{ID: "20260301T120000Z-aaaaaa", Status: StatusApplied, Steps: []BackupStep{step("acme-org-cloudtrail", 1)}},
		{ID: "20260302T120000Z-bbbbbb", Status: StatusApplied, Steps: []BackupStep{step("acme-org-cloudtrail", 1)}},
		{ID: "20260303T120000Z-cccccc", Status: StatusRolledBack, Steps: []BackupStep{step("acme-org-cloudtrail", 1)}},
		{ID: "20260304T120000Z-dddddd", Status: StatusApplied, Steps: []BackupStep{step("other-bucket", 1)}},
		{ID: "20260305T120000Z-eeeeee", Status: StatusFailedRolledBack, Steps: []BackupStep{step("acme-org-cloudtrail", 1)}},
		{ID: "20260306T120000Z-ffffff", Status: StatusApplied, Steps: []BackupStep{step("acme-org-cloudtrail", 0)}},
	}
	for _, r := range runs {
		r.Version = BackupVersion
		if err := b.Save(r); err != nil {
			t.Fatal(err)
		}
	}
	later, err := b.LaterRuns(runs[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(later) != 1 || later[0].ID != runs[1].ID {
		t.Fatalf("later runs of the first: %v, want only %s", ids(later), runs[1].ID)
	}
	if later, err := b.LaterRuns(runs[1].ID); err != nil || len(later) != 0 {
		t.Fatalf("later runs of the newest in effect: %v %v", ids(later), err)
	}
}

func ids(bks []*Backup) []string {
	var out []string
	for _, b := range bks {
		out = append(out, b.ID)
	}
	return out
}

// TestBackupLoadsVersion1: a backup written before keys became snake_case
// (version 1, camelCase) still loads with every field, so rollback can
// undo runs made by older builds.
func TestBackupLoadsVersion1(t *testing.T) {
	dir := t.TempDir()
	id := "20260101T120000Z-a1b2c3"
	v1 := `{"version": 1, "id": "` + id + `", "created": "2026-01-01T12:00:00Z", "updated": "2026-01-01T12:00:01Z",
  "status": "failed", "failure": "boom", "rollbackError": "undo failed",
  "steps": [{"kind": "trail", "account": "111111111111", "region": "us-east-1", "name": "t", "change": "create",
    "calls": [{"do": {"op": "CreateTrail", "account": "111111111111", "trail": "t",
      "selectors": {"basic": [{"readWriteType": "All", "includeManagementEvents": true}]},
      "settings": {"name": "t", "s3BucketName": "b", "s3KeyPrefix": "p", "isMultiRegion": true,
        "includeGlobalServiceEvents": true, "logFileValidationEnabled": true, "kmsKeyId": "k", "isOrganization": true}},
      "undo": [{"op": "PutKeyPolicy", "account": "1", "keyArn": "arn:k", "document": "{\"keyArn\":1}"},
        {"op": "PutRolePolicy", "account": "1", "role": "r", "policyName": "pn"}]}],
    "done": 1, "undone": 0}]}`
	if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(v1), 0o600); err != nil {
		t.Fatal(err)
	}
	bk, err := Backups{Dir: dir}.Load(id)
	if err != nil {
		t.Fatal(err)
	}
	c := bk.Steps[0].Calls[0]
	st := c.Do.Settings
	if bk.RollbackError != "undo failed" || st == nil || *st != (TrailSettings{Name: "t", S3BucketName: "b", S3KeyPrefix: "p", IsMultiRegion: true,
		IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true, KMSKeyID: "k", IsOrganization: true}) ||
		c.Undo[0].KeyARN != "arn:k" || c.Do.Selectors == nil || len(c.Do.Selectors.Basic) != 1 ||
		!c.Do.Selectors.Basic[0].IncludeManagementEvents || c.Do.Selectors.Basic[0].ReadWriteType != "All" || c.Undo[0].Document != `{"keyArn":1}` || c.Undo[1].PolicyName != "pn" {
		t.Fatalf("loaded %+v, settings %+v, undo %+v", bk, st, c.Undo)
	}
}
