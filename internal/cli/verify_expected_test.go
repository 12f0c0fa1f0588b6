package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type verifyJSON struct {
	OK   bool `json:"ok"`
	Gaps []struct {
		Account, Region string
	} `json:"gaps"`
	Missing []struct {
		Account, Region string
	} `json:"missing"`
	Expected *struct {
		AccountsFrom string `json:"accounts_from"`
	} `json:"expected"`
	Digests      int
	DigestsValid int `json:"digests_valid"`
}

func verifyRun(t *testing.T, wantCode int, args ...string) verifyJSON {
	t.Helper()
	stdout, stderr, code := run(append([]string{"verify", "--format", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("verify %v: exit %d, want %d\n%s%s", args, code, wantCode, stdout, stderr)
	}
	var out verifyJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("verify JSON: %v\n%s", err, stdout)
	}
	return out
}

// Issue 13 item 6: one account's files all deleted made verify print
// "N/N digest files valid" and exit 0. Knowing the organization (the demo
// folder's own snapshot, or --accounts) it names the account and exits 1.
func TestVerify_ExpectedAccountWithNoDigestsFails(t *testing.T) {
	dir := demoDir(t, "3")
	gone := demoAccounts(t, dir)[2]
	if err := os.RemoveAll(filepath.Join(dir, "AWSLogs", "o-a1b2c3d4e5", gone)); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run("verify", "--source", dir, "--wide") // the MISSING lines are checked whole
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		if want := "MISSING: account " + gone + ", region " + r + ": expected, and no digest file at all"; !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	out := verifyRun(t, ExitFailure, "--source", dir)
	if out.OK || len(out.Missing) != 2 || out.Missing[0].Account != gone || out.Expected == nil || out.Expected.AccountsFrom != "snapshot" {
		t.Fatalf("%+v", out)
	}
	inGaps := 0
	for _, g := range out.Gaps {
		if g.Account == gone {
			inGaps++
		}
	}
	if inGaps != 2 || out.DigestsValid != out.Digests || out.Digests != 4*24 {
		t.Fatalf("gaps %+v, %d/%d digests valid", out.Gaps, out.DigestsValid, out.Digests)
	}

	// The same bucket with an explicit list of what should be there, and a
	// folder that is not a demo (no snapshot, no config).
	if err := os.Remove(filepath.Join(dir, ".trailwarden", "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, ".trailwarden", "trailwarden.yaml")); err != nil {
		t.Fatal(err)
	}
	out = verifyRun(t, ExitFailure, "--source", dir, "--accounts", "111111111111,"+gone, "--regions", "us-east-1")
	if len(out.Missing) != 1 || out.Missing[0].Account != gone || out.Missing[0].Region != "us-east-1" {
		t.Fatalf("missing %+v", out.Missing)
	}
	// Without any expected set it checks what is there, as before.
	if out := verifyRun(t, ExitOK, "--source", dir); !out.OK || out.Expected != nil {
		t.Fatalf("plain verify: %+v", out)
	}
}

func TestVerify_ExpectedSetOfACleanDemoPasses(t *testing.T) {
	dir := demoDir(t, "3")
	out := verifyRun(t, ExitOK, "--source", dir, "--accounts", demoAccounts(t, dir)[0])
	if !out.OK || len(out.Missing) != 0 || out.Digests != 2*24 {
		t.Fatalf("%+v", out)
	}
	// An expected account not in the bucket at all: a gap, not "no digest
	// files".
	out = verifyRun(t, ExitFailure, "--source", dir, "--accounts", "999999999999", "--regions", "us-east-1")
	if len(out.Missing) != 1 || out.Missing[0].Account != "999999999999" || out.Digests != 0 {
		t.Fatalf("%+v", out)
	}
}

// An organization trail's config without a snapshot: the organization is
// read live; when it cannot be, exit 2 with what to pass.
func TestVerify_ExpectedOrganizationUnknownIsBadInput(t *testing.T) {
	s := snapshotWorld(t)
	t.Setenv("AWS_ENDPOINT_URL", s.URL)
	s.Deny("organizations", "ListAccounts", "")
	dir := demoDir(t, "3", "--bucket", "acme-org-cloudtrail", "--prefix", "org")
	if err := os.Remove(filepath.Join(dir, ".trailwarden", "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := run("verify", "--source", dir, "--config", snapConfig)
	if code != ExitBadInput || !strings.Contains(stderr, "ListAccounts in 111111111111: AccessDenied") || !strings.Contains(stderr, "--snapshot") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}
