package verify_test

import (
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/verify"
)

var t0 = time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC)

func hours(n float64) time.Duration { return time.Duration(n * float64(time.Hour)) }

func chains(lasts ...time.Time) []verify.Chain {
	out := make([]verify.Chain, len(lasts))
	for i, l := range lasts {
		out[i] = verify.Chain{Account: "11111111111" + string(rune('1'+i)), Region: "us-east-1", LastValid: l}
	}
	return out
}

// TestEndGaps decides which chains end early: against the window's end,
// no later than now minus the delivery delay, whatever the other chains
// hold (chains that all stop together are all gaps).
func TestEndGaps(t *testing.T) {
	start, far := t0.Add(-hours(24)), t0.AddDate(0, 1, 0)
	all := map[int]time.Time{0: t0.Add(hours(5)), 1: t0.Add(hours(5)), 2: t0.Add(hours(5))}
	tests := []struct {
		name      string
		lasts     []time.Time
		end, now  time.Time
		want      map[int]time.Time // chain index -> gap end; missing: no gap
		expected  time.Time
		chainsEnd time.Time // zero: some chain reaches the expected end
	}{
		{"all reach the window's end", []time.Time{t0, t0, t0}, t0, far, nil, t0, time.Time{}},
		{"newest digest deleted", []time.Time{t0, t0.Add(-hours(1)), t0}, t0, far, map[int]time.Time{1: t0}, t0, time.Time{}},
		{"three newest deleted", []time.Time{t0, t0.Add(-hours(3)), t0}, t0, far, map[int]time.Time{1: t0}, t0, time.Time{}},
		{"end past every chain: every chain has a gap", []time.Time{t0, t0.Add(-hours(1)), t0}, t0.Add(hours(5)), far,
			all, t0.Add(hours(5)), t0},
		{"all stop together (logging stopped everywhere): all gaps, never an all-clear", []time.Time{t0, t0, t0}, t0.Add(hours(5)), far,
			all, t0.Add(hours(5)), t0},
		{"one period past every chain is a gap", []time.Time{t0, t0}, t0.Add(hours(1)), far,
			map[int]time.Time{0: t0.Add(hours(1)), 1: t0.Add(hours(1))}, t0.Add(hours(1)), t0},
		{"less than a period past is not", []time.Time{t0, t0}, t0.Add(hours(0.5)), far, nil, t0.Add(hours(0.5)), time.Time{}},
		{"misaligned chains less than a period apart", []time.Time{t0, t0.Add(-hours(0.9))}, t0, far, nil, t0, time.Time{}},
		{"a chain with no valid digest in the window", []time.Time{t0, {}}, t0, far, map[int]time.Time{1: t0}, t0, time.Time{}},
		{"no chain with a valid digest", []time.Time{{}, {}}, t0, far, map[int]time.Time{0: t0, 1: t0}, t0, time.Time{}},
		// Live: the window ends now; digests may take an hour to arrive.
		{"live, last digest still on its way", []time.Time{t0, t0.Add(-hours(1))}, t0.Add(hours(0.5)), t0.Add(hours(0.5)), nil,
			t0.Add(-hours(0.5)), time.Time{}},
		{"live, last digest overdue", []time.Time{t0, t0.Add(-hours(1))}, t0.Add(hours(1.01)), t0.Add(hours(1.01)),
			map[int]time.Time{1: t0.Add(hours(0.01))}, t0.Add(hours(0.01)), time.Time{}},
		{"live, every chain stopped three hours ago", []time.Time{t0, t0}, t0.Add(hours(3)), t0.Add(hours(3)),
			map[int]time.Time{0: t0.Add(hours(2)), 1: t0.Add(hours(2))}, t0.Add(hours(2)), t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := chains(tt.lasts...)
			if got := verify.ExpectedEnd(tt.end, tt.now); !got.Equal(tt.expected) {
				t.Errorf("expected end %s, want %s", got, tt.expected)
			}
			gaps := verify.EndGaps(cs, start, tt.end, tt.now)
			got := map[int]time.Time{}
			for _, g := range gaps {
				for i, c := range cs {
					if c.Account == g.Account {
						got[i] = g.To
						from, reason := c.LastValid, verify.GapEndsEarly
						if from.IsZero() {
							from, reason = start, verify.GapNoDigest
						}
						if !g.From.Equal(from) || g.Reason != reason {
							t.Errorf("gap %+v, want from %s, reason %q", g, from, reason)
						}
					}
				}
			}
			if len(got) != len(tt.want) {
				t.Fatalf("gaps %+v, want gaps ending %v", gaps, tt.want)
			}
			for i, to := range tt.want {
				if !got[i].Equal(to) {
					t.Errorf("chain %d: gap to %s, want %s", i, got[i], to)
				}
			}
			ce, ok := verify.CommonEnd(cs, tt.end, tt.now)
			if ok != !tt.chainsEnd.IsZero() || !ce.Equal(tt.chainsEnd) {
				t.Errorf("chains end %s (%v), want %s", ce, ok, tt.chainsEnd)
			}
		})
	}
}

func TestShouldBeListed(t *testing.T) {
	tests := []struct {
		name           string
		file, last, at time.Time
		want           bool
	}{
		{"a digest an hour after the file", t0, t0.Add(hours(1)), t0.Add(hours(1)), true},
		{"the chain's digests end soon after the file", t0, t0.Add(hours(0.5)), t0.Add(hours(0.6)), false},
		{"two hours old, no digest after it", t0, t0.Add(-hours(1)), t0.Add(hours(2)), true},
		{"less than two hours old, no digest after it", t0, t0.Add(-hours(1)), t0.Add(hours(1.9)), false},
		{"no digest at all, old", t0, time.Time{}, t0.AddDate(0, 0, 1), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := verify.ShouldBeListed(tt.file, tt.last, tt.at); got != tt.want {
				t.Fatalf("ShouldBeListed = %v, want %v", got, tt.want)
			}
		})
	}
}
