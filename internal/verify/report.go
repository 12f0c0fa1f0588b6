// Package verify checks a CloudTrail bucket the way `aws cloudtrail
// validate-logs` defines it (digest chain, RSA signatures, SHA-256 of every
// log file) but for every account and region at once, in parallel.
package verify

import (
	"time"
)

// File types and the result vocabulary of validate-logs.
const (
	TypeDigest = "Digest file"
	TypeLog    = "Log file"

	ProblemNotFound     = "not found"
	ProblemFormat       = "invalid format"
	ProblemSignature    = "signature verification failed"
	ProblemMoved        = "has been moved from its original location"
	ProblemHash         = "hash value doesn't match"
	ProblemTrailingData = "unexpected data after end of compressed stream"
	ProblemCorrupt      = "not a valid gzip file"
	ProblemChainHash    = "does not match the previousDigestHashValue of the next digest"
)

// FileResult is the verdict on one digest or log file.
type FileResult struct {
	Type     string `json:"type"`
	Key      string `json:"key"`
	Account  string `json:"account"`
	Region   string `json:"region"`
	Valid    bool   `json:"valid"`
	Problem  string `json:"problem,omitempty"`
	Backfill bool   `json:"backfill,omitempty"`
}

// Gap is a break in a chain: no digest links two digests, so nothing proves
// what was delivered between them.
type Gap struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
}

// Chain summarizes one account x region.
type Chain struct {
	Account       string    `json:"account"`
	Region        string    `json:"region"`
	Digests       int       `json:"digests"`
	DigestsValid  int       `json:"digestsValid"`
	LogFiles      int       `json:"logFiles"`
	LogFilesValid int       `json:"logFilesValid"`
	Gaps          int       `json:"gaps"`
	First         time.Time `json:"first,omitzero"`
	Last          time.Time `json:"last,omitzero"`
	Bytes         int64     `json:"bytes"`
}

// Valid reports whether everything found in the chain is valid.
func (c Chain) Valid() bool {
	return c.Digests > 0 && c.Digests == c.DigestsValid && c.LogFiles == c.LogFilesValid
}

// Report is the outcome of a verification run.
type Report struct {
	Source  string       `json:"source"`
	Start   time.Time    `json:"start"`
	End     time.Time    `json:"end"`
	Chains  []Chain      `json:"chains"`
	Invalid []FileResult `json:"invalid"`
	Gaps    []Gap        `json:"gaps"`
	// Totals over all chains.
	Digests       int           `json:"digests"`
	DigestsValid  int           `json:"digestsValid"`
	LogFiles      int           `json:"logFiles"`
	LogFilesValid int           `json:"logFilesValid"`
	Bytes         int64         `json:"bytes"`
	Elapsed       time.Duration `json:"elapsed"`
}

// OK is true when digests were found and every file is valid.
func (r *Report) OK() bool {
	return r.Digests > 0 && len(r.Invalid) == 0
}
