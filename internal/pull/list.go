package pull

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// object is a log file to pull.
type object struct {
	key  string
	size int64
	k    layout.Key
}

type chain struct{ org, account, region string }

// list finds the log files of [Since, Until] that the sink does not have
// yet: chains by folder, then day folder by day folder, in parallel.
func list(ctx context.Context, store objstore.Store, sink Sink, opt Options, sum *Summary) ([]object, error) {
	chains, err := chains(ctx, store, opt)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	var out []object
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Jobs)
	for _, c := range chains {
		g.Go(func() error {
			root := layout.LogPrefix(opt.Prefix, c.org, c.account, c.region)
			have, err := sink.IngestedKeys(gctx, root)
			if err != nil {
				return err
			}
			var found []object
			listed, skipped := 0, 0
			for day := opt.Since.UTC().Truncate(24 * time.Hour); day.Before(opt.Until); day = day.Add(24 * time.Hour) {
				prefix := layout.DayPrefix(opt.Prefix, c.org, c.account, c.region, layout.LogFile, day)
				err := store.List(gctx, prefix, "", func(o objstore.Object) error {
					k, err := layout.Parse(o.Key)
					if err != nil || k.Kind != layout.LogFile || k.FileTime.Before(opt.Since) || !k.FileTime.Before(opt.Until) {
						return nil //nolint:nilerr // other objects and other times are not ours to pull
					}
					listed++
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
			mu.Lock()
			defer mu.Unlock()
			sum.Listed += listed
			sum.AlreadyLoaded += skipped
			out = append(out, found...)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	// Oldest first, so an interrupted pull leaves a clean front behind it.
	sort.Slice(out, func(i, j int) bool {
		if !out[i].k.FileTime.Equal(out[j].k.FileTime) {
			return out[i].k.FileTime.Before(out[j].k.FileTime)
		}
		return out[i].key < out[j].key
	})
	return out, nil
}

// chains lists AWSLogs/[o-id/]<account>/CloudTrail/<region>/ folders.
func chains(ctx context.Context, store objstore.Store, opt Options) ([]chain, error) {
	orgs := []string{opt.OrgID}
	if opt.OrgID == "" {
		top, err := store.ListDirs(ctx, layout.AccountsPrefix(opt.Prefix, ""))
		if err != nil {
			return nil, err
		}
		orgs = []string{""}
		for _, d := range top {
			if orgRe.MatchString(d) {
				orgs = append(orgs, d)
			}
		}
	}
	want := func(list []string, v string) bool {
		if len(list) == 0 {
			return true
		}
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	}
	var out []chain
	for _, org := range orgs {
		accts, err := store.ListDirs(ctx, layout.AccountsPrefix(opt.Prefix, org))
		if err != nil {
			return nil, err
		}
		for _, a := range accts {
			if !accountRe.MatchString(a) || !want(opt.Accounts, a) {
				continue
			}
			regions, err := store.ListDirs(ctx, layout.LogPrefix(opt.Prefix, org, a, ""))
			if err != nil {
				return nil, err
			}
			for _, r := range regions {
				if want(opt.Regions, r) {
					out = append(out, chain{org, a, r})
				}
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("pull: no log folders under %s/%s: check --source, the prefix, --account and --region",
			store.String(), layout.AccountsPrefix(opt.Prefix, opt.OrgID))
	}
	return out, nil
}
