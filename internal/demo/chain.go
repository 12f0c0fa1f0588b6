package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sort"
	"time"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// chain writes the log files and the digest chain of one account and
// region, hour by hour.
type chain struct {
	org             *Org
	opt             *Options
	store           objstore.Store
	keys            []signer
	account, region string
	end             time.Time
	plan            map[string][]plannedEvent

	logFiles, digests, events, dups, bytes int64
	planted                                []plantedEvent
}

// plantedEvent is a planted event and the plant it comes from.
type plantedEvent struct {
	index int
	PipelineEvent
}

type delivered struct {
	key            string
	hash           string
	oldest, newest time.Time
}

func (c *chain) write(ctx context.Context) error {
	g := &gen{r: rand.New(rand.NewPCG(chainSeed(c.opt.Seed, c.account, c.region), 0x6c6f6773)), org: c.org}
	planned := c.plan[c.account+"/"+c.region]
	quiet := c.region != c.org.HomeRegion
	var prev *digest.File
	var prevHash, prevSig string
	var last []Record
	for hour := c.opt.Start; hour.Before(c.end); hour = hour.Add(time.Hour) {
		if err := ctx.Err(); err != nil {
			return err
		}
		n := c.opt.EventsPerHour/2 + g.r.IntN(c.opt.EventsPerHour+1)
		if quiet && g.r.IntN(5) == 0 {
			n = 0 // a quiet hour: no log file, but the digest still comes
		}
		var recs []Record
		for i := 0; i < n; i++ {
			at := hour.Add(-5*time.Minute + time.Duration(g.r.IntN(3600))*time.Second)
			recs = append(recs, g.event(c.account, c.region, at))
		}
		for _, p := range planned {
			if !p.at.Before(hour) && p.at.Before(hour.Add(time.Hour)) {
				rs, pes := g.plantEvents(p.index, p.at)
				recs = append(recs, rs...)
				for _, pe := range pes {
					c.planted = append(c.planted, plantedEvent{index: p.index, PipelineEvent: pe})
				}
			}
		}
		// CloudTrail occasionally delivers an event twice, in two files.
		if len(recs) > 0 && len(last) > 0 && g.r.IntN(20) == 0 {
			recs = append(recs, last[g.r.IntN(len(last))])
			c.dups++
		}
		var files []delivered
		if len(recs) > 0 {
			f, err := c.writeLog(ctx, g, hour, recs)
			if err != nil {
				return err
			}
			files = append(files, f)
			last = recs
		}
		d, hash, sig, err := c.writeDigest(ctx, hour, files, prev, prevHash, prevSig)
		if err != nil {
			return err
		}
		prev, prevHash, prevSig = d, hash, sig
	}
	return nil
}

func (c *chain) writeLog(ctx context.Context, g *gen, hour time.Time, recs []Record) (delivered, error) {
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].EventTime < recs[j].EventTime })
	raw, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		return delivered{}, fmt.Errorf("demo: encode records: %w", err)
	}
	at := hour.Add(time.Duration(5+g.r.IntN(10)) * time.Minute)
	key := layout.LogKey(c.org.Prefix, c.org.ID, c.account, c.region, at, g.unique())
	body := gzipBytes(raw)
	if err := put(ctx, c.store, key, body, nil); err != nil {
		return delivered{}, err
	}
	c.logFiles++
	c.events += int64(len(recs))
	c.bytes += int64(len(body))
	oldest, _ := time.Parse(time.RFC3339, recs[0].EventTime)
	newest, _ := time.Parse(time.RFC3339, recs[len(recs)-1].EventTime)
	return delivered{key: key, hash: sha256Hex(raw), oldest: oldest, newest: newest}, nil
}

// writeDigest signs the hour's digest into the chain: the signature covers
// the previous digest's signature, so no link can be dropped unnoticed.
func (c *chain) writeDigest(ctx context.Context, hour time.Time, files []delivered, prev *digest.File, prevHash, prevSig string) (*digest.File, string, string, error) {
	end := hour.Add(time.Hour)
	key := layout.DigestKey(c.org.Prefix, c.org.ID, c.account, c.region, c.org.Trail, c.org.HomeRegion, end, false)
	s := signerAt(c.keys, end)
	d := &digest.File{
		AWSAccountID: c.account, DigestStartTime: ts(hour), DigestEndTime: ts(end),
		DigestS3Bucket: c.org.Bucket, DigestS3Object: key,
		DigestPublicKeyFingerprint: s.pub.Fingerprint, DigestSignatureAlgorithm: digest.SignatureAlgorithm,
		LogFiles: []digest.LogFile{},
	}
	if prev != nil {
		b, o, alg := prev.DigestS3Bucket, prev.DigestS3Object, digest.HashAlgorithm
		d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = &b, &o
		d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = &prevHash, &alg, &prevSig
	}
	for _, f := range files {
		d.LogFiles = append(d.LogFiles, digest.LogFile{S3Bucket: c.org.Bucket, S3Object: f.key, HashValue: f.hash,
			HashAlgorithm: digest.HashAlgorithm, NewestEventTime: ts(f.newest), OldestEventTime: ts(f.oldest)})
		if d.NewestEventTime == nil || ts(f.newest) > *d.NewestEventTime {
			v := ts(f.newest)
			d.NewestEventTime = &v
		}
		if d.OldestEventTime == nil || ts(f.oldest) < *d.OldestEventTime {
			v := ts(f.oldest)
			d.OldestEventTime = &v
		}
	}
	raw, err := digest.Marshal(d)
	if err != nil {
		return nil, "", "", err
	}
	hash := sha256Hex(raw)
	sig, err := digest.Sign(s.priv, digest.SigningString(d, hash))
	if err != nil {
		return nil, "", "", err
	}
	meta := objstore.Metadata{"signature": sig, "signature-algorithm": digest.SignatureAlgorithm}
	if err := put(ctx, c.store, key, gzipBytes(raw), meta); err != nil {
		return nil, "", "", err
	}
	c.digests++
	return d, hash, sig, nil
}

// unique is the 16-character string CloudTrail puts in log file names.
func (g *gen) unique() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 16)
	for i := range b {
		b[i] = chars[g.r.IntN(len(chars))]
	}
	return string(b)
}
