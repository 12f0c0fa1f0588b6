package dashboard

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/verify"
)

var pages = []string{"/", "/coverage", "/coverage/cell?account=111111111111&region=us-east-1", "/audit", "/access", "/detections", "/queries", "/sql", "/style.css"}

func newTestServer(t *testing.T, in *Inputs, opt Options) *httptest.Server {
	t.Helper()
	s, err := NewServer(in, opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// reply is a response read whole.
type reply struct {
	StatusCode int
	Header     http.Header
	cookies    []*http.Cookie
}

func (r reply) Cookies() []*http.Cookie { return r.cookies }

func get(t *testing.T, c *http.Client, req *http.Request) (reply, string) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, resp.Cookies()}, string(b)
}

// The first rule: with an input missing or empty, no answer is a pass.
func TestAnswers_NeverAllClearWithoutInputs(t *testing.T) {
	cases := []struct {
		name string
		in   Inputs
		want []string // coverage, intact, audit, detections
	}{
		{"nothing given", Inputs{CoverageWhy: "no log bucket was given", VerifyWhy: "no log bucket was given", AuditWhy: "no config was given"},
			[]string{"unknown", "unknown", "unknown", "unknown"}},
		{"empty reports", Inputs{Coverage: &coverage.Report{}, Verify: &verify.Report{}, Audit: &audit.Report{Profile: "baseline"},
			Detections: &Detections{Ran: false}}, []string{"unknown", "unknown", "unknown", "unknown"}},
		{"audit with unknown findings only", Inputs{Audit: &audit.Report{Profile: "cis", Findings: []audit.Finding{{Status: audit.Unknown}, {Status: audit.Pass}},
			Counts: audit.Counts{Pass: 1, Unknown: 1}}}, []string{"unknown", "unknown", "unknown", "unknown"}},
		{"all good", Inputs{
			Coverage:   &coverage.Report{Cells: []coverage.Cell{{Account: "1", Region: "r", Status: "ok", Hours: 1, HoursCovered: 1}}, Totals: coverage.Totals{Cells: 1, CellsOK: 1, Hours: 1, HoursCovered: 1}},
			Verify:     &verify.Report{Digests: 1, DigestsValid: 1},
			Audit:      &audit.Report{Profile: "cis", Findings: []audit.Finding{{Status: audit.Pass}}, Counts: audit.Counts{Pass: 1}},
			Detections: &Detections{Ran: true}},
			[]string{"ok", "ok", "ok", "ok"}},
		{"verify ok but an expected account has no digest", Inputs{Verify: &verify.Report{Digests: 1, DigestsValid: 1},
			VerifyMissing: []verify.Gap{{Account: "2", Region: "r"}}}, []string{"unknown", "problem", "unknown", "unknown"}},
		{"a gap", Inputs{Coverage: &coverage.Report{Cells: []coverage.Cell{{Account: "1", Region: "r", Status: "GAP", Hours: 1, HoursMissing: 1}},
			Gaps: []coverage.Gap{{Account: "1", Region: "r"}}, Totals: coverage.Totals{Cells: 1, Hours: 1, HoursMissing: 1}}}, []string{"problem", "unknown", "unknown", "unknown"}},
		{"a high failure", Inputs{Audit: &audit.Report{Profile: "cis", Findings: []audit.Finding{{Status: audit.Fail, Severity: audit.High}}, Counts: audit.Counts{Fail: 1}}},
			[]string{"unknown", "unknown", "problem", "unknown"}},
		{"a low failure under --fail-on high", Inputs{Audit: &audit.Report{Profile: "cis", Findings: []audit.Finding{{Status: audit.Fail, Severity: audit.Low}}, Counts: audit.Counts{Fail: 1}}},
			[]string{"unknown", "unknown", "ok", "unknown"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.in.Answers()
			for i, a := range got {
				if a.State != c.want[i] {
					t.Errorf("%s: %s (%s), want %s", a.Question, a.State, a.Summary, c.want[i])
				}
				if a.State == "unknown" && !strings.HasPrefix(a.Summary, "unknown: ") {
					t.Errorf("%s: unknown without a reason: %q", a.Question, a.Summary)
				}
			}
		})
	}
	if s := (&Inputs{}).Answers()[3].Summary; !strings.Contains(s, "no store was given") {
		t.Errorf("detections without a store: %q", s)
	}
}

// Only GET and HEAD exist; every response carries the CSP and no page
// has a script.
func TestServer_ReadOnlyAndCSP(t *testing.T) {
	ts := newTestServer(t, &Inputs{}, Options{})
	for _, p := range pages {
		for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
			req, _ := http.NewRequest(m, ts.URL+p, strings.NewReader("q=DROP TABLE events"))
			resp, _ := get(t, nil, req)
			if resp.StatusCode != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", m, p, resp.StatusCode)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
		resp, body := get(t, nil, req)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d", p, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Security-Policy"); got != CSP || !strings.Contains(got, "default-src 'none'") || strings.Contains(got, "unsafe") {
			t.Errorf("GET %s: CSP %q", p, got)
		}
		if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, " style=") {
			t.Errorf("GET %s: a script or inline style in the page", p)
		}
	}
}

func TestServer_TokenRequiredWhenSet(t *testing.T) {
	const token = "0123456789abcdef0123456789abcdef"
	ts := newTestServer(t, &Inputs{}, Options{Token: token})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, p := range pages {
		req, _ := http.NewRequest(http.MethodGet, ts.URL+p, nil)
		if resp, _ := get(t, noRedirect, req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", p, resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodGet, ts.URL+p+sep(p)+"token=wrong", nil)
		if resp, _ := get(t, noRedirect, req); resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", p, resp.StatusCode)
		}
		req, _ = http.NewRequest(http.MethodGet, ts.URL+p, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, _ := get(t, noRedirect, req); resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s with the bearer token: %d", p, resp.StatusCode)
		}
	}
	// ?token= once: a cookie, and the token leaves the address.
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/audit?status=fail&token="+token, nil)
	resp, _ := get(t, noRedirect, req)
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Header.Get("Location"), token) || !strings.Contains(resp.Header.Get("Location"), "status=fail") {
		t.Fatalf("?token=: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "trailwarden_token" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode {
		t.Fatalf("cookie %+v", cookie)
	}
	req, _ = http.NewRequest(http.MethodGet, ts.URL+"/audit", nil)
	req.AddCookie(cookie)
	if resp, body := get(t, noRedirect, req); resp.StatusCode != http.StatusOK || strings.Contains(body, token) {
		t.Errorf("with the cookie: %d; token rendered in the page: %v", resp.StatusCode, strings.Contains(body, token))
	}
}

func sep(p string) string {
	if strings.Contains(p, "?") {
		return "&"
	}
	return "?"
}

// blockingEngine answers no query until its context ends.
type blockingEngine struct{}

func (blockingEngine) Name() string { return "duckdb" }
func (blockingEngine) Query(ctx context.Context, _ string) (query.Rows, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

func TestServer_EveryRequestHasADeadline(t *testing.T) {
	ts := newTestServer(t, &Inputs{Store: blockingEngine{}}, Options{Timeout: 200 * time.Millisecond})
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, ts.URL+"/sql?q=SELECT+1", nil)
	resp, _ := get(t, nil, req)
	if resp.StatusCode != http.StatusServiceUnavailable || time.Since(start) > 5*time.Second {
		t.Errorf("a query that never ends: %d after %s, want 503 at the deadline", resp.StatusCode, time.Since(start))
	}
}

// A heat map of 1,000 accounts stays readable: 50 rows a page, problems
// first, and the aggregate counts every row of every page.
func TestHeat_ThousandAccountsPaged(t *testing.T) {
	r := bigCoverage(1000, []string{"us-east-1", "eu-west-1"}, 30)
	h := heat(r, 1, 50)
	if h.Total != 2000 || h.Pages != 40 || len(h.Rows) != 50 || len(h.Days) != 30 {
		t.Fatalf("total %d, pages %d, rows %d, days %d", h.Total, h.Pages, len(h.Rows), len(h.Days))
	}
	if !h.Rows[0].Problem || h.Problems != 3 {
		t.Errorf("problems first: first row %+v, %d problems", h.Rows[0].Account, h.Problems)
	}
	for i, a := range h.Aggregate {
		if n := a[dayOK] + a[dayGap] + a[dayInvalid] + a[dayPending]; n != 2000 {
			t.Errorf("day %d: aggregate counts %d rows, want 2000", i, n)
		}
	}
	if last := heat(r, 99, 50); last.Page != 40 || len(last.Rows) != 50 {
		t.Errorf("a page past the end shows page %d with %d rows", last.Page, len(last.Rows))
	}
	svg := string(heatSVG(h, false))
	if n := strings.Count(svg, "<rect"); n != 50*30 {
		t.Errorf("the page's SVG has %d cells, want %d", n, 50*30)
	}
}

// bigCoverage is a coverage report of accounts x regions over days, all
// covered but three gaps.
func bigCoverage(accounts int, regions []string, days int) *coverage.Report {
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	r := &coverage.Report{Since: since, Until: since.Add(time.Duration(days) * 24 * time.Hour), Now: since.AddDate(0, 2, 0)}
	for a := 0; a < accounts; a++ {
		for _, reg := range regions {
			id := fmt.Sprintf("%012d", 100000000000+a)
			c := coverage.Cell{Account: id, Region: reg, Hours: days * 24, HoursCovered: days * 24, Status: "ok"}
			if a%400 == 7 && reg == regions[0] {
				c.HoursCovered -= 3
				c.HoursMissing, c.Status = 3, "GAP"
				start := since.Add(time.Duration(a%days) * 24 * time.Hour)
				r.Gaps = append(r.Gaps, coverage.Gap{Account: id, Region: reg, Start: start, End: start.Add(3 * time.Hour), Hours: 3})
			}
			r.Cells = append(r.Cells, c)
		}
	}
	return r
}
