package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/audit"
)

const (
	auditConfig = "../audit/testdata/trailwarden.yaml"
	auditBad    = "../audit/testdata/bad.json"
	auditGood   = "../audit/testdata/good.json"
)

// TestAuditGolden compares audit's output with testdata/golden/audit-*.txt
// (go test ./internal/cli -run AuditGolden -update rewrites them).
func TestAuditGolden(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	tests := []struct {
		name string
		args []string
	}{
		{"audit-text", []string{"audit", "-c", auditConfig, "--snapshot", auditBad, "--standard", "cis"}},
		{"audit-json", []string{"audit", "-c", auditConfig, "--snapshot", auditBad, "--standard", "cis", "--format", "json"}},
		{"audit-sarif", []string{"audit", "-c", auditConfig, "--snapshot", auditBad, "--standard", "cis", "--format", "sarif"}},
		{"audit-asff", []string{"audit", "-c", auditConfig, "--snapshot", auditBad, "--standard", "cis", "--format", "asff"}},
		{"audit-csv", []string{"audit", "-c", auditConfig, "--snapshot", auditBad, "--standard", "cis", "--format", "csv"}},
		{"audit-good-accelerate", []string{"audit", "-c", auditConfig, "--snapshot", auditGood, "--standard", "accelerate"}},
		{"audit-list-rules", []string{"audit", "--list-rules"}},
		{"audit-bad-snapshot", []string{"audit", "-c", auditConfig, "--snapshot", "testdata/input/org-bucket.json"}},
		{"audit-bad-profile", []string{"audit", "-c", auditConfig, "--snapshot", auditGood, "--standard", "strict"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkGolden(t, tt.name, tt.args, nil) })
	}
}

func TestAudit_ExitCodes(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"--snapshot", auditGood, "--standard", "baseline"}, ExitOK},
		{[]string{"--snapshot", auditBad, "--standard", "cis"}, ExitFailure},
		// cis's only critical failure is TW-BKT-05; the rest are high or lower.
		{[]string{"--snapshot", auditBad, "--standard", "cis", "--fail-on", "critical"}, ExitFailure},
		{[]string{"--snapshot", auditBad, "--standard", "cis", "--fail-on", "never"}, ExitOK},
		{[]string{"--snapshot", auditBad, "--standard", "cis", "--fail-on", "sometimes"}, ExitBadInput},
		{[]string{"--snapshot", auditBad, "--format", "yaml"}, ExitBadInput},
		{[]string{"--snapshot", "testdata/input/missing.json"}, ExitBadInput},
	}
	for _, tt := range tests {
		args := append([]string{"audit", "-c", auditConfig}, tt.args...)
		if _, stderr, code := run(args...); code != tt.want {
			t.Errorf("%v: exit %d, want %d (%s)", tt.args, code, tt.want, stderr)
		}
	}
}

// TestAudit_FailOnThreshold: with only low failures left, --fail-on high
// passes and --fail-on low fails.
func TestAudit_FailOnThreshold(t *testing.T) {
	dir := t.TempDir()
	data, err := os.ReadFile(auditGood)
	if err != nil {
		t.Fatal(err)
	}
	// Drop the CloudWatch Logs group: only TW-TRL-07 (low) fails under cis.
	mod := strings.ReplaceAll(string(data), `"cloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111111111111:log-group:aws-cloudtrail-logs-org-trail:*",`, "")
	if mod == string(data) {
		t.Fatal("fixture edit did not apply")
	}
	snap := filepath.Join(dir, "snap.json")
	if err := os.WriteFile(snap, []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	for flag, want := range map[string]int{"high": ExitOK, "medium": ExitOK, "low": ExitFailure} {
		if _, stderr, code := run("audit", "-c", auditConfig, "--snapshot", snap, "--standard", "cis", "--fail-on", flag); code != want {
			t.Errorf("--fail-on %s: exit %d, want %d (%s)", flag, code, want, stderr)
		}
	}
}

// TestAudit_SARIFStructure checks the SARIF output against the fields the
// SARIF 2.1.0 schema requires: version and runs; tool.driver.name; each
// rule's id; each result's message.text, and ruleId matching a rule at
// ruleIndex; level in the enumeration and "none" unless kind is "fail".
func TestAudit_SARIFStructure(t *testing.T) {
	stdout, stderr, _ := run("audit", "-c", auditConfig, "--snapshot", auditBad, "--standard", "baseline", "--format", "sarif")
	var log map[string]any
	if err := json.Unmarshal([]byte(stdout), &log); err != nil {
		t.Fatalf("not JSON: %v (%s)", err, stderr)
	}
	if log["version"] != "2.1.0" || !strings.Contains(fmt.Sprint(log["$schema"]), "sarif-2.1.0") {
		t.Fatalf("version/$schema: %v %v", log["version"], log["$schema"])
	}
	runs, ok := log["runs"].([]any)
	if !ok || len(runs) != 1 {
		t.Fatalf("runs: %v", log["runs"])
	}
	run0 := runs[0].(map[string]any)
	driver := run0["tool"].(map[string]any)["driver"].(map[string]any)
	if driver["name"] != "trailwarden" {
		t.Fatalf("driver.name = %v", driver["name"])
	}
	rules := driver["rules"].([]any)
	if len(rules) != len(audit.Rules("baseline")) {
		t.Fatalf("%d rules, want the baseline catalogue's %d", len(rules), len(audit.Rules("baseline")))
	}
	var ids []string
	for _, r := range rules {
		rm := r.(map[string]any)
		id, _ := rm["id"].(string)
		if id == "" || rm["shortDescription"].(map[string]any)["text"] == "" {
			t.Fatalf("rule without id or description: %v", rm)
		}
		ids = append(ids, id)
	}
	results := run0["results"].([]any)
	if len(results) == 0 {
		t.Fatal("no results for a failing snapshot")
	}
	levels := map[string]bool{"none": true, "note": true, "warning": true, "error": true}
	for _, r := range results {
		rm := r.(map[string]any)
		msg, _ := rm["message"].(map[string]any)
		if msg == nil || msg["text"] == "" {
			t.Fatalf("result without message.text: %v", rm)
		}
		idx := int(rm["ruleIndex"].(float64))
		if idx < 0 || idx >= len(ids) || ids[idx] != rm["ruleId"] {
			t.Fatalf("ruleIndex %d does not point at ruleId %v", idx, rm["ruleId"])
		}
		lvl, _ := rm["level"].(string)
		if !levels[lvl] || (rm["kind"] != "fail" && lvl != "none") {
			t.Fatalf("level %q with kind %v", lvl, rm["kind"])
		}
		locs := rm["locations"].([]any)
		ll := locs[0].(map[string]any)["logicalLocations"].([]any)[0].(map[string]any)
		if !strings.HasPrefix(fmt.Sprint(ll["fullyQualifiedName"]), "arn:aws:") {
			t.Fatalf("location is not a resource ARN: %v", ll)
		}
		props := rm["properties"].(map[string]any)
		if props["remediation"] == "" || props["evidence"] == nil {
			t.Fatalf("result without evidence or remediation: %v", props)
		}
	}
}

func TestAudit_ColorOnlyOnTerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	stdout, _, _ := run("audit", "-c", auditConfig, "--snapshot", auditBad, "--standard", "cis")
	if strings.Contains(stdout, "\x1b[") {
		t.Fatal("colour escape written to a non-terminal")
	}
}

// TestAudit_AccelerateExitsOnAnyRequirement (issue 13 item 3): a snapshot
// that fails only "global service events" exits 1 under accelerate at the
// default --fail-on, since onboarding stops on any of its requirements,
// and 0 under baseline, where the rule stays medium.
func TestAudit_AccelerateExitsOnAnyRequirement(t *testing.T) {
	data, err := os.ReadFile(auditGood)
	if err != nil {
		t.Fatal(err)
	}
	mod := strings.ReplaceAll(string(data), `"includeGlobalServiceEvents": true`, `"includeGlobalServiceEvents": false`)
	if mod == string(data) {
		t.Fatal("fixture edit did not apply")
	}
	snap := filepath.Join(t.TempDir(), "snap.json")
	if err := os.WriteFile(snap, []byte(mod), 0o644); err != nil {
		t.Fatal(err)
	}
	for profile, want := range map[string]int{"accelerate": ExitFailure, "baseline": ExitOK} {
		out, stderr, code := run("audit", "-c", auditConfig, "--snapshot", snap, "--standard", profile)
		if code != want {
			t.Errorf("%s: exit %d, want %d\n%s%s", profile, code, want, out, stderr)
		}
		sev := "medium"
		if profile == "accelerate" {
			sev = "high"
		}
		if !strings.Contains(out, "FAIL    "+sev+" ") || !strings.Contains(out, "TW-TRL-02") {
			t.Errorf("%s: TW-TRL-02 not reported at %s:\n%s", profile, sev, out)
		}
	}
}
