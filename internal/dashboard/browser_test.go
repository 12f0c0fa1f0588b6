package dashboard_test

// End-to-end tests in a real browser: Debian's headless Chromium, driven
// by chromedp, against `trailwarden serve` and `trailwarden report` on a
// demo organization with a planted gap and a damaged log file. They are
// never skipped: without chromium they fail, saying how to install it.
// Screenshots of every page go to out/screenshots (or
// $TRAILWARDEN_SCREENSHOTS).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/trailwarden/trailwarden/internal/cli"
)

// chromium finds the browser, or fails the test saying how to install it.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Fatal("chromium not found: the browser tests need Debian's chromium; install it with `make setup` (or, as root: apt-get install -y chromium)")
	return ""
}

func screenshotDir(t testing.TB) string {
	dir := os.Getenv("TRAILWARDEN_SCREENSHOTS")
	if dir == "" {
		dir = filepath.Join("..", "..", "out", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	abs, _ := filepath.Abs(dir)
	t.Logf("screenshots in %s", abs)
	return dir
}

func run(t testing.TB, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Execute(context.Background(), args, strings.NewReader(""), &out, &errb)
	return out.String(), errb.String(), code
}

// demoOrg writes a demo organization with one digest deleted (a planted
// gap) and one log file modified, and pulls it into a store.
type demoOrg struct {
	dir, bucket, db, config, snapshot string
	extra                             []string // more serve flags
}

func newDemoOrg(t *testing.T) demoOrg {
	t.Helper()
	dir := t.TempDir()
	d := demoOrg{dir: dir, bucket: filepath.Join(dir, "bucket"), db: filepath.Join(dir, "trail.duckdb")}
	d.config = filepath.Join(d.bucket, ".trailwarden", "trailwarden.yaml")
	d.snapshot = filepath.Join(d.bucket, ".trailwarden", "snapshot.json")
	if o, e, code := run(t, "demo", "--out", d.bucket, "--accounts", "5", "--regions", "us-east-1,eu-west-1", "--days", "2",
		"--tamper", "break-chain", "--tamper", "modify"); code != 0 {
		t.Fatalf("demo: exit %d\n%s%s", code, o, e)
	}
	// Pull exits 1 naming the damaged files; it loads the rest.
	if o, e, code := run(t, "pull", "--source", d.bucket, "--db", d.db); code != 1 || !strings.Contains(o+e, "bad: ") {
		t.Fatalf("pull of the damaged demo: exit %d, want 1 naming the bad files\n%s%s", code, o, e)
	}
	return d
}

func (d demoOrg) args() []string {
	return []string{"--db", d.db, "--config", d.config, "--snapshot", d.snapshot, "--source", d.bucket}
}

// cliVerdicts are what the commands print about the demo: the answers the
// overview must give.
type cliVerdicts struct {
	coverageOK, verifyOK, auditOK bool
	gapAccount, gapRegion         string
	gapStart                      time.Time
	events                        int64
	// detections is the overview's fourth answer as trailwarden detect
	// gives it (ok, problem or unknown), with its detections.
	detections      string
	detectionCount  int
	detectionEvents map[string]bool
}

func verdicts(t *testing.T, d demoOrg) cliVerdicts {
	t.Helper()
	var v cliVerdicts
	out, _, _ := run(t, "coverage", "--source", d.bucket, "--format", "json")
	var cov struct {
		OK   bool `json:"ok"`
		Gaps []struct {
			Account string    `json:"account"`
			Region  string    `json:"region"`
			Start   time.Time `json:"start"`
		} `json:"gaps"`
	}
	if err := json.Unmarshal([]byte(out), &cov); err != nil {
		t.Fatalf("coverage json: %v\n%s", err, out)
	}
	if len(cov.Gaps) == 0 {
		t.Fatal("the demo's planted gap (--tamper break-chain) is not in coverage's output")
	}
	v.coverageOK = cov.OK
	v.gapAccount, v.gapRegion, v.gapStart = cov.Gaps[0].Account, cov.Gaps[0].Region, cov.Gaps[0].Start
	out, _, _ = run(t, "verify", "--source", d.bucket, "--format", "json")
	var ver struct {
		OK bool `json:"ok"`
	}
	if err := json.Unmarshal([]byte(out), &ver); err != nil {
		t.Fatalf("verify json: %v\n%s", err, out)
	}
	v.verifyOK = ver.OK
	_, _, code := run(t, "audit", "--config", d.config, "--snapshot", d.snapshot, "--format", "json")
	v.auditOK = code == 0
	out, _, code = run(t, "query", "--db", d.db, "--format", "json", "SELECT count(*) AS n FROM events")
	var n []struct {
		N int64 `json:"n"`
	}
	if err := json.Unmarshal([]byte(out), &n); err != nil || len(n) != 1 || code != 0 {
		t.Fatalf("query count: exit %d %v\n%s", code, err, out)
	}
	v.events = n[0].N
	out, _, _ = run(t, "detect", "--db", d.db, "--config", d.config, "--fail-on", "informational", "--format", "json")
	var det struct {
		Verdict    string `json:"verdict"`
		Detections []struct {
			EventIDs []string `json:"event_ids"`
		} `json:"detections"`
	}
	if err := json.Unmarshal([]byte(out), &det); err != nil {
		t.Fatalf("detect json: %v\n%s", err, out)
	}
	v.detections = map[string]string{"detections": "problem", "clear": "ok", "unknown": "unknown"}[det.Verdict]
	v.detectionCount = len(det.Detections)
	if len(det.Detections) == 0 {
		t.Fatalf("detect found nothing on the demo, which plants a trigger for every pipeline rule:\n%s", out)
	}
	v.detectionEvents = map[string]bool{}
	for _, d := range det.Detections {
		for _, id := range d.EventIDs {
			v.detectionEvents[id] = true
		}
	}
	return v
}

// serve starts `trailwarden serve` in-process on a free loopback port and
// returns its address.
func serve(t testing.TB, d demoOrg) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errb bytes.Buffer
	go func() {
		args := append(append([]string{"serve", "--listen", "127.0.0.1:0"}, d.args()...), d.extra...)
		done <- cli.Execute(ctx, args, strings.NewReader(""), pw, &errb)
		_ = pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("serve did not stop after its context was cancelled")
		}
	})
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatalf("serve printed no address: %v\n%s", err, errb.String())
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()
	const prefix = "trailwarden dashboard at "
	if !strings.HasPrefix(line, prefix) || !strings.Contains(line, "(Ctrl-C to stop)") {
		t.Fatalf("serve's first line: %q", line)
	}
	addr := strings.Fields(strings.TrimPrefix(line, prefix))[0]
	if !strings.HasPrefix(addr, "http://127.0.0.1:") {
		t.Fatalf("serve listens on %s, want loopback", addr)
	}
	return strings.TrimSuffix(addr, "/")
}

// browser is a headless Chromium tab that records console errors and
// every request.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	errors   []string
	requests []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true), chromedp.WindowSize(1280, 900))
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, tcancel := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { tcancel(); cancel(); acancel() })
	b := &browser{ctx: ctx}
	if err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning {
				b.errors = append(b.errors, fmt.Sprintf("console.%s", ev.Type))
			}
		case *runtime.EventExceptionThrown:
			b.errors = append(b.errors, "exception: "+ev.ExceptionDetails.Text)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				b.errors = append(b.errors, fmt.Sprintf("%s %s: %s (%s)", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			b.requests = append(b.requests, ev.Request.URL)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return b
}

func (b *browser) takeErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.errors
	b.errors = nil
	return e
}

// visit loads url, waits for main, checks the console stayed clean and
// saves a full-page screenshot.
func (b *browser) visit(t *testing.T, url, shot string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(url), chromedp.WaitVisible(chromedp.CSS("main"))); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	// Console entries of a load can arrive just after it.
	if err := chromedp.Do(b.ctx, chromedp.Sleep(150*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if errs := b.takeErrors(); len(errs) > 0 {
		t.Errorf("%s: console errors:\n  %s", url, strings.Join(errs, "\n  "))
	}
	// Every control is labelled.
	unlabelled, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('select,textarea,input,button')].filter(e => e.tagName !== 'BUTTON' && !(e.labels && e.labels.length)).length`))
	if err != nil || unlabelled != 0 {
		t.Errorf("%s: %d controls without a label (%v)", url, unlabelled, err)
	}
	if shot != "" {
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", url, err)
		}
		if err := os.WriteFile(filepath.Join(screenshotDir(t), shot), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (b *browser) eval(t *testing.T, js string) any {
	t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		t.Fatalf("eval %s: %v", js, err)
	}
	return v
}

func state(ok bool) string {
	if ok {
		return "ok"
	}
	return "problem"
}

func TestBrowser_Dashboard(t *testing.T) {
	b := newBrowser(t)
	d := newDemoOrg(t)
	want := verdicts(t, d)
	base := serve(t, d)

	// Overview: the four answers are the CLI's verdicts.
	b.visit(t, base+"/", "01-overview.png")
	answers := b.eval(t, `[...document.querySelectorAll('.answer .a')].map(e => e.dataset.answer)`).([]any)
	wantAnswers := []string{state(want.coverageOK), state(want.verifyOK), state(want.auditOK), want.detections}
	if fmt.Sprint(answers) != fmt.Sprint(wantAnswers) {
		t.Errorf("overview answers %v, want %v (coverage, verify, audit, detections as the CLI prints them)", answers, wantAnswers)
	}
	if want.coverageOK || want.verifyOK {
		t.Errorf("the demo's planted gap and damaged file should fail coverage and verify; the CLI says coverage ok=%v, verify ok=%v", want.coverageOK, want.verifyOK)
	}
	// Keyboard: the first Tab reaches the skip link, the next ones the
	// navigation, in order.
	if err := chromedp.Do(b.ctx, chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if got := b.eval(t, `document.activeElement.className`); got != "skip" {
		t.Errorf("the first Tab focuses %v, want the skip link", got)
	}
	if err := chromedp.Do(b.ctx, chromedp.KeyEvent("\t"), chromedp.KeyEvent("\t")); err != nil {
		t.Fatal(err)
	}
	if got := b.eval(t, `document.activeElement.getAttribute('href')`); got != "/coverage" {
		t.Errorf("the third Tab focuses %v, want the Coverage link", got)
	}
	if txt := b.text(t, ".answers"); want.detections == "problem" && !strings.Contains(txt, fmt.Sprintf("%d detections", want.detectionCount)) {
		t.Errorf("the detections answer does not give detect's count (%d):\n%s", want.detectionCount, txt)
	}

	// Coverage: the planted gap is on the heat map (colour and symbol),
	// and its drill-down shows the missing hour.
	b.visit(t, base+"/coverage", "02-coverage.png")
	label := fmt.Sprintf("%s %s %s: hours with no digest", want.gapAccount, want.gapRegion, want.gapStart.Format("2006-01-02"))
	n := b.eval(t, fmt.Sprintf(`[...document.querySelectorAll('svg.heat a')].filter(a => a.getAttribute('aria-label') === %q && a.querySelector('rect').dataset.state === 'gap' && a.querySelector('text').textContent === '✗').length`, label))
	if n != float64(1) {
		t.Errorf("the heat map has %v cells labelled %q with the gap colour and ✗, want 1", n, label)
	}
	b.visit(t, fmt.Sprintf("%s/coverage/cell?account=%s&region=%s", base, want.gapAccount, want.gapRegion), "03-coverage-cell.png")
	hour := want.gapStart.Format("15:04Z")
	if got := b.eval(t, `[...document.querySelectorAll('td.h.state-gap')].map(e => e.title).join('|')`); !strings.Contains(got.(string), hour+": hours with no digest") {
		t.Errorf("drill-down of %s %s: gap hours %q, want %s among them", want.gapAccount, want.gapRegion, got, hour)
	}

	b.visit(t, base+"/audit", "04-audit.png")
	if txt := b.text(t, "table.findings"); !strings.Contains(txt, "fix:") || !strings.Contains(txt, "fail") {
		t.Errorf("audit page shows no failing finding with a fix:\n%.500s", txt)
	}
	b.visit(t, base+"/audit?status=pass&severity=&standard=", "")
	if got := b.eval(t, `[...document.querySelectorAll('table.findings tbody tr')].filter(r => !r.classList.contains('st-pass')).length`); got != float64(0) {
		t.Errorf("filter status=pass shows %v rows that do not pass", got)
	}
	b.visit(t, base+"/access", "05-access.png")
	if txt := b.text(t, "main"); !strings.Contains(txt, "PROVEN") || !strings.Contains(txt, "s3:PutObject") {
		t.Errorf("access page lacks the proof's verdict or matrix:\n%.500s", txt)
	}
	b.visit(t, base+"/detections", "06-detections.png")
	// The same detections trailwarden detect prints: one row each, and
	// the events behind them.
	// A page of at most 100, the most severe first, out of detect's total.
	if n := b.eval(t, `document.querySelectorAll('main table tbody tr').length`); n != float64(min(want.detectionCount, 100)) {
		t.Errorf("detections page has %v rows, want %d of detect's %d", n, min(want.detectionCount, 100), want.detectionCount)
	}
	if txt := b.text(t, "#detections-summary"); !strings.Contains(txt, fmt.Sprintf(" of %d,", want.detectionCount)) {
		t.Errorf("detections summary %q does not give detect's total %d", txt, want.detectionCount)
	}
	// Every event the page names is one detect names (in a closed
	// <details>: its text is in the page, not on screen).
	ids := b.eval(t, `[...document.querySelectorAll('main li.key')].map(e => e.textContent)`).([]any)
	if len(ids) == 0 {
		t.Errorf("the detections page lists no events")
	}
	for _, id := range ids {
		if !want.detectionEvents[id.(string)] {
			t.Errorf("the detections page lists event %v, which trailwarden detect does not name", id)
			break
		}
	}
	b.visit(t, base+"/queries", "07-queries.png")

	// The SQL console: typed and run from the page, then a write refused.
	b.visit(t, base+"/sql", "")
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS("#q"), "SELECT count(*) AS n FROM events"),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#sql-summary"))); err != nil {
		t.Fatalf("run a query from the console: %v", err)
	}
	if got := b.text(t, "table.result tbody td"); got != fmt.Sprint(want.events) {
		t.Errorf("console count(*) = %q, the CLI's query says %d", got, want.events)
	}
	if errs := b.takeErrors(); len(errs) > 0 {
		t.Errorf("console query: console errors: %v", errs)
	}
	png, _ := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	_ = os.WriteFile(filepath.Join(screenshotDir(t), "08-sql.png"), png, 0o644)
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS("#q"), "DELETE FROM events"),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#sql-error"))); err != nil {
		t.Fatalf("a write from the console shows no error: %v", err)
	}
	b.takeErrors() // the 400 of the refused write is logged by the browser
	png, _ = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	_ = os.WriteFile(filepath.Join(screenshotDir(t), "09-sql-refused.png"), png, 0o644)
	if got := want.events; got == 0 {
		t.Fatal("the demo store is empty")
	}
	if txt := b.text(t, "#sql-error"); !strings.Contains(txt, "read-only") {
		t.Errorf("the refused write says %q", txt)
	}
	b.visit(t, base+"/sql?q="+url.QueryEscape("SELECT count(*) AS n FROM events"), "")
	if got := b.text(t, "table.result tbody td"); got != fmt.Sprint(want.events) {
		t.Errorf("events after the refused DELETE: %s, before %d", got, want.events)
	}
}

func TestBrowser_ReportOffline(t *testing.T) {
	b := newBrowser(t)
	d := newDemoOrg(t)
	want := verdicts(t, d)
	out := filepath.Join(d.dir, "report.html")
	if o, e, code := run(t, append([]string{"report", "--out", out}, d.args()...)...); code != 0 {
		t.Fatalf("report: exit %d\n%s%s", code, o, e)
	}
	st, err := os.Stat(out)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("report file: %v, mode %v, want 0600", err, st.Mode())
	}
	b.mu.Lock()
	b.requests = nil
	b.mu.Unlock()
	b.visit(t, "file://"+out, "10-report.png")
	top, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(screenshotDir(t), "11-report-top.png"), top, 0o644)
	// As it prints: no navigation, black on white, the same answers.
	if err := chromedp.Do(b.ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if v := b.eval(t, `getComputedStyle(document.querySelector('header nav')).display`); v != "none" {
		t.Errorf("in print the navigation is %v, want hidden", v)
	}
	printed, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	_ = os.WriteFile(filepath.Join(screenshotDir(t), "12-report-print.png"), printed, 0o644)
	b.mu.Lock()
	for _, u := range b.requests {
		if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the report requested %s: it must open offline", u)
		}
	}
	b.mu.Unlock()
	answers := b.eval(t, `[...document.querySelectorAll('.answer .a')].map(e => e.dataset.answer)`).([]any)
	if fmt.Sprint(answers) != fmt.Sprint([]string{state(want.coverageOK), state(want.verifyOK), state(want.auditOK), want.detections}) {
		t.Errorf("report answers %v", answers)
	}
	if n := b.eval(t, `document.querySelectorAll('svg.heat rect[data-state=gap]').length`); n == float64(0) {
		t.Error("the report's heat map shows no gap")
	}
	if n := b.eval(t, `document.querySelectorAll('script').length`); n != float64(0) {
		t.Errorf("the report has %v scripts", n)
	}
	// The gap's drill-down is in the file.
	if n := b.eval(t, fmt.Sprintf(`document.querySelectorAll('#cell-%s-%s td.h.state-gap').length`, want.gapAccount, want.gapRegion)); n == float64(0) {
		t.Error("the report lacks the hours of the account-region with the gap")
	}
}

// The SQL console cannot change the store or reach files or the network:
// each of these answers an error and the store keeps every event.
func TestSQLConsole_RefusesWritesFilesAndNetwork(t *testing.T) {
	d := newDemoOrg(t)
	want := verdicts(t, d)
	// Before serve opens the store: one process opens it once.
	cliOut, _, _ := run(t, "query", "--db", d.db, "--named", "root-activity", "--format", "csv")
	base := serve(t, d)
	outside := filepath.Join(d.dir, "leaked.csv")
	for _, q := range []string{
		"DELETE FROM events",
		"DROP TABLE events",
		"INSERT INTO events SELECT * FROM events LIMIT 1",
		"UPDATE events SET event_name = 'x'",
		"CREATE TABLE x AS SELECT 1",
		"COPY events TO '" + outside + "'",
		"COPY (SELECT 1) TO '" + outside + "'",
		"ATTACH '" + filepath.Join(d.dir, "other.duckdb") + "' AS other",
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM read_text('" + d.config + "')",
		"INSTALL httpfs",
		"SELECT * FROM read_json('http://127.0.0.1:1/x.json')",
		"SET enable_external_access = true",
		"SELECT 1; DELETE FROM events",
	} {
		for _, path := range []string{"/sql?q=", "/sql.csv?q="} {
			resp, err := http.Get(base + path + url.QueryEscape(q))
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s%s: %d, want 400\n%.300s", path, q, resp.StatusCode, body)
			}
		}
	}
	// A page asks DuckDB for no more rows than it shows: the rows and
	// their order are the CLI's.
	b, err := http.Get(base + "/sql.csv?named=root-activity")
	if err != nil {
		t.Fatal(err)
	}
	csvBody, _ := io.ReadAll(b.Body)
	_ = b.Body.Close()
	if string(csvBody) != cliOut {
		t.Errorf("CSV of root-activity differs from the CLI's:\n%.300s\nvs\n%.300s", csvBody, cliOut)
	}
	page, err := http.Get(base + "/sql?named=root-activity&page=2")
	if err != nil {
		t.Fatal(err)
	}
	pageBody, _ := io.ReadAll(page.Body)
	_ = page.Body.Close()
	lines := strings.Split(strings.TrimSpace(cliOut), "\n")
	if len(lines) > 101 {
		// Row 101 (the first of page 2) starts with its time, as the CLI prints it.
		first := strings.SplitN(lines[101], ",", 2)[0]
		if !strings.Contains(string(pageBody), "<td>"+first+"</td>") {
			t.Errorf("page 2 of root-activity lacks the CLI's row 101 (%s)", first)
		}
	}
	if _, err := os.Stat(outside); !os.IsNotExist(err) {
		t.Errorf("COPY wrote %s (%v)", outside, err)
	}
	resp, err := http.Get(base + "/sql.csv?q=" + url.QueryEscape("SELECT count(*) AS n FROM events"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if got := string(body); got != fmt.Sprintf("n\n%d\n", want.events) || resp.Header.Get("Content-Disposition") == "" {
		t.Errorf("count after the refused statements, as CSV: %q, want %d", got, want.events)
	}
}
