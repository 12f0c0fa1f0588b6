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
	// References are the requirements the rule implements: the AMS
	// Accelerate onboarding guide's requirements, CIS AWS Foundations
	// Benchmark and Security Hub controls.
	References []string `json:"references"`
	// Checks says what the rule looks at and when it fails.
	Checks string `json:"checks"`
	// Fix is the remediation in general terms; each finding carries the
	// exact one with real names.
	Fix   string                          `json:"fix"`
	check func(e *env, r *Rule) []Finding `json:"-"`
}

// Rules returns the catalogue, in id order, optionally limited to the
// rules of one profile ("" for all). With a profile, each rule's Severity is
// its severity under that profile.
func Rules(profile string) []Rule {
	var out []Rule
	for _, r := range catalogue {
		if profile == "" || slices.Contains(r.Profiles, profile) {
			if profile != "" {
				r.Severity = r.SeverityIn(profile)
			}
			out = append(out, r)
		}
	}
	return out
}

// profileFloor is the lowest severity a profile's failures get. Under
// accelerate every rule is one of the onboarding guide's requirements, and
// onboarding stops on any of them, so none is below high: any failure exits
// 1 at the default --fail-on high.
var profileFloor = map[string]Severity{acc: High}

// SeverityIn is the rule's severity under profile: its own, raised to the
// profile's floor.
func (r *Rule) SeverityIn(profile string) Severity {
	if f, ok := profileFloor[profile]; ok && r.Severity.Rank() > f.Rank() {
		return f
	}
	return r.Severity
}

// Reference prefixes.
const (
	refAMS = "AMS Accelerate onboarding guide: "
	refCIS = "CIS "
	refSH  = "SecurityHub "
)
