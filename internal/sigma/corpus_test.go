package sigma_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/sigma"
	"github.com/trailwarden/trailwarden/internal/testkit/sigmacorpus"
)

// TestCorpus runs every corpus case: the rule compiles in both dialects
// (or is refused with the reason the case names) and Match gives each
// event's expected answer.
func TestCorpus(t *testing.T) {
	cases, err := sigmacorpus.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 30 {
		t.Fatalf("corpus has %d cases, want at least 30", len(cases))
	}
	for _, c := range cases {
		t.Run(c.File, func(t *testing.T) {
			rules, err := sigma.Parse([]byte(c.Rule), c.File)
			if err != nil {
				t.Fatal(err)
			}
			r := rules[len(rules)-1] // the correlation comes last
			ph := sigma.Placeholders(c.Placeholders)
			for _, d := range []sigma.Dialect{sigma.DuckDB, sigma.Athena} {
				want := c.Unsupported
				if want == "" && d == sigma.Athena {
					want = c.AthenaUnsupported
				}
				comp, err := sigma.Compile(r, d, ph)
				if want != "" {
					var u *sigma.UnsupportedError
					if !errors.As(err, &u) || !strings.Contains(u.Reason, want) {
						t.Fatalf("%s: Compile = %v, want an UnsupportedError with %q", d, err, want)
					}
					if u.RuleID != r.ID {
						t.Errorf("%s: error names rule %q, want %q", d, u.RuleID, r.ID)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", d, err)
				}
				if err := sigma.CheckSQL(comp.SQL, d); err != nil {
					t.Errorf("%s: %v\n%s", d, err, comp.SQL)
				}
			}
			if c.Unsupported != "" {
				if len(c.Events) > 0 {
					_, err := r.Match(c.Events[0].Event, ph)
					if err == nil {
						t.Error("Match accepted a rule Compile refuses")
					}
				}
				return
			}
			if r.Correlation != nil {
				var recs []map[string]any
				for _, e := range c.Events {
					recs = append(recs, e.Event)
				}
				got, err := r.Correlate(recs, ph)
				if err != nil {
					t.Fatal(err)
				}
				var ids [][]string
				for _, f := range got {
					ids = append(ids, f.EventIDs)
				}
				if !slices.EqualFunc(ids, c.Fires, slices.Equal[[]string]) {
					t.Errorf("Correlate fired %v, want %v", ids, c.Fires)
				}
				for _, base := range rules[:len(rules)-1] {
					if !base.ReferencedOnly {
						t.Errorf("rule %s is referred to by a correlation without generate but is not ReferencedOnly", base.Title)
					}
				}
				return
			}
			if len(c.Events) == 0 {
				t.Fatal("a case of a supported rule needs events")
			}
			var pos, neg int
			for i, e := range c.Events {
				got, err := r.Match(e.Event, ph)
				if err != nil {
					t.Fatal(err)
				}
				if got != e.Match {
					t.Errorf("event %d %v: Match = %v, want %v", i, e.Event, got, e.Match)
				}
				if e.Match {
					pos++
				} else {
					neg++
				}
			}
			if pos == 0 || neg == 0 {
				t.Errorf("case has %d matching and %d non-matching events; it needs both", pos, neg)
			}
		})
	}
}
