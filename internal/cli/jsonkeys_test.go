package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// snakeKey is the one key style of trailwarden's JSON: lower case words
// joined by underscores.
var snakeKey = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// opaqueKeys hold data rather than trailwarden's own fields: AWS documents
// (IAM policies, with their Version and Statement), maps keyed by condition
// keys (aws:SourceArn), SQL by engine name, values keyed by what the user
// named. Their keys are not checked; everything around them is.
var opaqueKeys = []string{
	"policy",   // policy --format json: the IAM policy document
	"existing", // policy --format json with --existing: the policy read
	"context",  // can: the request context, keyed by condition key
}

// checkSnakeKeys walks v and reports every object key that is not
// snake_case, with its path.
func checkSnakeKeys(t *testing.T, what string, v any, path string) {
	t.Helper()
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !snakeKey.MatchString(k) {
				t.Errorf("%s: key %q at %s is not snake_case", what, k, path)
			}
			if slices.Contains(opaqueKeys, k) {
				continue
			}
			checkSnakeKeys(t, what, e, path+"."+k)
		}
	case []any:
		for _, e := range x {
			checkSnakeKeys(t, what, e, path+"[]")
		}
	}
}

// TestJSONOutputKeysAreSnakeCase runs every command that prints JSON on
// the demo organization and checks that each key of its output is
// snake_case.
func TestJSONOutputKeysAreSnakeCase(t *testing.T) {
	dir, db := pulledDemo(t)
	demo := filepath.Join(dir, "bucket")
	meta := filepath.Join(demo, ".trailwarden")
	cfg, snap := filepath.Join(meta, "trailwarden.yaml"), filepath.Join(meta, "snapshot.json")
	keys := filepath.Join(meta, "public-keys.json")
	tests := []struct {
		name string
		args []string
	}{
		{"demo", []string{"demo", "--out", filepath.Join(dir, "demo2"), "--accounts", "2", "--regions", "us-east-1", "--days", "1", "--format", "json"}},
		{"verify", []string{"verify", "--source", demo, "--public-keys", keys, "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-21T00:00:00Z", "--format", "json"}},
		{"coverage", []string{"coverage", "--source", demo, "--since", "2026-11-20", "--until", "2026-11-21", "--format", "json"}},
		{"pull", []string{"pull", "--source", demo, "--public-keys", keys, "--db", db, "--since", "2026-11-20T00:00:00Z", "--until", "2026-11-21T00:00:00Z", "--format", "json"}},
		{"query", []string{"query", "--db", db, "--named", "root-activity", "--format", "json"}},
		{"queries", []string{"queries", "--format", "json"}},
		{"policy-bucket", []string{"policy", "bucket", "--config", cfg, "--format", "json"}},
		{"policy-bucket-existing", []string{"policy", "bucket", "--config", "testdata/input/org.yaml", "--existing", "testdata/input/existing-bucket.json", "--format", "json"}},
		{"policy-key", []string{"policy", "key", "--config", cfg, "--format", "json"}},
		{"policy-reader-trust", []string{"policy", "reader-trust", "--config", cfg, "--format", "json"}},
		{"policy-reader-access", []string{"policy", "reader-access", "--config", cfg, "--format", "json"}},
		{"policy-prove", []string{"policy", "prove", "--config", cfg, "--format", "json"}},
		{"can", canArgs("cloudtrail.amazonaws.com", "--format", "json")},
		{"can-statements", []string{"can", "--principal", "arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice", "--action", "s3:GetObject",
			"--resource", "arn:aws:s3:::acme-org-cloudtrail/org/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/11/22/x.json.gz",
			"--resource-policy", "testdata/input/org-bucket.json", "--identity-policy", "testdata/input/org-reader-access.json",
			"--org", "o-a1b2c3d4e5", "--resource-account", "222222222222", "--context", "aws:CalledVia=athena.amazonaws.com", "--format", "json"}},
		{"audit", []string{"audit", "--config", cfg, "--snapshot", snap, "--standard", "baseline", "--fail-on", "never", "--format", "json"}},
		{"audit-rules", []string{"audit", "--list-rules", "--format", "json"}},
		{"plan", []string{"plan", "--config", cfg, "--snapshot", snap, "--format", "json"}},
		{"plan-changes", []string{"plan", "--config", planConfig, "--snapshot", freshSnap, "--format", "json"}},
		{"plan-blocked", []string{"plan", "--config", planConfig, "--snapshot", blockedSnap, "--format", "json"}},
	}
	s := snapshotWorld(t)
	tests = append(tests, struct {
		name string
		args []string
	}{"snapshot", []string{"snapshot", "--config", snapConfig, "--out", filepath.Join(dir, "snap.json"), "--endpoint-url", s.URL, "--format", "json"}})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			stdout, stderr, code := run(tc.args...)
			if code != 0 && code != 1 {
				t.Fatalf("exit %d\n%s", code, stderr)
			}
			var v any
			if err := json.Unmarshal([]byte(stdout), &v); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, stdout)
			}
			if !strings.HasSuffix(stdout, "\n") {
				t.Errorf("no trailing newline")
			}
			checkSnakeKeys(t, tc.name, v, "$")
		})
	}
	// The snapshot file is JSON trailwarden writes too.
	data, err := os.ReadFile(filepath.Join(dir, "snap.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	checkSnakeKeys(t, "snapshot file", v, "$")
}
