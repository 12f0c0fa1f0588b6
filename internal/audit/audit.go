// Package audit decides findings about a centralized CloudTrail pipeline
// from a snapshot of its live configuration and the config that describes
// it. Rules are data (the Catalogue): each has an id, a severity, the
// profiles it belongs to, references and a small check. Access questions
// ("can CloudTrail deliver", "can the readers read", "is anything public")
// are answered by the evaluator over the snapshot's real policies, SCPs and
// RCPs included, never by matching policy text.
//
// The package is pure: it reads no files and calls no AWS API, so a live
// audit and `audit --snapshot` decide the same findings by construction.
package audit

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// Severity orders findings; critical is the most severe.
type Severity string

// Severities, most severe first.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity, most severe first.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// Rank is 0 for critical and grows as severity falls.
func (s Severity) Rank() int {
	if i := slices.Index(Severities, s); i >= 0 {
		return i
	}
	return len(Severities)
}

// ParseSeverity reads a severity name.
func ParseSeverity(s string) (Severity, error) {
	for _, v := range Severities {
		if string(v) == s {
			return v, nil
		}
	}
	return "", fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", s)
}

// Status is a finding's outcome.
type Status string

// Statuses. Unknown means the snapshot lacks the data the rule needs,
// because a call failed or a resource was not read.
const (
	Pass    Status = "pass"
	Fail    Status = "fail"
	Unknown Status = "unknown"
)

// Profiles lists the profile names rules belong to.
var Profiles = []string{config.ProfileAccelerate, config.ProfileCIS, config.ProfileBaseline}

// Finding is one rule's verdict on one resource.
type Finding struct {
	Rule     string   `json:"rule"`
	Title    string   `json:"title"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	// Account owns the resource ("" for organization-wide findings).
	Account  string `json:"account,omitempty"`
	Resource string `json:"resource"`
	Message  string `json:"message"`
	// Evidence is what the rule looked at: fields, statements, decisions.
	Evidence []string `json:"evidence,omitempty"`
	// Remediation is the exact fix (a command or the statement to add),
	// set on failing and unknown findings.
	Remediation string `json:"remediation,omitempty"`
	// Error is the failed call that made the finding unknown.
	Error *snapshot.CallError `json:"error,omitempty"`
}

// Counts tallies findings by status, and failures by severity.
type Counts struct {
	Pass    int              `json:"pass"`
	Fail    int              `json:"fail"`
	Unknown int              `json:"unknown"`
	Failing map[Severity]int `json:"failing_by_severity"`
}

// Report is the result of auditing one snapshot against one profile.
type Report struct {
	Profile  string    `json:"profile"`
	Findings []Finding `json:"findings"`
	Counts   Counts    `json:"counts"`
}

// Run audits s against every rule of profile.
func Run(c *config.Config, s *snapshot.Snapshot, profile string) (*Report, error) {
	if !slices.Contains(Profiles, profile) {
		return nil, fmt.Errorf("audit: unknown profile %q (want %s)", profile, strings.Join(Profiles, ", "))
	}
	if c == nil || s == nil {
		return nil, fmt.Errorf("audit: a config and a snapshot are required")
	}
	return newEnv(c, s, profile).run(), nil
}

// run checks every rule of the env's profile.
func (e *env) run() *Report {
	profile := e.profile
	rep := &Report{Profile: profile, Findings: []Finding{}}
	for i := range catalogue {
		r := &catalogue[i]
		if !slices.Contains(r.Profiles, profile) {
			continue
		}
		for _, f := range r.check(e, r) {
			f.Rule, f.Title, f.Severity = r.ID, r.Title, r.SeverityIn(profile)
			if f.Status == Pass {
				f.Remediation = ""
			}
			rep.Findings = append(rep.Findings, f)
		}
	}
	sortFindings(rep.Findings)
	rep.Counts = count(rep.Findings)
	return rep
}

// sortFindings orders by severity, then account, resource and rule.
func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Severity.Rank() != b.Severity.Rank() {
			return a.Severity.Rank() < b.Severity.Rank()
		}
		if a.Account != b.Account {
			return a.Account < b.Account
		}
		if a.Resource != b.Resource {
			return a.Resource < b.Resource
		}
		return a.Rule < b.Rule
	})
}

func count(fs []Finding) Counts {
	c := Counts{Failing: map[Severity]int{}}
	for _, f := range fs {
		switch f.Status {
		case Pass:
			c.Pass++
		case Fail:
			c.Fail++
			c.Failing[f.Severity]++
		case Unknown:
			c.Unknown++
		}
	}
	return c
}

// FailsAt reports whether a failing finding at or above min exists.
func (r *Report) FailsAt(min Severity) bool {
	for _, f := range r.Findings {
		if f.Status == Fail && f.Severity.Rank() <= min.Rank() {
			return true
		}
	}
	return false
}
