package dashboard

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/proof"
	"github.com/trailwarden/trailwarden/internal/query"
)

var funcs = template.FuncMap{
	"day":   func(t time.Time) string { return t.Format("2006-01-02") },
	"stamp": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") },
	"statusSymbol": func(s audit.Status) string {
		switch s {
		case audit.Pass:
			return "✓"
		case audit.Fail:
			return "✗"
		}
		return "?"
	},
	"daySymbol": func(s string) string { return daySymbol[s] },
	"dayLabel":  func(s string) string { return dayLabel[s] },
	"add":       func(a, b int) int { return a + b },
	"cellURL": func(account, region string) string {
		return "/coverage/cell?" + url.Values{"account": {account}, "region": {region}}.Encode()
	},
	"sqlURL":       func(name string) string { return "/sql?" + url.Values{"named": {name}}.Encode() },
	"notAvailable": func() string { return NotAvailable },
	"anchor":       anchor,
}

// anchor is the id of an account-region's section in the report.
func anchor(account, region string) string {
	return "cell-" + account + "-" + region
}

// Colours of the states; every state also has a symbol (daySymbol), so
// colour is never the only cue.
var dayColour = map[string]string{dayOK: "#2e7d32", dayGap: "#c62828", dayInvalid: "#ef6c00", dayPending: "#9e9e9e", dayNone: "#ffffff"}

// heatSVG draws one page of the heat map: a row per account-region, a
// column per day, each cell coloured and marked with its state's symbol,
// and a link to the hour-by-hour drill-down (a page, or the report's
// section).
func heatSVG(h Heat, report bool) template.HTML {
	const label, cw, ch, top = 230, 44, 22, 30
	w := label + cw*len(h.Days) + 10
	hgt := top + ch*len(h.Rows) + 10
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="heat" role="img" aria-labelledby="heat-title" width="%d" height="%d" viewBox="0 0 %d %d" xmlns="http://www.w3.org/2000/svg">`, w, hgt, w, hgt)
	b.WriteString(`<title id="heat-title">Coverage by account, region and day: ✓ every due hour covered, ✗ hours with no digest, ! an invalid digest, … not due yet</title>`)
	for i, d := range h.Days {
		x := label + i*cw + cw/2
		fmt.Fprintf(&b, `<text x="%d" y="%d" class="hd" text-anchor="middle">%s</text>`, x-1, top-8, d.Format("01-02"))
	}
	for r, row := range h.Rows {
		y := top + r*ch
		fmt.Fprintf(&b, `<text x="0" y="%d" class="rl">%s %s</text>`, y+ch-7, html.EscapeString(row.Account), html.EscapeString(row.Region))
		for i, c := range row.Days {
			x := label + i*cw
			href := "/coverage/cell?" + url.Values{"account": {row.Account}, "region": {row.Region}}.Encode()
			if report {
				href = "#" + anchor(row.Account, row.Region)
			}
			title := fmt.Sprintf("%s %s %s: %s", row.Account, row.Region, c.Day.Format("2006-01-02"), c.Label)
			fmt.Fprintf(&b, `<a href="%s" aria-label="%s"><title>%s</title><rect x="%d" y="%d" width="%d" height="%d" fill="%s" stroke="#fff" data-state="%s"/>`,
				html.EscapeString(href), html.EscapeString(title), html.EscapeString(title), x, y, cw-2, ch-2, dayColour[c.State], c.State)
			fmt.Fprintf(&b, `<text x="%d" y="%d" class="sym" text-anchor="middle" fill="#fff">%s</text></a>`, x+cw/2-1, y+ch-7, c.Symbol)
		}
	}
	b.WriteString(`</svg>`)
	// Generated from escaped values only.
	return template.HTML(b.String()) //nolint:gosec // every interpolated value is escaped above
}

// hoursChart is the overview's bar of due hours by state.
func hoursChart(in *Inputs) template.HTML {
	r := in.Coverage
	if r == nil || r.Totals.Hours == 0 {
		return ""
	}
	t := r.Totals
	parts := []struct {
		n     int
		state string
		name  string
	}{{t.HoursCovered, dayOK, "covered"}, {t.HoursMissing, dayGap, "missing"}, {t.HoursInvalid, dayInvalid, "invalid"}, {t.HoursPending, dayPending, "pending"}}
	const width = 600
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="bar" role="img" aria-labelledby="bar-title" width="%d" height="58" viewBox="0 0 %d 58" xmlns="http://www.w3.org/2000/svg"><title id="bar-title">Hours by state: %d covered, %d missing, %d invalid, %d pending</title>`,
		width, width, t.HoursCovered, t.HoursMissing, t.HoursInvalid, t.HoursPending)
	x := 0.0
	lx := 0
	for _, p := range parts {
		if p.n == 0 {
			continue
		}
		wd := float64(width) * float64(p.n) / float64(t.Hours)
		fmt.Fprintf(&b, `<rect x="%.1f" y="0" width="%.1f" height="24" fill="%s"/>`, x, wd, dayColour[p.state])
		x += wd
		fmt.Fprintf(&b, `<text x="%d" y="46" class="lg">%s %d %s</text>`, lx, daySymbol[p.state], p.n, p.name)
		lx += 150
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // numbers and constants only
}

func sortFindings(f []audit.Finding, rank map[audit.Status]int) {
	sort.SliceStable(f, func(i, j int) bool {
		if rank[f[i].Status] != rank[f[j].Status] {
			return rank[f[i].Status] < rank[f[j].Status]
		}
		return f[i].Severity.Rank() < f[j].Severity.Rank()
	})
}

type accessView struct {
	Why      string
	Policies []policyView
}

type policyView struct {
	Label, Target, Verdict, State string
	Requests                      int
	Rows                          []accessRow
	Findings                      int
}

type accessRow struct {
	Who, Action, Resource string
	Allowed, Probed       int
	Mark, Symbol          string
}

func accessData(in *Inputs) accessView {
	if len(in.Access) == 0 {
		return accessView{Why: orDefault(in.AccessWhy, "the policies were not proved")}
	}
	var v accessView
	for _, a := range in.Access {
		r := a.Report
		p := policyView{Label: a.Label, Target: string(r.Target), Requests: r.Requests, Findings: len(r.Findings), Verdict: "PROVEN", State: "ok"}
		switch {
		case r.Failed():
			p.Verdict, p.State = "NOT PROVEN", "problem"
		case r.AcceptedCount() > 0:
			p.Verdict = "PROVEN with accepted exceptions"
		}
		rows := append([]proof.Row(nil), r.Matrix...)
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].Principal < rows[j].Principal })
		for _, row := range rows {
			ar := accessRow{Who: row.Principal, Action: row.Action, Resource: row.Resource, Allowed: row.Allowed, Probed: row.Probed}
			switch {
			case row.Allowed > 0 && !row.Intended:
				ar.Mark, ar.Symbol = "UNINTENDED", "✗"
			case row.Allowed == 0 && row.Intended:
				ar.Mark, ar.Symbol = "MISSING", "✗"
			case row.Allowed > 0:
				ar.Symbol = "✓"
			default:
				ar.Symbol = "–"
			}
			p.Rows = append(p.Rows, ar)
		}
		v.Policies = append(v.Policies, p)
	}
	return v
}

type detectionsView struct {
	Why    string
	Answer Answer
	D      *Detections
	SVG    template.HTML
	// Rows are this page's detections (most severe first), First the
	// number of the first, Total how many there are.
	Rows         []Detection
	First, Total int
	Prev, Next   string
}

// detectionsData is a page of the detections: a store of millions of
// events can hold tens of thousands (72,262 on the bench store), more
// than a page can show in time (1.8 s to render them all).
func detectionsData(in *Inputs, page, perPage int) detectionsView {
	v := detectionsView{Answer: in.detectionsAnswer(), D: in.Detections}
	if in.Detections == nil {
		v.Why = NotAvailable
		return v
	}
	if !in.Detections.Ran {
		v.Why = orDefault(in.Detections.Why, "the rules did not all run")
	}
	v.SVG = timelineSVG(in.Detections)
	items := in.Detections.Items
	v.Total = len(items)
	pages := max(1, (len(items)+perPage-1)/perPage)
	page = min(max(page, 1), pages)
	lo, hi := (page-1)*perPage, min(page*perPage, len(items))
	v.Rows, v.First = items[lo:hi], lo+1
	if page > 1 {
		v.Prev = "/detections?page=" + strconv.Itoa(page-1)
	}
	if page < pages {
		v.Next = "/detections?page=" + strconv.Itoa(page+1)
	}
	return v
}

// timelineBins is how many marks the timeline draws at most: beyond it,
// detections are counted per stretch of the window.
const timelineBins = 120

// timelineSVG places each detection on a line from the window's start to
// its end; when there are more than timelineBins, one mark per stretch of
// the window, sized by and titled with its count.
func timelineSVG(d *Detections) template.HTML {
	if len(d.Items) == 0 || !d.Window[1].After(d.Window[0]) {
		return ""
	}
	const width, pad = 800, 10
	span := d.Window[1].Sub(d.Window[0])
	x := func(t time.Time) int {
		return pad + int(float64(width-2*pad)*float64(t.Sub(d.Window[0]))/float64(span))
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="timeline" role="img" aria-labelledby="tl-title" width="%d" height="60" viewBox="0 0 %d 60" xmlns="http://www.w3.org/2000/svg"><title id="tl-title">%d detections from %s to %s</title><line x1="%d" y1="30" x2="%d" y2="30" stroke="#555"/>`,
		width, width, len(d.Items), d.Window[0].Format(time.RFC3339), d.Window[1].Format(time.RFC3339), pad, width-pad)
	if len(d.Items) <= timelineBins {
		for _, it := range d.Items {
			fmt.Fprintf(&b, `<circle cx="%d" cy="30" r="6" fill="#c62828"><title>%s %s</title></circle>`, x(it.Time), html.EscapeString(it.Time.Format(time.RFC3339)), html.EscapeString(it.Title+": "+it.Summary))
		}
	} else {
		var bins [timelineBins]int
		for _, it := range d.Items {
			i := int(float64(timelineBins) * float64(it.Time.Sub(d.Window[0])) / float64(span))
			bins[min(max(i, 0), timelineBins-1)]++
		}
		step := span / timelineBins
		for i, n := range bins {
			if n == 0 {
				continue
			}
			from := d.Window[0].Add(time.Duration(i) * step)
			r := 3 + int(math.Log10(float64(n))*3)
			fmt.Fprintf(&b, `<circle cx="%d" cy="30" r="%d" fill="#c62828"><title>%d detections from %s to %s</title></circle>`,
				x(from.Add(step/2)), r, n, from.Format(time.RFC3339), from.Add(step).Format(time.RFC3339))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every interpolated value is escaped above
}

// cellText is a result value as the console's table shows it (as the
// CLI's table does: times in RFC 3339 UTC, NULL empty).
func cellText(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case query.JSON:
		return string(x)
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}
