package plan

import (
	"context"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func kinds(p *Plan) string {
	var out []string
	for _, s := range p.Steps {
		out = append(out, string(s.Kind)+":"+s.Account+":"+string(s.Change))
	}
	return strings.Join(out, " ")
}

func ops(calls []Call) string {
	var out []string
	for _, c := range calls {
		out = append(out, string(c.Do.Op))
	}
	return strings.Join(out, ",")
}

// settingsFromScratch are the bucket setting steps of a fresh world: its
// bucket has versioning and nothing else.
const settingsFromScratch = " bucket-versioning:222222222222:no-op bucket-public-access-block:222222222222:create" +
	" bucket-object-ownership:222222222222:create bucket-encryption:222222222222:create" +
	" access-log-bucket:222222222222:create bucket-access-logging:222222222222:update"

func TestBuildFromScratch(t *testing.T) {
	tests := []struct {
		file, steps, trailCalls string
	}{
		{"org.yaml", "bucket-policy:222222222222:create key-policy:222222222222:update reader-role:222222222222:create trail:111111111111:create" + settingsFromScratch,
			"CreateTrail,PutEventSelectors,StartLogging"},
		{"accounts.yaml", "bucket-policy:222222222222:create reader-role:222222222222:create trail:333333333333:create trail:555555555555:create" + settingsFromScratch,
			"CreateTrail,PutEventSelectors,StartLogging"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			c := loadConfig(t, tt.file)
			p, err := Build(c, freshWorld(c))
			if err != nil {
				t.Fatal(err)
			}
			if got := kinds(p); got != tt.steps {
				t.Errorf("steps\n got %s\nwant %s", got, tt.steps)
			}
			var last Step
			for _, st := range p.Steps {
				if st.Kind == KindTrail {
					last = st
				}
			}
			if got := ops(last.Calls); got != tt.trailCalls {
				t.Errorf("trail calls %s, want %s", got, tt.trailCalls)
			}
			if b := p.Blocked(); len(b) != 0 {
				t.Errorf("unexpected predictions: %+v", b[0].Predicted)
			}
			set := last.Calls[0].Do.Settings
			if !set.IsMultiRegion || !set.IncludeGlobalServiceEvents || !set.LogFileValidationEnabled ||
				set.S3BucketName != c.Bucket || set.S3KeyPrefix != c.KeyPrefix || set.KMSKeyID != c.KMSKeyARN || set.IsOrganization != c.Trail.Organization {
				t.Errorf("trail settings %+v", set)
			}
			if !p.Changes() {
				t.Error("Changes() = false for a plan that creates everything")
			}
			// CloudTrail gains delivery; nobody outside gains anything.
			gainedDelivery := false
			for _, a := range p.Access {
				if a.Action == "s3:PutObject" && a.Principal == cloudTrailService && a.Gained() && !strings.Contains(a.Resource, access.OutsiderAccount) {
					gainedDelivery = true
				}
				if a.Gained() && (a.Principal == "anonymous" || strings.Contains(a.Principal, access.OutsiderAccount) || strings.Contains(a.Resource, access.OutsiderAccount) ||
					strings.Contains(a.Description, "plain HTTP")) {
					t.Errorf("unintended gain: %+v", a)
				}
			}
			if !gainedDelivery {
				t.Errorf("access diff does not show CloudTrail gaining delivery: %+v", p.Access)
			}
		})
	}
}

// Applying a plan and planning again changes nothing: the desired state is
// a fixed point.
func TestApplyThenPlanIsNoOp(t *testing.T) {
	for _, file := range []string{"org.yaml", "accounts.yaml"} {
		t.Run(file, func(t *testing.T) {
			c := loadConfig(t, file)
			w := &world{s: freshWorld(c)}
			p, err := Build(c, clone(t, w.s))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Apply(context.Background(), p, w, Options{Backups: Backups{Dir: t.TempDir()}})
			if err != nil || !res.OK() {
				t.Fatalf("apply: %v %+v", err, res)
			}
			again, err := Build(c, clone(t, w.s))
			if err != nil {
				t.Fatal(err)
			}
			if again.Changes() {
				t.Errorf("second plan still changes: %s", kinds(again))
			}
			if len(again.Access) != 0 {
				t.Errorf("second plan has access changes: %+v", again.Access)
			}
		})
	}
}

func TestTrailUpdateKeepsDataEventsAndUndoes(t *testing.T) {
	c := loadConfig(t, "accounts.yaml")
	s := freshWorld(c)
	dataSel := snapshot.EventSelector{ReadWriteType: "All", DataResources: []snapshot.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}
	s.Accounts[0].Trails = []snapshot.Trail{{ARN: c.TrailARN("333333333333"), Name: "central", HomeRegion: "eu-west-1",
		S3BucketName: "old-bucket", IsMultiRegion: true, IncludeGlobalServiceEvents: true,
		EventSelectors: []snapshot.EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}, dataSel},
		Status:         &snapshot.TrailStatus{IsLogging: false}}}
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	st := p.Steps[2]
	if st.Kind != KindTrail || st.Change != Update {
		t.Fatalf("step 3 is %s %s", st.Kind, st.Change)
	}
	if got := ops(st.Calls); got != "UpdateTrail,PutEventSelectors,StartLogging" {
		t.Fatalf("calls %s", got)
	}
	for _, want := range []string{"-s3_bucket: old-bucket", "+s3_bucket: acme-cloudtrail", "-log_file_validation: false",
		"+log_file_validation: true", "-logging: false", "+logging: true", "+event_selector: read_write=All management=true"} {
		if !strings.Contains(st.Diff, want) {
			t.Errorf("diff lacks %q:\n%s", want, st.Diff)
		}
	}
	sel := st.Calls[1].Do.Selectors.Basic
	if len(sel) != 2 || sel[0].ReadWriteType != "All" || !sel[0].IncludeManagementEvents || len(sel[1].DataResources) != 1 || sel[1].IncludeManagementEvents {
		t.Errorf("selectors %+v: want management All first, then the data selector without management events", sel)
	}
	undo := st.Calls[0].Undo[0]
	if undo.Op != OpUpdateTrail || undo.Settings.S3BucketName != "old-bucket" || undo.Settings.LogFileValidationEnabled {
		t.Errorf("undo of UpdateTrail does not restore the old settings: %+v", undo.Settings)
	}
	if u := st.Calls[1].Undo[0]; len(u.Selectors.Basic) != 2 || u.Selectors.Basic[0].ReadWriteType != "WriteOnly" {
		t.Errorf("undo of PutEventSelectors: %+v", u.Selectors)
	}
	if u := st.Calls[2].Undo[0]; u.Op != OpStopLogging {
		t.Errorf("undo of StartLogging is %s", u.Op)
	}
}

func TestLogsManagement(t *testing.T) {
	tests := []struct {
		name string
		sel  Selectors
		want bool
	}{
		{"basic all", Selectors{Basic: []snapshot.EventSelector{managementSelector}}, true},
		{"basic write only", Selectors{Basic: []snapshot.EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}}, false},
		{"basic excludes kms", Selectors{Basic: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
			ExcludeManagementEventSources: []string{"kms.amazonaws.com"}}}}, false},
		{"advanced management", Selectors{Advanced: []snapshot.AdvancedEventSelector{{FieldSelectors: []snapshot.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}}}}}}, true},
		{"advanced read only", Selectors{Advanced: []snapshot.AdvancedEventSelector{{FieldSelectors: []snapshot.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "readOnly", Equals: []string{"true"}}}}}}, false},
		{"none", Selectors{}, false},
	}
	for _, tt := range tests {
		if got := logsManagement(tt.sel); got != tt.want {
			t.Errorf("%s: logsManagement = %t, want %t", tt.name, got, tt.want)
		}
	}
}

func TestAccessDiffReportsLostAccess(t *testing.T) {
	c := loadConfig(t, "accounts.yaml")
	w := &world{s: freshWorld(c)}
	p, err := Build(c, clone(t, w.s))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Apply(context.Background(), p, w, Options{Backups: Backups{Dir: t.TempDir()}}); err != nil {
		t.Fatal(err)
	}
	// Drop one source account: its delivery must show as lost.
	c.SourceAccounts = c.SourceAccounts[:1]
	p, err = Build(c, clone(t, w.s))
	if err != nil {
		t.Fatal(err)
	}
	lost := false
	for _, a := range p.Access {
		if a.Gained() {
			t.Errorf("unexpected gain %+v", a)
		}
		if a.Action == "s3:PutObject" && strings.Contains(a.Resource, "555555555555") && a.Before == eval.Allowed {
			lost = true
		}
	}
	if !lost {
		t.Errorf("account 555555555555's delivery is not reported lost: %+v", p.Access)
	}
}
