package timewindow

import (
	"errors"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 22, 15, 30, 0, 0, time.UTC)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want time.Time // zero: an error
	}{
		{"24h", now.Add(-24 * time.Hour)},
		{"36h", now.Add(-36 * time.Hour)},
		{"90m", now.Add(-90 * time.Minute)},
		{"1h30m", now.Add(-90 * time.Minute)},
		{"7d", now.Add(-7 * 24 * time.Hour)},
		{"1d", now.Add(-24 * time.Hour)},
		{"2026-12-01", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{"2026-11-20T00:00:00Z", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"2026-11-20T02:00:00+02:00", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)},
		{"2026-11-20T00:00:00.5Z", time.Date(2026, 11, 20, 0, 0, 0, 5e8, time.UTC)},
		{"", time.Time{}},
		{"0d", time.Time{}},
		{"-7d", time.Time{}},
		{"+7d", time.Time{}},
		{"-24h", time.Time{}},
		{"+24h", time.Time{}},
		{"0s", time.Time{}},
		{"7", time.Time{}},
		{"d", time.Time{}},
		{"7 d", time.Time{}},
		{"1.5d", time.Time{}},
		{"99999999d", time.Time{}},
		{"2026/11/20", time.Time{}},
		{"2026-13-01", time.Time{}},
		{"2026-11-20T00:00:00", time.Time{}},
		{"yesterday", time.Time{}},
	}
	for _, tt := range tests {
		got, err := Parse(tt.in, now)
		if tt.want.IsZero() {
			var ve *ValueError
			if !errors.As(err, &ve) || !errors.Is(err, ErrNotTime) || ve.Value != tt.in {
				t.Errorf("Parse(%q) = %v, %v; want a *ValueError", tt.in, got, err)
			}
			continue
		}
		if err != nil || !got.Equal(tt.want) || got.Location() != time.UTC {
			t.Errorf("Parse(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
}

func TestRange(t *testing.T) {
	tests := []struct {
		since, until string
		wantS, wantU time.Time
		bound        string // the end a *BoundError names
		empty        bool   // ErrEmpty
	}{
		{"", "", time.Time{}, time.Time{}, "", false},
		{"7d", "", now.Add(-7 * 24 * time.Hour), time.Time{}, "", false},
		{"", "2026-11-21", time.Time{}, time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), "", false},
		{"2026-11-20", "2026-11-21", time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC), "", false},
		{"2026-11-21", "2026-11-20", time.Time{}, time.Time{}, "", true},
		{"2026-11-21", "2026-11-21", time.Time{}, time.Time{}, "", true},
		{"24h", "48h", time.Time{}, time.Time{}, "", true},
		{"nope", "2026-11-21", time.Time{}, time.Time{}, "since", false},
		{"2026-11-20", "nope", time.Time{}, time.Time{}, "until", false},
	}
	for _, tt := range tests {
		s, u, err := Range(tt.since, tt.until, now)
		var be *BoundError
		switch {
		case tt.bound != "":
			if !errors.As(err, &be) || be.Bound != tt.bound || !errors.Is(err, ErrNotTime) {
				t.Errorf("Range(%q, %q): %v; want an error about %s", tt.since, tt.until, err, tt.bound)
			}
		case tt.empty:
			if !errors.Is(err, ErrEmpty) {
				t.Errorf("Range(%q, %q): %v; want ErrEmpty", tt.since, tt.until, err)
			}
		case err != nil || !s.Equal(tt.wantS) || !u.Equal(tt.wantU):
			t.Errorf("Range(%q, %q) = %v, %v, %v; want %v, %v", tt.since, tt.until, s, u, err, tt.wantS, tt.wantU)
		}
	}
}

func TestValueErrorText(t *testing.T) {
	_, err := Parse("yesterday", now)
	want := `"yesterday" is not a duration back from now (24h, 7d), a date (2026-11-20, midnight UTC) or an RFC 3339 time (2026-11-20T00:00:00Z)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// FuzzParse checks that Parse never panics, and that what it accepts is
// UTC and, for a duration, in the past.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"24h", "7d", "2026-12-01", "2026-11-20T00:00:00Z", "-1d", "9223372036854775807d", "1e9h", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := Parse(s, now)
		if err != nil {
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("Parse(%q): error %v is not a *ValueError", s, err)
			}
			return
		}
		if got.Location() != time.UTC {
			t.Fatalf("Parse(%q) = %v, not UTC", s, got)
		}
		if _, derr := time.ParseDuration(s); derr == nil && !got.Before(now) {
			t.Fatalf("Parse(%q) = %v, a duration that is not in the past", s, got)
		}
	})
}
