package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/trailwarden/trailwarden/internal/textdiff"
)

// referenceDir is the checked-in command reference, one Markdown file per
// command, generated from the commands' help by cobra's doc generator.
const referenceDir = "../../docs/cli"

// TestCLIReference fails when docs/cli is not what the commands' help
// says now; regenerate it with
//
//	go test ./internal/cli -run TestCLIReference -update   (or: make docs)
func TestCLIReference(t *testing.T) {
	root := newRootCmd(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	root.DisableAutoGenTag = true // no date: the files change only with the help
	tmp := t.TempDir()
	if err := doc.GenMarkdownTree(root, tmp); err != nil {
		t.Fatal(err)
	}
	got := readDir(t, tmp)
	if *update {
		if err := os.RemoveAll(referenceDir); err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(referenceDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range got {
			if err := os.WriteFile(filepath.Join(referenceDir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return
	}
	want := readDir(t, referenceDir)
	for name, data := range got {
		w, ok := want[name]
		switch {
		case !ok:
			t.Errorf("docs/cli/%s is missing", name)
		case w != data:
			t.Errorf("docs/cli/%s is stale:\n%s", name, textdiff.Unified("docs/cli/"+name, "help", w, data, 2))
		}
	}
	for name := range want {
		if _, ok := got[name]; !ok {
			t.Errorf("docs/cli/%s documents a command that no longer exists", name)
		}
	}
	if t.Failed() {
		t.Log("regenerate with: go test ./internal/cli -run TestCLIReference -update (or make docs)")
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

// TestHelpTeaches checks that every command that runs has examples.
func TestHelpTeaches(t *testing.T) {
	root := newRootCmd(&app{stdin: strings.NewReader(""), stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	var missing []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && !c.HasSubCommands() && !c.Hidden && c.Parent() != nil && c.Parent().Name() != "completion" &&
			c.Name() != "help" && strings.TrimSpace(c.Example) == "" {
			missing = append(missing, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("commands without an Example: %s", strings.Join(missing, ", "))
	}
}
