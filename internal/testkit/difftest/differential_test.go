package difftest

import (
	"os"
	"strconv"
	"testing"
)

// minCases is the size the project requires of the differential suite.
const minCases = 5000

// TestDifferential compares trailwarden's evaluator with the oracle on the
// generated CloudTrail policies and on seeded random policy sets. Every case
// must agree or be explained by a class of testdata/known_differences.yaml.
func TestDifferential(t *testing.T) {
	known := loadKnown(t)
	o := startOracle(t)
	cases := generatedCases(t)
	nGen := len(cases)
	seed, sets := int64(randomSeed), randomSets
	// Exploration aid: DIFFTEST_SEED and DIFFTEST_SETS replace the pinned
	// seed and size (the pinned values are what CI runs).
	if s, err := strconv.ParseInt(os.Getenv("DIFFTEST_SEED"), 10, 64); err == nil {
		seed = s
	}
	if n, err := strconv.Atoi(os.Getenv("DIFFTEST_SETS")); err == nil {
		sets = n
	}
	cases = append(cases, randomCases(seed, sets)...)
	t.Logf("%d cases: %d from generated policies, %d random", len(cases), nGen, len(cases)-nGen)
	if len(cases) < minCases {
		t.Fatalf("only %d cases, want at least %d", len(cases), minCases)
	}
	vs := compare(t, o, cases, known)
	report(t, vs, known)
}
