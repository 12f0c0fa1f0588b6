//go:build faults

package faulttest

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

// TestFaultsKillPull kills pulls with SIGKILL at random moments, as a
// crash, an OOM kill or a power cut would, and resumes them: from a demo
// folder and from MinIO. The pulls run as an operator runs them, window
// after window (every 6 hours of the demo), each resumed
// after every kill until it completes. After every kill the store must be
// consistent (each file recorded once, with exactly its events, no event
// twice); after the last window it must hold exactly what one clean pull
// of the whole range holds. Kill moments are drawn from the seed: a
// uniform moment of the pull, or one near its end, where it commits.
func TestFaultsKillPull(t *testing.T) {
	f := demo(t)
	sources := []struct {
		name  string
		setup func(t *testing.T) (source string, extra []string)
	}{
		{"folder", func(*testing.T) (string, []string) { return f.dir, nil }},
		{"minio", func(t *testing.T) (string, []string) {
			srv := miniotest.Start(t)
			srv.SetEnv(t)
			srv.CreateBucket(t, "demo-bucket")
			if r := run(t, append([]string{"demo", "--s3", "s3://demo-bucket", "--endpoint-url", srv.Endpoint}, f.demoArgs...)...); r.code != 0 {
				t.Fatalf("demo into MinIO: %v", r)
			}
			return "s3://demo-bucket", []string{"--endpoint-url", srv.Endpoint}
		}},
	}
	for _, src := range sources {
		t.Run(src.name, func(t *testing.T) {
			tmp := isolate(t)
			source, extra := src.setup(t)
			k := &killer{t: t, f: f, r: rng(t), db: filepath.Join(t.TempDir(), "trail.duckdb"),
				args: func(db, until string) []string { return f.pullArgs(source, db, until, extra...) }}
			k.run(cfg.kills)
			tally.add("SIGKILLs of a pull survived ("+src.name+")", k.kills)
			t.Logf("%s: %d SIGKILLs in %d pulls over %d rounds (%d after the pull had committed), every store consistent after each, "+
				"each round's store equal to a clean pull: %v", src.name, k.kills, k.pulls, k.rounds, k.afterCommit, f.clean)
			// Downloads live in the duckdb's own temporary folder, never
			// the system's: killed pulls leave nothing there.
			if n := leftovers(tmp); n > 0 {
				t.Errorf("%s: killed pulls left %d entries in the system's temporary folder", src.name, n)
			}
		})
	}
}

// killer runs pulls window by window, killing some at random.
type killer struct {
	t     *testing.T
	f     *fixture
	r     *rand.Rand
	db    string
	args  func(db, until string) []string
	kills int
	pulls int
	// rounds is how many times the whole range was pulled into a new
	// store, each round killed at other moments.
	rounds int
	// completed are the durations of the pulls that were not killed.
	completed []time.Duration
	// afterCommit counts the kills that hit a pull after it committed its
	// files, while it closed the store.
	afterCommit int
}

// typical is how long a pull of a window takes from this source: the mean
// of those that completed, or at first the clean pull of the whole range
// from the folder.
func (k *killer) typical() time.Duration {
	if len(k.completed) == 0 {
		return k.f.pullDuration
	}
	var sum time.Duration
	for _, d := range k.completed {
		sum += d
	}
	return sum / time.Duration(len(k.completed))
}

// windows are the ends of the pulls of one round: every 6 hours of the
// demo, then its end.
func (k *killer) windows() []string {
	since, _ := time.Parse(time.RFC3339, k.f.since)
	until, _ := time.Parse(time.RFC3339, k.f.until)
	var out []string
	for w := since.Add(6 * time.Hour); w.Before(until); w = w.Add(6 * time.Hour) {
		out = append(out, w.Format(time.RFC3339))
	}
	return append(out, k.f.until)
}

// run pulls rounds until at least kills SIGKILLs have hit a running pull.
func (k *killer) run(kills int) {
	t := k.t
	windows := k.windows()
	for k.kills < kills {
		k.rounds++
		k.reset()
		files := int64(0) // in the store before the current pull
		for _, w := range windows {
			for attempt := 1; ; attempt++ {
				// Every fourth attempt runs to its end: a machine slower
				// than the estimate must not kill every pull.
				delay := time.Duration(-1)
				if attempt%4 != 0 {
					delay = k.moment(k.typical())
				}
				cmd, stdout, stderr, began := start(t, k.args(k.db, w)...)
				var timer *time.Timer
				if delay >= 0 {
					timer = time.AfterFunc(delay, func() { _ = cmd.Process.Kill() })
				}
				res := finish(t, cmd, stdout, stderr, began, 5*time.Minute)
				if timer != nil {
					timer.Stop()
				}
				k.pulls++
				if res.killed {
					k.kills++
					got := state(t, k.db)
					if err := got.consistent(); err != nil {
						t.Fatalf("round %d, pull to %s killed after %v: the store is inconsistent: %v", k.rounds, w, delay, err)
					}
					if got.Files > files {
						k.afterCommit++ // killed between its commit and its exit
					}
					files = got.Files
					continue
				}
				if res.code != 0 {
					t.Fatalf("round %d, pull to %s after %d kills: %v", k.rounds, w, attempt-1, res)
				}
				k.completed = append(k.completed, res.elapsed)
				files = state(t, k.db).Files
				break
			}
		}
		k.expectClean("round " + strconv.Itoa(k.rounds))
	}
}

// moment is when to kill a pull that takes about d: a uniform moment of
// 1.2 times its length, or, one time in three, one near its end, where it
// commits and checkpoints. About a pull in four completes on its own.
func (k *killer) moment(d time.Duration) time.Duration {
	if k.r.IntN(3) == 0 {
		return time.Duration(float64(d) * (0.8 + 0.4*k.r.Float64()))
	}
	return time.Duration(float64(d) * 1.2 * k.r.Float64())
}

// reset starts a round with no store.
func (k *killer) reset() {
	matches, _ := filepath.Glob(k.db + "*")
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			k.t.Fatal(err)
		}
	}
}

func (k *killer) expectClean(what string) {
	t := k.t
	got := state(t, k.db)
	if err := got.consistent(); err != nil {
		t.Fatalf("%s: the store is inconsistent: %v", what, err)
	}
	if !got.same(k.f.clean) {
		t.Fatalf("%s: the store holds %v; a clean pull holds %v", what, got, k.f.clean)
	}
	// The pull that completed removed what the killed ones left in the
	// duckdb's temporary folder.
	if n := leftovers(k.db + ".tmp"); n > 0 {
		t.Fatalf("%s: %d entries left in %s.tmp after a completed pull", what, n, k.db)
	}
}
