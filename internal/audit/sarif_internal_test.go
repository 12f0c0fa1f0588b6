package audit

import (
	"bytes"
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifOf audits a fixture and renders it as SARIF, as the CLI writes it.
func sarifOf(t *testing.T, snap, profile string) ([]byte, *Report) {
	t.Helper()
	c := loadConfig(t)
	rep, err := Run(c, loadSnapshot(t, snap), profile)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(SARIF(rep, SARIFOptions{Version: "test", Config: c, Snapshot: "testdata/" + snap})); err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), rep
}

// TestSARIF_ValidAgainstSchema validates the SARIF of every profile, on a
// snapshot with failures and unknowns, against the OASIS SARIF 2.1.0 JSON
// schema (testdata/sarif, see its NOTICE.md).
func TestSARIF_ValidAgainstSchema(t *testing.T) {
	f, err := os.Open("testdata/sarif/sarif-schema-2.1.0.json")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	const url = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	if err := c.AddResource(url, doc); err != nil {
		t.Fatal(err)
	}
	schema, err := c.Compile(url)
	if err != nil {
		t.Fatal(err)
	}
	for _, profile := range Profiles {
		for _, snap := range []string{"bad.json", "good.json"} {
			out, _ := sarifOf(t, snap, profile)
			v, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(v); err != nil {
				t.Errorf("%s %s: not valid SARIF 2.1.0: %v", profile, snap, err)
			}
		}
	}
	// The schema is not a formality: a result without a message fails.
	bad := []byte(`{"version":"2.1.0","runs":[{"tool":{"driver":{"name":"x"}},"results":[{"ruleId":"a"}]}]}`)
	v, _ := jsonschema.UnmarshalJSON(bytes.NewReader(bad))
	if schema.Validate(v) == nil {
		t.Error("the schema accepts a result without a message")
	}
}

// TestSARIF_CodeScanningFields checks what GitHub code scanning needs
// beyond the schema: every result at a line of the config file (the
// setting its rule is about), a partial fingerprint that is the same run
// after run and different between findings, and rules with a numeric
// security-severity in the band of their severity, a "security" tag and a
// help page.
func TestSARIF_CodeScanningFields(t *testing.T) {
	out, rep := sarifOf(t, "bad.json", "baseline")
	var log SARIFLog
	if err := json.Unmarshal(out, &log); err != nil {
		t.Fatal(err)
	}
	run := log.Runs[0]
	if len(run.Results) == 0 {
		t.Fatal("no results on the bad fixture")
	}
	c := loadConfig(t)
	cfgText, err := os.ReadFile("testdata/trailwarden.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(cfgText), "\n")
	seen := map[string]bool{}
	for _, r := range run.Results {
		loc := r.Locations[0].PhysicalLocation
		if loc == nil || loc.ArtifactLocation.URI != "testdata/trailwarden.yaml" || loc.Region == nil {
			t.Fatalf("%s: physical location %+v, want testdata/trailwarden.yaml", r.RuleID, loc)
		}
		field := ConfigField(r.RuleID)
		want := c.Line(field)
		if want == 0 {
			t.Fatalf("%s: the config has no %s", r.RuleID, field)
		}
		if loc.Region.StartLine != want || !strings.HasPrefix(strings.TrimSpace(lines[want-1]), field+":") {
			t.Errorf("%s: line %d (%q), want line %d, the %s setting", r.RuleID, loc.Region.StartLine, lines[loc.Region.StartLine-1], want, field)
		}
		fp := r.PartialFingerprints[FingerprintKey]
		if len(fp) != 32 || seen[fp] {
			t.Errorf("%s: fingerprint %q empty or shared with another result", r.RuleID, fp)
		}
		seen[fp] = true
		if len(r.RelatedLocations) != 1 || r.RelatedLocations[0].PhysicalLocation.ArtifactLocation.URI != "testdata/bad.json" {
			t.Errorf("%s: related locations %+v, want the snapshot", r.RuleID, r.RelatedLocations)
		}
	}
	again, _ := sarifOf(t, "bad.json", "baseline")
	if !bytes.Equal(out, again) {
		t.Error("two runs on the same input write different SARIF")
	}
	band := map[Severity][2]float64{Critical: {9.0, 10}, High: {7.0, 8.9}, Medium: {4.0, 6.9}, Low: {0.1, 3.9}, Info: {0.1, 3.9}}
	for i, r := range run.Tool.Driver.Rules {
		rule := Rules(rep.Profile)[i]
		s, _ := r.Properties["security-severity"].(string)
		n, err := strconv.ParseFloat(s, 64)
		b := band[rule.Severity]
		if err != nil || n < b[0] || n > b[1] {
			t.Errorf("%s (%s): security-severity %q, want a number in %v", r.ID, rule.Severity, s, b)
		}
		tags, _ := r.Properties["tags"].([]any)
		if len(tags) == 0 || tags[0] != "security" {
			t.Errorf("%s: tags %v lack security", r.ID, tags)
		}
		if r.HelpURI != DocsURL+"#"+strings.ToLower(r.ID) {
			t.Errorf("%s: helpUri %q", r.ID, r.HelpURI)
		}
		for _, ref := range rule.References {
			if strings.Contains(strings.ToLower(ref), "seed") {
				t.Errorf("%s: reference %q names a planning document", r.ID, ref)
			}
		}
	}
}
