// Package difftest holds the differential tests of trailwarden's IAM policy
// evaluator (internal/eval) against the reference evaluator driven by
// internal/oracle (@cloud-copilot/iam-simulate run as a separate Node
// process).
//
// Everything is in _test.go files: the package has no API. The cases come
// from two sources, the policies trailwarden generates for the configs in
// internal/generator/testdata/golden over enumerated CloudTrail and reader
// requests, and seeded random policy sets over a small vocabulary. Each case
// must either agree or fall under a known difference listed, with its
// justification and the per-case rule that recognizes it, in
// testdata/known_differences.yaml.
package difftest
