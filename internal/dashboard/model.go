package dashboard

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/proof"
	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// Inputs is what the dashboard shows: the reports the CLI's commands
// compute (coverage, verify, audit, policy prove), each with the reason it
// is missing when the command could not run, and the read-only store for
// the named queries and the SQL console. The dashboard computes no verdict
// of its own: it lays these out.
type Inputs struct {
	// Generated is when the reports were computed.
	Generated time.Time
	// Sources says what was read (config, snapshot, source, store), for
	// the page footer.
	Sources []string

	Coverage    *coverage.Report
	CoverageWhy string // why Coverage is nil
	Verify      *verify.Report
	// VerifyMissing are expected account-regions with no digest at all
	// (verify --config); they make the logs not intact.
	VerifyMissing []verify.Gap
	VerifyWhy     string
	Audit         *audit.Report
	AuditWhy      string
	// FailOn is the severity at and above which a failing finding makes
	// the audit fail, as audit --fail-on (default high).
	FailOn    audit.Severity
	Access    []Access
	AccessWhy string

	// Detections are detect's report (nil without a store: the answer
	// is then unknown). See detections.go.
	Detections *Detections

	// Store runs the named queries and the console's SQL; it must be the
	// sealed read-only store (duckdb.OpenWith ReadOnly). nil: StoreWhy.
	Store    query.Engine
	StoreWhy string
}

// Access is one policy's proof, as policy prove computes it.
type Access struct {
	Label  string
	Report *proof.Report
}

// Answer is one of the overview's four answers.
type Answer struct {
	Question string
	// State is "ok" (the good answer), "problem" or "unknown".
	State   string
	Summary string
	Link    string
}

// Symbol is the second cue beside colour.
func (a Answer) Symbol() string { return stateSymbol[a.State] }

var stateSymbol = map[string]string{"ok": "✓", "problem": "✗", "unknown": "?"}

// Answers are the overview's four answers, in order: delivering, intact,
// audit, detections. Each says "unknown" with the reason when its input
// is missing or incomplete; none is "yes" on an empty set.
func (in *Inputs) Answers() []Answer {
	return []Answer{in.delivering(), in.intact(), in.auditAnswer(), in.detectionsAnswer()}
}

func (in *Inputs) delivering() Answer {
	a := Answer{Question: "Is every account delivering?", Link: "/coverage"}
	r := in.Coverage
	switch {
	case r == nil:
		a.State, a.Summary = "unknown", "unknown: "+orDefault(in.CoverageWhy, "coverage was not computed")
	case len(r.Cells) == 0:
		a.State, a.Summary = "unknown", "unknown: no account-region was expected, so nothing says who should deliver"
	case r.OK():
		a.State = "ok"
		a.Summary = fmt.Sprintf("yes: %d/%d account-regions complete, %d/%d due hours covered", r.Totals.CellsOK, r.Totals.Cells,
			r.Totals.HoursCovered, r.Totals.Hours-r.Totals.HoursPending)
	default:
		a.State = "problem"
		a.Summary = fmt.Sprintf("no: %d/%d account-regions complete; %d hours missing in %d gaps, %d invalid digests", r.Totals.CellsOK,
			r.Totals.Cells, r.Totals.HoursMissing, len(r.Gaps), len(r.Invalid))
	}
	return a
}

func (in *Inputs) intact() Answer {
	a := Answer{Question: "Are the logs intact?", Link: "/coverage"}
	r := in.Verify
	switch {
	case r == nil:
		a.State, a.Summary = "unknown", "unknown: "+orDefault(in.VerifyWhy, "verify was not run")
	case r.Digests == 0:
		a.State, a.Summary = "unknown", "unknown: no digest file was found, so nothing proves what was delivered"
	case r.OK() && len(in.VerifyMissing) == 0:
		a.State = "ok"
		a.Summary = fmt.Sprintf("yes: %d/%d digest files valid, %d/%d log files valid", r.DigestsValid, r.Digests, r.LogFilesValid, r.LogFiles)
	default:
		a.State = "problem"
		a.Summary = fmt.Sprintf("no: %d/%d digest files valid, %d/%d log files valid, %d invalid, %d gaps", r.DigestsValid, r.Digests,
			r.LogFilesValid, r.LogFiles, len(r.Invalid), len(r.Gaps)+len(in.VerifyMissing))
	}
	return a
}

func (in *Inputs) auditAnswer() Answer {
	a := Answer{Question: "Does the audit pass?", Link: "/audit"}
	r := in.Audit
	failOn := in.FailOn
	if failOn == "" {
		failOn = audit.High
	}
	switch {
	case r == nil:
		a.State, a.Summary = "unknown", "unknown: "+orDefault(in.AuditWhy, "the audit was not run")
	case len(r.Findings) == 0:
		a.State, a.Summary = "unknown", "unknown: the audit made no finding"
	case r.FailsAt(failOn):
		a.State = "problem"
		a.Summary = fmt.Sprintf("no: standard %s, %d failing (%s), %d pass, %d unknown", r.Profile, r.Counts.Fail,
			failingText(r), r.Counts.Pass, r.Counts.Unknown)
	case r.Counts.Unknown > 0:
		a.State = "unknown"
		a.Summary = fmt.Sprintf("unknown: standard %s, %d findings could not be judged (%d pass, %d fail below %s)", r.Profile,
			r.Counts.Unknown, r.Counts.Pass, r.Counts.Fail, failOn)
	default:
		a.State = "ok"
		a.Summary = fmt.Sprintf("yes: standard %s, %d pass, %d fail below %s", r.Profile, r.Counts.Pass, r.Counts.Fail, failOn)
	}
	return a
}

func failingText(r *audit.Report) string {
	var parts []string
	for _, s := range audit.Severities {
		if n := r.Counts.Failing[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, s))
		}
	}
	return strings.Join(parts, ", ")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// ---- coverage heat map ----

// Day states of a heat map cell, worst first.
const (
	dayInvalid = "invalid"
	dayGap     = "gap"
	dayPending = "pending"
	dayOK      = "ok"
	dayNone    = "none" // outside the window
)

var daySymbol = map[string]string{dayInvalid: "!", dayGap: "✗", dayPending: "…", dayOK: "✓", dayNone: ""}
var dayLabel = map[string]string{dayInvalid: "an invalid digest", dayGap: "hours with no digest", dayPending: "not due yet", dayOK: "every due hour covered", dayNone: "outside the window"}

// hourState is one hour of one account x region.
func hourStates(r *coverage.Report, account, region string) map[time.Time]string {
	h := map[time.Time]string{}
	for t := r.Since; t.Before(r.Until); t = t.Add(time.Hour) {
		h[t] = dayOK
		// Not due yet, by coverage's own rule (hourState).
		if r.Now.Before(t.Add(time.Hour + coverage.DigestDelay)) {
			h[t] = dayPending
		}
	}
	// Invalid digests first: an hour coverage counts as missing (a gap)
	// stays a gap even when a later digest names the one that is gone.
	for _, f := range r.Invalid {
		if f.Account != account || f.Region != region {
			continue
		}
		if t, ok := fileHour(f); ok {
			if _, in := h[t]; in {
				h[t] = dayInvalid
			}
		}
	}
	for _, g := range r.Gaps {
		if g.Account != account || g.Region != region {
			continue
		}
		for t := g.Start; t.Before(g.End); t = t.Add(time.Hour) {
			h[t] = dayGap
		}
	}
	return h
}

// fileHour is the hour a file vouches for (a digest) or was delivered in.
func fileHour(f verify.FileResult) (time.Time, bool) {
	k, err := layout.Parse(f.Key)
	if err != nil {
		return time.Time{}, false
	}
	if k.Kind == layout.DigestFile {
		return coverage.Slot(k.FileTime), true
	}
	return k.FileTime.Truncate(time.Hour), true
}

// days are the UTC days the window touches.
func days(r *coverage.Report) []time.Time {
	var out []time.Time
	for d := r.Since.Truncate(24 * time.Hour); d.Before(r.Until); d = d.Add(24 * time.Hour) {
		out = append(out, d)
	}
	return out
}

// worst is the worst state among hours of one day.
func worst(h map[time.Time]string, day time.Time) string {
	rank := map[string]int{dayGap: 0, dayInvalid: 1, dayOK: 2, dayPending: 3, dayNone: 4}
	best := dayNone
	for t := day; t.Before(day.Add(24 * time.Hour)); t = t.Add(time.Hour) {
		s, ok := h[t]
		if !ok {
			continue
		}
		if rank[s] < rank[best] {
			best = s
		}
	}
	return best
}

// HeatRow is one account x region of the heat map.
type HeatRow struct {
	Account, Region string
	Status          string
	Days            []HeatCell
	Problem         bool
}

// HeatCell is one day of a HeatRow.
type HeatCell struct {
	Day    time.Time
	State  string
	Symbol string
	Label  string
}

// Heat is one page of the heat map, with the aggregate over every row.
type Heat struct {
	Days     []time.Time
	Rows     []HeatRow
	Page     int
	Pages    int
	PerPage  int
	Total    int
	Problems int
	// Aggregate counts, per day, the rows in each state (all pages).
	Aggregate []map[string]int
}

// heat builds page (1-based) of the heat map: rows with a problem first,
// then by account and region; perPage rows a page.
func heat(r *coverage.Report, page, perPage int) Heat {
	ds := days(r)
	rows := make([]HeatRow, 0, len(r.Cells))
	agg := make([]map[string]int, len(ds))
	for i := range agg {
		agg[i] = map[string]int{}
	}
	// Hour states are only needed for rows with gaps or invalid digests;
	// a complete row is ok every due hour.
	troubled := map[[2]string]bool{}
	for _, g := range r.Gaps {
		troubled[[2]string{g.Account, g.Region}] = true
	}
	for _, f := range r.Invalid {
		troubled[[2]string{f.Account, f.Region}] = true
	}
	var clean map[time.Time]string
	for _, c := range r.Cells {
		var h map[time.Time]string
		if troubled[[2]string{c.Account, c.Region}] {
			h = hourStates(r, c.Account, c.Region)
		} else {
			if clean == nil {
				clean = hourStates(r, "", "")
			}
			h = clean
		}
		row := HeatRow{Account: c.Account, Region: c.Region, Status: c.Status}
		for i, d := range ds {
			s := worst(h, d)
			agg[i][s]++
			if s == dayGap || s == dayInvalid {
				row.Problem = true
			}
			row.Days = append(row.Days, HeatCell{Day: d, State: s, Symbol: daySymbol[s], Label: dayLabel[s]})
		}
		if c.HoursMissing > 0 || c.HoursInvalid > 0 {
			row.Problem = true
		}
		rows = append(rows, row)
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Problem != rows[j].Problem {
			return rows[i].Problem
		}
		if rows[i].Account != rows[j].Account {
			return rows[i].Account < rows[j].Account
		}
		return rows[i].Region < rows[j].Region
	})
	h := Heat{Days: ds, PerPage: perPage, Total: len(rows), Aggregate: agg}
	for _, r := range rows {
		if r.Problem {
			h.Problems++
		}
	}
	h.Pages = max(1, (len(rows)+perPage-1)/perPage)
	h.Page = min(max(page, 1), h.Pages)
	lo := (h.Page - 1) * perPage
	h.Rows = rows[lo:min(lo+perPage, len(rows))]
	return h
}
