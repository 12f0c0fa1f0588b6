package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// Options select what to verify.
type Options struct {
	// Bucket is the bucket name digests must name (digestS3Bucket); empty
	// accepts any bucket but still checks the object key.
	Bucket string
	// Prefix is the trail's key prefix; OrgID the organization of an
	// organization trail ("" to discover it, or for account trails).
	Prefix, OrgID string
	// Accounts and Regions restrict the chains; empty means all found.
	Accounts, Regions []string
	Start, End        time.Time
	// Now is the time the bucket is read at (time.Now by default): digests
	// and log files newer than now minus DeliveryDelay may still be on
	// their way, so they are not expected yet.
	Now time.Time
	// Keys verify every region's digests; KeysFor, when set instead, gives
	// each region its own keys (CloudTrail signs with per-region keys).
	Keys    *digest.KeySet
	KeysFor func(ctx context.Context, region string) (*digest.KeySet, error)
	// Jobs bounds concurrent requests to the store (chains and files).
	Jobs int
	// LogFiles, when set, receives the log files listed by every valid
	// digest instead of their being downloaded and hashed here: pull
	// checks them against the same bytes it ingests, and compares them
	// with the log files it lists. Calls are serialized. Without it, the
	// log folders of [Start, End) are listed too, and a log file that no
	// digest lists is reported (ProblemNotInDigest) once a digest should
	// list it (ShouldBeListed).
	LogFiles func(c Chain, lf digest.LogFile)
	// OnFile, when set, receives every result as it is decided, from
	// several goroutines one at a time.
	OnFile func(FileResult)
	// Progress, when set, is called as chains and files complete.
	Progress func(Progress)
}

// Progress counts work done.
type Progress struct {
	Chains, ChainsDone int
	Files              int64
	Bytes              int64
}

var (
	accountRe = regexp.MustCompile(`^[0-9]{12}$`)
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
)

// Run verifies every chain in [Start, End] and returns the report. An error
// is returned only when the run itself cannot proceed (listing fails, the
// duckdb's endpoint stalls, the context ends); invalid files are results,
// not errors. A stall is never a file's verdict: the run stops with it.
func Run(ctx context.Context, store objstore.Store, opt Options) (*Report, error) {
	began := time.Now()
	if opt.Keys == nil && opt.KeysFor == nil {
		return nil, ErrNoKeys
	}
	if !opt.End.After(opt.Start) {
		return nil, fmt.Errorf("verify: end %s is not after start %s", opt.End.Format(time.RFC3339), opt.Start.Format(time.RFC3339))
	}
	if opt.Jobs <= 0 {
		opt.Jobs = 16
	}
	if opt.Now.IsZero() {
		opt.Now = began
	}
	chains, err := discover(ctx, store, opt)
	if err != nil {
		return nil, err
	}
	v := &verifier{store: store, opt: opt, rep: &Report{Source: store.String(), Start: opt.Start, End: opt.End, Invalid: []FileResult{}, Gaps: []Gap{}}}
	v.prog.Chains = len(chains)
	// Chains and files share one limit: a chain's walk is cheap, its files
	// are the work, and both go through the same store.
	// A failed walk stops the files too, and a failed file the walks.
	fbase, stopFiles := context.WithCancel(ctx)
	defer stopFiles()
	var fctx context.Context
	v.files, fctx = errgroup.WithContext(fbase)
	v.files.SetLimit(opt.Jobs)
	walks, wctx := errgroup.WithContext(fctx)
	walks.SetLimit(max(1, opt.Jobs/4))
	for _, c := range chains {
		// Log files outlive their chain's walk, so they get the files'
		// context, not the walks' (which ends when the walks do).
		walks.Go(func() error { return v.chain(wctx, fctx, c) })
	}
	werr := walks.Wait()
	if werr != nil {
		stopFiles()
	}
	ferr := v.files.Wait()
	if err := runErr(ctx, werr, ferr); err != nil {
		return nil, err
	}
	r := v.rep
	for _, c := range v.chains {
		r.Chains = append(r.Chains, *c)
	}
	sort.Slice(r.Chains, func(i, j int) bool {
		if r.Chains[i].Account != r.Chains[j].Account {
			return r.Chains[i].Account < r.Chains[j].Account
		}
		return r.Chains[i].Region < r.Chains[j].Region
	})
	// A chain that ends before the others or the window do lost its
	// newest digests, or never got them: a gap, like a break inside it.
	r.ExpectedEnd = ExpectedEnd(opt.End, opt.Now)
	r.ChainsEnd, _ = CommonEnd(r.Chains, opt.End, opt.Now)
	for _, g := range EndGaps(r.Chains, opt.Start, opt.End, opt.Now) {
		r.Gaps = append(r.Gaps, g)
		for i := range r.Chains {
			if r.Chains[i].Account == g.Account && r.Chains[i].Region == g.Region {
				r.Chains[i].Gaps++
			}
		}
	}
	sort.Slice(r.Invalid, func(i, j int) bool { return r.Invalid[i].Key < r.Invalid[j].Key })
	sort.Slice(r.Gaps, func(i, j int) bool {
		a, b := r.Gaps[i], r.Gaps[j]
		if a.Account+a.Region != b.Account+b.Region {
			return a.Account+a.Region < b.Account+b.Region
		}
		return a.From.Before(b.From)
	})
	for _, c := range r.Chains {
		r.Digests += c.Digests
		r.DigestsValid += c.DigestsValid
		r.LogFiles += c.LogFiles
		r.LogFilesValid += c.LogFilesValid
		r.Bytes += c.Bytes
	}
	r.Elapsed = time.Since(began)
	return r, nil
}

// runErr is what stopped a run: the walks' and the files' errors, less
// the cancellations that one group's error caused in the other.
func runErr(ctx context.Context, werr, ferr error) error {
	if ctx.Err() == nil {
		switch {
		case werr != nil && ferr != nil && errors.Is(ferr, context.Canceled):
			return werr
		case werr != nil && ferr != nil && errors.Is(werr, context.Canceled):
			return ferr
		}
	}
	return errors.Join(werr, ferr)
}

// ChainID names one account x region of one layout root.
type ChainID struct {
	Org, Account, Region string
}

// Discover finds the chains of a bucket by folder, never listing objects:
// AWSLogs/[o-id/]<account>/<folder>/<region>/, where folder is
// CloudTrail-Digest for kind layout.DigestFile and CloudTrail for log files.
// An empty org discovers both layouts; empty accounts or regions mean all.
func Discover(ctx context.Context, store objstore.Store, prefix, org string, accounts, regions []string, kind layout.Kind) ([]ChainID, error) {
	orgs := []string{org}
	if org == "" {
		top, err := store.ListDirs(ctx, layout.AccountsPrefix(prefix, ""))
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
	folder := layout.LogPrefix
	if kind == layout.DigestFile {
		folder = layout.DigestPrefix
	}
	wantAcct, wantRegion := set(accounts), set(regions)
	var out []ChainID
	for _, o := range orgs {
		accts, err := store.ListDirs(ctx, layout.AccountsPrefix(prefix, o))
		if err != nil {
			return nil, err
		}
		for _, a := range accts {
			if !accountRe.MatchString(a) || (len(wantAcct) > 0 && !wantAcct[a]) {
				continue
			}
			rs, err := store.ListDirs(ctx, folder(prefix, o, a, ""))
			if err != nil {
				return nil, err
			}
			for _, r := range rs {
				if len(wantRegion) == 0 || wantRegion[r] {
					out = append(out, ChainID{o, a, r})
				}
			}
		}
	}
	return out, nil
}

// ErrNoKeys is a run without public keys to check signatures with.
var ErrNoKeys = errors.New("verify: no public keys to check the digests' signatures with")

// NothingFoundError is a source with nothing to read under the trail's
// folders: a wrong source, prefix or scope, or a trail that never wrote
// there.
type NothingFoundError struct {
	// What was looked for ("digest files", "log folders"), Under which
	// location, and where CloudTrail puts them (Layout, may be empty).
	What, Under, Layout string
}

func (e *NothingFoundError) Error() string {
	s := "no " + e.What + " under " + e.Under
	if e.Layout != "" {
		s += " (" + e.Layout + ")"
	}
	return s
}

// discover finds the digest chains to verify.
func discover(ctx context.Context, store objstore.Store, opt Options) ([]ChainID, error) {
	out, err := Discover(ctx, store, opt.Prefix, opt.OrgID, opt.Accounts, opt.Regions, layout.DigestFile)
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, &NothingFoundError{What: "digest files", Under: store.String() + "/" + layout.AccountsPrefix(opt.Prefix, opt.OrgID),
			Layout: "digests live in AWSLogs/[o-id/]ACCOUNT/CloudTrail-Digest/REGION/"}
	}
	return out, nil
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

// verifier holds one run's shared state.
type verifier struct {
	store objstore.Store
	opt   Options
	files *errgroup.Group

	mu     sync.Mutex
	rep    *Report
	chains []*Chain
	prog   Progress
}

func (v *verifier) record(c *Chain, r FileResult) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch {
	case r.Type == TypeDigest && r.Valid:
		c.DigestsValid++
	case r.Type == TypeLog && r.Valid:
		c.LogFilesValid++
	}
	if !r.Valid {
		v.rep.Invalid = append(v.rep.Invalid, r)
	}
	v.prog.Files++
	if v.opt.OnFile != nil {
		v.opt.OnFile(r)
	}
	if v.opt.Progress != nil {
		v.opt.Progress(v.prog)
	}
}

// verifyLog hashes one log file's uncompressed bytes, streaming.
func (v *verifier) verifyLog(ctx context.Context, c *Chain, lf digest.LogFile) error {
	res := FileResult{Type: TypeLog, Key: lf.S3Object, Account: c.Account, Region: c.Region}
	body, _, err := v.store.Get(ctx, lf.S3Object)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if se := objstore.Stalled(err); se != nil {
			return fmt.Errorf("verify: %w", se) // the endpoint, not the file: no verdict
		}
		res.Problem = problem(err)
		v.record(c, res)
		return nil
	}
	n := &countingReader{r: body}
	hash, _, err := digest.HashGzip(n)
	_ = body.Close()
	if se := objstore.Stalled(err); se != nil {
		return fmt.Errorf("verify: %w", se)
	}
	v.mu.Lock()
	c.Bytes += n.n
	v.prog.Bytes += n.n
	v.mu.Unlock()
	switch {
	case err != nil:
		res.Problem = problem(err)
	case digest.CheckHash(hash, lf.HashValue) != nil:
		res.Problem = ProblemHash
	default:
		res.Valid = true
	}
	v.record(c, res)
	return nil
}

func problem(err error) string {
	switch {
	case errors.Is(err, objstore.ErrNotFound):
		return ProblemNotFound
	case errors.Is(err, digest.ErrTrailingData):
		return ProblemTrailingData
	case errors.Is(err, digest.ErrCorrupt):
		return ProblemCorrupt + ": " + err.Error()
	case errors.Is(err, digest.ErrInvalidFormat):
		return ProblemFormat
	case errors.Is(err, digest.ErrSignature):
		return ProblemSignature
	}
	return err.Error()
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
