package detect

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/query/duckdb"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// demoStore generates a demo organization and loads its logs.
func demoStore(tb testing.TB, accounts, days int) (*demo.Manifest, *duckdb.Store) {
	tb.Helper()
	ctx := context.Background()
	dir := tb.TempDir()
	st, err := folder.Create(dir)
	if err != nil {
		tb.Fatal(err)
	}
	st.WithoutSync()
	res, err := demo.Generate(ctx, st, demo.Options{Accounts: accounts, Regions: []string{"us-east-1", "eu-west-1"},
		Days: days, Seed: 7, Bucket: "demo-bucket", Prefix: "org", Trail: "org-trail"})
	if err != nil {
		tb.Fatal(err)
	}
	var logs []logFile
	err = st.List(ctx, "", "", func(o objstore.Object) error {
		k, err := layout.Parse(o.Key)
		if err != nil || k.Kind != layout.LogFile {
			return nil //nolint:nilerr // not a log file: the demo's unrelated objects
		}
		gz, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(o.Key)))
		if err != nil {
			return err
		}
		logs = append(logs, logFile{batch.File{Key: o.Key, Account: k.Account, Region: k.Region,
			Day: time.Date(k.Year, time.Month(k.Month), k.Day, 0, 0, 0, 0, time.UTC), Verified: true}, gz})
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	sort.Slice(logs, func(i, j int) bool { return logs[i].f.Key < logs[j].f.Key })
	return res.Manifest, storeOfFiles(tb, filepath.Join(tb.TempDir(), "trail.duckdb"), logs)
}

// TestDemoPlants: over the demo, the pipeline rules find exactly the
// planted pipeline events (each rule at least once), none of the
// look-alikes, and every planted identity threat.
func TestDemoPlants(t *testing.T) {
	m, st := demoStore(t, 4, 1)
	cat, err := Prepare(Options{Config: m.Org.Config()}, sigma.DuckDB)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := Run(context.Background(), st, cat, Scope{ExpectAccounts: m.Org.Accounts})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Unknown) != 0 {
		t.Errorf("unknown over the demo: %v", rep.Unknown)
	}
	rules := byName(cat)
	pipeline := map[string]bool{}
	for _, r := range cat.Rules {
		if r.Uses(PHTrails) || r.Uses(PHBuckets) || r.Uses(PHKMSKeys) || r.Uses(PHReaderRoles) || r.Name == "tw_org_account_left" {
			pipeline[r.ID] = true
		}
	}
	type hit struct{ rule, event string }
	found := map[hit]bool{}
	for _, d := range rep.Detections {
		for _, id := range d.EventIDs {
			found[hit{d.RuleID, id}] = true
		}
	}
	want := map[hit]bool{}
	covered := map[string]bool{}
	for _, e := range m.PipelineEvents {
		r := rules[e.Rule]
		if r == nil {
			t.Fatalf("planted for unknown rule %s", e.Rule)
		}
		want[hit{r.ID, e.EventID}] = true
		covered[r.ID] = true
	}
	for h := range want {
		if !found[h] {
			t.Errorf("planted %v not detected", h)
		}
	}
	for h := range found {
		if pipeline[h.rule] && !want[h] {
			t.Errorf("pipeline rule %s fired on an event that was not planted for it: %s", h.rule, h.event)
		}
	}
	for id := range pipeline {
		if !covered[id] {
			t.Errorf("no plant for pipeline rule %s", id)
		}
	}
	for _, e := range m.LookAlikes {
		for h := range found {
			if h.event == e.EventID && pipeline[h.rule] {
				t.Errorf("look-alike %s (%s) fired %s", e.EventName, e.Rule, h.rule)
			}
		}
	}
	threats := map[string]bool{}
	for _, e := range m.ThreatEvents {
		r := rules[e.Rule]
		threats[r.ID] = true
		if !found[hit{r.ID, e.EventID}] {
			t.Errorf("planted threat %s %s not detected by %s", e.EventName, e.EventID, e.Rule)
		}
	}
	for _, r := range cat.Ready() {
		if !pipeline[r.ID] && !threats[r.ID] {
			t.Errorf("no plant for identity rule %s", r.Name)
		}
	}
	if len(m.LookAlikes) < 8 || len(m.PipelineEvents) < len(pipeline) {
		t.Errorf("%d look-alikes, %d pipeline plants", len(m.LookAlikes), len(m.PipelineEvents))
	}
}
