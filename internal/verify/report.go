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
	// ProblemNotInDigest is a log file that no digest lists, although it
	// is older than DeliveryDelay: nothing vouches for its content, and
	// the digest that listed it may have been deleted.
	ProblemNotInDigest = "not listed in any digest"
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

// Gap is a time in a chain that no valid digest covers, so nothing proves
// what was delivered then: no digest links two digests (GapRestart), or
// the chain ends before the run's other chains or the window do
// (GapEndsEarly, GapNoDigest).
type Gap struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Reason  string    `json:"reason"`
}

// Chain summarizes one account x region.
type Chain struct {
	Account       string    `json:"account"`
	Region        string    `json:"region"`
	Digests       int       `json:"digests"`
	DigestsValid  int       `json:"digests_valid"`
	LogFiles      int       `json:"log_files"`
	LogFilesValid int       `json:"log_files_valid"`
	Gaps          int       `json:"gaps"`
	First         time.Time `json:"first,omitzero"`
	Last          time.Time `json:"last,omitzero"`
	// LastValid is the end of the chain's newest valid digest: how far
	// the chain proves what was delivered.
	LastValid time.Time `json:"last_valid,omitzero"`
	// Unvouched counts the chain's log files that no digest lists
	// (ProblemNotInDigest).
	Unvouched int   `json:"unvouched"`
	Bytes     int64 `json:"bytes"`
}

// Valid reports whether everything found in the chain is valid: its
// digests, the log files they list, and no log file that none lists.
// Gaps are counted apart (Gaps).
func (c Chain) Valid() bool {
	return c.Digests > 0 && c.Digests == c.DigestsValid && c.LogFiles == c.LogFilesValid && c.Unvouched == 0
}

// Report is the outcome of a verification run.
type Report struct {
	Source  string       `json:"source"`
	Start   time.Time    `json:"start"`
	End     time.Time    `json:"end"`
	Chains  []Chain      `json:"chains"`
	Invalid []FileResult `json:"invalid"`
	Gaps    []Gap        `json:"gaps"`
	// ExpectedEnd is when every chain should reach (see ExpectedEnd):
	// End, or an hour before now when End is later.
	ExpectedEnd time.Time `json:"expected_end,omitzero"`
	// ChainsEnd is set when every chain ends a digest period or more
	// before ExpectedEnd (see CommonEnd): each has a gap from its end,
	// and either logging stopped everywhere or the source is a copy that
	// ends there.
	ChainsEnd time.Time `json:"chains_end,omitzero"`
	// Totals over all chains.
	Digests       int           `json:"digests"`
	DigestsValid  int           `json:"digests_valid"`
	LogFiles      int           `json:"log_files"`
	LogFilesValid int           `json:"log_files_valid"`
	Bytes         int64         `json:"bytes"`
	Elapsed       time.Duration `json:"elapsed"`
}

// OK is true when digests were found, every file is valid (log files no
// digest lists included) and no chain has a gap.
func (r *Report) OK() bool {
	return r.Digests > 0 && len(r.Invalid) == 0 && len(r.Gaps) == 0
}
