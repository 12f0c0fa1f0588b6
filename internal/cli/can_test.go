package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// canArgs builds a can command line for the shared-reports bucket of
// account 111111111111.
func canArgs(principal string, extra ...string) []string {
	return append([]string{"can", "--principal", principal, "--action", "s3:GetObject",
		"--resource", "arn:aws:s3:::shared-reports/q3.csv", "--resource-account", "111111111111"}, extra...)
}

const (
	canSession = "arn:aws:sts::111111111111:assumed-role/Reports/alice"
	canAlice   = "arn:aws:iam::111111111111:user/alice"
)

// TestCan_Golden covers the evaluator's ARN operators and its judgement
// calls as can prints them (issue 13 item 11).
func TestCan_Golden(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		// ArnLike "arn:aws:iam::*" has five components and matches no ARN.
		{"can-arn-short-pattern-denied", canArgs(canAlice, "--identity-policy", "testdata/input/arn-short-identity.json")},
		// An RCP Deny on ArnEquals "arn:aws:iam::*" denies nobody.
		{"can-arn-short-rcp-allowed", canArgs(canAlice, "--identity-policy", "testdata/input/identity-s3-read.json",
			"--rcp", "testdata/input/arn-short-rcp.json")},
		// A grant to "*" past a session policy that does not allow.
		{"can-judgement-star-session", canArgs(canSession, "--resource-policy", "testdata/input/judgement-star-bucket.json",
			"--session-policy", "testdata/input/judgement-session-ec2.json")},
		// A Deny whose NotPrincipal names the user without its account.
		{"can-judgement-notprincipal-deny", canArgs(canAlice, "--identity-policy", "testdata/input/identity-s3-read.json",
			"--resource-policy", "testdata/input/judgement-notprincipal-user.json")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkGolden(t, tt.name, tt.args, nil) })
	}
}

// TestCan_JudgementShown checks that a decision resting on a judgement call
// says so in text and JSON, and that a documented decision does not.
func TestCan_JudgementShown(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		code      int
		judgement string // expected judgement id, "" for none
		otherwise string
	}{
		{"StarGrantPastSessionPolicy", canArgs(canSession, "--resource-policy", "testdata/input/judgement-star-bucket.json",
			"--session-policy", "testdata/input/judgement-session-ec2.json"), 0, "wildcard-grant-session-limits", "ImplicitlyDenied"},
		{"NotPrincipalUserWithoutAccount", canArgs(canAlice, "--identity-policy", "testdata/input/identity-s3-read.json",
			"--resource-policy", "testdata/input/judgement-notprincipal-user.json"), 0, "notprincipal-partial-chain", "ExplicitlyDenied"},
		{"NotPrincipalOtherUserDocumented", canArgs("arn:aws:iam::111111111111:user/bob", "--identity-policy", "testdata/input/identity-s3-read.json",
			"--resource-policy", "testdata/input/judgement-notprincipal-user.json"), 1, "", ""},
		{"StarGrantWithoutSessionPolicy", canArgs(canSession, "--resource-policy", "testdata/input/judgement-star-bucket.json"), 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, stderr, code := run(tt.args...)
			if code != tt.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.code, text, stderr)
			}
			if got := strings.Contains(text, "judgement call: "); got != (tt.judgement != "") {
				t.Errorf("text shows a judgement call: %v, want %v\n%s", got, tt.judgement != "", text)
			}
			if tt.judgement != "" && !strings.Contains(text, "("+tt.judgement+")") {
				t.Errorf("text does not name %s\n%s", tt.judgement, text)
			}
			out, stderr, code := run(append(tt.args, "--format", "json")...)
			if code != tt.code {
				t.Fatalf("json: exit %d, want %d\n%s", code, tt.code, stderr)
			}
			var got struct {
				Decision   string                       `json:"decision"`
				Judgements []map[string]json.RawMessage `json:"judgements"`
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil {
				t.Fatalf("json: %v\n%s", err, out)
			}
			if tt.judgement == "" {
				if len(got.Judgements) != 0 || strings.Contains(out, `"judgements"`) {
					t.Fatalf("json has judgements for a documented decision:\n%s", out)
				}
				return
			}
			if len(got.Judgements) != 1 {
				t.Fatalf("json judgements = %d, want 1:\n%s", len(got.Judgements), out)
			}
			j := got.Judgements[0]
			var id, otherwise, basis string
			var statements []string
			for key, dst := range map[string]any{"id": &id, "otherwise": &otherwise, "basis": &basis, "statements": &statements} {
				if err := json.Unmarshal(j[key], dst); err != nil {
					t.Fatalf("json judgement key %q: %v\n%s", key, err, out)
				}
			}
			if id != tt.judgement || otherwise != tt.otherwise || got.Decision != "Allowed" {
				t.Errorf("json: decision %s, judgement %s otherwise %s; want Allowed, %s otherwise %s", got.Decision, id, otherwise, tt.judgement, tt.otherwise)
			}
			if !strings.Contains(basis, "IAM User Guide") || len(statements) == 0 {
				t.Errorf("json judgement lacks its basis or statement: %s", out)
			}
		})
	}
}
