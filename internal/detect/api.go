package detect

import (
	"context"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// Options are one detect run: which rules, the config that fills the
// pipeline placeholders (nil: the pipeline rules do not run), and the
// scope.
type Options struct {
	Load   LoadOptions
	Config *config.Config
	Scope  Scope
}

// Prepare loads the rules and compiles them for a dialect, with the
// config's disabled ids added to opt.Load.Disabled.
func Prepare(opt Options, d sigma.Dialect) (*Catalog, error) {
	lo := opt.Load
	if opt.Config != nil {
		lo.Disabled = append(append([]string(nil), lo.Disabled...), opt.Config.Detect.Disabled...)
	}
	cat, err := Load(lo)
	if err != nil {
		return nil, err
	}
	cat.Compile(d, Placeholders(opt.Config))
	return cat, nil
}

// Detect prepares the rules for eng and runs them: the rules as they
// stand (for listing) and the report.
func Detect(ctx context.Context, eng query.Engine, opt Options) (*Catalog, *Report, error) {
	d, err := Dialect(eng)
	if err != nil {
		return nil, nil, err
	}
	cat, err := Prepare(opt, d)
	if err != nil {
		return nil, nil, err
	}
	sc := opt.Scope
	if len(sc.ExpectAccounts) == 0 && opt.Config != nil {
		sc.ExpectAccounts = ExpectedAccounts(opt.Config)
	}
	rep, err := Run(ctx, eng, cat, sc)
	if err != nil {
		return nil, nil, err
	}
	return cat, rep, nil
}

// ExpectedAccounts are the accounts a config names, whose events should be
// in the store: the management and log-archive accounts and the source
// accounts. An organization trail's other members are not in the config.
func ExpectedAccounts(c *config.Config) []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range append([]string{c.ManagementAccount, c.LogArchiveAccount}, c.SourceAccounts...) {
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// Verdict sums a report up against a level: "detections" when one at or
// above it exists, else "unknown" when the report says what it could not
// know, else "clear".
func (r *Report) Verdict(failOn string) string {
	switch {
	case r.AtOrAbove(failOn):
		return "detections"
	case len(r.Unknown) > 0:
		return "unknown"
	}
	return "clear"
}
