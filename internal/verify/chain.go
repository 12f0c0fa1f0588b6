package verify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// listed is one digest found by listing, fetched and checked in parallel
// before the chain is walked in order.
type listed struct {
	key  string
	end  time.Time
	file *digest.File
	hash string // SHA-256 of the gunzipped digest bytes
	sig  string
	// backfillAt is the backfill-generation-timestamp metadata of a
	// backfill digest: it was signed then, not at its end time.
	backfillAt string
	err        error // why it could not be read or parsed
}

// chain verifies one account x region: its regular digests, then its
// backfill digests, each as validate-logs walks them.
func (v *verifier) chain(ctx, fileCtx context.Context, id ChainID) error {
	c := &Chain{Account: id.Account, Region: id.Region}
	keys := v.opt.Keys
	if v.opt.KeysFor != nil {
		var err error
		if keys, err = v.opt.KeysFor(ctx, id.Region); err != nil {
			return fmt.Errorf("verify: public keys for %s: %w", id.Region, err)
		}
	}
	regular, backfill, err := v.list(ctx, id)
	if err != nil {
		return err
	}
	// The log files the chain's digests list, valid or not, when this run
	// compares them with the chain's log folders (not when the caller
	// checks log files itself).
	var logs map[string]bool
	if v.opt.LogFiles == nil {
		logs = map[string]bool{}
	}
	for _, ds := range [][]*listed{regular, backfill} {
		if err := v.fetch(ctx, ds); err != nil {
			return err
		}
		if err := v.walk(fileCtx, c, ds, keys, logs); err != nil {
			return err
		}
	}
	if logs != nil {
		if err := v.unlisted(ctx, id, c, logs); err != nil {
			return err
		}
	}
	v.mu.Lock()
	// The chain's log files may still be being checked: Run copies the
	// counts into the report once every file is done.
	v.chains = append(v.chains, c)
	v.prog.ChainsDone++
	if v.opt.Progress != nil {
		v.opt.Progress(v.prog)
	}
	v.mu.Unlock()
	return nil
}

// list returns the chain's digests whose end time falls in
// [Start, End+1h], day folder by day folder, oldest first.
func (v *verifier) list(ctx context.Context, id ChainID) (regular, backfill []*listed, err error) {
	last := v.opt.End.Add(time.Hour)
	for day := v.opt.Start.UTC().Truncate(24 * time.Hour); !day.After(last); day = day.Add(24 * time.Hour) {
		prefix := layout.DayPrefix(v.opt.Prefix, id.Org, id.Account, id.Region, layout.DigestFile, day)
		err := v.store.List(ctx, prefix, "", func(o objstore.Object) error {
			k, err := layout.Parse(o.Key)
			if err != nil || k.Kind != layout.DigestFile || k.FileTime.Before(v.opt.Start) || k.FileTime.After(last) {
				return nil //nolint:nilerr // unrelated or out-of-range keys are skipped, as validate-logs does
			}
			d := &listed{key: o.Key, end: k.FileTime}
			if k.Backfill {
				backfill = append(backfill, d)
			} else {
				regular = append(regular, d)
			}
			return nil
		})
		if err != nil {
			return nil, nil, listErr(prefix, err)
		}
	}
	return regular, backfill, nil
}

// unlisted lists the chain's log files delivered in [Start, End), day
// folder by day folder, and reports each that no digest lists once a
// digest should list it (ShouldBeListed): a log file no digest vouches
// for is named, not only left out. Files listed by a digest that is
// invalid are not reported again: the digest is.
func (v *verifier) unlisted(ctx context.Context, id ChainID, c *Chain, logs map[string]bool) error {
	v.mu.Lock()
	last := c.Last
	v.mu.Unlock()
	for day := v.opt.Start.UTC().Truncate(24 * time.Hour); day.Before(v.opt.End); day = day.Add(24 * time.Hour) {
		prefix := layout.DayPrefix(v.opt.Prefix, id.Org, id.Account, id.Region, layout.LogFile, day)
		err := v.store.List(ctx, prefix, "", func(o objstore.Object) error {
			k, err := layout.Parse(o.Key)
			if err != nil || k.Kind != layout.LogFile || k.FileTime.Before(v.opt.Start) || !k.FileTime.Before(v.opt.End) ||
				logs[o.Key] || !ShouldBeListed(k.FileTime, last, v.opt.Now) {
				return nil //nolint:nilerr // other objects, times and files are not this check's
			}
			v.mu.Lock()
			c.Unvouched++
			v.mu.Unlock()
			v.record(c, FileResult{Type: TypeLog, Key: o.Key, Account: c.Account, Region: c.Region, Problem: ProblemNotInDigest})
			return nil
		})
		if err != nil {
			return listErr(prefix, err)
		}
	}
	return nil
}

// fetch reads and parses the digests concurrently.
func (v *verifier) fetch(ctx context.Context, ds []*listed) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(1, v.opt.Jobs/2))
	for _, d := range ds {
		g.Go(func() error {
			body, meta, err := v.store.Get(gctx, d.key)
			if err != nil {
				if gctx.Err() != nil {
					return gctx.Err()
				}
				if se := objstore.Stalled(err); se != nil {
					return fmt.Errorf("verify: %w", se) // the endpoint, not the digest: no verdict
				}
				d.err = err
				return nil
			}
			defer func() { _ = body.Close() }()
			var raw bytes.Buffer
			d.hash, _, d.err = digest.HashGzipTee(body, &raw)
			if se := objstore.Stalled(d.err); se != nil {
				return fmt.Errorf("verify: %w", se)
			}
			if d.err == nil {
				d.file, d.err = digest.Parse(raw.Bytes())
			}
			d.sig = meta["signature"]
			d.backfillAt = meta["backfill-generation-timestamp"]
			return nil
		})
	}
	return g.Wait()
}

// walk follows the chain backwards from the newest digest, as validate-logs
// does, checking each digest and queueing its log files.
func (v *verifier) walk(ctx context.Context, c *Chain, ds []*listed, keys *digest.KeySet, logs map[string]bool) error {
	if len(ds) == 0 {
		return nil
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i].key < ds[j].key })
	index := make(map[string]int, len(ds))
	for i, d := range ds {
		index[d.key] = i
	}
	v.mu.Lock()
	c.Digests += len(ds)
	if c.First.IsZero() || ds[0].end.Before(c.First) {
		c.First = ds[0].end
	}
	if ds[len(ds)-1].end.After(c.Last) {
		c.Last = ds[len(ds)-1].end
	}
	v.mu.Unlock()
	seen := make([]bool, len(ds))
	// Walk from the newest digest not yet seen, as long as one is left: a
	// digest moved to a later key must not hide the ones it skips over.
	for start := len(ds) - 1; start >= 0; start-- {
		if !seen[start] {
			if err := v.walkFrom(ctx, c, ds, index, seen, start, keys, logs); err != nil {
				return err
			}
		}
	}
	return nil
}

func (v *verifier) walkFrom(ctx context.Context, c *Chain, ds []*listed, index map[string]int, seen []bool, cur int, keys *digest.KeySet,
	logs map[string]bool) error {
	var expectHash string // previousDigestHashValue of the digest checked just before
	for cur >= 0 && !seen[cur] {
		d := ds[cur]
		seen[cur] = true
		res, signed := v.checkDigest(c, d, expectHash, keys)
		v.record(c, res)
		if d.file == nil {
			expectHash = ""
			cur--
			continue
		}
		if logs != nil {
			for _, lf := range d.file.LogFiles {
				logs[lf.S3Object] = true
			}
		}
		if res.Valid {
			v.mu.Lock()
			if d.end.After(c.LastValid) {
				c.LastValid = d.end
			}
			v.mu.Unlock()
		}
		if res.Valid && v.opt.LogFiles != nil {
			v.mu.Lock()
			for _, lf := range d.file.LogFiles {
				v.opt.LogFiles(*c, lf)
			}
			v.mu.Unlock()
		} else if res.Valid {
			v.mu.Lock()
			c.LogFiles += len(d.file.LogFiles)
			v.mu.Unlock()
			for _, lf := range d.file.LogFiles {
				v.files.Go(func() error { return v.verifyLog(ctx, c, lf) })
			}
		}
		// Only a digest whose own signature holds vouches for its
		// predecessor's hash: a replaced or moved digest's
		// previousDigestHashValue is the forger's word, and must not
		// condemn a predecessor that checks out on its own.
		expectHash = ""
		if signed {
			expectHash = deref(d.file.PreviousDigestHashValue)
		}
		if d.file.Starting() {
			// A starting digest: the chain was (re)started. Anything older
			// is not linked to it, which leaves a gap.
			if cur > 0 {
				v.gap(c, ds[cur-1].end, d)
			}
			expectHash = ""
			cur--
			continue
		}
		prev := deref(d.file.PreviousDigestS3Object)
		if i, ok := index[prev]; ok && deref(d.file.PreviousDigestS3Bucket) == d.file.DigestS3Bucket {
			cur = i
			continue
		}
		pk, err := layout.Parse(prev)
		if err != nil || pk.FileTime.Before(v.opt.Start) {
			return nil //nolint:nilerr // the chain leads out of the range: done
		}
		_, _, err = v.store.Head(ctx, prev)
		if err == nil {
			return nil // it exists but was not listed with these digests: another chain's
		}
		if se := objstore.Stalled(err); se != nil {
			return fmt.Errorf("verify: %w", se) // the endpoint, not the digest: no verdict
		}
		// A digest the chain names but the bucket lacks counts as one of
		// the chain's digests, and an invalid one.
		v.mu.Lock()
		c.Digests++
		v.mu.Unlock()
		v.record(c, FileResult{Type: TypeDigest, Key: prev, Account: c.Account, Region: c.Region, Problem: ProblemNotFound, Backfill: d.res()})
		expectHash = ""
		cur = olderThan(ds, pk.FileTime, cur)
	}
	return nil
}

// listErr is a failed listing of prefix; a stall already names it.
func listErr(prefix string, err error) error {
	if se := objstore.Stalled(err); se != nil {
		return fmt.Errorf("verify: %w", se)
	}
	return fmt.Errorf("verify: list %s: %w", prefix, err)
}

func (d *listed) res() bool {
	k, err := layout.Parse(d.key)
	return err == nil && k.Backfill
}

// olderThan is the newest listed digest ending before t, below cur.
func olderThan(ds []*listed, t time.Time, cur int) int {
	for i := cur - 1; i >= 0; i-- {
		if !ds[i].end.After(t) {
			return i
		}
	}
	return -1
}

func (v *verifier) gap(c *Chain, from time.Time, d *listed) {
	start, err := d.file.StartTime()
	if err != nil {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	c.Gaps++
	v.rep.Gaps = append(v.rep.Gaps, Gap{Account: c.Account, Region: c.Region, From: from, To: start, Reason: GapRestart})
}

// checkDigest applies validate-logs' checks to one fetched digest: format,
// location, public key, signature, and the hash the next digest recorded.
// signed reports that the digest's own signature holds (whatever the next
// digest recorded), so its content, previousDigestHashValue included, is
// CloudTrail's.
func (v *verifier) checkDigest(c *Chain, d *listed, expectHash string, keys *digest.KeySet) (res FileResult, signed bool) {
	res = FileResult{Type: TypeDigest, Key: d.key, Account: c.Account, Region: c.Region, Backfill: d.res()}
	switch {
	case d.err != nil:
		res.Problem = problem(d.err)
		return res, false
	case (v.opt.Bucket != "" && d.file.DigestS3Bucket != v.opt.Bucket) || d.file.DigestS3Object != d.key:
		res.Problem = ProblemMoved
		return res, false
	}
	signedAt, err := d.file.EndTime()
	if err != nil {
		res.Problem = ProblemFormat
		return res, false
	}
	if res.Backfill {
		// validate-logs rejects a backfill digest without its generation
		// time and looks its key up at that time.
		if signedAt, err = time.Parse(time.RFC3339, d.backfillAt); err != nil {
			res.Problem = ProblemFormat + " (backfill digest without a valid backfill-generation-timestamp metadata)"
			return res, false
		}
	}
	pk, err := keys.Lookup(d.file.DigestPublicKeyFingerprint, signedAt)
	if err != nil {
		res.Problem = err.Error()
		return res, false
	}
	if d.sig == "" {
		res.Problem = ProblemSignature + " (no signature in the object metadata)"
		return res, false
	}
	if err := digest.Verify(pk.Key, digest.SigningString(d.file, d.hash), d.sig); err != nil {
		res.Problem = ProblemSignature
		if !errors.Is(err, digest.ErrSignature) {
			res.Problem += ": " + err.Error()
		}
		return res, false
	}
	if expectHash != "" && expectHash != d.hash {
		res.Problem = ProblemChainHash
		return res, true
	}
	res.Valid = true
	return res, true
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
