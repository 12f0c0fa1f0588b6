//go:build faults

package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// settings are the suite's knobs, from the environment (see doc.go).
type settings struct {
	seed          uint64
	kills         int // SIGKILLs per pull source
	endpointKills int
	bombMB        int
	accounts      int
	days          int
}

var cfg settings

// suiteDir holds what the tests share (the binary, the demo, the clean
// reference store); TestMain removes it.
var suiteDir string

// measureEnv makes the test binary a helper that runs a command and
// records its peak RSS (see measured).
const measureEnv = "FAULTS_MEASURE_INTO"

func TestMain(m *testing.M) {
	if path := os.Getenv(measureEnv); path != "" {
		os.Exit(measureChild(path, os.Args[1:]))
	}
	var err error
	if cfg, err = readSettings(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	if suiteDir, err = os.MkdirTemp("", "trailwarden-faults-*"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stdout, "faults: seed %d (FAULTS_SEED=%d repeats this run's choices), %d SIGKILLs per pull source, gzip bomb %d MiB\n",
		cfg.seed, cfg.seed, cfg.kills, cfg.bombMB)
	code := m.Run()
	_ = os.RemoveAll(suiteDir)
	tally.print(code)
	os.Exit(code)
}

func readSettings() (settings, error) {
	s := settings{seed: uint64(time.Now().UnixNano()), kills: 12, endpointKills: 3, bombMB: 1024, accounts: 4, days: 1} //nolint:gosec // a seed
	for _, v := range []struct {
		name string
		dst  *int
		min  int
	}{
		{"FAULTS_KILLS", &s.kills, 1}, {"FAULTS_ENDPOINT_KILLS", &s.endpointKills, 1}, {"FAULTS_BOMB_MB", &s.bombMB, 1},
		{"FAULTS_DEMO_ACCOUNTS", &s.accounts, 3}, {"FAULTS_DEMO_DAYS", &s.days, 1},
	} {
		if raw := os.Getenv(v.name); raw != "" {
			n, err := strconv.Atoi(raw)
			if err != nil || n < v.min {
				return s, fmt.Errorf("faults: %s=%q: want a whole number of at least %d", v.name, raw, v.min)
			}
			*v.dst = n
		}
	}
	if raw := os.Getenv("FAULTS_SEED"); raw != "" {
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return s, fmt.Errorf("faults: FAULTS_SEED=%q: want a whole number", raw)
		}
		s.seed = n
	}
	return s, nil
}

// rng is a test's own random source: the suite's seed and the test's name,
// so one test's choices do not depend on which others ran.
func rng(t *testing.T) *rand.Rand {
	var h uint64 = 14695981039346656037
	for _, c := range []byte(t.Name()) {
		h = (h ^ uint64(c)) * 1099511628211
	}
	return rand.New(rand.NewPCG(cfg.seed, h)) //nolint:gosec // reproducible choices, not secrets
}

// tally collects the suite's figures for the summary TestMain prints.
var tally = &figures{}

type figures struct {
	mu     sync.Mutex
	counts map[string]int
	order  []string
	peakMB float64
	notes  []string
}

// add counts n faults of a kind ("SIGKILLs of pull survived", ...).
func (f *figures) add(kind string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.counts == nil {
		f.counts = map[string]int{}
	}
	if _, ok := f.counts[kind]; !ok {
		f.order = append(f.order, kind)
	}
	f.counts[kind] += n
}

func (f *figures) peak(mb float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.peakMB = max(f.peakMB, mb)
}

func (f *figures) note(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, fmt.Sprintf(format, args...))
}

func (f *figures) print(code int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	total := 0
	for _, k := range f.order {
		total += f.counts[k]
	}
	verdict := "every check held: nothing lost, nothing duplicated, every bad file named"
	if code != 0 {
		verdict = "SOME CHECKS FAILED (see above)"
	}
	fmt.Fprintf(os.Stdout, "faults: %d faults injected (seed %d); %s\n", total, cfg.seed, verdict)
	for _, k := range f.order {
		fmt.Fprintf(os.Stdout, "faults:   %5d %s\n", f.counts[k], k)
	}
	if f.peakMB > 0 {
		fmt.Fprintf(os.Stdout, "faults:   peak RSS of a pull fed a gzip bomb: %.0f MB (limit %d MB)\n", f.peakMB, pullMemoryLimitMB)
	}
	for _, n := range f.notes {
		fmt.Fprintf(os.Stdout, "faults:   %s\n", n)
	}
}

// pullMemoryLimitMB is the bound `trailwarden pull --help` promises: "Memory
// stays bounded whatever the files' sizes: about 450 MB at most with the
// default --jobs."
const pullMemoryLimitMB = 450

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary is TRAILWARDEN_BIN, or trailwarden built once for the suite.
func binary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		if p := os.Getenv("TRAILWARDEN_BIN"); p != "" {
			binPath, binErr = filepath.Abs(p)
			return
		}
		binPath = filepath.Join(suiteDir, "trailwarden")
		cmd := exec.Command("go", "build", "-tags", "duckdb_arrow", "-o", binPath, "github.com/trailwarden/trailwarden/cmd/trailwarden")
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("build trailwarden: %w\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// result is how a run of the binary ended.
type result struct {
	code           int  // exit code; -1 when a signal ended it
	killed         bool // ended by SIGKILL
	stdout, stderr string
	elapsed        time.Duration
}

func (r result) String() string {
	return fmt.Sprintf("exit %d after %v\n--- stdout\n%s--- stderr\n%s", r.code, r.elapsed.Round(time.Millisecond), tail(r.stdout), tail(r.stderr))
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

// start starts the binary; the caller waits with finish.
func start(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer, time.Time) {
	t.Helper()
	cmd := exec.Command(binary(t), args...) //nolint:gosec // the binary under test
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stdout, &stderr, began
}

// finish waits for a started command, killing it after limit.
func finish(t *testing.T, cmd *exec.Cmd, stdout, stderr *bytes.Buffer, began time.Time, limit time.Duration) result {
	t.Helper()
	timer := time.AfterFunc(limit, func() { _ = cmd.Process.Kill() })
	err := cmd.Wait()
	expired := !timer.Stop()
	r := result{stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(began)}
	if expired {
		t.Fatalf("%v still running after %v: killed\n%v", cmd.Args[1:], limit, r)
	}
	r.code, r.killed = exitOf(cmd, err)
	if err != nil && r.code == 0 && !r.killed {
		t.Fatalf("%v: %v", cmd.Args[1:], err)
	}
	return r
}

func exitOf(cmd *exec.Cmd, err error) (code int, killed bool) {
	if cmd.ProcessState == nil {
		return 0, false
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1, ws.Signal() == syscall.SIGKILL
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode(), false
	}
	return cmd.ProcessState.ExitCode(), false
}

// run runs the binary to its end (at most 5 minutes).
func run(t *testing.T, args ...string) result {
	t.Helper()
	cmd, stdout, stderr, began := start(t, args...)
	return finish(t, cmd, stdout, stderr, began, 5*time.Minute)
}

// measured runs the binary through the helper (the test binary itself, see
// TestMain), which records its peak RSS. The helper is needed because
// Linux counts in a child's ru_maxrss the peak RSS of the process that
// started it, until its exec.
func measured(t *testing.T, args ...string) (result, float64) {
	t.Helper()
	stats := filepath.Join(t.TempDir(), "peak")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, append([]string{binary(t)}, args...)...) //nolint:gosec // the test binary as the helper
	cmd.Env = append(os.Environ(), measureEnv+"="+stats)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := finish(t, cmd, &stdout, &stderr, began, 10*time.Minute)
	raw, err := os.ReadFile(stats)
	if err != nil {
		t.Fatalf("helper wrote no figures: %v\n%v", err, r)
	}
	var kb int64
	var code int
	if _, err := fmt.Sscan(string(raw), &kb, &code); err != nil {
		t.Fatal(err)
	}
	r.code = code
	return r, float64(kb) / 1024
}

// measureChild is the helper: it runs argv, passing its output through,
// and writes the child's peak RSS (KB) and exit code into path.
func measureChild(path string, argv []string) int {
	cmd := exec.Command(argv[0], argv[1:]...) //nolint:gosec // the suite's own command
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err := cmd.Run()
	code, _ := exitOf(cmd, err)
	if cmd.ProcessState == nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	kb := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	if err := os.WriteFile(path, fmt.Appendf(nil, "%d %d", kb, code), 0o600); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// storeState is what a store holds, as far as the checks need.
type storeState struct {
	Events          int64  `json:"events"`
	DistinctIDs     int64  `json:"distinct_ids"`
	Files           int64  `json:"files"`
	FilesTwice      int64  `json:"files_twice"`
	FilesMismatched int64  `json:"files_mismatched"`
	OrphanEvents    int64  `json:"orphan_events"`
	IDHash          string `json:"id_hash"`
	FileHash        string `json:"file_hash"`
}

// stateSQL reads a duckdb's state in one query. A file's records (events
// plus duplicates dropped) do not depend on the order files were loaded
// in, its events do (which copy of a duplicated event is kept), so the
// file hash is over records.
const stateSQL = `WITH f AS (SELECT key, events, count(*) OVER (PARTITION BY key) AS c FROM ingested_files),
e AS (SELECT source_key, count(*) AS n FROM events GROUP BY source_key)
SELECT
  (SELECT count(*) FROM events) AS events,
  (SELECT count(DISTINCT (event_id, recipient_account_id)) FROM events) AS distinct_ids,
  (SELECT count(*) FROM ingested_files) AS files,
  (SELECT count(*) FROM f WHERE c > 1) AS files_twice,
  (SELECT count(*) FROM f LEFT JOIN e ON e.source_key = f.key WHERE coalesce(e.n, 0) <> f.events) AS files_mismatched,
  (SELECT coalesce(sum(n), 0) FROM e WHERE source_key NOT IN (SELECT key FROM ingested_files)) AS orphan_events,
  (SELECT coalesce(md5(string_agg(event_id || '/' || coalesce(recipient_account_id, ''), ',' ORDER BY event_id, recipient_account_id)), '')
     FROM events) AS id_hash,
  (SELECT coalesce(md5(string_agg(key || ':' || (events + duplicates), ',' ORDER BY key)), '') FROM ingested_files) AS file_hash`

// state reads a duckdb's state; a store that does not exist (a pull that
// failed before committing removes the one it created) or was created
// without its schema yet (or left empty by a kill while DuckDB created
// it) is empty.
func state(t *testing.T, db string) storeState {
	t.Helper()
	if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
		return storeState{}
	}
	r := run(t, "query", "--db", db, "--format", "jsonl", stateSQL)
	if r.code != 0 {
		if strings.Contains(r.stderr, "no schema") || strings.Contains(r.stderr, "the store file is empty") {
			return storeState{}
		}
		t.Fatalf("query the store's state: %v", r)
	}
	var s storeState
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &s); err != nil {
		t.Fatalf("state: %v\n%s", err, r.stdout)
	}
	return s
}

// consistent is the invariant of a store at any moment, even right after
// a SIGKILL: each file recorded once with exactly its events, no event of
// an unrecorded file, no event twice.
func (s storeState) consistent() error {
	var problems []string
	if s.Events != s.DistinctIDs {
		problems = append(problems, fmt.Sprintf("%d events but %d distinct ids", s.Events, s.DistinctIDs))
	}
	if s.FilesTwice != 0 {
		problems = append(problems, fmt.Sprintf("%d files recorded twice", s.FilesTwice))
	}
	if s.FilesMismatched != 0 {
		problems = append(problems, fmt.Sprintf("%d files whose events differ from what is recorded for them", s.FilesMismatched))
	}
	if s.OrphanEvents != 0 {
		problems = append(problems, fmt.Sprintf("%d events of files not recorded", s.OrphanEvents))
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// same says whether two consistent stores hold the same events from the
// same files.
func (s storeState) same(o storeState) bool {
	return s.Events == o.Events && s.Files == o.Files && s.IDHash == o.IDHash && s.FileHash == o.FileHash
}

func (s storeState) String() string {
	return fmt.Sprintf("%d events (%d distinct ids, hash %.8s) from %d files (hash %.8s)", s.Events, s.DistinctIDs, s.IDHash, s.Files, s.FileHash)
}

// pullSummary is the part of pull --format json the checks read.
type pullSummary struct {
	OK       bool `json:"ok"`
	Listed   int  `json:"listed"`
	Loaded   int  `json:"loaded"`
	Events   int  `json:"events"`
	Verified bool `json:"verified"`
	Bad      []struct {
		Key     string `json:"key"`
		Problem string `json:"problem"`
	} `json:"bad"`
}

func summary(t *testing.T, r result) pullSummary {
	t.Helper()
	var s pullSummary
	if err := json.Unmarshal([]byte(r.stdout), &s); err != nil {
		t.Fatalf("pull summary: %v\n%v", err, r)
	}
	return s
}

// fixture is the demo organization every test pulls, and what a clean pull
// of it stores.
type fixture struct {
	dir          string // the demo folder
	keys         string // its public keys
	since, until string
	logFiles     []string // its log files' keys
	clean        storeState
	cleanDB      string
	pullDuration time.Duration // of a clean, whole pull
	demoArgs     []string
}

var (
	fixOnce sync.Once
	fix     *fixture
	fixErr  error
)

// demo returns the suite's demo organization and its clean pull, made once.
func demo(t *testing.T) *fixture {
	t.Helper()
	fixOnce.Do(func() { fix, fixErr = makeFixture(t) })
	if fixErr != nil {
		t.Fatal(fixErr)
	}
	return fix
}

func makeFixture(t *testing.T) (*fixture, error) {
	f := &fixture{dir: filepath.Join(suiteDir, "demo")}
	start := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
	f.since, f.until = start.Format(time.RFC3339), start.AddDate(0, 0, cfg.days).Format(time.RFC3339)
	f.demoArgs = []string{"--accounts", strconv.Itoa(cfg.accounts), "--regions", "us-east-1,eu-west-1", "--days", strconv.Itoa(cfg.days),
		"--events-per-hour", "24", "--seed", strconv.FormatUint(cfg.seed%1000003+1, 10), "--since", start.Format(time.DateOnly)}
	if r := run(t, append([]string{"demo", "--out", f.dir}, f.demoArgs...)...); r.code != 0 {
		return nil, fmt.Errorf("demo: %v", r)
	}
	f.keys = filepath.Join(f.dir, ".trailwarden", "public-keys.json")
	err := filepath.WalkDir(filepath.Join(f.dir, "AWSLogs"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, "/CloudTrail/") && strings.HasSuffix(p, ".json.gz") {
			rel, _ := filepath.Rel(f.dir, p)
			f.logFiles = append(f.logFiles, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	f.cleanDB = filepath.Join(suiteDir, "clean.duckdb")
	r := run(t, f.pullArgs(f.dir, f.cleanDB, f.until)...)
	if r.code != 0 {
		return nil, fmt.Errorf("clean pull: %v", r)
	}
	f.pullDuration = r.elapsed
	f.clean = state(t, f.cleanDB)
	if err := f.clean.consistent(); err != nil {
		return nil, fmt.Errorf("clean pull: %w", err)
	}
	if s := summary(t, r); s.Loaded != len(f.logFiles) || int64(s.Loaded) != f.clean.Files {
		return nil, fmt.Errorf("clean pull loaded %d files, the demo has %d, the store records %d", s.Loaded, len(f.logFiles), f.clean.Files)
	}
	tally.note("demo organization: %d accounts x 2 regions x %d days, %d log files, %d events; a clean pull takes %v",
		cfg.accounts, cfg.days, len(f.logFiles), f.clean.Events, r.elapsed.Round(10*time.Millisecond))
	return f, nil
}

// pullArgs pulls source (a folder or s3://...) into db, from the demo's
// start to until, with its public keys, the summary as JSON.
func (f *fixture) pullArgs(source, db, until string, extra ...string) []string {
	return append([]string{"pull", "--source", source, "--db", db, "--public-keys", f.keys, "--since", f.since, "--until", until,
		"--format", "json"}, extra...)
}

// copyDemo copies the demo folder, for a test that damages it.
func (f *fixture) copyDemo(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "demo")
	err := filepath.WalkDir(f.dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(f.dir, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// isolate gives the binaries this test runs a temporary folder of their
// own (nothing is left in the system's) and no AWS configuration of the
// machine.
func isolate(t *testing.T) string {
	t.Helper()
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_PROFILE": "", "AWS_DEFAULT_PROFILE": "", "AWS_CONFIG_FILE": filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"), "AWS_EC2_METADATA_DISABLED": "true"} {
		t.Setenv(k, v)
	}
	return tmp
}

// leftovers counts what pulls left in a temporary folder.
func leftovers(dir string) int {
	entries, _ := os.ReadDir(dir)
	return len(entries)
}

// contextFor is a context that ends with the test.
func contextFor(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return ctx
}
