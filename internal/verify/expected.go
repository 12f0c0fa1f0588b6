package verify

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// Expected is an account and the regions whose digests should be in the
// bucket: what the organization, the config or the user says should
// deliver, not what happens to be there.
type Expected struct {
	Account string
	Regions []string
}

// RunExpected is Run, knowing what should be there: every expected account
// x region (within opt.Accounts and opt.Regions, when set) that has no
// digest at all in the range is a gap over the whole range, added to the
// report's Gaps and returned as missing. When no expected chain is in the
// bucket at all, that is the answer (an empty report, every pair missing),
// not Run's "no digest files" error.
func RunExpected(ctx context.Context, store objstore.Store, opt Options, expected []Expected) (*Report, []Gap, error) {
	found, err := Discover(ctx, store, opt.Prefix, opt.OrgID, opt.Accounts, opt.Regions, layout.DigestFile)
	if err != nil {
		return nil, nil, err
	}
	var rep *Report
	if len(found) == 0 {
		if err := checkOptions(opt); err != nil {
			return nil, nil, err
		}
		rep = &Report{Source: store.String(), Start: opt.Start, End: opt.End, Chains: []Chain{}, Invalid: []FileResult{}, Gaps: []Gap{}}
	} else if rep, err = Run(ctx, store, opt); err != nil {
		return nil, nil, err
	}
	missing := Missing(rep, expected, opt.Accounts, opt.Regions)
	rep.Gaps = append(rep.Gaps, missing...)
	sort.SliceStable(rep.Gaps, func(i, j int) bool {
		if rep.Gaps[i].Account != rep.Gaps[j].Account {
			return rep.Gaps[i].Account < rep.Gaps[j].Account
		}
		return rep.Gaps[i].Region < rep.Gaps[j].Region
	})
	return rep, missing, nil
}

// Missing returns a gap over the report's whole range for each expected
// account x region with no digest in the report, sorted. Non-empty
// accounts or regions keep only the pairs within them (the scope the run
// was given).
func Missing(r *Report, expected []Expected, accounts, regions []string) []Gap {
	has := map[[2]string]bool{}
	for _, c := range r.Chains {
		if c.Digests > 0 {
			has[[2]string{c.Account, c.Region}] = true
		}
	}
	wantAcct, wantRegion := set(accounts), set(regions)
	out := []Gap{}
	for _, e := range expected {
		if len(wantAcct) > 0 && !wantAcct[e.Account] {
			continue
		}
		for _, rg := range e.Regions {
			if (len(wantRegion) > 0 && !wantRegion[rg]) || has[[2]string{e.Account, rg}] {
				continue
			}
			out = append(out, Gap{Account: e.Account, Region: rg, From: r.Start, To: r.End})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Account != out[j].Account {
			return out[i].Account < out[j].Account
		}
		return out[i].Region < out[j].Region
	})
	return out
}

// checkOptions refuses what Run refuses before it lists anything.
func checkOptions(opt Options) error {
	if opt.Keys == nil && opt.KeysFor == nil {
		return errors.New("verify: no public keys")
	}
	if !opt.End.After(opt.Start) {
		return fmt.Errorf("verify: end %s is not after start %s", opt.End.Format(time.RFC3339), opt.Start.Format(time.RFC3339))
	}
	return nil
}
