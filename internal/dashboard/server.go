// Package dashboard serves trailwarden's reports as a local web dashboard
// and writes them as one self-contained HTML report. It lays out what the
// CLI's commands compute (coverage, verify, audit, policy prove) and runs
// read-only SQL on the sealed store; it decides nothing itself.
//
// Safe by default: only GET and HEAD exist, every response carries a
// strict Content-Security-Policy (no script at all, styles from the
// dashboard itself), every request has a deadline, and when an access
// token is set (serve on an address other than loopback) no page is shown
// without it.
package dashboard

import (
	"bytes"
	"context"
	"crypto/subtle"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/internal/audit"
	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/verify"
)

//go:embed assets
var assets embed.FS

// CSP is the Content-Security-Policy of every served page: nothing runs,
// styles and images come only from the dashboard, forms submit only to it.
const CSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Options tune the server.
type Options struct {
	// Token, when set, is required on every request: ?token= once (it is
	// then kept in a cookie), a cookie, or "Authorization: Bearer".
	Token string
	// Timeout is each request's deadline (default 30s).
	Timeout time.Duration
	// HeatRows is how many account-regions a heat map page shows (50).
	HeatRows int
	// SQLRows is how many rows a page of SQL results shows (100).
	SQLRows int
	// CSVRows is the most rows a CSV download holds (100000).
	CSVRows int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.HeatRows <= 0 {
		o.HeatRows = 50
	}
	if o.SQLRows <= 0 {
		o.SQLRows = 100
	}
	if o.CSVRows <= 0 {
		o.CSVRows = 100000
	}
	return o
}

// Server renders the pages.
type Server struct {
	in   *Inputs
	opt  Options
	tmpl *template.Template
	css  string

	mu    sync.Mutex
	cache map[string]sqlPage
}

// NewServer parses the embedded templates.
func NewServer(in *Inputs, opt Options) (*Server, error) {
	t, err := template.New("").Funcs(funcs).ParseFS(assets, "assets/*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard templates: %w", err)
	}
	css, err := fs.ReadFile(assets, "assets/style.css")
	if err != nil {
		return nil, fmt.Errorf("dashboard style: %w", err)
	}
	return &Server{in: in, opt: opt.withDefaults(), tmpl: t, css: string(css), cache: map[string]sqlPage{}}, nil
}

// Handler is the dashboard's HTTP handler: the pages behind the method,
// token and deadline guards.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.page("overview", s.overview))
	mux.HandleFunc("GET /coverage", s.page("coverage", s.coverage))
	mux.HandleFunc("GET /coverage/cell", s.page("cell", s.cell))
	mux.HandleFunc("GET /audit", s.page("audit", s.audit))
	mux.HandleFunc("GET /access", s.page("access", s.access))
	mux.HandleFunc("GET /detections", s.page("detections", s.detections))
	mux.HandleFunc("GET /queries", s.page("queries", s.queries))
	mux.HandleFunc("GET /sql", s.page("sql", s.sql))
	mux.HandleFunc("GET /sql.csv", s.sqlCSV)
	mux.HandleFunc("GET /style.css", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/css; charset=utf-8")
		_, _ = io.WriteString(w, s.css)
	})
	// The deadline: TimeoutHandler cancels the request's context (so a
	// query stops) and answers 503 when a page takes longer.
	h := http.TimeoutHandler(mux, s.opt.Timeout, "trailwarden dashboard: the request took longer than its deadline")
	return s.guard(h)
}

// guard refuses every method but GET and HEAD, checks the token, and sets
// the security headers.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", CSP)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("X-Frame-Options", "DENY")
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			hd.Set("Allow", "GET, HEAD")
			http.Error(w, "trailwarden dashboard: read-only, only GET and HEAD exist", http.StatusMethodNotAllowed)
			return
		}
		if s.opt.Token != "" {
			if t := r.URL.Query().Get("token"); t != "" && s.tokenOK(t) {
				// Keep the token in a cookie and take it out of the
				// address bar (and the history).
				// Secure only over TLS: serve speaks plain HTTP, where a
				// Secure cookie would never come back.
				http.SetCookie(w, &http.Cookie{Name: "trailwarden_token", Value: t, Path: "/", HttpOnly: true, //nolint:gosec // see above
					SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil})
				q := r.URL.Query()
				q.Del("token")
				// A path on this server only: "//host" would leave it.
				target := "/" + strings.TrimLeft(r.URL.Path, "/")
				if len(q) > 0 {
					target += "?" + q.Encode()
				}
				http.Redirect(w, r, target, http.StatusSeeOther) //nolint:gosec // a path of this server, built above
				return
			}
			ok := false
			if c, err := r.Cookie("trailwarden_token"); err == nil && s.tokenOK(c.Value) {
				ok = true
			}
			if b, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); found && s.tokenOK(b) {
				ok = true
			}
			if !ok {
				http.Error(w, "trailwarden dashboard: open the address with the access token printed when serve started (?token=...)", http.StatusUnauthorized)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) tokenOK(t string) bool {
	return subtle.ConstantTimeCompare([]byte(t), []byte(s.opt.Token)) == 1
}

// view is what the base template gets.
type view struct {
	Title   string
	Section string
	Report  bool
	CSS     template.CSS
	In      *Inputs
	Data    any
	Status  int
	// The report's: its Content-Security-Policy and every section.
	ReportCSP string
	Sections  *reportSections
}

// page runs a page's data function and renders it in the layout.
func (s *Server) page(section string, data func(r *http.Request) (string, any, int)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		title, d, status := data(r)
		var b bytes.Buffer
		if err := s.tmpl.ExecuteTemplate(&b, "base", view{Title: title, Section: section, In: s.in, Data: d, Status: status}); err != nil {
			http.Error(w, "trailwarden dashboard: rendering "+section+": "+err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = w.Write(b.Bytes())
	}
}

func intParam(r *http.Request, name string, def int) int {
	if v, err := strconv.Atoi(r.URL.Query().Get(name)); err == nil && v > 0 {
		return v
	}
	return def
}

func (s *Server) overview(*http.Request) (string, any, int) {
	return "Overview", overviewData(s.in), 0
}

type overviewView struct {
	Answers []Answer
	Chart   template.HTML
}

func overviewData(in *Inputs) overviewView {
	return overviewView{Answers: in.Answers(), Chart: hoursChart(in)}
}

type coverageView struct {
	Why     string
	Heat    Heat
	SVG     template.HTML
	Agg     []aggDay
	Prev    string
	Next    string
	Gaps    int
	Invalid int
	Cells   []cellView
	Report  bool
}

type aggDay struct {
	Day                       string
	OK, Gap, Invalid, Pending int
}

func coverageData(in *Inputs, page, perPage int, report bool) coverageView {
	r := in.Coverage
	if r == nil {
		return coverageView{Why: orDefault(in.CoverageWhy, "coverage was not computed")}
	}
	h := heat(r, page, perPage)
	v := coverageView{Heat: h, SVG: heatSVG(h, report), Gaps: len(r.Gaps), Invalid: len(r.Invalid)}
	for i, d := range h.Days {
		a := h.Aggregate[i]
		v.Agg = append(v.Agg, aggDay{d.Format("2006-01-02"), a[dayOK], a[dayGap], a[dayInvalid], a[dayPending]})
	}
	if h.Page > 1 {
		v.Prev = "/coverage?page=" + strconv.Itoa(h.Page-1)
	}
	if h.Page < h.Pages {
		v.Next = "/coverage?page=" + strconv.Itoa(h.Page+1)
	}
	if report {
		for _, row := range h.Rows {
			if row.Problem {
				v.Cells = append(v.Cells, cellData(in, row.Account, row.Region))
			}
		}
	}
	return v
}

func (s *Server) coverage(r *http.Request) (string, any, int) {
	return "Coverage", coverageData(s.in, intParam(r, "page", 1), s.opt.HeatRows, false), 0
}

type cellView struct {
	Why             string
	Account, Region string
	Status          string
	Days            []cellDay
	Gaps            []string
	Files           []fileView
	Anchor          string
}

type cellDay struct {
	Day   string
	Hours []HeatCell
}

type fileView struct{ Type, Key, Problem, Hour string }

func cellData(in *Inputs, account, region string) cellView {
	v := cellView{Account: account, Region: region, Anchor: anchor(account, region)}
	r := in.Coverage
	if r == nil {
		v.Why = orDefault(in.CoverageWhy, "coverage was not computed")
		return v
	}
	found := false
	for _, c := range r.Cells {
		if c.Account == account && c.Region == region {
			v.Status, found = c.Status, true
		}
	}
	if !found {
		v.Why = "account " + account + " region " + region + " is not among the expected account-regions"
		return v
	}
	h := hourStates(r, account, region)
	for _, d := range days(r) {
		cd := cellDay{Day: d.Format("2006-01-02")}
		for t := d; t.Before(d.Add(24 * time.Hour)); t = t.Add(time.Hour) {
			st, ok := h[t]
			if !ok {
				st = dayNone
			}
			cd.Hours = append(cd.Hours, HeatCell{Day: t, State: st, Symbol: daySymbol[st], Label: t.Format("15:04Z") + ": " + dayLabel[st]})
		}
		v.Days = append(v.Days, cd)
	}
	for _, g := range r.Gaps {
		if g.Account == account && g.Region == region {
			v.Gaps = append(v.Gaps, fmt.Sprintf("no delivery from %s to %s (%d hours)", g.Start.Format("2006-01-02 15:04Z"), g.End.Format("2006-01-02 15:04Z"), g.Hours))
		}
	}
	seen := map[string]bool{}
	add := func(fr []verify.FileResult) {
		for _, f := range fr {
			// verify and coverage may both name a file: once is enough.
			if f.Account == account && f.Region == region && !seen[f.Key+f.Problem] {
				seen[f.Key+f.Problem] = true
				hour := ""
				if t, ok := fileHour(f); ok {
					hour = t.Format("2006-01-02 15:04Z")
				}
				v.Files = append(v.Files, fileView{f.Type, f.Key, f.Problem, hour})
			}
		}
	}
	add(r.Invalid)
	if in.Verify != nil {
		add(in.Verify.Invalid)
	}
	return v
}

func (s *Server) cell(r *http.Request) (string, any, int) {
	q := r.URL.Query()
	v := cellData(s.in, q.Get("account"), q.Get("region"))
	status := 0
	if v.Why != "" && s.in.Coverage != nil {
		status = http.StatusNotFound
	}
	return "Coverage of " + v.Account + " " + v.Region, v, status
}

type auditView struct {
	Why                        string
	Report                     *audit.Report
	Findings                   []audit.Finding
	Standard, Severity, Status string
	Standards                  []string
	Severities                 []audit.Severity
	Statuses                   []audit.Status
	Answer                     Answer
	ReportMode                 bool
}

func auditData(in *Inputs, standard, severity, status string) auditView {
	v := auditView{Standard: standard, Severity: severity, Status: status, Standards: audit.Profiles, Severities: audit.Severities,
		Statuses: []audit.Status{audit.Fail, audit.Unknown, audit.Pass}, Answer: in.auditAnswer()}
	if in.Audit == nil {
		v.Why = orDefault(in.AuditWhy, "the audit was not run")
		return v
	}
	v.Report = in.Audit
	inStandard := map[string]bool{}
	if standard != "" {
		for _, r := range audit.Rules(standard) {
			inStandard[r.ID] = true
		}
	}
	for _, f := range in.Audit.Findings {
		if (standard == "" || inStandard[f.Rule]) && (severity == "" || string(f.Severity) == severity) && (status == "" || string(f.Status) == status) {
			v.Findings = append(v.Findings, f)
		}
	}
	// Failures first, most severe first: the page answers "what failed".
	rank := map[audit.Status]int{audit.Fail: 0, audit.Unknown: 1, audit.Pass: 2}
	sortFindings(v.Findings, rank)
	return v
}

func (s *Server) audit(r *http.Request) (string, any, int) {
	q := r.URL.Query()
	return "Audit findings", auditData(s.in, q.Get("standard"), q.Get("severity"), q.Get("status")), 0
}

func (s *Server) access(*http.Request) (string, any, int) {
	return "Access matrix", accessData(s.in), 0
}

func (s *Server) detections(r *http.Request) (string, any, int) {
	return "Detections", detectionsData(s.in, intParam(r, "page", 1), s.opt.SQLRows), 0
}

type queriesView struct {
	Named  []query.Named
	Why    string
	Engine string
	Report bool
}

func queriesData(in *Inputs) queriesView {
	v := queriesView{Named: query.NamedQueries()}
	if in.Store == nil {
		v.Why = orDefault(in.StoreWhy, "no store was given")
	} else {
		v.Engine = in.Store.Name()
	}
	return v
}

func (s *Server) queries(*http.Request) (string, any, int) {
	return "Named queries", queriesData(s.in), 0
}

type sqlView struct {
	Why     string
	Named   string
	SQL     string
	Ran     bool
	Err     string
	Columns []string
	Rows    [][]string
	Page    int
	Prev    string
	Next    string
	CSV     string
	First   int
	CSVRows int
}

func (s *Server) sql(r *http.Request) (string, any, int) {
	q := r.URL.Query()
	v := sqlView{Named: q.Get("named"), SQL: q.Get("q"), Page: intParam(r, "page", 1), CSVRows: s.opt.CSVRows}
	if s.in.Store == nil {
		v.Why = orDefault(s.in.StoreWhy, "no store was given")
		return "SQL console", v, 0
	}
	if v.Named != "" {
		n, ok := query.Lookup(v.Named)
		if !ok {
			v.Err = "no named query " + strconv.Quote(v.Named)
			return "SQL console", v, http.StatusNotFound
		}
		v.SQL = n.SQL[s.in.Store.Name()]
	}
	if strings.TrimSpace(v.SQL) == "" {
		return "SQL console", v, 0
	}
	v.Ran = true
	v.First = (v.Page-1)*s.opt.SQLRows + 1
	res := s.page1(r.Context(), v.SQL, v.Page)
	v.Columns, v.Rows = res.cols, res.rows
	if res.err != "" {
		v.Err = res.err
		return "SQL console", v, res.status
	}
	more := res.more
	base := url.Values{}
	if v.Named != "" {
		base.Set("named", v.Named)
	} else {
		base.Set("q", v.SQL)
	}
	v.CSV = "/sql.csv?" + base.Encode()
	if v.Page > 1 {
		p := url.Values{}
		for k, x := range base {
			p[k] = x
		}
		p.Set("page", strconv.Itoa(v.Page-1))
		v.Prev = "/sql?" + p.Encode()
	}
	if more {
		p := url.Values{}
		for k, x := range base {
			p[k] = x
		}
		p.Set("page", strconv.Itoa(v.Page+1))
		v.Next = "/sql?" + p.Encode()
	}
	return "SQL console", v, 0
}

// sqlCSV downloads a result as CSV (at most CSVRows rows).
func (s *Server) sqlCSV(w http.ResponseWriter, r *http.Request) {
	if s.in.Store == nil {
		http.Error(w, "trailwarden dashboard: "+orDefault(s.in.StoreWhy, "no store was given"), http.StatusNotFound)
		return
	}
	q := r.URL.Query()
	sqlText := q.Get("q")
	name := "result"
	if n := q.Get("named"); n != "" {
		nq, ok := query.Lookup(n)
		if !ok {
			http.Error(w, "trailwarden dashboard: no named query "+strconv.Quote(n), http.StatusNotFound)
			return
		}
		sqlText, name = nq.SQL[s.in.Store.Name()], n
	}
	ctx, cancel := context.WithCancel(r.Context())
	rows, err := s.in.Store.Query(ctx, sqlText)
	if err != nil {
		cancel()
		http.Error(w, "trailwarden dashboard: "+err.Error(), statusOf(err))
		return
	}
	// Cancelled first: DuckDB stops at the row limit instead of finishing.
	defer func() { cancel(); _ = rows.Close() }()
	var b bytes.Buffer
	if _, err := query.Render(&b, &limited{Rows: rows, left: s.opt.CSVRows}, "csv"); err != nil {
		http.Error(w, "trailwarden dashboard: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.csv"`)
	_, _ = w.Write(b.Bytes())
}

// limited stops a result after left rows.
type limited struct {
	query.Rows
	left int
}

func (l *limited) Next() bool {
	if l.left <= 0 {
		return false
	}
	l.left--
	return l.Rows.Next()
}

// sqlPage is one page of a result.
type sqlPage struct {
	cols   []string
	rows   [][]string
	more   bool
	err    string
	status int
}

// maxCached bounds the page cache: past it, the cache starts over.
const maxCached = 256

// page1 returns page (1-based) of sqlText's result. The store is
// read-only and sealed while it is served (a writer cannot open it), so a
// page's answer cannot change: pages are cached, and Warm computes the
// first page of every named query before the first request.
func (s *Server) page1(ctx context.Context, sqlText string, page int) sqlPage {
	key := strconv.Itoa(page) + "\x00" + sqlText
	s.mu.Lock()
	if p, ok := s.cache[key]; ok {
		s.mu.Unlock()
		return p
	}
	s.mu.Unlock()
	p := s.runPage(ctx, sqlText, page)
	if p.status != http.StatusServiceUnavailable { // a deadline is not the answer
		s.mu.Lock()
		if len(s.cache) >= maxCached {
			s.cache = map[string]sqlPage{}
		}
		s.cache[key] = p
		s.mu.Unlock()
	}
	return p
}

func (s *Server) runPage(ctx context.Context, sqlText string, page int) sqlPage {
	// The query is cancelled once the page is read: DuckDB then stops
	// instead of computing rows nobody will see.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// DuckDB computes a whole result before its first row: a single
	// SELECT is asked for no more rows than the page needs. If the
	// wrapper does not run (several statements, not a SELECT), the SQL
	// runs as given.
	skip := (page - 1) * s.opt.SQLRows
	rows, err := s.in.Store.Query(ctx, limitSQL(sqlText, skip+s.opt.SQLRows+1))
	if err != nil && ctx.Err() == nil {
		rows, err = s.in.Store.Query(ctx, sqlText)
	}
	if err != nil {
		if statusOf(err) == http.StatusServiceUnavailable {
			return sqlPage{err: deadlineText, status: http.StatusServiceUnavailable}
		}
		return sqlPage{err: err.Error(), status: statusOf(err)}
	}
	var p sqlPage
	p.cols = rows.Columns()
	for i := 0; rows.Next(); i++ {
		if i < skip {
			continue
		}
		if len(p.rows) == s.opt.SQLRows {
			p.more = true
			break
		}
		row := rows.Row()
		cells := make([]string, len(row))
		for j, x := range row {
			cells[j] = cellText(x)
		}
		p.rows = append(p.rows, cells)
	}
	err = rows.Err()
	cancel()
	_ = rows.Close()
	if err != nil {
		return sqlPage{cols: p.cols, err: err.Error(), status: statusOf(err)}
	}
	return p
}

// deadlineText explains a query stopped by the request's deadline.
const deadlineText = "the query did not finish within the request's deadline (serve --request-timeout); DuckDB computes the whole result before the first row, so narrow it with WHERE or LIMIT"

func statusOf(err error) int {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return http.StatusServiceUnavailable
	}
	return http.StatusBadRequest
}

// Warm computes the first page of every named query, so that their pages
// answer at once; it stops at ctx's end. It returns how long it took.
func (s *Server) Warm(ctx context.Context) time.Duration {
	start := time.Now()
	if s.in.Store == nil {
		return 0
	}
	for _, n := range query.NamedQueries() {
		if ctx.Err() != nil {
			break
		}
		if sqlText := n.SQL[s.in.Store.Name()]; sqlText != "" {
			s.page1(ctx, sqlText, 1)
		}
	}
	return time.Since(start)
}

// limitSQL wraps one statement so that it returns at most n rows; the
// newline before ")" ends a trailing -- comment. The store checks the
// wrapper like any statement.
func limitSQL(sqlText string, n int) string {
	body := strings.TrimRight(strings.TrimSpace(sqlText), "; \t\n")
	return "SELECT * FROM (" + body + "\n) AS _page LIMIT " + strconv.Itoa(n)
}
