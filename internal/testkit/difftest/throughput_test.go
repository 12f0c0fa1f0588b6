package difftest

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/testkit/oracle"
)

// throughputTarget is the speed-up over the oracle the project asks of the
// evaluator.
const throughputTarget = 100

// bucketCases are the generated bucket-policy cases, compiled.
func bucketCases(tb testing.TB) []*tcase {
	tb.Helper()
	var out []*tcase
	for _, c := range generatedCases(tb) {
		if strings.HasSuffix(c.source, "/bucket") {
			if _, err := c.set.evaluator(); err != nil {
				tb.Fatalf("%s: %v", c.id, err)
			}
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		tb.Fatal("no generated bucket-policy cases")
	}
	return out
}

// evaluateAll runs trailwarden over the cases until at least minDur has
// passed and returns evaluations per second.
func evaluateAll(cases []*tcase, minDur time.Duration) (perSecond float64, n int) {
	evs := make([]*eval.Evaluator, len(cases))
	for i, c := range cases {
		evs[i], _ = c.set.evaluator()
	}
	began := time.Now()
	for time.Since(began) < minDur {
		for i, c := range cases {
			_ = evs[i].Evaluate(c.req)
		}
		n += len(cases)
	}
	return float64(n) / time.Since(began).Seconds(), n
}

// TestThroughputRatio measures, in the same run and on the same generated
// bucket-policy cases, the oracle's simulations per second (one Node
// process, cases streamed as the differential test sends them) and
// trailwarden's evaluations per second (policies compiled once, as the CLI
// does), and logs the ratio. The 100x target is asserted only without the
// race detector, which slows the Go side alone.
func TestThroughputRatio(t *testing.T) {
	o := startOracle(t)
	cases := bucketCases(t)
	const oracleCases = 2000
	sample := cases
	if len(sample) > oracleCases {
		step := len(sample) / oracleCases
		sample = nil
		for i := 0; i < len(cases) && len(sample) < oracleCases; i += step {
			sample = append(sample, cases[i])
		}
	}
	ocs := make([]oracle.Case, len(sample))
	for i, c := range sample {
		ocs[i] = c.oracleCase(oracleContext(eval.DeriveContext(c.req)))
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if _, err := o.Run(ctx, ocs[:min(100, len(ocs))]); err != nil { // warm-up
		t.Fatal(err)
	}
	began := time.Now()
	answers, err := o.Run(ctx, ocs)
	oracleTime := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range answers {
		if len(a.Errors) > 0 {
			t.Fatalf("oracle error on %s: %q", a.ID, a.Errors)
		}
	}
	oracleRate := float64(len(ocs)) / oracleTime.Seconds()

	evaluateAll(cases, 100*time.Millisecond) // warm-up
	twRate, n := evaluateAll(cases, time.Second)
	ratio := twRate / oracleRate
	t.Logf("oracle: %d simulations in %v = %.0f/s; trailwarden: %d evaluations (%d distinct cases) = %.0f/s; ratio %.0fx (target %dx, race detector %v)",
		len(ocs), oracleTime.Round(time.Millisecond), oracleRate, n, len(cases), twRate, ratio, throughputTarget, raceEnabled)
	if !raceEnabled && ratio < throughputTarget {
		t.Errorf("trailwarden is %.0fx faster than the oracle, want at least %dx", ratio, throughputTarget)
	}
}

// BenchmarkEvaluateBucketCases is trailwarden's side of TestThroughputRatio
// for `make bench`: one op is one evaluation of a generated bucket-policy
// case.
func BenchmarkEvaluateBucketCases(b *testing.B) {
	cases := bucketCases(b)
	evs := make([]*eval.Evaluator, len(cases))
	for i, c := range cases {
		evs[i], _ = c.set.evaluator()
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		c := cases[i%len(cases)]
		_ = evs[i%len(cases)].Evaluate(c.req)
	}
}
