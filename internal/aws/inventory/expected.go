package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// ExpectedTimeout bounds the live reads of the expected set (the
// organization's accounts, each account's regions), retries included.
const ExpectedTimeout = 2 * time.Minute

// Expected resolves which accounts (and, unless accountsOnly, regions)
// should deliver. When only the organization can say and in holds no
// snapshot of it, it reads the organization live (and, when regions are
// wanted, each account's enabled regions) through the config's access
// role. A read that fails makes that part unknown (coverage says why); an
// endpoint that stalls stops the resolution with the stall.
func Expected(ctx context.Context, in coverage.Input, o Options, accountsOnly bool) (*coverage.Expected, error) {
	if in.WantsOrganization() {
		lctx, cancel := context.WithTimeout(ctx, ExpectedTimeout)
		org, err := Organization(lctx, in.Config, o)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		switch {
		case stalled(err):
			// Not unknowable: unreachable now. The run stops on it.
			return nil, fmt.Errorf("expected set: read the organization live: %w", err)
		case err != nil:
			in.OrganizationErr = err
		default:
			in.Organization = org
		}
	}
	if accountsOnly {
		return coverage.ResolveAccounts(in)
	}
	if e, err := coverage.ResolveAccounts(in); err == nil && in.Config != nil {
		if want := in.WantsRegions(e); len(want) > 0 {
			lctx, cancel := context.WithTimeout(ctx, ExpectedTimeout)
			rs, err := Regions(lctx, in.Config, want, o)
			cancel()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			switch {
			case stalled(err):
				return nil, fmt.Errorf("expected set: read the enabled regions live: %w", err)
			case err != nil:
				in.LiveRegionsErr = err
			default:
				in.LiveRegions = rs
			}
		}
	}
	return coverage.Resolve(in)
}

// stalled reports whether err is an endpoint that stopped answering.
func stalled(err error) bool {
	return errors.Is(err, objstore.ErrStalled) || errors.Is(err, session.ErrStalled)
}
