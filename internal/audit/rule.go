package audit

import (
	"slices"
)

// Rule is one entry of the catalogue.
type Rule struct {
	ID       string   `json:"id"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Profiles []string `json:"profiles"`
	// References are the requirements the rule implements: seed 003's
	// numbered requirements, CIS AWS Foundations and Security Hub controls.
	References []string `json:"references"`
	// Checks says what the rule looks at and when it fails.
	Checks string `json:"checks"`
	// Fix is the remediation in general terms; each finding carries the
	// exact one with real names.
	Fix   string                          `json:"fix"`
	check func(e *env, r *Rule) []Finding `json:"-"`
}

// Rules returns the catalogue, in id order, optionally limited to the
// rules of one profile ("" for all).
func Rules(profile string) []Rule {
	var out []Rule
	for _, r := range catalogue {
		if profile == "" || slices.Contains(r.Profiles, profile) {
			out = append(out, r)
		}
	}
	return out
}

// Reference prefixes.
const (
	refSeed = "seed-003 "
	refCIS  = "CIS "
	refSH   = "SecurityHub "
)
