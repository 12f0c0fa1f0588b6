package cli

import (
	"crypto/sha256"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDetectOnTheDemo runs detect as a user would over a pulled demo: exit
// codes for detections, unknowns and bad input, the JSON and SARIF shapes,
// and --list-rules.
func TestDetectOnTheDemo(t *testing.T) {
	dir, db := pulledDemo(t)
	cfg := filepath.Join(dir, "bucket", ".trailwarden", "trailwarden.yaml")
	// Read-only: the store's bytes are the same after every run.
	sum := func() [32]byte {
		b, err := os.ReadFile(db)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	before := sum()
	defer func() {
		if sum() != before {
			t.Error("detect changed the store")
		}
	}()

	// Detections at or above high: exit 1, and the text names them.
	stdout, stderr, code := run("detect", "--db", db, "--config", cfg)
	if code != ExitFailure || !strings.Contains(stdout, "CRITICAL  CloudTrail logging stopped on the central trail") {
		t.Fatalf("detect: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, line := range strings.Split(stdout, "\n") {
		if len(line) > 80 && !strings.Contains(line, "arn:") {
			t.Errorf("line over 80 columns: %q", line)
		}
	}
	if _, _, code := run("detect", "--db", db, "--config", cfg, "--fail-on", "never"); code != ExitOK {
		t.Errorf("--fail-on never: exit %d", code)
	}

	// JSON: snake_case keys, typed values, every detection with its events.
	stdout, _, code = run("detect", "--db", db, "--config", cfg, "--format", "json")
	var rep struct {
		Engine     string `json:"engine"`
		Events     int64  `json:"events"`
		Verdict    string `json:"verdict"`
		FailOn     string `json:"fail_on"`
		Detections []struct {
			RuleID    string   `json:"rule_id"`
			Level     string   `json:"level"`
			Account   string   `json:"account"`
			Principal string   `json:"principal"`
			EventIDs  []string `json:"event_ids"`
			Count     int64    `json:"count"`
		} `json:"detections"`
		Unknown []string `json:"unknown"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != ExitFailure {
		t.Fatalf("json: exit %d, %v\n%s", code, err, stdout)
	}
	if rep.Engine != "duckdb" || rep.Events == 0 || rep.Verdict != "detections" || rep.FailOn != "high" || len(rep.Detections) < 30 || len(rep.Unknown) != 0 {
		t.Errorf("json report: %+v", rep)
	}
	for _, d := range rep.Detections {
		if d.RuleID == "" || d.Account == "" || d.Principal == "" || len(d.EventIDs) == 0 || d.Count < 1 {
			t.Errorf("detection without its evidence: %+v", d)
		}
	}

	// SARIF: one result per detection, each pointing at its rule.
	stdout, _, _ = run("detect", "--db", db, "--config", cfg, "--format", "sarif")
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID string `json:"id"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
			Invocations []struct {
				Notifications []any `json:"toolExecutionNotifications"`
			} `json:"invocations"`
		} `json:"runs"`
	}
	if err := json.Unmarshal([]byte(stdout), &sarif); err != nil || sarif.Version != "2.1.0" || len(sarif.Runs) != 1 {
		t.Fatalf("sarif: %v\n%.400s", err, stdout)
	}
	run0 := sarif.Runs[0]
	if len(run0.Results) != len(rep.Detections) || len(run0.Invocations) != 1 || len(run0.Invocations[0].Notifications) != 0 {
		t.Errorf("sarif: %d results for %d detections, invocations %+v", len(run0.Results), len(rep.Detections), run0.Invocations)
	}
	for _, r := range run0.Results {
		if run0.Tool.Driver.Rules[r.RuleIndex].ID != r.RuleID || !strings.HasPrefix(r.Locations[0].PhysicalLocation.ArtifactLocation.URI, "rules/builtin/") {
			t.Errorf("sarif result %+v", r)
		}
	}

	// Without the config the pipeline rules cannot run: no all-clear.
	stdout, _, code = run("detect", "--db", db, "--fail-on", "critical")
	if code != ExitFailure || !strings.Contains(stdout, "unknown:") || !strings.Contains(stdout, "without a config") {
		t.Errorf("no config: exit %d\n%s", code, stdout)
	}
	// A window without events: unknown, exit 1, even with --fail-on critical.
	stdout, _, code = run("detect", "--db", db, "--config", cfg, "--since", "2026-01-01", "--until", "2026-01-02", "--fail-on", "critical")
	if code != ExitFailure || !strings.Contains(stdout, "no events in the window") || !strings.Contains(stdout, "0 detections") {
		t.Errorf("empty window: exit %d\n%s", code, stdout)
	}

	// Only a user's rule that finds nothing, over every expected account:
	// the one all-clear, exit 0.
	rules := filepath.Join(dir, "rules")
	if err := os.MkdirAll(rules, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) {
		if err := os.WriteFile(filepath.Join(rules, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("quiet.yml", `title: Nobody deletes the flow logs
id: 0b7a4a8e-5a43-4a52-9a4f-1f1f7e0c3b11
logsource: {product: aws, service: cloudtrail}
detection:
  selection: {eventSource: ec2.amazonaws.com, eventName: DeleteFlowLogs}
  condition: selection
level: high
`)
	write("windows.yml", `title: Not CloudTrail
id: 7c1d8f0e-9a43-4a52-9a4f-1f1f7e0c3b12
logsource: {product: windows, service: security}
detection:
  selection: {EventID: 4625}
  condition: selection
level: low
`)
	stdout, stderr, code = run("detect", "--db", db, "--config", cfg, "--no-builtin", "--rules", rules)
	if code != ExitOK || !strings.Contains(stdout, "0 detections; nothing at or above high") {
		t.Errorf("all clear: exit %d\n%s\n%s", code, stdout, stderr)
	}
	stdout, _, code = run("detect", "--list-rules", "--config", cfg, "--rules", rules, "--format", "json")
	var list []struct {
		ID, Status, Reason, Origin string
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil || code != ExitOK {
		t.Fatalf("list-rules: exit %d %v\n%s", code, err, stdout)
	}
	status := map[string]string{}
	for _, r := range list {
		status[r.ID] = r.Status
		if r.Status == "skipped" && r.Reason == "" {
			t.Errorf("skipped without a reason: %+v", r)
		}
	}
	if status["0b7a4a8e-5a43-4a52-9a4f-1f1f7e0c3b11"] != "ready" || status["2790734b-a956-500b-a696-291b4081e108"] != "ready" {
		t.Errorf("list-rules statuses: %v", status)
	}
	if n := strings.Count(stdout, `"status": "skipped"`); n != 1 {
		t.Errorf("%d skipped rules, want the Windows one", n)
	}

	for _, bad := range [][]string{
		{"detect", "--db", db, "--fail-on", "severe"},
		{"detect", "--db", db, "--format", "csv"},
		{"detect", "--db", db, "--rules", filepath.Join(dir, "nosuch")},
		{"detect", "--db", db, "--disable", "no-such-rule"},
		{"detect", "--db", db, "--engine", "bigquery"},
		{"detect", "--db", db, "--since", "soon"},
	} {
		if _, stderr, code := run(bad...); code != ExitBadInput {
			t.Errorf("%v: exit %d, want 2\n%s", bad, code, stderr)
		}
	}
}
