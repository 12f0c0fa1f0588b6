package plan

import (
	"context"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// withCloudWatch is the per-account config naming a log group and a role
// by name: each account's trail gets its own account's ARNs.
func withCloudWatch(t *testing.T) *config.Config {
	t.Helper()
	c := loadConfig(t, "accounts.yaml")
	c.Trail.CloudWatchLogs.LogGroup, c.Trail.CloudWatchLogs.Role = "aws-cloudtrail-logs", "CloudTrailToCloudWatch"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTrailSettingsEveryField: each trail setting the standards require
// that is off in the live trail is planned, per account, with an undo
// that restores exactly the live value; after apply a second plan is
// empty and a rollback returns the world to the start.
func TestTrailSettingsEveryField(t *testing.T) {
	c := withCloudWatch(t)
	s := freshWorld(c)
	bad := snapshot.Trail{ARN: c.TrailARN("333333333333"), Name: "central", HomeRegion: "eu-west-1", S3BucketName: "acme-cloudtrail",
		IsMultiRegion: false, IncludeGlobalServiceEvents: false, LogFileValidationEnabled: false,
		EventSelectors: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}},
		Status:         &snapshot.TrailStatus{IsLogging: true}}
	s.Accounts[0].Trails = []snapshot.Trail{bad}
	start := clone(t, s)
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	var upd, create *Step
	for i := range p.Steps {
		switch {
		case p.Steps[i].Kind == KindTrail && p.Steps[i].Account == "333333333333":
			upd = &p.Steps[i]
		case p.Steps[i].Kind == KindTrail && p.Steps[i].Account == "555555555555":
			create = &p.Steps[i]
		}
	}
	if upd == nil || create == nil {
		t.Fatalf("no trail step per account: %s", kinds(p))
	}
	if got := ops(upd.Calls); got != "UpdateTrail,PutEventSelectors" {
		t.Fatalf("update calls %s", got)
	}
	set := upd.Calls[0].Do.Settings
	if !set.IsMultiRegion || !set.IncludeGlobalServiceEvents || !set.LogFileValidationEnabled || set.CloudWatchLogs == nil ||
		set.CloudWatchLogs.LogGroupARN != "arn:aws:logs:eu-west-1:333333333333:log-group:aws-cloudtrail-logs:*" ||
		set.CloudWatchLogs.RoleARN != "arn:aws:iam::333333333333:role/CloudTrailToCloudWatch" {
		t.Errorf("desired settings %+v %+v", set, set.CloudWatchLogs)
	}
	was := upd.Calls[0].Undo[0].Settings
	if was.IsMultiRegion || was.IncludeGlobalServiceEvents || was.LogFileValidationEnabled || was.CloudWatchLogs == nil || *was.CloudWatchLogs != (CloudWatchLogs{}) {
		t.Errorf("undo settings %+v: want the live values, CloudWatch Logs removed", was)
	}
	for _, want := range []string{"-multi_region: false", "+multi_region: true", "-global_service_events: false", "+global_service_events: true",
		"-cloudwatch_logs_log_group: \n", "+cloudwatch_logs_log_group: arn:aws:logs:eu-west-1:333333333333:log-group:aws-cloudtrail-logs:*",
		"-event_selector: read_write=All management=true exclude=kms.amazonaws.com"} {
		if !strings.Contains(upd.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, upd.Diff)
		}
	}
	cs := create.Calls[0].Do.Settings
	if cs.CloudWatchLogs == nil || !strings.Contains(cs.CloudWatchLogs.LogGroupARN, ":555555555555:") || !strings.Contains(cs.CloudWatchLogs.RoleARN, "::555555555555:") {
		t.Errorf("the new trail of 555555555555 gets %+v, want its own account's log group and role", cs.CloudWatchLogs)
	}

	w := &world{s: s}
	bk := Backups{Dir: t.TempDir()}
	res, err := Apply(context.Background(), p, w, Options{Backups: bk})
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	again, err := Build(c, w.s)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range again.Steps {
		if st.Kind == KindTrail && st.Change != NoOp {
			t.Errorf("after apply %s still plans %s: %s", st.Title(), ops(st.Calls), st.Diff)
		}
	}
	if _, err := Rollback(context.Background(), res.BackupID, w, Options{Backups: bk}); err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, w.s.Accounts), jsonOf(t, start.Accounts); got != want {
		t.Errorf("trails after rollback\n%s\nwant\n%s", got, want)
	}
}

// TestCloudWatchUnmanaged: a config that names no log group leaves a live
// trail's CloudWatch Logs integration alone, in the update and its undo.
func TestCloudWatchUnmanaged(t *testing.T) {
	c := loadConfig(t, "accounts.yaml")
	s := freshWorld(c)
	s.Accounts[0].Trails = []snapshot.Trail{{ARN: c.TrailARN("333333333333"), Name: "central", HomeRegion: "eu-west-1", S3BucketName: "acme-cloudtrail",
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: false,
		CloudWatchLogsLogGroupARN: "arn:aws:logs:eu-west-1:333333333333:log-group:theirs:*", CloudWatchLogsRoleARN: "arn:aws:iam::333333333333:role/theirs",
		EventSelectors: []snapshot.EventSelector{managementSelector}, Status: &snapshot.TrailStatus{IsLogging: true}}}
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Steps[2]
	if st.Kind != KindTrail || ops(st.Calls) != "UpdateTrail" {
		t.Fatalf("step %s %s", st.Kind, ops(st.Calls))
	}
	if st.Calls[0].Do.Settings.CloudWatchLogs != nil || st.Calls[0].Undo[0].Settings.CloudWatchLogs != nil {
		t.Errorf("an unmanaged CloudWatch Logs integration is touched: do %+v undo %+v", st.Calls[0].Do.Settings.CloudWatchLogs, st.Calls[0].Undo[0].Settings.CloudWatchLogs)
	}
	if strings.Contains(st.Diff, "cloudwatch") {
		t.Errorf("diff shows an unmanaged setting:\n%s", st.Diff)
	}
}

// TestCISWithoutCloudWatchSaysSo: under cis, a config that names no log
// group gets a note that TW-TRL-07 needs one; other standards do not.
func TestCISWithoutCloudWatchSaysSo(t *testing.T) {
	for _, tt := range []struct {
		standard string
		named    bool
		want     bool
	}{{config.ProfileCIS, false, true}, {config.ProfileCIS, true, false}, {config.ProfileBaseline, false, false}} {
		c := loadConfig(t, "accounts.yaml")
		c.Profile = tt.standard
		if tt.named {
			c.Trail.CloudWatchLogs = config.CloudWatchLogs{LogGroup: "g", Role: "r"}
		}
		p, err := Build(c, freshWorld(c))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(strings.Join(p.Notes, "\n"), "TW-TRL-07"); got != tt.want {
			t.Errorf("%s, log group named %t: note %t, want %t", tt.standard, tt.named, got, tt.want)
		}
	}
}
