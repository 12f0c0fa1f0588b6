package pull

import (
	"context"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// object is a log file to pull.
type object struct {
	key  string
	size int64
	k    layout.Key
}

// list finds the log files of [Since, Until) that the sink does not have
// yet: chains by folder, then day folder by day folder, in parallel. The
// queue orders them. Every file listed in the window, new or not, goes
// into listed.
func list(ctx context.Context, store objstore.Store, sink Sink, opt Options, sum *Summary, listed *listedSet) ([]verify.ChainID, []object, error) {
	chains, err := chains(ctx, store, opt)
	if err != nil {
		return nil, nil, err
	}
	var mu sync.Mutex
	var out []object
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Jobs)
	for _, c := range chains {
		g.Go(func() error {
			root := layout.LogPrefix(opt.Prefix, c.Org, c.Account, c.Region)
			have, err := sink.IngestedKeys(gctx, root)
			if err != nil {
				return err
			}
			var found []object
			var keys []uint64 // hashes of every file listed
			skipped := 0
			for day := opt.Since.UTC().Truncate(24 * time.Hour); day.Before(opt.Until); day = day.Add(24 * time.Hour) {
				prefix := layout.DayPrefix(opt.Prefix, c.Org, c.Account, c.Region, layout.LogFile, day)
				err := store.List(gctx, prefix, "", func(o objstore.Object) error {
					k, err := layout.Parse(o.Key)
					if err != nil || k.Kind != layout.LogFile || k.FileTime.Before(opt.Since) || !k.FileTime.Before(opt.Until) {
						return nil //nolint:nilerr // other objects and other times are not ours to pull
					}
					keys = append(keys, listed.hash(o.Key))
					if have[o.Key] {
						skipped++
						return nil
					}
					found = append(found, object{key: o.Key, size: o.Size, k: k})
					return nil
				})
				if err != nil {
					return fmt.Errorf("pull: list %s: %w", prefix, err)
				}
			}
			listed.add(keys)
			mu.Lock()
			defer mu.Unlock()
			sum.Listed += len(keys)
			sum.AlreadyLoaded += skipped
			out = append(out, found...)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	return chains, out, nil
}

// chains lists AWSLogs/[o-id/]<account>/CloudTrail/<region>/ folders.
func chains(ctx context.Context, store objstore.Store, opt Options) ([]verify.ChainID, error) {
	out, err := verify.Discover(ctx, store, opt.Prefix, opt.OrgID, opt.Accounts, opt.Regions, layout.LogFile)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pull: %w", &verify.NothingFoundError{What: "log folders", Under: store.String() + "/" + layout.AccountsPrefix(opt.Prefix, opt.OrgID)})
	}
	return out, nil
}
