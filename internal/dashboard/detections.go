package dashboard

import (
	"fmt"
	"time"
)

// Detections is the slot for issue 17's detections (internal/detect),
// which this build does not have yet. While Inputs.Detections is nil the
// overview answers "unknown" and the page says "detections: not available
// in this build"; nothing is invented.
//
// The hook, once internal/detect is merged: a function in this package
//
//	func FromDetect(res *detect.Result) *Detections
//
// that copies each detection into an Item (rule, severity, time, account,
// region, summary and the event IDs or lines behind it), and the CLI's
// serve and report set Inputs.Detections = dashboard.FromDetect(res) from
// the same call `trailwarden detect` makes. Ran must be true only when
// every rule ran over the whole window: an empty Items then means no
// detections, and is the only way the overview says "no detections".
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

// NotAvailable is what the page and the overview say without detections.
const NotAvailable = "detections: not available in this build"

func (in *Inputs) detectionsAnswer() Answer {
	a := Answer{Question: "Any detections?", Link: "/detections"}
	d := in.Detections
	switch {
	case d == nil:
		a.State, a.Summary = "unknown", "unknown: not available in this build (detections come with issue 17)"
	case !d.Ran:
		a.State, a.Summary = "unknown", "unknown: "+orDefault(d.Why, "the rules did not all run")
	case len(d.Items) == 0:
		a.State, a.Summary = "ok", "no detections"
	default:
		a.State, a.Summary = "problem", fmt.Sprintf("%d detections", len(d.Items))
	}
	return a
}
