package dashboard

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
)

// reportDetections is how many detections the report lists (the most
// severe first); trailwarden detect gives them all.
const reportDetections = 500

// reportDetectionsData is the report's one page of detections: a file has
// no further pages to link to.
func reportDetectionsData(in *Inputs) detectionsView {
	v := detectionsData(in, 1, reportDetections)
	v.Prev, v.Next = "", ""
	return v
}

// reportSections are the report's sections, rendered by the same section
// templates as the dashboard's pages.
type reportSections struct {
	Overview   overviewView
	Coverage   coverageView
	Audit      auditView
	Access     accessView
	Detections detectionsView
	Queries    queriesView
}

// Report writes the dashboard as one self-contained HTML file: the style
// inline (allowed by its hash in the file's own Content-Security-Policy),
// charts as inline SVG, no script and no reference to any other file or
// address, so it opens offline. The heat map holds every account-region
// (no paging), with the hour-by-hour detail of each that has a problem;
// the SQL console needs the store and exists only in the dashboard.
func (s *Server) Report(w io.Writer) error {
	in := s.in
	ov := overviewData(in)
	for i := range ov.Answers {
		ov.Answers[i].Link = "#" + map[string]string{"/coverage": "coverage", "/audit": "audit", "/detections": "detections"}[ov.Answers[i].Link]
	}
	total := 1
	if in.Coverage != nil {
		total = max(1, len(in.Coverage.Cells))
	}
	cov := coverageData(in, 1, total, true)
	cov.Report = true
	aud := auditData(in, "", "", "")
	aud.ReportMode = true
	q := queriesData(in)
	q.Report = true
	sum := sha256.Sum256([]byte(s.css))
	v := view{
		Title:     "trailwarden report",
		Report:    true,
		CSS:       template.CSS(s.css), //nolint:gosec // the embedded style sheet, not input
		In:        in,
		ReportCSP: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; img-src data:; form-action 'none'; base-uri 'none'",
		Sections:  &reportSections{Overview: ov, Coverage: cov, Audit: aud, Access: accessData(in), Detections: reportDetectionsData(in), Queries: q},
	}
	var b bytes.Buffer
	if err := s.tmpl.ExecuteTemplate(&b, "base", v); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}
