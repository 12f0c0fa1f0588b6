package iac

import (
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

// SetProve replaces the proof for a test and returns the restore func.
func SetProve(f func(*config.Config, proof.Target, *policy.Document) (*generator.Proved, error)) func() {
	old := prove
	prove = f
	return func() { prove = old }
}
