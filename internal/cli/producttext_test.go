package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/config"
)

// planningDoc matches the names of the planning documents trailwarden was
// designed from ("seed 003", "seeds/000_..."): users know them as the AMS
// Accelerate onboarding guide and the cross-account CloudTrail
// walk-through. (demo's --seed, a random seed, is not one.)
var planningDoc = regexp.MustCompile(`(?i)\bseeds?[ _/-]*0\d\d|seeds/|\bseed's\b`)

// TestProductTextNamesNoPlanningDocument greps everything users read: the
// help of every command, the SARIF rule references, the comments of a
// config init writes, the README, docs and examples.
func TestProductTextNamesNoPlanningDocument(t *testing.T) {
	check := func(where, text string) {
		t.Helper()
		for _, line := range strings.Split(text, "\n") {
			if planningDoc.MatchString(line) {
				t.Errorf("%s names a planning document: %q", where, strings.TrimSpace(line))
			}
		}
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		var b bytes.Buffer
		c.SetOut(&b)
		c.SetErr(&b)
		_ = c.Help()
		check("trailwarden "+c.CommandPath()+" --help", b.String())
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRootCmd(&app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}))
	for _, r := range audit.Rules("") {
		check("rule "+r.ID, strings.Join(append([]string{r.Title, r.Checks, r.Fix}, r.References...), "\n"))
	}
	c := config.Default()
	check("config.Render", string(config.Render(&c)))
	files := []string{"../../README.md", "../../examples/trailwarden.yaml"}
	docs, _ := filepath.Glob("../../docs/*.md")
	more, _ := filepath.Glob("../../docs/*/*.md")
	for _, f := range append(append(files, docs...), more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		check(f, string(b))
	}
	if !planningDoc.MatchString("the statements of seed 003") || planningDoc.MatchString("--seed 42 (the demo's random seed)") {
		t.Fatal("the pattern does not tell planning documents from the demo's seed")
	}
}
