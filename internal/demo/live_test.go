package demo

import (
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/plan"
)

// The demo's snapshot fails exactly the planted rules, in every profile
// that has them, and plan finds nothing to change: it is what
// trailwarden itself would have set up, less the planted settings.
func TestSnapshotFindsOnlyThePlanted(t *testing.T) {
	o := NewOrg(1, 5, []string{"us-east-1", "eu-west-1"}, "demo-bucket", "", "org-trail")
	s, err := o.Snapshot(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	c := o.Config()
	planted := map[string]bool{}
	for _, p := range Planted {
		planted[strings.SplitN(p, ":", 2)[0]] = true
	}
	// The demo config is a baseline setup: it has no AMS Accelerate
	// statements, so accelerate's checks of those fail too, by design; and
	// it logs no S3 data events or Insights and has no MFA delete (which
	// cannot be combined with its lifecycle), so cis's checks of those fail.
	notSeed003 := map[string]bool{"TW-ACC-02": true, "TW-ACC-03": true, "TW-ACC-04": true}
	notBaseline := map[string]bool{"TW-TRL-10": true, "TW-TRL-11": true, "TW-TRL-12": true, "TW-BKT-10": true}
	seen := map[string]bool{}
	for _, profile := range audit.Profiles {
		rep, err := audit.Run(c, s, profile)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Findings) == 0 {
			t.Fatalf("%s: no findings at all", profile)
		}
		for _, f := range rep.Findings {
			switch {
			case f.Status == audit.Fail && profile == "accelerate" && notSeed003[f.Rule]:
			case f.Status == audit.Fail && profile == "cis" && notBaseline[f.Rule]:
			case f.Status == audit.Fail && !planted[f.Rule]:
				t.Errorf("%s: unplanted failure %s on %s: %s", profile, f.Rule, f.Resource, f.Message)
			case f.Status == audit.Unknown:
				t.Errorf("%s: unknown %s on %s: %s", profile, f.Rule, f.Resource, f.Message)
			case f.Status == audit.Fail:
				seen[f.Rule] = true
			case planted[f.Rule]:
				t.Errorf("%s: planted %s passed on %s", profile, f.Rule, f.Resource)
			}
		}
	}
	var missing []string
	for r := range planted {
		if !seen[r] {
			missing = append(missing, r)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("planted findings never reported: %v", missing)
	}
	p, err := plan.Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	// The planted missing access logging (TW-BKT-02) is the one thing
	// plan fixes: it creates the access log bucket and turns logging on.
	for _, st := range p.Steps {
		fixesLogging := st.Kind == plan.KindAccessLogTarget || st.Kind == plan.KindBucketLogging
		if (st.Change != plan.NoOp) != fixesLogging {
			t.Errorf("plan: %s (%s):\n%s", st.Title(), st.Change, st.Diff)
		}
	}
}
