package record_test

import (
	"math/rand/v2"
	"regexp"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/record"
)

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want string // the same instant in RFC 3339 for time.Parse; "" when refused
	}{
		{"2024-03-08T17:55:03Z", "2024-03-08T17:55:03Z"},
		{"1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"},
		{"1969-12-31T23:59:59.5Z", "1969-12-31T23:59:59.5Z"},
		{"0000-01-01T00:00:00Z", "0000-01-01T00:00:00Z"},
		{"9999-12-31T23:59:59.999999Z", "9999-12-31T23:59:59.999999Z"},
		{"2024-12-31T23:59:59Z", "2024-12-31T23:59:59Z"},

		// Calendar.
		{"2024-02-29T12:00:00Z", "2024-02-29T12:00:00Z"},
		{"2000-02-29T00:00:00Z", "2000-02-29T00:00:00Z"},
		{"2023-02-29T00:00:00Z", ""},
		{"1900-02-29T00:00:00Z", ""},
		{"2024-02-30T00:00:00Z", ""},
		{"2024-04-31T00:00:00Z", ""},
		{"2024-01-32T00:00:00Z", ""},
		{"2024-01-00T00:00:00Z", ""},
		{"2024-00-10T00:00:00Z", ""},
		{"2024-13-10T00:00:00Z", ""},
		{"2024-01-10T24:00:00Z", ""},
		{"2024-01-10T23:60:00Z", ""},
		{"2024-12-31T23:59:60Z", ""}, // leap seconds are not in CloudTrail's format

		// Fractional seconds: 1 to 6 digits, scaled to microseconds.
		{"2024-03-08T17:55:03.1Z", "2024-03-08T17:55:03.1Z"},
		{"2024-03-08T17:55:03.12Z", "2024-03-08T17:55:03.12Z"},
		{"2024-03-08T17:55:03.123Z", "2024-03-08T17:55:03.123Z"},
		{"2024-03-08T17:55:03.0123Z", "2024-03-08T17:55:03.0123Z"},
		{"2024-03-08T17:55:03.12345Z", "2024-03-08T17:55:03.12345Z"},
		{"2024-03-08T17:55:03.000001Z", "2024-03-08T17:55:03.000001Z"},
		{"2024-03-08T17:55:03.000000Z", "2024-03-08T17:55:03Z"},
		{"2024-03-08T17:55:03.1234567Z", ""}, // below a microsecond: kept verbatim in Extra
		{"2024-03-08T17:55:03.123456789Z", ""},
		{"2024-03-08T17:55:03.1234567890Z", ""},
		{"2024-03-08T17:55:03.Z", ""},
		{"2024-03-08T17:55:03.12aZ", ""},
		{"2024-03-08T17:55:03,123Z", ""},
		{"2024-03-08T17:55:03.-12Z", ""},

		// Other formats.
		{"2024-03-08T17:55:03", ""},
		{"2024-03-08T17:55:03+00:00", ""},
		{"2024-03-08T17:55:03.123+00:00", ""},
		{"2024-03-08T17:55:03z", ""},
		{"2024-03-08t17:55:03Z", ""},
		{"2024-03-08 17:55:03Z", ""},
		{"2024/03/08T17:55:03Z", ""},
		{"2024-3-8T17:55:03Z", ""},
		{"2024-03-08T17:55Z", ""},
		{"2024-03-08T7:55:03Z", ""},
		{"+024-03-08T17:55:03Z", ""},
		{"-024-03-08T17:55:03Z", ""},
		{"2024-03-08T17:55:0\u0663Z", ""},
		{" 2024-03-08T17:55:03Z", ""},
		{"2024-03-08T17:55:03Z ", ""},
		{"2024-03-08", ""},
		{"Z", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := record.ParseTime([]byte(tt.in))
			if tt.want == "" {
				if ok || got != 0 {
					t.Fatalf("ParseTime(%q) = %d, true; want refused", tt.in, got)
				}
				return
			}
			want, err := time.Parse(time.RFC3339Nano, tt.want)
			if err != nil {
				t.Fatal(err)
			}
			if !ok || got != want.UnixMicro() {
				t.Fatalf("ParseTime(%q) = %d, %t; want %d (%s)", tt.in, got, ok, want.UnixMicro(), tt.want)
			}
		})
	}
}

// TestParseTime_Random compares ParseTime with time.Parse on random
// instants over the whole range of years, with 0 to 6 fraction digits.
func TestParseTime_Random(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()
	layouts := []string{
		"2006-01-02T15:04:05Z", "2006-01-02T15:04:05.0Z", "2006-01-02T15:04:05.00Z", "2006-01-02T15:04:05.000Z",
		"2006-01-02T15:04:05.0000Z", "2006-01-02T15:04:05.00000Z", "2006-01-02T15:04:05.000000Z",
	}
	for range 100000 {
		us := lo + r.Int64N(hi-lo+1)
		layout := layouts[r.IntN(len(layouts))]
		s := time.UnixMicro(us).UTC().Format(layout)
		want, err := time.Parse(layout, s)
		if err != nil {
			t.Fatal(err)
		}
		if got, ok := record.ParseTime([]byte(s)); !ok || got != want.UnixMicro() {
			t.Fatalf("ParseTime(%q) = %d, %t; want %d", s, got, ok, want.UnixMicro())
		}
	}
}

// cloudTrailTime is CloudTrail's time format, the shape ParseTime reads.
var cloudTrailTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z$`)

// FuzzParseTime checks ParseTime against time.Parse: it reads exactly the
// strings of CloudTrail's shape that time.Parse reads as RFC 3339 (leap
// seconds aside, which time.Parse refuses too), to the same microsecond.
func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"2024-03-08T17:55:03Z", "2024-02-29T23:59:59.123456Z", "2023-02-29T00:00:00Z", "2024-03-08T17:55:03.1234567Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := record.ParseTime([]byte(s))
		want, err := time.Parse(time.RFC3339Nano, s)
		valid := err == nil && cloudTrailTime.MatchString(s)
		if ok != valid || ok && got != want.UnixMicro() {
			t.Fatalf("ParseTime(%q) = %d, %t; time.Parse: %v, %v", s, got, ok, want, err)
		}
	})
}
