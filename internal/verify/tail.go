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
	// digest period before the window's end (or an hour ago, if that is
	// earlier): its newest digests were deleted, or never written.
	GapEndsEarly = "chain ends early"
	// GapNoDigest: the chain has digests, but no valid one in the window.
	GapNoDigest = "no valid digest in the window"
)

// ExpectedEnd is the time every chain of one run should reach: the
// window's end, but no later than now minus DeliveryDelay (newer digests
// may still be on their way). It never depends on what the chains hold:
// when logging stops for a whole organization (StopLogging on an
// organization trail, or its newest digests deleted everywhere), every
// chain ends early together, and that is a gap in every chain, not an
// all-clear. A copy of an older bucket is checked up to where it ends by
// giving a window that ends there.
func ExpectedEnd(end, now time.Time) time.Time {
	if c := now.Add(-DeliveryDelay); c.Before(end) {
		return c
	}
	return end
}

// CommonEnd returns the newest valid digest end over every chain when it
// is one DigestPeriod or more before the expected end: every chain ends
// early, together. Reports say so, because then either logging stopped
// everywhere or the source is a copy that ends there. ok is false when
// some chain reaches the expected end or no chain has a valid digest.
func CommonEnd(chains []Chain, end, now time.Time) (newest time.Time, ok bool) {
	for _, c := range chains {
		if c.LastValid.After(newest) {
			newest = c.LastValid
		}
	}
	if newest.IsZero() || newest.Add(DigestPeriod).After(ExpectedEnd(end, now)) {
		return time.Time{}, false
	}
	return newest, true
}

// EndGaps returns a gap for each chain that ends before the chains of its
// run are expected to reach (ExpectedEnd of the window [start, end] at
// now): from its newest valid digest, or from start when it has none, to
// the expected end. Verify reports them; pull and coverage read the same.
func EndGaps(chains []Chain, start, end, now time.Time) []Gap {
	expected := ExpectedEnd(end, now)
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
