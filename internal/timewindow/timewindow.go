// Package timewindow reads the ends of a time window as every trailwarden
// command takes them: a duration back from now (36h, 7d), a date
// (2026-11-20, midnight UTC) or an RFC 3339 time.
package timewindow

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Forms says which values Parse takes, for messages and help texts.
const Forms = "a duration back from now (24h, 7d), a date (2026-11-20, midnight UTC) or an RFC 3339 time (2026-11-20T00:00:00Z)"

// maxDays bounds a duration in days so that it cannot overflow
// time.Duration (about 292 years).
const maxDays = 100 * 366

// ErrNotTime is the error of a value that is none of the forms.
var ErrNotTime = errors.New("not a duration, a date or an RFC 3339 time")

// ErrEmpty is the error of a window whose end is not after its start.
var ErrEmpty = errors.New("the window's end is not after its start")

// ValueError is a value Parse could not read.
type ValueError struct {
	Value string
}

func (e *ValueError) Error() string {
	return fmt.Sprintf("%q is not %s", e.Value, Forms)
}

func (e *ValueError) Unwrap() error { return ErrNotTime }

// Parse reads one end of a window. A duration is taken back from now: a Go
// duration (90m, 36h, 1h30m) or a whole number of days (7d); it must be
// positive. A date is midnight UTC of that day. The result is in UTC.
func Parse(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t.UTC(), nil
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		// Digits only: Atoi would take "+7" and "-7".
		if n, err := strconv.Atoi(d); err == nil && n > 0 && n <= maxDays && d[0] >= '0' && d[0] <= '9' {
			return now.UTC().Add(-time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 && v[0] >= '0' && v[0] <= '9' {
		return now.UTC().Add(-d), nil
	}
	return time.Time{}, &ValueError{Value: v}
}

// Range reads both ends of a window; an empty value gives the zero time,
// for the caller to fill with its default. When both are given, until must
// be after since (ErrEmpty). A *BoundError names the end that failed.
func Range(since, until string, now time.Time) (s, u time.Time, err error) {
	if since != "" {
		if s, err = Parse(since, now); err != nil {
			return s, u, &BoundError{Bound: "since", Err: err}
		}
	}
	if until != "" {
		if u, err = Parse(until, now); err != nil {
			return s, u, &BoundError{Bound: "until", Err: err}
		}
	}
	if !s.IsZero() && !u.IsZero() && !u.After(s) {
		return s, u, fmt.Errorf("%w: %s is not after %s", ErrEmpty, u.Format(time.RFC3339), s.Format(time.RFC3339))
	}
	return s, u, nil
}

// BoundError is a problem with one end of a window: "since" or "until".
type BoundError struct {
	Bound string
	Err   error
}

func (e *BoundError) Error() string { return e.Bound + ": " + e.Err.Error() }
func (e *BoundError) Unwrap() error { return e.Err }
