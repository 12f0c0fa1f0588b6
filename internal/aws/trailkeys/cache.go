package trailkeys

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/trailwarden/trailwarden/internal/digest"
)

// fetch is one region's ListPublicKeys, shared by every caller that asks
// for the region while it runs and after it is done.
type fetch struct {
	done chan struct{}
	keys *digest.KeySet
	err  error
	// abandoned: the fetching caller's context ended, so the error says
	// nothing about the region and the next caller fetches again.
	abandoned bool
}

// KeysFor returns a function that gives each region's keys for [start, end]
// (see PublicKeys), calling CloudTrail once per region and caching the
// result. It is safe for concurrent use: callers asking for a region that is
// being fetched wait for that fetch instead of starting their own.
//
// Errors are cached too, except those caused by the fetching caller's
// context: the SDK has already retried, and asking again for every digest of
// the region would only repeat the failure and add to any throttling.
func (c *Client) KeysFor(start, end time.Time) func(ctx context.Context, region string) (*digest.KeySet, error) {
	var mu sync.Mutex
	fetches := make(map[string]*fetch)
	return func(ctx context.Context, region string) (*digest.KeySet, error) {
		for {
			mu.Lock()
			f, ok := fetches[region]
			if !ok {
				f = &fetch{done: make(chan struct{})}
				fetches[region] = f
			}
			mu.Unlock()
			if !ok {
				c.run(ctx, f, region, start, end, func() {
					mu.Lock()
					delete(fetches, region)
					mu.Unlock()
				})
				return f.keys, f.err
			}
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, fmt.Errorf("cloudtrail: list public keys in %s: %w", region, context.Cause(ctx))
			}
			if !f.abandoned {
				return f.keys, f.err
			}
			// The fetch we waited for was cancelled by its own caller;
			// take over unless our context has ended as well.
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("cloudtrail: list public keys in %s: %w", region, context.Cause(ctx))
			}
		}
	}
}

// run performs f and releases its waiters even if PublicKeys panics, so no
// caller blocks forever; forget drops an abandoned fetch from the cache.
func (c *Client) run(ctx context.Context, f *fetch, region string, start, end time.Time, forget func()) {
	f.abandoned = true // until PublicKeys returns normally
	defer func() {
		if f.abandoned {
			forget()
		}
		close(f.done)
	}()
	f.keys, f.err = c.PublicKeys(ctx, region, start, end)
	f.abandoned = f.err != nil && ctx.Err() != nil
}
