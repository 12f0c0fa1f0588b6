//go:build race

package difftest

// raceEnabled reports whether the race detector is on; it slows the Go side
// of throughput measurements only.
const raceEnabled = true
