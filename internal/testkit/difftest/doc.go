// Package difftest holds the differential tests of trailwarden's IAM policy
// evaluator (internal/eval) against the reference evaluator driven by
// internal/testkit/oracle (@cloud-copilot/iam-simulate run as a separate Node
// process).
//
// Everything is in _test.go files: the package has no API. The cases come
// from two sources: the policies trailwarden generates for the configs in
// internal/generator/testdata/golden over enumerated CloudTrail and reader
// requests, and seeded random policy sets over a small vocabulary. For every
// case both evaluators get the same policies and the same request context
// (eval.DeriveContext). Each case must either agree or be explained by the
// known differences listed, with their justification, in
// testdata/known_differences.yaml; each class has a rule in known_test.go
// that emulates the oracle's behaviour in trailwarden's input and must
// reproduce the oracle's decision exactly.
//
// The tests fail, never skip, when the oracle is not installed
// (scripts/setup.sh installs it). Debugging aids: DIFFTEST_SEED and
// DIFFTEST_SETS replace the pinned random seed and size; DIFFTEST_DUMP=file
// writes the oracle input of every unexplained case as JSON lines and prints
// all of them in full.
package difftest
