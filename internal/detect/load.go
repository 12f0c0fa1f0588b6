package detect

import (
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/rules"

	"github.com/trailwarden/trailwarden/internal/sigma"
)

// BuiltinOrigin is the Origin of the built-in rules.
const BuiltinOrigin = "built-in"

// Status of a rule in a catalogue.
const (
	StatusReady       = "ready"        // compiled; runs
	StatusDisabled    = "disabled"     // disabled by the config or a flag
	StatusNotCompiled = "not compiled" // uses something unsupported, or a placeholder without a value
	StatusSkipped     = "skipped"      // not a CloudTrail rule, or unreadable
	StatusReferenced  = "referenced"   // only counted by a correlation (Sigma's generate: false)
)

// Dir is a folder of the user's rules.
type Dir struct {
	// Name is the folder as the user named it, for messages.
	Name string
	FS   fs.FS
}

// LoadOptions say which rules to load.
type LoadOptions struct {
	// NoBuiltin leaves the built-in rules out.
	NoBuiltin bool
	// Dirs are the user's rule folders, after the built-in rules.
	Dirs []Dir
	// Disabled are rule ids not to run.
	Disabled []string
}

// Rule is one rule of a catalogue and what became of it.
type Rule struct {
	ID, Name, Title, Level, Description string
	Tags                                []string
	// Origin is BuiltinOrigin or the folder the rule came from; Source the
	// file.
	Origin, Source string
	Correlation    bool
	Status         string
	// Reason says why a rule does not run.
	Reason string

	rule     *sigma.Rule
	compiled *sigma.Compiled
	// names are the event names the rule can match at all (see
	// eventNames), nil when it does not say.
	names []string
	// missing are the placeholders the rule needs that have no value.
	missing []string
}

// Catalog is every rule loaded, in the order loaded.
type Catalog struct {
	Rules []*Rule

	// compiled is the dialect Compile compiled for, ph its placeholders.
	compiled *sigma.Dialect
	ph       sigma.Placeholders
}

// Load reads the built-in rules and the user's folders. A rule whose id
// was loaded before (a user's copy of a built-in rule) is skipped with a
// reason; so is every rule sigma.Load skips. Disabled ids that name no
// rule are an error, so a typo does not leave a rule running unnoticed.
func Load(opt LoadOptions) (*Catalog, error) {
	cat := &Catalog{}
	seen := map[string]*Rule{}
	var all []*sigma.Rule
	add := func(origin string, fsys fs.FS, root string) error {
		set, err := sigma.Load(fsys, root)
		if err != nil {
			return fmt.Errorf("load rules %s: %w", origin, err)
		}
		for _, sk := range set.Skipped {
			cat.Rules = append(cat.Rules, &Rule{ID: sk.ID, Title: sk.Title, Origin: origin, Source: sk.Source,
				Status: StatusSkipped, Reason: sk.Reason})
		}
		for _, r := range set.Rules {
			dr := &Rule{ID: r.ID, Name: r.Name, Title: r.Title, Level: strings.ToLower(r.Level), Description: strings.TrimSpace(r.Description),
				Tags: r.Tags, Origin: origin, Source: r.Source, Correlation: r.Correlation != nil, rule: r}
			if prev, ok := seen[r.ID]; ok && r.ID != "" {
				dr.Status, dr.Reason = StatusSkipped, "duplicate id: already loaded from "+prev.Origin+" ("+prev.Source+")"
				cat.Rules = append(cat.Rules, dr)
				continue
			}
			seen[r.ID] = dr
			all = append(all, r)
			cat.Rules = append(cat.Rules, dr)
		}
		return nil
	}
	if !opt.NoBuiltin {
		if err := add(BuiltinOrigin, rules.Builtin, rules.BuiltinRoot); err != nil {
			return nil, err
		}
	}
	for _, d := range opt.Dirs {
		if err := add(d.Name, d.FS, "."); err != nil {
			return nil, err
		}
	}
	// Correlations may name rules of other files and folders.
	sigma.Resolve(all)
	var unknown []string
	for _, id := range opt.Disabled {
		r, ok := seen[id]
		if !ok {
			unknown = append(unknown, id)
			continue
		}
		r.Status, r.Reason = StatusDisabled, "disabled"
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, &UnknownRulesError{IDs: unknown}
	}
	return cat, nil
}

// UnknownRulesError names disabled ids that no loaded rule has.
type UnknownRulesError struct{ IDs []string }

func (e *UnknownRulesError) Error() string {
	return "detect: no rule has the id " + strings.Join(e.IDs, ", ") + " (disabled rules are named by id)"
}

// Compile compiles every loaded rule for a dialect with the placeholders'
// values. A rule that does not compile keeps the reason.
func (c *Catalog) Compile(d sigma.Dialect, ph sigma.Placeholders) {
	c.compiled, c.ph = &d, ph
	for _, r := range c.Rules {
		if r.rule == nil || r.Status == StatusSkipped || r.Status == StatusDisabled {
			continue
		}
		r.compiled, r.missing = nil, nil
		for _, name := range r.rule.PlaceholderNames() {
			if len(ph[name]) == 0 {
				r.missing = append(r.missing, name)
			}
		}
		comp, err := sigma.Compile(r.rule, d, ph)
		switch {
		case len(r.missing) > 0:
			r.Status, r.Reason = StatusNotCompiled, "placeholder %"+strings.Join(r.missing, "%, %")+"% has no value (the config fills the pipeline's)"
		case err != nil:
			r.Status, r.Reason = StatusNotCompiled, err.Error()
		case r.rule.ReferencedOnly:
			r.Status, r.Reason, r.compiled = StatusReferenced, "counted by a correlation only (generate: false)", comp
		default:
			r.Status, r.Reason, r.compiled = StatusReady, "", comp
		}
		if r.compiled != nil && !r.Correlation {
			r.names = eventNames(r.rule)
		}
	}
	// A correlation runs only if the rules it counts compiled.
	for _, r := range c.Rules {
		if r.Status != StatusReady || r.rule.Correlation == nil {
			continue
		}
		for i, ref := range r.rule.Correlation.Refs {
			if ref == nil {
				r.Status, r.Reason, r.compiled = StatusNotCompiled, "the correlation names rule "+r.rule.Correlation.Rules[i]+", which was not loaded", nil
				break
			}
			if b := c.byRule(ref); b != nil && b.compiled == nil {
				r.Status, r.Reason, r.compiled = StatusNotCompiled, "the rule it counts, "+b.ID+", did not compile: "+b.Reason, nil
				break
			}
		}
	}
}

func (c *Catalog) byRule(sr *sigma.Rule) *Rule {
	for _, r := range c.Rules {
		if r.rule == sr {
			return r
		}
	}
	return nil
}

// Counts are how many rules are in each status.
func (c *Catalog) Counts() map[string]int {
	out := map[string]int{}
	for _, r := range c.Rules {
		out[r.Status]++
	}
	return out
}

// Ready are the rules that run.
func (c *Catalog) Ready() []*Rule {
	return slices.DeleteFunc(slices.Clone(c.Rules), func(r *Rule) bool { return r.Status != StatusReady })
}

// Uses reports whether a rule needs the placeholder %name% filled.
func (r *Rule) Uses(placeholder string) bool {
	return r.rule != nil && slices.Contains(r.rule.PlaceholderNames(), placeholder)
}
