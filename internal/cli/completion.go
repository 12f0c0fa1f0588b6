package cli

import (
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/query"
)

// completions registers the values shell completion ("trailwarden
// completion bash|zsh|fish|powershell") suggests for the flags that take
// one of a known set: --format (each command's own, read from its help),
// --standard, --named, --profile (from the AWS config files), --region and
// --regions.
func completions(c *cobra.Command) {
	fixed := func(values ...string) cobra.CompletionFunc {
		return cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp)
	}
	register := func(name string, fn cobra.CompletionFunc) {
		if c.Flags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, fn)
		}
	}
	if f := c.Flags().Lookup("format"); f != nil {
		register("format", fixed(formatValues(f.Usage)...))
	}
	register("standard", fixed(audit.Profiles...))
	register("named", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		var names []string
		for _, n := range query.NamedQueries() {
			names = append(names, n.Name+"\t"+n.Title)
		}
		return names, cobra.ShellCompDirectiveNoFileComp
	})
	register("profile", func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return session.Profiles(), cobra.ShellCompDirectiveNoFileComp
	})
	register("region", fixed(awsid.KnownRegions()...))
	register("bucket-region", fixed(awsid.KnownRegions()...))
	register("regions", fixed(awsid.KnownRegions()...))
	register("fail-on", fixed("critical", "high", "medium", "low", "never"))
	for _, sub := range c.Commands() {
		completions(sub)
	}
}

var (
	parenthetical = regexp.MustCompile(`\([^)]*\)`)
	formatWord    = regexp.MustCompile(`^[a-z0-9]+$`)
)

// formatValues reads the values a --format flag's help lists: "text, json
// or sarif", "summary format: text or json", "text (policy JSON...) or
// json (...)".
func formatValues(usage string) []string {
	u := parenthetical.ReplaceAllString(usage, "")
	if i := strings.LastIndex(u, ": "); i >= 0 {
		u = u[i+2:]
	}
	var out []string
	for _, part := range strings.Split(strings.ReplaceAll(u, " or ", ","), ",") {
		if w := strings.TrimSpace(part); formatWord.MatchString(w) {
			out = append(out, w)
		}
	}
	return out
}
