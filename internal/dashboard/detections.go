package dashboard

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/detect"
)

// Detections are what `trailwarden detect` reports, for the overview and
// the detections page. While Inputs.Detections is nil (no store was
// given) the overview answers "unknown"; nothing is invented. Ran is true
// only when every rule ran over every expected account's events in the
// window: an empty Items then means no detections, and is the only way
// the overview says "no detections".
type Detections struct {
	// Ran is true when every rule ran over the whole window.
	Ran bool
	// Why says what is missing when Ran is false.
	Why    string
	Window [2]time.Time
	Items  []Detection
}

// Detection is one rule's match, with the events behind it.
type Detection struct {
	Rule     string
	Title    string
	Severity string
	Time     time.Time
	Account  string
	Region   string
	Summary  string
	Events   []string
}

// NotAvailable is what the page says without detections.
const NotAvailable = "detections: not available (no store was given: --db trail.duckdb)"

// FromDetect is the page's view of a detect report: each detection with
// the events behind it, and Ran only when the report knows of nothing it
// could not see (detect.Report.Unknown is empty).
func FromDetect(rep *detect.Report) *Detections {
	d := &Detections{Ran: len(rep.Unknown) == 0, Why: strings.Join(rep.Unknown, "; ")}
	if rep.Since != nil {
		d.Window[0] = *rep.Since
	}
	if rep.Until != nil {
		d.Window[1] = *rep.Until
	}
	for _, x := range rep.Detections {
		sum := x.EventName
		if x.Count > 1 {
			sum = fmt.Sprintf("%d events to %s", x.Count, x.LastTime.UTC().Format(time.RFC3339))
			if x.Group != "" {
				sum += " (" + x.Group + ")"
			}
		}
		if x.Principal != "" {
			sum += " by " + x.Principal
		}
		if x.SourceIP != "" {
			sum += " from " + x.SourceIP
		}
		d.Items = append(d.Items, Detection{Rule: x.RuleID, Title: x.Rule, Severity: x.Level, Time: x.Time,
			Account: x.Account, Region: x.Region, Summary: sum, Events: x.EventIDs})
	}
	// The most severe first, then by time: a page shows what matters.
	sort.SliceStable(d.Items, func(i, j int) bool {
		a, b := detect.LevelRank(d.Items[i].Severity), detect.LevelRank(d.Items[j].Severity)
		if a != b {
			return a > b
		}
		return d.Items[i].Time.Before(d.Items[j].Time)
	})
	// An open window (the whole store) is drawn from the first detection
	// to the last.
	for _, it := range d.Items {
		if rep.Since == nil && (d.Window[0].IsZero() || it.Time.Before(d.Window[0])) {
			d.Window[0] = it.Time
		}
		if rep.Until == nil && !it.Time.Before(d.Window[1]) {
			d.Window[1] = it.Time.Add(time.Second)
		}
	}
	return d
}

func (in *Inputs) detectionsAnswer() Answer {
	a := Answer{Question: "Any detections?", Link: "/detections"}
	d := in.Detections
	switch {
	case d == nil:
		a.State, a.Summary = "unknown", "unknown: no store was given (--db trail.duckdb)"
	case !d.Ran:
		a.State, a.Summary = "unknown", "unknown: "+orDefault(d.Why, "the rules did not all run")
	case len(d.Items) == 0:
		a.State, a.Summary = "ok", "no detections"
	default:
		var lv []string
		for _, it := range d.Items {
			lv = append(lv, it.Severity)
		}
		a.State, a.Summary = "problem", fmt.Sprintf("%d detections", len(d.Items))
		if c := detect.LevelCounts(lv); c != "" {
			a.Summary += " (" + c + ")"
		}
	}
	return a
}
