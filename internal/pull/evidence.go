package pull

import (
	"context"
	"hash/maphash"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// Problems the pull reports beside the verifier's, in its words.
const (
	// ProblemNotFound: a valid digest lists the file, and the bucket has
	// no such file in the window: it was deleted.
	ProblemNotFound = verify.ProblemNotFound
	// ProblemNotInDigest: no digest lists the file, although one should
	// by now (verify.ShouldBeListed): nothing vouches for its content.
	ProblemNotInDigest = verify.ProblemNotInDigest
)

// listedSet remembers every log file key a pull listed in its window, new
// or already loaded, as 64-bit hashes (8 bytes a file), to find the files
// that valid digests list and the bucket lacks.
type listedSet struct {
	mu     sync.Mutex
	seed   maphash.Seed
	hashes []uint64
	sorted bool
}

func newListedSet() *listedSet { return &listedSet{seed: maphash.MakeSeed()} }

// hash is the set's hash of key.
func (s *listedSet) hash(key string) uint64 { return maphash.String(s.seed, key) }

// add adds the hashes of listed keys.
func (s *listedSet) add(hs []uint64) {
	s.mu.Lock()
	s.hashes = append(s.hashes, hs...)
	s.sorted = false
	s.mu.Unlock()
}

// has reports whether key was listed; once every add is done. A hash
// collision would only hide a missing file, with odds about n²/2⁶⁵.
func (s *listedSet) has(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.sorted {
		slices.Sort(s.hashes)
		s.sorted = true
	}
	_, ok := slices.BinarySearch(s.hashes, s.hash(key))
	return ok
}

// uncovered is a listed file no valid digest vouched for by the end of
// verification.
type uncovered struct {
	key string
	k   layout.Key
}

// evidence adds to the summary what the digests say about the bucket once
// the pull is done: the digest report's invalid files and gaps (a chain
// that ends early included), the log files valid digests list that the
// window's listing lacks (deleted: ProblemNotFound), and the files no
// digest lists although one should by now (ProblemNotInDigest); newer
// ones wait for their digest.
func (sum *Summary) evidence(rep *verify.Report, vouched []string, listed *listedSet, unc []uncovered, opt Options) {
	for _, f := range rep.Invalid {
		sum.Bad = append(sum.Bad, BadFile{Key: f.Key, Problem: "digest " + f.Problem})
	}
	sum.Gaps = append(sum.Gaps, rep.Gaps...)
	missing := map[string]bool{}
	for _, key := range vouched {
		if listed.has(key) || missing[key] {
			continue // the common case first: no key to parse
		}
		k, err := layout.Parse(key)
		if err != nil || k.Kind != layout.LogFile || k.FileTime.Before(opt.Since) || !k.FileTime.Before(opt.Until) {
			continue
		}
		missing[key] = true
		sum.Bad = append(sum.Bad, BadFile{Key: key, Problem: ProblemNotFound})
		sum.countChecked(k.Account, k.Region, false, 0)
	}
	last := map[[2]string]time.Time{}
	for _, c := range rep.Chains {
		last[[2]string{c.Account, c.Region}] = c.Last
	}
	for _, u := range unc {
		if verify.ShouldBeListed(u.k.FileTime, last[[2]string{u.k.Account, u.k.Region}], opt.Now) {
			sum.Bad = append(sum.Bad, BadFile{Key: u.key, Problem: ProblemNotInDigest})
		} else {
			sum.Unverified++
		}
	}
	sum.fillLogFiles(rep)
	sum.Digests = rep
}

// LogFile names one log file and its delivery time.
type LogFile struct {
	Key  string    `json:"key"`
	Time time.Time `json:"time"`
}

// maxDays bounds the day folders read per chain to find its newest log
// file: the newest day folder holds one unless it holds other objects.
const maxDays = 7

// newest finds the newest log file of the chains, for a pull whose window
// holds none: per chain, its newest year, month and day folders (three
// folder listings), then the files of that day; an older day when that
// one holds no log file, at most maxDays of them. It returns nil when no
// chain has a log file.
func newest(ctx context.Context, store objstore.Store, chains []verify.ChainID, opt Options) (*LogFile, error) {
	var mu sync.Mutex
	var best *LogFile
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Jobs)
	for _, c := range chains {
		g.Go(func() error {
			f, err := chainNewest(gctx, store, layout.LogPrefix(opt.Prefix, c.Org, c.Account, c.Region))
			if err != nil || f == nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			if best == nil || f.Time.After(best.Time) || (f.Time.Equal(best.Time) && f.Key > best.Key) {
				best = f
			}
			return nil
		})
	}
	return best, g.Wait()
}

// chainNewest walks one chain's date folders from the newest.
func chainNewest(ctx context.Context, store objstore.Store, root string) (*LogFile, error) {
	days := 0
	var walk func(prefix string, depth int) (*LogFile, error)
	walk = func(prefix string, depth int) (*LogFile, error) {
		if depth == 3 {
			days++
			var f *LogFile
			err := store.List(ctx, prefix, "", func(o objstore.Object) error {
				k, err := layout.Parse(o.Key)
				if err == nil && k.Kind == layout.LogFile && (f == nil || !k.FileTime.Before(f.Time)) {
					f = &LogFile{Key: o.Key, Time: k.FileTime}
				}
				return nil
			})
			return f, err
		}
		dirs, err := store.ListDirs(ctx, prefix)
		if err != nil {
			return nil, err
		}
		sort.Sort(sort.Reverse(sort.StringSlice(dirs)))
		for _, d := range dirs {
			if days >= maxDays {
				break
			}
			f, err := walk(prefix+d+"/", depth+1)
			if err != nil || f != nil {
				return f, err
			}
		}
		return nil, nil
	}
	return walk(root, 0)
}
