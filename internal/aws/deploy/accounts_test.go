package deploy_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

var sourceAccounts = []string{"333333333333", "555555555555", "666666666666", "777777777777"}

const accountsYAML = `version: 1
log_archive_account: "222222222222"
source_accounts: ["333333333333", "555555555555", "666666666666", "777777777777"]
bucket: "acme-org-cloudtrail"
home_region: "us-east-1"
trail:
  name: "central"
  organization: false
  cloudwatch_logs:
    log_group: "aws-cloudtrail-logs"
    role: "CloudTrailToCloudWatch"
readers:
  role_name: "trailwarden-log-reader"
  roles: ["arn:aws:iam::444444444444:role/security-analytics"]
standard: "baseline"
delivery_scope: "per-account"
aws:
  access_role: "OrganizationAccountAccessRole"
  regions: ["us-east-1"]
`

// TestPerAccountTrails: with per-account trails, apply changes the trail
// in every source account through the access role, several accounts at
// once but each account and region at most one CloudTrail change per
// interval; a second plan is empty, and a rollback restores every
// account's trail exactly.
func TestPerAccountTrails(t *testing.T) {
	srv, _ := setup(t)
	// One account has a trail that is off in every way, one a right
	// trail that is not logging, the others none.
	srv.PutTrail("333333333333", awsfake.Trail{Name: "central", HomeRegion: "us-east-1", S3BucketName: "old-bucket",
		EventSelectors: `[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":["kms.amazonaws.com"]}]`})
	srv.PutTrail("555555555555", awsfake.Trail{Name: "central", HomeRegion: "us-east-1", S3BucketName: bucket, IsMultiRegion: true,
		IncludeGlobalServiceEvents: true, LogFileValidation: true,
		CloudWatchLogsLogGroupARN: "arn:aws:logs:us-east-1:555555555555:log-group:aws-cloudtrail-logs:*", CloudWatchLogsRoleARN: "arn:aws:iam::555555555555:role/CloudTrailToCloudWatch"})
	for _, a := range sourceAccounts[2:] {
		srv.PutTrail(a, awsfake.Trail{Name: "unrelated", HomeRegion: "eu-west-1", S3BucketName: "theirs"})
	}
	c, err := config.Parse(strings.NewReader(accountsYAML), "trailwarden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	read := func() string {
		t.Helper()
		var out []string
		for _, a := range sourceAccounts {
			for _, name := range []string{"central", "unrelated"} {
				if tr, ok := srv.Trail(a, name); ok {
					tr.EventSelectors = sameSelectors(t, tr.EventSelectors)
					b, _ := json.Marshal(tr)
					out = append(out, a+" "+string(b))
				}
			}
		}
		return strings.Join(out, "\n")
	}
	before := read()
	live, err := inventory.Read(ctx, c, inventory.Options{Endpoint: srv.URL, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Build(c, live)
	if err != nil {
		t.Fatal(err)
	}
	var trails []string
	for _, st := range p.Steps {
		if st.Kind == plan.KindTrail {
			var ops []string
			for _, call := range st.Calls {
				ops = append(ops, string(call.Do.Op))
			}
			trails = append(trails, st.Account+" "+string(st.Change)+" "+strings.Join(ops, ","))
			if len(st.Predicted) > 0 {
				t.Errorf("%s blocked: %+v", st.Title(), st.Predicted)
			}
		}
	}
	want := []string{"333333333333 update UpdateTrail,PutEventSelectors,StartLogging", "555555555555 update StartLogging",
		"666666666666 create CreateTrail,PutEventSelectors,StartLogging", "777777777777 create CreateTrail,PutEventSelectors,StartLogging"}
	if strings.Join(trails, "\n") != strings.Join(want, "\n") {
		t.Fatalf("trail steps\n%s\nwant\n%s", strings.Join(trails, "\n"), strings.Join(want, "\n"))
	}

	const interval = 200 * time.Millisecond
	ex := writer(t, srv, interval)
	srv.ResetCalls()
	bk := plan.Backups{Dir: t.TempDir()}
	res, err := plan.Apply(ctx, p, ex, plan.Options{Backups: bk, Jobs: 4})
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	// Each account's CloudTrail changes are an interval apart (the server
	// sees them with the jitter of their trip: half an interval is
	// allowed); different accounts' overlap.
	var ctCalls []awsfake.Call
	for _, call := range srv.Calls() {
		if call.Service == "cloudtrail" && !strings.HasPrefix(call.Operation, "Get") && !strings.HasPrefix(call.Operation, "Describe") {
			ctCalls = append(ctCalls, call)
		}
	}
	last := map[string]time.Time{}
	var first, end time.Time
	for _, call := range ctCalls {
		k := call.Account + "/" + call.Region
		if prev, ok := last[k]; ok && call.At.Sub(prev) < interval/2 {
			t.Errorf("%s %s came %v after the previous change in %s, want at least %v", call.Operation, call.Account, call.At.Sub(prev), k, interval)
		}
		last[k] = call.At
		if first.IsZero() {
			first = call.At
		}
		end = call.At
	}
	if len(ctCalls) != 10 {
		t.Errorf("%d CloudTrail changes, want 10", len(ctCalls))
	}
	// Three calls in a row in one account need two intervals; one account
	// after another would need six.
	t.Logf("%d CloudTrail changes in %d accounts arrived over %v (interval %v, --jobs 4)", len(ctCalls), len(sourceAccounts), end.Sub(first), interval)
	if el := end.Sub(first); el > 4*interval {
		t.Errorf("the accounts' trails took %v: not changed concurrently", el)
	}
	var assumed []string
	for _, call := range srv.CallsTo("sts", "AssumeRole") {
		assumed = append(assumed, call.Params["RoleArn"])
	}
	sort.Strings(assumed)
	for _, a := range sourceAccounts {
		if !strings.Contains(strings.Join(assumed, " "), "arn:aws:iam::"+a+":role/OrganizationAccountAccessRole") {
			t.Errorf("account %s not reached through the access role: %v", a, assumed)
		}
	}
	for _, a := range sourceAccounts {
		tr, ok := srv.Trail(a, "central")
		if !ok || !tr.Logging || !tr.IsMultiRegion || !tr.LogFileValidation || !tr.IncludeGlobalServiceEvents || tr.S3BucketName != bucket ||
			tr.CloudWatchLogsLogGroupARN != "arn:aws:logs:us-east-1:"+a+":log-group:aws-cloudtrail-logs:*" ||
			tr.CloudWatchLogsRoleARN != "arn:aws:iam::"+a+":role/CloudTrailToCloudWatch" {
			t.Errorf("trail of %s after apply: %+v", a, tr)
		}
	}
	again, err := inventory.Read(ctx, c, inventory.Options{Endpoint: srv.URL, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := plan.Build(c, again)
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p2.Steps {
		if st.Kind == plan.KindTrail && st.Change != plan.NoOp {
			t.Errorf("after apply %s still plans %s", st.Title(), st.Diff)
		}
	}

	if _, err := plan.Rollback(ctx, res.BackupID, ex, plan.Options{Backups: bk, Jobs: 4}); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != before {
		t.Errorf("trails after rollback\n%s\nwant\n%s", got, before)
	}
}

// sameSelectors is selectors JSON in one form: keys sorted, empty lists
// left out (the SDK sends none; a recording may have them).
func sameSelectors(t *testing.T, raw string) string {
	t.Helper()
	if raw == "" {
		return ""
	}
	var sel []map[string]any
	if err := json.Unmarshal([]byte(raw), &sel); err != nil {
		t.Fatal(err)
	}
	for _, s := range sel {
		for k, v := range s {
			if l, ok := v.([]any); ok && len(l) == 0 {
				delete(s, k)
			}
		}
	}
	b, _ := json.Marshal(sel)
	return string(b)
}
