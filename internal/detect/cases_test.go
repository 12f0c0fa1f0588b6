package detect

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// Case is one event of testdata/builtin_cases.yaml and whether the rule
// must fire on it.
type Case struct {
	Rule  string         `yaml:"rule"`
	Match bool           `yaml:"match"`
	Note  string         `yaml:"note"`
	Event map[string]any `yaml:"event"`
}

// LoadCases reads the cases and completes each event with what CloudTrail
// always writes, so the store accepts it: one id and one second per case.
func LoadCases(tb testing.TB) []Case {
	tb.Helper()
	data, err := os.ReadFile("testdata/builtin_cases.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	var cs []Case
	if err := yaml.Unmarshal(data, &cs); err != nil {
		tb.Fatal(err)
	}
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	for i := range cs {
		CompleteEvent(cs[i].Event, i, base.Add(time.Duration(i)*time.Second))
	}
	return cs
}

// CompleteEvent fills the fields an event leaves out.
func CompleteEvent(ev map[string]any, i int, at time.Time) {
	def := map[string]any{
		"eventVersion": "1.09", "eventTime": at.Format(time.RFC3339), "eventID": fmt.Sprintf("00000000-0000-4000-8000-%012d", i),
		"awsRegion": "us-east-1", "recipientAccountId": "333333333333", "eventType": "AwsApiCall", "sourceIPAddress": "198.51.100.1",
		"requestID": fmt.Sprintf("req-%d", i), "userAgent": "aws-cli/2.17.0", "managementEvent": true, "readOnly": false,
		"userIdentity": map[string]any{"type": "AssumedRole", "arn": "arn:aws:sts::333333333333:assumed-role/Admin/alice",
			"accountId": "333333333333", "principalId": "AROAEXAMPLE:alice",
			"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "arn": "arn:aws:iam::333333333333:role/Admin",
				"accountId": "333333333333", "userName": "Admin"}}},
	}
	for k, v := range def {
		if _, ok := ev[k]; !ok {
			ev[k] = v
		}
	}
	if ui, ok := ev["userIdentity"].(map[string]any); ok {
		if _, ok := ui["accountId"]; !ok {
			ui["accountId"] = "333333333333"
		}
	}
}

// PipelineConfig is testdata/trailwarden.yaml.
func PipelineConfig(tb testing.TB) *config.Config {
	tb.Helper()
	f, err := os.Open("testdata/trailwarden.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, "testdata/trailwarden.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// builtin loads and compiles the built-in rules for the test config.
func builtin(tb testing.TB, d sigma.Dialect) *Catalog {
	tb.Helper()
	cat, err := Load(LoadOptions{})
	if err != nil {
		tb.Fatal(err)
	}
	cat.Compile(d, Placeholders(PipelineConfig(tb)))
	return cat
}

func byName(cat *Catalog) map[string]*Rule {
	m := map[string]*Rule{}
	for _, r := range cat.Rules {
		m[r.Name] = r
	}
	return m
}

// TestBuiltinRulesWellFormed: every built-in rule compiles in both
// dialects with the config's values and says what it is, how bad, which
// ATT&CK technique and what to do.
var hyphenBreak = regexp.MustCompile(`[a-z]- [a-z]+`)

func TestBuiltinRulesWellFormed(t *testing.T) {
	for _, d := range []sigma.Dialect{sigma.DuckDB, sigma.Athena} {
		cat := builtin(t, d)
		if len(cat.Rules) < 30 {
			t.Fatalf("%d built-in rules, want at least 30", len(cat.Rules))
		}
		ids := map[string]bool{}
		for _, r := range cat.Rules {
			if r.Status != StatusReady && r.Status != StatusReferenced {
				t.Errorf("%s (%s) %s: %s", r.Name, r.Source, r.Status, r.Reason)
				continue
			}
			if ids[r.ID] || len(r.ID) != 36 {
				t.Errorf("%s: id %q is not a unique UUID", r.Name, r.ID)
			}
			ids[r.ID] = true
			if !strings.HasPrefix(r.Name, "tw_") || r.Title == "" || LevelRank(r.Level) < 0 {
				t.Errorf("%s: name, title or level missing: %+v", r.Source, r)
			}
			if !r.Correlation && (r.rule.Logsource.Product != "aws" || r.rule.Logsource.Service != "cloudtrail") {
				t.Errorf("%s: logsource %+v", r.Name, r.rule.Logsource)
			}
			if r.Status == StatusReferenced {
				continue
			}
			if !strings.Contains(r.Description, "What to do:") {
				t.Errorf("%s: the description does not say what to do", r.Name)
			}
			// A folded YAML line that ends in a hyphen reads "enable-key-
			// rotation" as "enable-key- rotation": a command no one can run.
			if m := hyphenBreak.FindString(r.Description); m != "" {
				t.Errorf("%s: the description breaks a word at a hyphen: %q", r.Name, m)
			}
			attack := false
			for _, tag := range r.Tags {
				if strings.HasPrefix(tag, "attack.t") {
					attack = true
				}
			}
			if !attack {
				t.Errorf("%s: no ATT&CK technique tag in %v", r.Name, r.Tags)
			}
		}
	}
}

// TestBuiltinRulesMatch runs the cases through the in-Go matcher, and
// checks every single-event rule has a case that fires it and one that
// does not.
func TestBuiltinRulesMatch(t *testing.T) {
	cat := builtin(t, sigma.DuckDB)
	rules := byName(cat)
	ph := Placeholders(PipelineConfig(t))
	pos, neg := map[string]int{}, map[string]int{}
	for i, c := range LoadCases(t) {
		r := rules[c.Rule]
		if r == nil {
			t.Fatalf("case %d: no built-in rule %s", i, c.Rule)
		}
		got, err := r.rule.Match(c.Event, ph)
		if err != nil {
			t.Fatalf("case %d (%s): %v", i, c.Rule, err)
		}
		if got != c.Match {
			t.Errorf("case %d: %s fired=%v, want %v (%s) on %v", i, c.Rule, got, c.Match, c.Note, c.Event["requestParameters"])
		}
		// The event names the scan tests first must hold for every event
		// the rule matches.
		if name, _ := c.Event["eventName"].(string); got && r.names != nil && !slices.Contains(r.names, strings.ToLower(name)) {
			t.Errorf("case %d: %s matches %s, which its event names %v leave out", i, c.Rule, name, r.names)
		}
		if c.Match {
			pos[c.Rule]++
		} else {
			neg[c.Rule]++
		}
	}
	narrowed, single := 0, 0
	for _, r := range cat.Rules {
		if r.Correlation || r.Status == StatusReferenced {
			continue
		}
		single++
		if r.names != nil {
			narrowed++
		}
		if pos[r.Name] == 0 || neg[r.Name] == 0 {
			t.Errorf("%s: %d positive and %d negative cases; want at least one of each", r.Name, pos[r.Name], neg[r.Name])
		}
	}
	// Only root use tests no event name: the others are narrowed first.
	if narrowed != single-1 {
		t.Errorf("%d of %d single-event rules narrowed by event name, want all but root use", narrowed, single)
	}
}

// TestPipelineRulesNeedTheConfig: without a config the pipeline rules do
// not compile (their placeholders have no value) and say so; they never
// run against nothing or everything.
func TestPipelineRulesNeedTheConfig(t *testing.T) {
	cat, err := Load(LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cat.Compile(sigma.DuckDB, nil)
	for _, r := range cat.Rules {
		pipeline := r.Uses(PHTrails) || r.Uses(PHBuckets) || r.Uses(PHKMSKeys) || r.Uses(PHReaderRoles)
		if pipeline && r.Status != StatusNotCompiled {
			t.Errorf("%s without a config: %s, want not compiled", r.Name, r.Status)
		}
		if pipeline && !strings.Contains(r.Reason, "placeholder") {
			t.Errorf("%s: reason %q does not name the placeholder", r.Name, r.Reason)
		}
		if !pipeline && r.Status != StatusReady && r.Status != StatusReferenced {
			t.Errorf("%s: %s %s", r.Name, r.Status, r.Reason)
		}
	}
}

func TestDisabled(t *testing.T) {
	cat, err := Load(LoadOptions{Disabled: []string{"1a37f729-2d1b-5965-85e1-5027f3ec879e"}})
	if err != nil {
		t.Fatal(err)
	}
	cat.Compile(sigma.DuckDB, Placeholders(PipelineConfig(t)))
	if r := byName(cat)["tw_root_use"]; r.Status != StatusDisabled {
		t.Errorf("root use: %s", r.Status)
	}
	for _, r := range cat.Ready() {
		if r.Name == "tw_root_use" {
			t.Error("a disabled rule is ready")
		}
	}
	_, err = Load(LoadOptions{Disabled: []string{"no-such-rule"}})
	var ue *UnknownRulesError
	if !errorsAs(err, &ue) || ue.IDs[0] != "no-such-rule" {
		t.Errorf("unknown disabled id: %v", err)
	}
}

// TestConfigDisables: the config's detect.disabled joins --disable.
func TestConfigDisables(t *testing.T) {
	cfg := PipelineConfig(t)
	cfg.Detect.Disabled = []string{"2790734b-a956-500b-a696-291b4081e108"}
	cat, err := Prepare(Options{Config: cfg, Load: LoadOptions{Disabled: []string{"1a37f729-2d1b-5965-85e1-5027f3ec879e"}}}, sigma.DuckDB)
	if err != nil {
		t.Fatal(err)
	}
	rules := byName(cat)
	if rules["tw_trail_stop_logging"].Status != StatusDisabled || rules["tw_root_use"].Status != StatusDisabled || rules["tw_trail_deleted"].Status != StatusReady {
		t.Errorf("statuses: %s %s %s", rules["tw_trail_stop_logging"].Status, rules["tw_root_use"].Status, rules["tw_trail_deleted"].Status)
	}
}
