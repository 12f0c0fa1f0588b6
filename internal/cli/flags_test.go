package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExitCodes runs each bad input of issue 15's "Exit codes" paragraph,
// and the other ways to get a command line wrong, and checks the code the
// README's table gives it: 2 for bad input.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	noKey := filepath.Join(dir, "no-key.yaml")
	if _, stderr, code := run("init", "--org", "o-a1b2c3d4e5", "--management-account", "111111111111", "--log-archive-account", "222222222222",
		"--bucket", "acme-org-cloudtrail", "--region", "us-east-1", "--trail", "org-trail", "-o", noKey); code != 0 {
		t.Fatalf("init: exit %d\n%s", code, stderr)
	}
	store := filepath.Join(dir, "trail.duckdb")
	if _, stderr, code := run("pull", "--source", demoDir(t, "2"), "--db", store); code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, stderr)
	}
	tests := []struct {
		name string
		args []string
		code int
		want string // in stderr
	}{
		{"unknown command", []string{"nosuch"}, ExitBadInput, `unknown command "nosuch"`},
		// The old meaning of --profile must not be ignored: the good
		// snapshot passes the config's standard, so exit 0 would be a
		// false all-clear for accelerate.
		{"old --profile as a standard", []string{"audit", "-c", auditConfig, "--snapshot", auditGood, "--profile", "accelerate"}, ExitBadInput, "use --standard accelerate"},
		{"unknown command, did you mean", []string{"polcy"}, ExitBadInput, "did you mean policy?"},
		{"unknown subcommand", []string{"policy", "nosuch"}, ExitBadInput, `unknown command "nosuch" for "trailwarden policy"`},
		{"unknown athena subcommand", []string{"athena", "set-up"}, ExitBadInput, "did you mean setup?"},
		{"argument to a command without", []string{"init", "extra"}, ExitBadInput, `unknown command "extra"`},
		{"two SQL arguments", []string{"query", "--db", store, "select 1", "select 2"}, ExitBadInput, "accepts at most 1 arg"},
		{"unknown flag", []string{"init", "--bukket", "x"}, ExitBadInput, "unknown flag: --bukket"},
		{"export without --out", []string{"export", "--db", store}, ExitBadInput, "--out is required"},
		{"policy key without a key ARN", []string{"policy", "key", "--config", noKey}, ExitBadInput, "no kms_key_arn"},
		{"SQL that does not parse", []string{"query", "--db", store, "selec 1"}, ExitBadInput, "syntax error"},
		{"SQL that does not bind", []string{"query", "--db", store, "select * from nosuch"}, ExitBadInput, "nosuch"},
		{"demo --accounts 1", []string{"demo", "--accounts", "1", "--out", filepath.Join(dir, "demo1")}, ExitBadInput, "--accounts 2"},
		{"demo --days 0", []string{"demo", "--days", "0", "--out", filepath.Join(dir, "demo0")}, ExitBadInput, "--days 1"},
		{"-o naming a folder", []string{"policy", "bucket", "--config", noKey, "-o", dir}, ExitBadInput, "is a folder, not a file"},
		{"init -o naming a folder", []string{"init", "--log-archive-account", "222222222222", "--source-account", "333333333333",
			"--bucket", "acme-logs", "--region", "us-east-1", "--trail", "audit", "-o", dir}, ExitBadInput, "is a folder"},
		{"a misspelt region", []string{"init", "--org", "o-a1b2c3d4e5", "--management-account", "111111111111", "--log-archive-account", "222222222222",
			"--bucket", "acme-org-cloudtrail", "--region", "us-esat-1", "--trail", "org-trail"}, ExitBadInput, "did you mean us-east-1?"},
		{"a misspelt region filter", []string{"pull", "--source", dir, "--regions", "us-east-1,eu-wset-1"}, ExitBadInput, "did you mean eu-west-1?"},
		{"a misspelt Athena region", []string{"query", "--engine", "athena", "--region", "eu-wset-1", "--named", "root-activity"}, ExitBadInput, "did you mean eu-west-1?"},
		{"an action without its colon", []string{"can", "--principal", "111111111111", "--action", "s3GetObject", "--resource", "arn:aws:s3:::b/k",
			"--resource-account", "222222222222"}, ExitBadInput, "did you mean s3:GetObject?"},
		{"a mistyped service", []string{"can", "--principal", "111111111111", "--action", "cloudtrial:LookupEvents", "--resource", "*",
			"--resource-account", "222222222222"}, ExitBadInput, "did you mean cloudtrail:LookupEvents?"},
		{"a bad --since", []string{"pull", "--source", dir, "--since", "yesterday"}, ExitBadInput, `--since "yesterday" is not a duration`},
		{"a bad --until", []string{"verify", "--source", dir, "--until", "2026/11/20"}, ExitBadInput, "--until"},
		{"an empty window", []string{"coverage", "--source", dir, "--accounts", "111111111111", "--regions", "us-east-1",
			"--since", "2026-11-21", "--until", "2026-11-20"}, ExitBadInput, "is not after"},
		{"a bad athena --since", []string{"athena", "ddl", "--config", noKey, "--since", "2020/01/01"}, ExitBadInput, "--since"},
		{"a bad demo --since", []string{"demo", "--out", filepath.Join(dir, "d"), "--since", "soon"}, ExitBadInput, "--since"},
		{"plan --detailed-exitcode, bad input", []string{"plan", "--config", filepath.Join(dir, "nope.yaml"), "--detailed-exitcode"}, ExitFailure, "nope.yaml"},
		{"plan --detailed-exitcode, bad flag", []string{"plan", "--detailed-exitcode", "--bogus"}, ExitFailure, "unknown flag"},
		{"plan --detailed-exitcode, changes", []string{"plan", "--config", planConfig, "--snapshot", freshSnap, "--detailed-exitcode"}, ExitChanges, ""},
		{"plan --detailed-exitcode, blocked", []string{"plan", "--config", planConfig, "--snapshot", blockedSnap, "--detailed-exitcode"}, ExitFailure, ""},
		{"plan with changes", []string{"plan", "--config", planConfig, "--snapshot", freshSnap}, ExitOK, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, stderr, code := run(tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("trailwarden %s: exit %d, want %d with %q in\n%s", strings.Join(tt.args, " "), code, tt.code, tt.want, stderr)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "demo1", ".trailwarden")); err == nil {
		t.Error("demo --accounts 1 wrote a demo")
	}
}

// TestRenamedFlags checks that each old name fails as an unknown flag
// (exit 2): one name per meaning, no aliases.
func TestRenamedFlags(t *testing.T) {
	dir := t.TempDir()
	tests := [][]string{
		{"init", "--profile", "cis"},
		{"init", "--external-id", "x"},
		{"audit", "--aws-profile", "p"},
		{"audit", "--endpoint", "http://127.0.0.1:1"},
		{"snapshot", "--endpoint", "http://127.0.0.1:1"},
		{"plan", "--endpoint", "http://127.0.0.1:1"},
		{"apply", "--endpoint", "http://127.0.0.1:1"},
		{"rollback", "--endpoint", "http://127.0.0.1:1"},
		{"verify", "--source", dir, "--start", "2026-11-20T00:00:00Z"},
		{"verify", "--source", dir, "--end", "2026-11-20T00:00:00Z"},
		{"verify", "--source", dir, "--aws-region", "us-east-1"},
		{"verify", "--source", dir, "--endpoint", "http://127.0.0.1:1"},
		{"verify", "--source", dir, "--account", "111111111111"},
		{"pull", "--source", dir, "--account", "111111111111"},
		{"pull", "--source", dir, "--aws-region", "us-east-1"},
		{"demo", "--start", "2026-11-20"},
		{"demo", "--endpoint", "http://127.0.0.1:1"},
		{"query", "--athena-region", "us-east-1"},
		{"query", "--output", "s3://b/p/"},
		{"athena", "setup", "--output", "s3://b/p/"},
		{"athena", "setup", "--athena-region", "us-east-1"},
		{"can", "--role-arn", "arn:aws:iam::111111111111:role/r"},
	}
	for _, args := range tests {
		_, stderr, code := run(args...)
		if code != ExitBadInput || !strings.Contains(stderr, "unknown flag: "+args[len(args)-2]) {
			t.Errorf("trailwarden %s: exit %d, want 2 and unknown flag\n%s", strings.Join(args, " "), code, stderr)
		}
	}
}

// TestConfigOldProfileKey reads a config that names its standard under
// the old key "profile": it works as before, with a notice on stderr.
func TestConfigOldProfileKey(t *testing.T) {
	data, err := os.ReadFile("testdata/input/org.yaml")
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(t.TempDir(), "old.yaml")
	if err := os.WriteFile(old, []byte(strings.Replace(string(data), "\nstandard:", "\nprofile:", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	want, _, _ := run("policy", "bucket", "--config", "testdata/input/org.yaml")
	got, stderr, code := run("policy", "bucket", "--config", old)
	if code != 0 || got != want || !strings.Contains(stderr, `notice: `+old+`:`) || !strings.Contains(stderr, `the setting "profile" is now called "standard"`) {
		t.Errorf("exit %d, same policy %v\n%s", code, got == want, stderr)
	}
	if _, stderr, _ := run("policy", "bucket", "--config", "testdata/input/org.yaml"); strings.Contains(stderr, "notice:") {
		t.Errorf("a notice for the new key:\n%s", stderr)
	}
}

// TestWindowFlags gives every command that takes a time window each form
// of --since: a date, an RFC 3339 time, and (while the demo's first day is
// in the last few weeks) a duration in hours and in days.
func TestWindowFlags(t *testing.T) {
	dir := demoDir(t, "2")
	forms := []string{"2026-11-20", "2026-11-20T00:00:00Z"}
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if days := int(time.Since(start) / (24 * time.Hour)); days >= 1 && days < 40 {
		// From a moment within the demo's first day.
		forms = append(forms, fmt.Sprintf("%dd", days), fmt.Sprintf("%dh", days*24))
	}
	for _, since := range forms {
		for _, args := range [][]string{
			{"verify", "--source", dir, "--since", since, "--until", "2026-11-21"},
			{"coverage", "--source", dir, "--since", since, "--until", "2026-11-21T00:00:00Z"},
			{"pull", "--source", dir, "--db", filepath.Join(t.TempDir(), "t.duckdb"), "--since", since, "--until", "2026-11-21"},
		} {
			if _, stderr, code := run(args...); code != ExitOK {
				t.Errorf("trailwarden %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
			}
		}
	}
}
