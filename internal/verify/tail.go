package verify

import (
	"time"
)

// DigestPeriod is how often CloudTrail writes a digest for each account
// and region of a trail: every hour, with or without log files.
const DigestPeriod = time.Hour

// DeliveryDelay is how long CloudTrail may take to deliver a digest:
// digests arrive within about an hour. A log file delivered longer ago
// than that must be listed by a digest, and a chain must have reached
// the time that long ago.
const DeliveryDelay = time.Hour

// Gap reasons.
const (
	// GapRestart: a starting digest (validation or logging restarted)
	// is not linked to the digest before it.
	GapRestart = "chain restarted"
	// GapEndsEarly: the chain's newest valid digest ends at least one
	// digest period before the chains are expected to reach (its newest
	// digests were deleted, or never written).
	GapEndsEarly = "chain ends early"
	// GapNoDigest: the chain has digests, but no valid one in the window.
	GapNoDigest = "no valid digest in the window"
)

// ExpectedEnd is the time every chain of one run should reach: the
// window's end, but no later than now minus DeliveryDelay (newer digests
// may still be on their way). When no chain reaches that far (the window
// reaches past every chain, as with a copy of an older bucket), it is the
// newest valid digest end among the chains: what the other chains prove
// was delivered. A chain whose newest valid digest ends one DigestPeriod
// or more before it lacks at least one digest.
//
// When every chain ends at the same time before the window does, nothing
// in the bucket says whether digests after that were deleted from all of
// them: ExpectedEnd is then before the window's end, which the report
// shows (Report.ExpectedEnd).
func ExpectedEnd(chains []Chain, end, now time.Time) time.Time {
	limit := reach(end, now)
	var newest time.Time
	for _, c := range chains {
		if c.LastValid.IsZero() {
			continue
		}
		if c.LastValid.Add(DigestPeriod).After(limit) {
			return limit // a chain reaches the limit: every chain should
		}
		if c.LastValid.After(newest) {
			newest = c.LastValid
		}
	}
	return newest
}

// reach is how far chains should reach at the latest: the window's end,
// or now minus DeliveryDelay if that is earlier.
func reach(end, now time.Time) time.Time {
	if c := now.Add(-DeliveryDelay); c.Before(end) {
		return c
	}
	return end
}

// Unknown returns the expected end when the window reaches one
// DigestPeriod or more past every chain: after it, nothing in the bucket
// says whether digests were never written or deleted from every chain.
// ok is false when some chain reaches the window's end (or there is no
// valid digest at all).
func Unknown(chains []Chain, end, now time.Time) (after time.Time, ok bool) {
	e := ExpectedEnd(chains, end, now)
	if e.IsZero() || e.Add(DigestPeriod).After(reach(end, now)) {
		return time.Time{}, false
	}
	return e, true
}

// EndGaps returns a gap for each chain that ends before the chains of its
// run are expected to reach (ExpectedEnd of the window [start, end] at
// now): from its newest valid digest, or from start when it has none, to
// the expected end. Verify reports them; pull and coverage read the same.
func EndGaps(chains []Chain, start, end, now time.Time) []Gap {
	expected := ExpectedEnd(chains, end, now)
	var gaps []Gap
	for _, c := range chains {
		from, reason := c.LastValid, GapEndsEarly
		if from.IsZero() {
			from, reason = start, GapNoDigest
		}
		// The chain's next digest would end one period after its last:
		// if that is not after the expected end, it should be there.
		if from.Add(DigestPeriod).After(expected) {
			continue
		}
		gaps = append(gaps, Gap{Account: c.Account, Region: c.Region, From: from, To: expected, Reason: reason})
	}
	return gaps
}

// ShouldBeListed reports whether a digest should already list a log file
// delivered at t (the time in its name), in a chain whose newest digest
// ends at chainLast (zero when it has none): a digest ending DeliveryDelay
// or more after the file is there, or the file is older than twice
// DeliveryDelay (its digest ends within about an hour of it, and arrives
// within about an hour of that). A newer file may still be waiting for
// its digest.
func ShouldBeListed(t, chainLast, now time.Time) bool {
	ref := now.Add(-DeliveryDelay)
	if chainLast.After(ref) {
		ref = chainLast
	}
	return !t.Add(DeliveryDelay).After(ref)
}
