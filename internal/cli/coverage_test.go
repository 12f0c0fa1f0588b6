package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/objstore/source"
)

// demoDir makes a demo organization of n accounts over us-east-1 and
// eu-west-1 for one day (2026-11-20) in a new folder; extra flags go to
// demo.
func demoDir(t *testing.T, n string, extra ...string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "bucket")
	args := append([]string{"demo", "--out", dir, "--accounts", n, "--regions", "us-east-1,eu-west-1"}, extra...)
	if _, stderr, code := run(args...); code != 0 {
		t.Fatalf("demo: exit %d\n%s", code, stderr)
	}
	return dir
}

// demoAccounts are the accounts of a demo folder, from its manifest.
func demoAccounts(t *testing.T, dir string) []string {
	t.Helper()
	m, err := source.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m.Org.Accounts
}

type coverageJSON struct {
	OK   bool `json:"ok"`
	Gaps []struct {
		Account, Region string
		Start, End      time.Time
		Hours           int
	} `json:"gaps"`
	Cells []struct {
		Account, Region string
		Status          string
	} `json:"cells"`
	Expected struct {
		AccountsFrom string                             `json:"accounts_from"`
		RegionsFrom  string                             `json:"regions_from"`
		Left         []struct{ Account, Reason string } `json:"left_out"`
	} `json:"expected"`
	Unexpected []struct{ Account, Region string } `json:"unexpected"`
}

func coverageRun(t *testing.T, wantCode int, args ...string) coverageJSON {
	t.Helper()
	stdout, stderr, code := run(append([]string{"coverage", "--format", "json"}, args...)...)
	if code != wantCode {
		t.Fatalf("coverage %v: exit %d, want %d\n%s%s", args, code, wantCode, stdout, stderr)
	}
	var out coverageJSON
	if err := json.Unmarshal([]byte(stdout), &out); err != nil {
		t.Fatalf("coverage JSON: %v\n%s", err, stdout)
	}
	return out
}

func TestCoverage_CleanDemoIsComplete(t *testing.T) {
	dir := demoDir(t, "3")
	stdout, stderr, code := run("coverage", "--source", dir)
	if code != ExitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	// --wide: the lines checked whole are longer than 80 columns.
	wide, _, _ := run("coverage", "--source", dir, "--wide")
	for _, want := range []string{"Expected accounts: 3, the active accounts of organization o-a1b2c3d4e5 in snapshot",
		"complete: 6/6 account-regions complete, 144/144 due hours covered\n0 hours missing in 0 gaps, 0 invalid digests"} {
		if !strings.Contains(wide, want) {
			t.Errorf("output lacks %q:\n%s", want, wide)
		}
	}
	for _, line := range strings.Split(stdout, "\n") {
		if len(line) > 80 && !strings.HasPrefix(line, "Expected") && !strings.HasPrefix(line, "Coverage of") {
			t.Errorf("line wider than 80 columns: %q", line)
		}
	}
}

// Issue 13 item 6: one account's files all deleted. verify without an
// expected set still says every digest it found is valid; coverage names
// the account, in every region, over the whole window.
func TestCoverage_DeletedAccountIsAGap(t *testing.T) {
	dir := demoDir(t, "3")
	gone := demoAccounts(t, dir)[2]
	if err := os.RemoveAll(filepath.Join(dir, "AWSLogs", "o-a1b2c3d4e5", gone)); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := run("coverage", "--source", dir)
	if code != ExitFailure {
		t.Fatalf("exit %d, want 1\n%s%s", code, stdout, stderr)
	}
	for _, r := range []string{"eu-west-1", "us-east-1"} {
		if want := gone + " " + r + ": no delivery 00:00-23:59Z"; !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
		if !regexp.MustCompile(gone + `\s+` + r + `\s+-\s+0/24\s+0/0\s+GAP`).MatchString(stdout) {
			t.Errorf("no GAP row for %s %s:\n%s", gone, r, stdout)
		}
	}
	out := coverageRun(t, ExitFailure, "--source", dir)
	day := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	if out.OK || len(out.Gaps) != 2 {
		t.Fatalf("gaps %+v", out.Gaps)
	}
	for _, g := range out.Gaps {
		if g.Account != gone || !g.Start.Equal(day) || !g.End.Equal(day.Add(24*time.Hour)) || g.Hours != 24 {
			t.Errorf("gap %+v", g)
		}
	}
}

// A few hours of one region missing: one gap per contiguous range, in the
// issue's words.
func TestCoverage_HoursMissingInOneRegion(t *testing.T) {
	dir := demoDir(t, "3")
	acct := demoAccounts(t, dir)[1]
	folder := filepath.Join(dir, "AWSLogs", "o-a1b2c3d4e5", acct, "CloudTrail-Digest", "eu-west-1", "2026", "11", "20")
	for _, h := range []string{"11", "12", "13", "14"} {
		files, _ := filepath.Glob(filepath.Join(folder, "*T"+h+"0000Z.json.gz"))
		if len(files) != 1 {
			t.Fatalf("digest of hour %s: %v", h, files)
		}
		if err := os.Remove(files[0]); err != nil {
			t.Fatal(err)
		}
	}
	stdout, _, code := run("coverage", "--source", dir, "--since", "2026-11-20", "--until", "2026-11-21")
	if code != ExitFailure || !strings.Contains(stdout, acct+" eu-west-1: no delivery 10:00-13:59Z") {
		t.Fatalf("exit %d\n%s", code, stdout)
	}
	wide, _, _ := run("coverage", "--source", dir, "--wide")
	if !regexp.MustCompile(`LAST LOG FILE.*MISS\s+INV\s+PEND`).MatchString(wide) ||
		!regexp.MustCompile(acct+`\s+eu-west-1\s+2026-11-21 00:00Z\s+2026-11-20 \d\d:\d\dZ\s+20/24\s+20/20\s+4\s+0\s+0\s+GAP`).MatchString(wide) {
		t.Errorf("--wide:\n%s", wide)
	}
	out := coverageRun(t, ExitFailure, "--source", dir)
	if len(out.Gaps) != 1 || out.Gaps[0].Hours != 4 || out.Gaps[0].Start.Hour() != 10 || out.Gaps[0].End.Hour() != 14 {
		t.Fatalf("gaps %+v", out.Gaps)
	}
}

// Without a list, a config or a snapshot, nothing says which accounts
// should deliver: exit 2 and what to pass, never the accounts found.
func TestCoverage_UnknownExpectedSetIsBadInput(t *testing.T) {
	dir := demoDir(t, "3")
	if err := os.RemoveAll(filepath.Join(dir, ".trailwarden", "demo.json")); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, ".trailwarden", "public-keys.json")
	_, stderr, code := run("coverage", "--source", dir, "--public-keys", keys, "--since", "2026-11-20", "--until", "2026-11-21")
	if code != ExitBadInput || !strings.Contains(stderr, "accounts that should deliver are unknown") || !strings.Contains(stderr, "--accounts") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// An explicit list without regions: the regions are unknown too.
	_, stderr, code = run("coverage", "--source", dir, "--public-keys", keys, "--accounts", "111111111111", "--since", "2026-11-20", "--until", "2026-11-21")
	if code != ExitBadInput || !strings.Contains(stderr, "regions that should deliver are unknown") || !strings.Contains(stderr, "--regions") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	// With both lists it runs, and the accounts not listed are only listed
	// as found.
	out := coverageRun(t, ExitOK, "--source", dir, "--public-keys", keys, "--accounts", "111111111111", "--regions", "us-east-1",
		"--since", "2026-11-20", "--until", "2026-11-21")
	if !out.OK || len(out.Cells) != 1 || len(out.Unexpected) != 5 {
		t.Fatalf("cells %+v unexpected %+v", out.Cells, out.Unexpected)
	}
}

// The organization read live (Organizations ListAccounts, account
// ListRegions) decides the accounts when no snapshot is given; suspended
// accounts are left out and said so, and accounts in the bucket that the
// organization does not list are not coverage.
func TestCoverage_LiveOrganization(t *testing.T) {
	s := snapshotWorld(t)
	dir := demoDir(t, "3", "--bucket", "acme-org-cloudtrail", "--prefix", "org")
	if err := os.Remove(filepath.Join(dir, ".trailwarden", "snapshot.json")); err != nil {
		t.Fatal(err)
	}
	out := coverageRun(t, ExitFailure, "--source", dir, "--config", snapConfig, "--endpoint-url", s.URL)
	if out.Expected.AccountsFrom != "organization" || out.Expected.RegionsFrom != "live" {
		t.Fatalf("expected from %+v", out.Expected)
	}
	if len(out.Expected.Left) != 1 || out.Expected.Left[0].Account != "555555555555" || !strings.Contains(out.Expected.Left[0].Reason, "SUSPENDED") {
		t.Fatalf("left out %+v", out.Expected.Left)
	}
	gaps := map[string]bool{}
	for _, g := range out.Gaps {
		gaps[g.Account+" "+g.Region] = g.Hours == 24
	}
	for _, want := range []string{"333333333333 us-east-1", "333333333333 eu-west-1", "444444444444 us-east-1", "444444444444 eu-west-1"} {
		if !gaps[want] {
			t.Errorf("no whole-day gap for %s: %v", want, gaps)
		}
	}
	if len(out.Gaps) != 4 || len(out.Unexpected) != 2 || out.Unexpected[0].Account != demoAccounts(t, dir)[2] {
		t.Errorf("gaps %v unexpected %+v", gaps, out.Unexpected)
	}
	if n := len(s.CallsTo("organizations", "ListAccounts")); n != 2 {
		t.Errorf("%d ListAccounts calls, want 2 (two pages)", n)
	}

	// ListAccounts denied: exit 2, and what to pass instead.
	s.Deny("organizations", "ListAccounts", "")
	_, stderr, code := run("coverage", "--source", dir, "--config", snapConfig, "--endpoint-url", s.URL)
	if code != ExitBadInput || !strings.Contains(stderr, "AccessDenied") || !strings.Contains(stderr, "--snapshot") ||
		!strings.Contains(stderr, "organizations:ListAccounts") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}

func TestCoverage_TimeFlags(t *testing.T) {
	_, stderr, code := run("coverage", "--source", t.TempDir(), "--accounts", "111111111111", "--regions", "us-east-1", "--since", "2026-11-21", "--until", "2026-11-20")
	if code != ExitBadInput || !strings.Contains(stderr, "is not after") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
}
