package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/texttable"
)

// widest is the widest line of out in terminal columns (tabs to the next
// multiple of 8, as a terminal shows them).
func widest(out string) (int, string) {
	w, line := 0, ""
	for _, l := range strings.Split(out, "\n") {
		n := 0
		for i, part := range strings.Split(l, "\t") {
			if i > 0 {
				n = (n/8 + 1) * 8
			}
			n += texttable.StringWidth(part)
		}
		if n > w {
			w, line = n, l
		}
	}
	return w, line
}

// TestTextFits80Columns: every command's default text output on the demo
// organization (a gap and a damaged file planted, so every kind of line
// is printed) fits 80 columns, and --wide prints what was shortened.
func TestTextFits80Columns(t *testing.T) {
	dir := demoDir(t, "5", "--days", "2", "--tamper", "break-chain", "--tamper", "modify")
	db := filepath.Join(t.TempDir(), "trail.duckdb")
	if _, stderr, code := run("pull", "--source", dir, "--db", db); code != ExitFailure {
		t.Fatalf("pull of the damaged demo: exit %d, want 1\n%s", code, stderr)
	}
	cfg := filepath.Join(dir, ".trailwarden", "trailwarden.yaml")
	snap := filepath.Join(dir, ".trailwarden", "snapshot.json")
	cmds := [][]string{
		{"verify", "--source", dir},
		{"coverage", "--source", dir},
		{"audit", "--config", cfg, "--snapshot", snap, "--standard", "baseline"},
		{"audit", "--config", cfg, "--snapshot", snap, "--standard", "cis", "--verbose"},
		{"audit", "--list-rules"},
		{"plan", "--config", cfg, "--snapshot", snap},
		{"policy", "prove", "--config", cfg},
		canArgs(canAlice, "--identity-policy", "testdata/input/arn-short-identity.json"),
	}
	for _, n := range query.NamedQueries() {
		cmds = append(cmds, []string{"query", "--db", db, "--named", n.Name})
	}
	wideSeen := 0
	for _, args := range cmds {
		name := strings.Join(args[:min(3, len(args))], " ")
		out, stderr, code := run(args...)
		if code == ExitBadInput {
			t.Errorf("%s: exit 2\n%s", name, stderr)
			continue
		}
		if w, line := widest(out); w > texttable.Width {
			t.Errorf("%s: a line is %d columns wide:\n%s", name, w, line)
		}
		wide, _, wcode := run(append(args, "--wide")...)
		if wcode != code {
			t.Errorf("%s --wide: exit %d, without it %d", name, wcode, code)
		}
		if w, _ := widest(wide); w > texttable.Width {
			wideSeen++
		}
	}
	if wideSeen < len(cmds)/2 {
		t.Errorf("--wide printed lines over 80 columns for only %d of %d commands", wideSeen, len(cmds))
	}
	// Specific values --wide shows whole.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"coverage", "--source", dir, "--wide"}, "from snapshot " + snap},
		{[]string{"policy", "prove", "--config", cfg, "--wide"}, "CloudTrail for trail arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"},
	} {
		out, _, _ := run(c.args...)
		if !strings.Contains(out, c.want) {
			t.Errorf("%s: lacks %q", strings.Join(c.args[:2], " "), c.want)
		}
		def, _, _ := run(c.args[:len(c.args)-1]...)
		if strings.Contains(def, c.want) {
			t.Errorf("%s: %q is whole without --wide, so this check shows nothing", strings.Join(c.args[:2], " "), c.want)
		}
	}
	// A query too wide for 80 columns names the columns it leaves out;
	// --wide prints them.
	def, _, _ := run("query", "--db", db, "--named", "root-activity")
	wide, _, _ := run("query", "--db", db, "--named", "root-activity", "--wide")
	head := strings.SplitN(wide, "\n", 2)[0]
	if !strings.Contains(def, "(not shown, to fit 80 columns: ") || strings.Contains(wide, "(not shown") || !strings.Contains(head, "user_agent") {
		t.Errorf("query root-activity: default ends %q; --wide header %q", def[max(0, len(def)-120):], head)
	}
}
