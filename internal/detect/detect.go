// Package detect runs detection rules over the events of the store or of
// Athena: trailwarden's built-in Sigma rules (package rules) and the
// user's, with the config's pipeline (trail, bucket, key, reader role)
// filling the built-in rules' placeholders. It loads and compiles rules,
// builds one scan for every single-event rule and one query per
// correlation, and returns detections as data, with what it could not know
// (rules that did not run, accounts without events in the window).
package detect

import (
	"errors"
	"fmt"
	"strings"
)

// Levels of Sigma rules, lowest first.
var levels = []string{"informational", "low", "medium", "high", "critical"}

// LevelCounts says how many of levels' items stand at each level, highest
// first, leaving out the levels with none: "7 critical, 282 high".
func LevelCounts(itemLevels []string) string {
	by := map[string]int{}
	for _, l := range itemLevels {
		by[strings.ToLower(l)]++
	}
	var parts []string
	for i := len(levels) - 1; i >= 0; i-- {
		if n := by[levels[i]]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, levels[i]))
		}
	}
	return strings.Join(parts, ", ")
}

// ErrLevel matches an unknown level.
var ErrLevel = errors.New("unknown level")

// LevelRank is a level's rank: 0 informational ... 4 critical, -1 for an
// unknown level.
func LevelRank(level string) int {
	for i, l := range levels {
		if strings.EqualFold(l, level) {
			return i
		}
	}
	return -1
}

// ParseLevel checks a level name: informational (or info), low, medium,
// high or critical.
func ParseLevel(s string) (string, error) {
	if strings.EqualFold(s, "info") {
		return "informational", nil
	}
	if r := LevelRank(s); r >= 0 {
		return levels[r], nil
	}
	return "", fmt.Errorf("detect: level %q: %w (informational, low, medium, high, critical)", s, ErrLevel)
}
