package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// complete asks for the completions of the last word of args, as a shell
// does through cobra's hidden __complete command.
func complete(t *testing.T, args ...string) []string {
	t.Helper()
	stdout, stderr, code := run(append([]string{"__complete"}, args...)...)
	if code != 0 {
		t.Fatalf("__complete %s: exit %d\n%s", strings.Join(args, " "), code, stderr)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(stdout), "\n") {
		if !strings.HasPrefix(l, ":") {
			name, _, _ := strings.Cut(l, "\t")
			out = append(out, name)
		}
	}
	return out
}

func TestCompletion(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(cfg, []byte("[default]\n[profile audit]\n[sso-session corp]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", cfg)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"query", "--format", ""}, []string{"table", "csv", "jsonl", "json"}},
		{[]string{"audit", "--format", ""}, []string{"text", "json", "sarif", "asff", "csv"}},
		{[]string{"policy", "bucket", "--format", ""}, []string{"text", "json"}},
		{[]string{"snapshot", "--format", ""}, []string{"text", "json"}},
		{[]string{"audit", "--standard", ""}, []string{"accelerate", "cis", "baseline"}},
		{[]string{"init", "--standard", ""}, []string{"accelerate", "cis", "baseline"}},
		{[]string{"audit", "--profile", ""}, []string{"audit", "default"}},
		{[]string{"pull", "--profile", ""}, []string{"audit", "default"}},
		{[]string{"audit", "--fail-on", ""}, []string{"critical", "high", "medium", "low", "never"}},
	}
	for _, tt := range tests {
		if got := complete(t, tt.args...); !slices.Equal(got, tt.want) {
			t.Errorf("complete %s = %q, want %q", strings.Join(tt.args, " "), got, tt.want)
		}
	}
	if got := complete(t, "query", "--named", ""); !slices.Contains(got, "root-activity") || !slices.Contains(got, "pipeline-tampering") {
		t.Errorf("--named: %q", got)
	}
	if got := complete(t, "pull", "--regions", ""); !slices.Contains(got, "us-east-1") || !slices.Contains(got, "cn-north-1") {
		t.Errorf("--regions: %q", got)
	}
}

// TestFormatCompletionsAreAccepted checks, for every command with --format,
// that its default is among the values completion offers, and that each
// offered value gets past the flag (no "unknown --format").
func TestFormatCompletionsAreAccepted(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if f := c.Flags().Lookup("format"); f != nil {
			values := formatValues(f.Usage)
			if !slices.Contains(values, f.DefValue) || len(values) < 1 {
				t.Errorf("%s --format: completions %q lack the default %q", c.CommandPath(), values, f.DefValue)
			}
			for _, v := range values {
				args := append(strings.Fields(strings.TrimPrefix(c.CommandPath(), "trailwarden ")), "--format", v, "--config", "testdata/input/nope.yaml")
				if c.Flags().Lookup("config") == nil {
					args = args[:len(args)-2]
				}
				if _, stderr, _ := run(args...); strings.Contains(stderr, "unknown --format") {
					t.Errorf("%s offers --format %s, which it refuses:\n%s", c.CommandPath(), v, stderr)
				}
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}}))
}
