package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// ErrOptions matches errors for options the demo cannot generate from.
var ErrOptions = errors.New("demo: bad options")

// DefaultStart is where a demo begins unless told otherwise: a fixed date,
// so that the same flags give the same bucket on any day.
var DefaultStart = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

// Options shape a demo organization.
type Options struct {
	Accounts      int
	Regions       []string
	Days          int
	Start         time.Time
	Seed          uint64
	Bucket        string
	Prefix        string
	Trail         string
	EventsPerHour int // average per account and region; default 24
	Jobs          int
	// Progress, when set, is called after each chain (account x region).
	Progress func(Progress)
}

// Progress counts what has been written so far.
type Progress struct {
	Chains, ChainsDone int
	Files              int64
	Bytes              int64
}

// Manifest records what a demo contains: the ground truth tests and
// people check verify, pull and detections against.
type Manifest struct {
	Org         *Org      `json:"org"`
	Seed        uint64    `json:"seed"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	LogFiles    int64     `json:"log_files"`
	DigestFiles int64     `json:"digest_files"`
	Events      int64     `json:"events"`
	Duplicates  int64     `json:"duplicate_events"`
	LogBytes    int64     `json:"log_bytes"`
	// PipelineEvents fire the built-in pipeline-tampering rules, one or
	// more per rule, against the demo's own trail, bucket, key and reader
	// role; ThreatEvents fire the identity-threat rules; LookAlikes are the
	// same calls on other trails, buckets, keys and roles, which must not
	// fire.
	PipelineEvents []PipelineEvent `json:"pipeline_events"`
	ThreatEvents   []PipelineEvent `json:"threat_events"`
	LookAlikes     []PipelineEvent `json:"look_alike_events"`
	Tampered       []Tampered      `json:"tampered,omitempty"`
}

// Result is a generated demo: its manifest and the public keys (the JSON
// `aws cloudtrail list-public-keys` prints) that verify its digests.
type Result struct {
	Manifest   *Manifest
	PublicKeys []byte
	keys       []signer
}

type signer struct {
	priv *rsa.PrivateKey
	pub  digest.PublicKey
}

// OptionError is an Options value Generate cannot use; Option names the
// field.
type OptionError struct {
	Option, Msg string
}

func (e *OptionError) Error() string { return ErrOptions.Error() + ": " + e.Msg }

// Unwrap makes an OptionError match ErrOptions.
func (e *OptionError) Unwrap() error { return ErrOptions }

func (o *Options) defaults() error {
	if o.Accounts < 2 {
		return &OptionError{Option: "Accounts", Msg: fmt.Sprintf("at least 2 accounts are needed (the management and log-archive accounts), not %d", o.Accounts)}
	}
	if o.Days < 1 {
		return &OptionError{Option: "Days", Msg: fmt.Sprintf("at least 1 day of logs is needed, not %d", o.Days)}
	}
	if len(o.Regions) == 0 {
		return &OptionError{Option: "Regions", Msg: "at least one region is needed"}
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	o.Start = o.Start.UTC().Truncate(time.Hour)
	if o.EventsPerHour <= 0 {
		o.EventsPerHour = 24
	}
	if o.Jobs <= 0 {
		o.Jobs = 4
	}
	return nil
}

// Generate writes the organization's logs, digests and a few unrelated
// objects to store. Chains are written in parallel, each from its own
// seeded source, so the output does not depend on scheduling.
func Generate(ctx context.Context, store objstore.Store, opt Options) (*Result, error) {
	if err := opt.defaults(); err != nil {
		return nil, err
	}
	org := NewOrg(opt.Seed, opt.Accounts, opt.Regions, opt.Bucket, opt.Prefix, opt.Trail)
	end := opt.Start.Add(time.Duration(opt.Days) * 24 * time.Hour)
	keys, err := keyPair(opt.Seed, opt.Start, end)
	if err != nil {
		return nil, err
	}
	m := &Manifest{Org: org, Seed: opt.Seed, Start: opt.Start, End: end, PipelineEvents: []PipelineEvent{},
		ThreatEvents: []PipelineEvent{}, LookAlikes: []PipelineEvent{}}
	plan := planPipeline(org, opt.Start, end)
	var mu sync.Mutex
	var prog Progress
	prog.Chains = len(org.Accounts) * len(org.Regions)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(opt.Jobs)
	for _, acct := range org.Accounts {
		for _, region := range org.Regions {
			g.Go(func() error {
				c := &chain{org: org, opt: &opt, store: store, keys: keys, account: acct, region: region, end: end, plan: plan}
				if err := c.write(gctx); err != nil {
					return err
				}
				mu.Lock()
				defer mu.Unlock()
				m.LogFiles += c.logFiles
				m.DigestFiles += c.digests
				m.Events += c.events
				m.Duplicates += c.dups
				m.LogBytes += c.bytes
				for _, e := range c.planted {
					switch plants[e.index].kind {
					case plantPipeline:
						m.PipelineEvents = append(m.PipelineEvents, e.PipelineEvent)
					case plantThreat:
						m.ThreatEvents = append(m.ThreatEvents, e.PipelineEvent)
					default:
						m.LookAlikes = append(m.LookAlikes, e.PipelineEvent)
					}
				}
				prog.ChainsDone++
				prog.Files += c.logFiles + c.digests
				prog.Bytes += c.bytes
				if opt.Progress != nil {
					opt.Progress(prog)
				}
				return nil
			})
		}
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	for _, evs := range [][]PipelineEvent{m.PipelineEvents, m.ThreatEvents, m.LookAlikes} {
		sort.Slice(evs, func(i, j int) bool {
			if !evs[i].Time.Equal(evs[j].Time) {
				return evs[i].Time.Before(evs[j].Time)
			}
			return evs[i].EventID < evs[j].EventID
		})
	}
	if err := writeUnrelated(ctx, store, org, opt.Start); err != nil {
		return nil, err
	}
	pubs := []digest.PublicKey{keys[0].pub, keys[1].pub}
	pk, err := digest.MarshalKeySet(pubs)
	if err != nil {
		return nil, err
	}
	return &Result{Manifest: m, PublicKeys: pk, keys: keys}, nil
}

// keyPair derives two signing keys; the second takes over halfway through,
// so verification has to pick keys by fingerprint and validity window.
func keyPair(seed uint64, start, end time.Time) ([]signer, error) {
	mid := start.Add(end.Sub(start) / 2).Truncate(time.Hour)
	windows := [][2]time.Time{{start.Add(-30 * 24 * time.Hour), mid}, {mid, end.Add(30 * 24 * time.Hour)}}
	out := make([]signer, 2)
	for i := range out {
		priv, err := signingKey(seed, i)
		if err != nil {
			return nil, err
		}
		out[i] = signer{priv: priv, pub: digest.PublicKey{Fingerprint: digest.Fingerprint(&priv.PublicKey), Key: &priv.PublicKey,
			ValidFrom: windows[i][0], ValidTo: windows[i][1]}}
	}
	return out, nil
}

// signerAt is the key CloudTrail would sign a digest ending at t with.
func signerAt(keys []signer, t time.Time) signer {
	if t.After(keys[1].pub.ValidFrom) {
		return keys[1]
	}
	return keys[0]
}

// plannedEvent is a tampering event due in one chain at one hour.
type plannedEvent struct {
	index int
	at    time.Time
}

// planPipeline spreads the plants evenly over the range, the first 3h17m
// after its start and the last at least an hour before its end, each in
// the home region of the account that makes it.
func planPipeline(org *Org, start, end time.Time) map[string][]plannedEvent {
	out := map[string][]plannedEvent{}
	step := (end.Sub(start) - 4*time.Hour) / time.Duration(len(plants))
	for i, pl := range plants {
		at := start.Add(3*time.Hour + 17*time.Minute + time.Duration(i)*step).Truncate(time.Second)
		key := org.plantAccount(pl.where) + "/" + org.HomeRegion
		out[key] = append(out[key], plannedEvent{index: i, at: at})
	}
	return out
}

func chainSeed(seed uint64, acct, region string) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(acct + "/" + region))
	return h.Sum64() ^ seed
}

func gzipBytes(raw []byte) []byte {
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	return b.Bytes()
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func put(ctx context.Context, store objstore.Store, key string, body []byte, meta objstore.Metadata) error {
	if err := store.Put(ctx, key, bytes.NewReader(body), int64(len(body)), meta); err != nil {
		return fmt.Errorf("demo: write %s: %w", key, err)
	}
	return nil
}

// writeUnrelated adds objects a reader of the bucket must skip: an AWS
// Config snapshot and an Insights file under the same AWSLogs root.
func writeUnrelated(ctx context.Context, store objstore.Store, org *Org, start time.Time) error {
	root := layout.AccountsPrefix(org.Prefix, org.ID) + org.LogArchive + "/"
	cfg := root + "Config/" + org.HomeRegion + start.Format("/2006/1/2/") + "ConfigSnapshot/" + org.LogArchive + "_Config_" + org.HomeRegion + "_ConfigSnapshot_" + start.Format("20060102T150405Z") + "_abc.json.gz"
	if err := put(ctx, store, cfg, gzipBytes([]byte(`{"fileVersion":"1.0","configurationItems":[]}`)), nil); err != nil {
		return err
	}
	ins := layout.DayPrefix(org.Prefix, org.ID, org.Management, org.HomeRegion, layout.InsightFile, start) +
		org.Management + "_CloudTrail-Insight_" + org.HomeRegion + "_" + start.Add(2*time.Hour).Format("20060102T1504Z") + "_InsightExample01.json.gz"
	body, _ := json.Marshal(map[string]any{"Records": []any{map[string]any{"eventVersion": "1.07", "eventType": "AwsCloudTrailInsight",
		"eventName": "RunInstances", "insightDetails": map[string]any{"state": "Start", "insightType": "ApiCallRateInsight"}}}})
	return put(ctx, store, ins, gzipBytes(body), nil)
}
