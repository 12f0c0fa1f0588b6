package deploy_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

// severalRules are a user's lifecycle: a longer retention on everything
// (with an upload cleanup), a short noncurrent expiry on the logs' prefix,
// a temp prefix, a tag-filtered rule keeping newer versions, and a
// size-filtered rule elsewhere.
const severalRules = `<LifecycleConfiguration ` + s3ns + `>` +
	`<Rule><ID>keep-3y</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>1095</Days></Expiration>` +
	`<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>` +
	`<Rule><ID>old-versions</ID><Filter><Prefix>org/</Prefix></Filter><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule>` +
	`<Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>` +
	`<Rule><ID>tagged</ID><Filter><Tag><Key>scratch</Key><Value>yes</Value></Tag></Filter><Status>Enabled</Status>` +
	`<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration></Rule>` +
	`<Rule><ID>big</ID><Filter><And><Prefix>exports/</Prefix><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></And></Filter><Status>Disabled</Status><Expiration><Days>7</Days></Expiration></Rule>` +
	`</LifecycleConfiguration>`

func rulesJSON(t *testing.T, rules []snapshot.LifecycleRule) string {
	t.Helper()
	b, err := json.Marshal(rules)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readLive(t *testing.T, srv *awsfake.Server, c *config.Config) *snapshot.Snapshot {
	t.Helper()
	s, err := inventory.Read(context.Background(), c, inventory.Options{Endpoint: srv.URL, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestLifecycleMergesSeveralRules: the merged lifecycle reaches S3 in its
// wire shape with every user rule kept (filters and all), the short
// noncurrent expiry on the logs raised, trailwarden's rule added at the
// longest retention; read back it plans nothing; rollback puts the
// user's five rules back exactly.
func TestLifecycleMergesSeveralRules(t *testing.T) {
	srv, _ := setup(t)
	srv.SetBucketConfig(bucket, "BucketLifecycleConfiguration", severalRules)
	c := loadConfig(t)
	c.BucketSettings.RetentionDays = 548
	start := readLive(t, srv, c)
	if len(start.Bucket.Lifecycle) != 5 {
		t.Fatalf("read %d rules, want 5: %+v", len(start.Bucket.Lifecycle), start.Bucket.Lifecycle)
	}
	p, err := plan.Build(c, start)
	if err != nil {
		t.Fatal(err)
	}
	var lc plan.Step
	for _, st := range p.Steps {
		if st.Kind == plan.KindBucketLifecycle {
			lc = st
		}
	}
	if lc.Change != plan.Update || len(lc.Predicted) > 0 {
		t.Fatalf("lifecycle step %+v", lc)
	}
	ctx := context.Background()
	ex := writer(t, srv, time.Millisecond)
	bk := plan.Backups{Dir: t.TempDir()}
	// The fake world has no organization: the trail step is blocked, the
	// bucket's steps are what this test is about.
	res, err := plan.Apply(ctx, p, ex, plan.Options{Backups: bk})
	if err != nil || res.Failure != "" {
		t.Fatalf("apply %v %+v", err, res)
	}
	after := readLive(t, srv, c).Bucket.Lifecycle
	byID := map[string]snapshot.LifecycleRule{}
	for _, r := range after {
		byID[r.ID] = r
	}
	if len(after) != 6 {
		t.Fatalf("%d rules after apply, want the user's 5 and trailwarden's", len(after))
	}
	own := byID[plan.LifecycleRuleID]
	if own.Prefix != "org/AWSLogs/" || own.ExpirationDays == nil || *own.ExpirationDays != 1095 || own.NoncurrentExpirationDays == nil || *own.NoncurrentExpirationDays != 1095 {
		t.Errorf("trailwarden's rule %+v: want the user's longer 1095 days kept, never shortened", own)
	}
	if r := byID["old-versions"]; r.NoncurrentExpirationDays == nil || *r.NoncurrentExpirationDays != 548 {
		t.Errorf("old-versions %+v: want noncurrent versions kept 548 days", r)
	}
	if r := byID["tagged"]; r.Tags["scratch"] != "yes" || *r.NewerNoncurrentVersions != 2 || *r.NoncurrentExpirationDays != 1 {
		t.Errorf("tagged rule changed: %+v", r)
	}
	if r := byID["big"]; r.Prefix != "exports/" || r.ObjectSizeGreaterThan == nil || *r.ObjectSizeGreaterThan != 1048576 || r.Status != "Disabled" {
		t.Errorf("size-filtered rule changed: %+v", r)
	}
	if r := byID["keep-3y"]; *r.AbortIncompleteUploadDays != 3 || *r.ExpirationDays != 1095 {
		t.Errorf("keep-3y changed: %+v", r)
	}
	again, err := plan.Build(c, readLive(t, srv, c))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range again.Steps {
		if st.Kind == plan.KindBucketLifecycle && st.Change != plan.NoOp {
			t.Errorf("second plan changes the lifecycle:\n%s", st.Diff)
		}
	}
	if _, err := plan.Rollback(ctx, res.BackupID, ex, plan.Options{Backups: bk}); err != nil {
		t.Fatal(err)
	}
	if got, want := rulesJSON(t, readLive(t, srv, c).Bucket.Lifecycle), rulesJSON(t, start.Bucket.Lifecycle); got != want {
		t.Errorf("rules after rollback\n%s\nwant\n%s", got, want)
	}
}

// TestLifecycleOverriddenIsNotApplied: a user rule expiring the logs
// sooner than the retention would win over trailwarden's (S3 applies
// the earliest expiration, and accepts the configuration): plan blocks
// the step, and apply leaves the lifecycle as it was.
func TestLifecycleOverriddenIsNotApplied(t *testing.T) {
	srv, _ := setup(t)
	short := `<LifecycleConfiguration ` + s3ns + `><Rule><ID>keep-3y</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status><Expiration><Days>1095</Days></Expiration></Rule>` +
		`<Rule><ID>year</ID><Filter><Prefix>org/AWSLogs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>365</Days></Expiration></Rule></LifecycleConfiguration>`
	srv.SetBucketConfig(bucket, "BucketLifecycleConfiguration", short)
	c := loadConfig(t)
	c.BucketSettings.RetentionDays = 548
	p, err := plan.Build(c, readLive(t, srv, c))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Steps {
		if st.Kind == plan.KindBucketLifecycle && (len(st.Predicted) == 0 || st.Predicted[0].Code != "LifecycleRuleOverrides") {
			t.Fatalf("lifecycle step not blocked: %+v", st)
		}
	}
	res, err := plan.Apply(context.Background(), p, writer(t, srv, time.Millisecond), plan.Options{Backups: plan.Backups{Dir: t.TempDir()}})
	if err != nil || res.OK() {
		t.Fatalf("apply %v %+v", err, res)
	}
	if got := srv.BucketConfig(bucket, "BucketLifecycleConfiguration"); got != short {
		t.Errorf("the lifecycle was rewritten: %s", got)
	}
}
