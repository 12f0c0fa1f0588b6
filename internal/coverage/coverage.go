// Package coverage sets what should be in a CloudTrail bucket against what
// arrived: every expected account x region x hour of a window against the
// digest files found. CloudTrail writes one digest per trail, account and
// region every hour, with or without log files, so an expected hour without
// a digest is a gap: an account that stopped delivering, a region nobody
// logs, or files deleted afterwards.
//
// The expected set comes from Resolve (an explicit list, the organization,
// the config's source accounts; the regions enabled in each account), never
// from what happens to be in the bucket. Digest validity comes from
// verify.Run in digest-only mode: signatures, locations and chain links are
// checked, and no log file body is read, so a run costs one listing per
// account x region x day and one GET per digest.
package coverage

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// DigestDelay is how long after the end of an hour its digest may still
// arrive: the digest that vouches for the deliveries of hour H ends about
// H+1h and CloudTrail delivers it within about an hour more. An hour whose
// digest is not due yet is pending, not a gap.
const DigestDelay = time.Hour

// Hour states.
const (
	StateCovered = "covered" // a valid digest vouches for the hour
	StateInvalid = "invalid" // only digests that failed verification
	StateMissing = "missing" // due, and no digest at all: a gap
	StatePending = "pending" // not due yet
)

// Cell statuses.
const (
	StatusOK      = "ok"      // every due hour covered by a valid digest
	StatusGap     = "GAP"     // at least one due hour without a digest
	StatusInvalid = "INVALID" // a digest failed verification
	StatusPending = "pending" // no hour is due yet
)

// Options select what to check.
type Options struct {
	// Expected is the set that should deliver (Resolve).
	Expected *Expected
	// Since and Until bound the window of delivery hours, [Since, Until):
	// Since is rounded down and Until up to whole hours.
	Since, Until time.Time
	// Now decides which hours are due; zero means time.Now().
	Now time.Time
	// Bucket is the bucket digests must name (empty: any); Prefix the
	// trail's key prefix; OrgID the organization of an organization trail
	// ("" finds both layouts).
	Bucket, Prefix, OrgID string
	// Keys or KeysFor verify the digests' signatures, as in verify.
	Keys    *digest.KeySet
	KeysFor func(ctx context.Context, region string) (*digest.KeySet, error)
	// Jobs bounds concurrent requests to the store.
	Jobs int
	// Progress, when set, receives verify's progress.
	Progress func(verify.Progress)
}

// Report is the coverage of the expected set over the window.
type Report struct {
	Source string    `json:"source"`
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	Now    time.Time `json:"now"`
	// Expected is the set checked and where it came from.
	Expected *Expected `json:"expected"`
	// Cells are the expected account x region pairs, sorted.
	Cells []Cell `json:"cells"`
	// Gaps are the contiguous ranges of due hours without any digest, one
	// per range, sorted by account, region and start.
	Gaps []Gap `json:"gaps"`
	// Invalid are the digests of expected pairs that failed verification.
	Invalid []verify.FileResult `json:"invalid"`
	// Unexpected are account x region pairs with digests in the bucket
	// that are not expected: listed for information, never counted as
	// coverage.
	Unexpected []Place `json:"unexpected"`
	Totals     Totals  `json:"totals"`
	// Elapsed is how long the check took.
	Elapsed time.Duration `json:"-"`
}

// Cell is one expected account x region over the window.
type Cell struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	// Hours is the number of hours in the window; the others count them
	// by state and add up to it.
	Hours        int `json:"hours"`
	HoursCovered int `json:"hours_covered"`
	HoursInvalid int `json:"hours_invalid"`
	HoursMissing int `json:"hours_missing"`
	HoursPending int `json:"hours_pending"`
	// Digests and DigestsValid count the digests found for the window's
	// hours.
	Digests      int `json:"digests"`
	DigestsValid int `json:"digests_valid"`
	// LastDigest is the end time of the newest digest found; LastLogFile
	// the delivery time of the newest log file a valid digest lists.
	LastDigest  time.Time `json:"last_digest,omitzero"`
	LastLogFile time.Time `json:"last_log_file,omitzero"`
	Status      string    `json:"status"`
}

// Due is the number of hours whose digest is due.
func (c Cell) Due() int { return c.Hours - c.HoursPending }

// Gap is a contiguous range of due hours of one account x region with no
// digest: [Start, End), whole hours.
type Gap struct {
	Account string    `json:"account"`
	Region  string    `json:"region"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"`
	Hours   int       `json:"hours"`
}

// Totals sum the cells.
type Totals struct {
	Accounts     int `json:"accounts"`
	Cells        int `json:"cells"`
	CellsOK      int `json:"cells_ok"`
	Hours        int `json:"hours"`
	HoursCovered int `json:"hours_covered"`
	HoursInvalid int `json:"hours_invalid"`
	HoursMissing int `json:"hours_missing"`
	HoursPending int `json:"hours_pending"`
	Digests      int `json:"digests"`
	DigestsValid int `json:"digests_valid"`
}

// OK is true when every expected account x region has a valid digest for
// every due hour and no digest is invalid.
func (r *Report) OK() bool {
	return len(r.Cells) > 0 && len(r.Gaps) == 0 && len(r.Invalid) == 0 && r.Totals.HoursInvalid == 0 && r.Totals.HoursMissing == 0
}

// Slot is the delivery hour a digest ending at end vouches for: digests
// cover the hour of deliveries before their end time, so a digest ending
// at 01:00:00 (or 01:01:31) is hour 00:00. The first digest of a chain may
// cover a partial hour; it still vouches for the hour it ends after.
func Slot(end time.Time) time.Time {
	return end.UTC().Truncate(time.Hour).Add(-time.Hour)
}

// Window rounds [since, until) out to whole hours.
func Window(since, until time.Time) (time.Time, time.Time) {
	since, until = since.UTC().Truncate(time.Hour), until.UTC()
	if t := until.Truncate(time.Hour); !t.Equal(until) {
		until = t.Add(time.Hour)
	}
	return since, until
}

// found is what the digests said about one account x region.
type found struct {
	valid, invalid map[time.Time]bool // by slot
	digests, ok    int
	lastDigest     time.Time
	lastLog        time.Time
}

// Run checks the expected set over the window. The error is for what
// stops the run (bad options, a listing that fails, the context); gaps and
// invalid digests are results.
func Run(ctx context.Context, store objstore.Store, opt Options) (*Report, error) {
	began := time.Now()
	if opt.Expected == nil || len(opt.Expected.Accounts) == 0 {
		return nil, errors.New("coverage: no expected accounts")
	}
	since, until := Window(opt.Since, opt.Until)
	if !until.After(since) {
		return nil, fmt.Errorf("coverage: until %s is not after since %s", until.Format(time.RFC3339), since.Format(time.RFC3339))
	}
	now := opt.Now
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC()
	rep := &Report{Source: store.String(), Since: since, Until: until, Now: now, Expected: opt.Expected,
		Cells: []Cell{}, Gaps: []Gap{}, Invalid: []verify.FileResult{}, Unexpected: []Place{}}

	expected := map[Place]bool{}
	for _, p := range opt.Expected.Pairs() {
		expected[p] = true
	}
	// What is in the bucket, by folder: the expected pairs to verify, and
	// the others to list.
	chains, err := verify.Discover(ctx, store, opt.Prefix, opt.OrgID, nil, nil, layout.DigestFile)
	if err != nil {
		return nil, fmt.Errorf("coverage: list %s: %w", store.String(), err)
	}
	present, other := map[Place]bool{}, map[Place]bool{}
	for _, c := range chains {
		p := Place{Account: c.Account, Region: c.Region}
		if expected[p] {
			present[p] = true
		} else if !other[p] {
			other[p] = true
			rep.Unexpected = append(rep.Unexpected, p)
		}
	}
	sortPlaces(rep.Unexpected)

	var mu sync.Mutex
	seen := map[Place]*found{}
	at := func(account, region string) *found {
		p := Place{Account: account, Region: region}
		if !expected[p] {
			return nil
		}
		f := seen[p]
		if f == nil {
			f = &found{valid: map[time.Time]bool{}, invalid: map[time.Time]bool{}}
			seen[p] = f
		}
		return f
	}
	if len(present) > 0 {
		vo := verify.Options{Bucket: opt.Bucket, Prefix: opt.Prefix, OrgID: opt.OrgID,
			Accounts: opt.Expected.IDs(), Regions: opt.Expected.Regions(),
			Start: since, End: until, Keys: opt.Keys, KeysFor: opt.KeysFor, Jobs: opt.Jobs, Progress: opt.Progress}
		// Digest-only: the log files each valid digest lists are noted,
		// never downloaded.
		vo.LogFiles = func(c verify.Chain, lf digest.LogFile) {
			k, err := layout.Parse(lf.S3Object)
			if err != nil || k.Kind != layout.LogFile {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if f := at(c.Account, c.Region); f != nil && k.FileTime.After(f.lastLog) {
				f.lastLog = k.FileTime
			}
		}
		vo.OnFile = func(r verify.FileResult) {
			if r.Type != verify.TypeDigest {
				return
			}
			mu.Lock()
			defer mu.Unlock()
			f := at(r.Account, r.Region)
			if f == nil {
				return
			}
			if !r.Valid {
				rep.Invalid = append(rep.Invalid, r)
			}
			if r.Problem == verify.ProblemNotFound {
				return // named by the chain, absent from the bucket: no coverage
			}
			k, err := layout.Parse(r.Key)
			if err != nil || k.Kind != layout.DigestFile {
				return
			}
			slot := Slot(k.FileTime)
			if slot.Before(since) || !slot.Before(until) {
				return
			}
			f.digests++
			if r.Valid {
				f.ok++
				f.valid[slot] = true
			} else {
				f.invalid[slot] = true
			}
			if k.FileTime.After(f.lastDigest) {
				f.lastDigest = k.FileTime
			}
		}
		if _, err := verify.Run(ctx, store, vo); err != nil {
			return nil, fmt.Errorf("coverage: %w", err)
		}
	}

	hours := int(until.Sub(since) / time.Hour)
	accounts := map[string]bool{}
	for _, p := range opt.Expected.Pairs() {
		accounts[p.Account] = true
		f := seen[p]
		if f == nil {
			f = &found{}
		}
		c := Cell{Account: p.Account, Region: p.Region, Hours: hours, Digests: f.digests, DigestsValid: f.ok,
			LastDigest: f.lastDigest, LastLogFile: f.lastLog}
		var gap *Gap
		for i := 0; i < hours; i++ {
			h := since.Add(time.Duration(i) * time.Hour)
			state := hourState(f, h, now)
			switch state {
			case StateCovered:
				c.HoursCovered++
			case StateInvalid:
				c.HoursInvalid++
			case StatePending:
				c.HoursPending++
			case StateMissing:
				c.HoursMissing++
			}
			if state != StateMissing {
				gap = nil
				continue
			}
			if gap == nil {
				rep.Gaps = append(rep.Gaps, Gap{Account: p.Account, Region: p.Region, Start: h})
				gap = &rep.Gaps[len(rep.Gaps)-1]
			}
			gap.End = h.Add(time.Hour)
			gap.Hours++
		}
		c.Status = status(c)
		rep.Cells = append(rep.Cells, c)
		t := &rep.Totals
		t.Cells++
		if c.Status == StatusOK {
			t.CellsOK++
		}
		t.Hours += c.Hours
		t.HoursCovered += c.HoursCovered
		t.HoursInvalid += c.HoursInvalid
		t.HoursMissing += c.HoursMissing
		t.HoursPending += c.HoursPending
		t.Digests += c.Digests
		t.DigestsValid += c.DigestsValid
	}
	rep.Totals.Accounts = len(accounts)
	sort.Slice(rep.Invalid, func(i, j int) bool { return rep.Invalid[i].Key < rep.Invalid[j].Key })
	rep.Elapsed = time.Since(began)
	return rep, nil
}

// hourState decides one hour: covered by a valid digest, only invalid
// ones, not due yet, or missing.
func hourState(f *found, h, now time.Time) string {
	switch {
	case f.valid[h]:
		return StateCovered
	case f.invalid[h]:
		return StateInvalid
	case now.Before(h.Add(time.Hour + DigestDelay)):
		return StatePending
	}
	return StateMissing
}

func status(c Cell) string {
	switch {
	case c.HoursInvalid > 0 || c.DigestsValid < c.Digests:
		return StatusInvalid
	case c.HoursMissing > 0:
		return StatusGap
	case c.Due() == 0:
		return StatusPending
	}
	return StatusOK
}

func sortPlaces(ps []Place) {
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].Account != ps[j].Account {
			return ps[i].Account < ps[j].Account
		}
		return ps[i].Region < ps[j].Region
	})
}
