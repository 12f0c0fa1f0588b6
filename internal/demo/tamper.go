package demo

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// Tamper kinds, each a way an attacker hides what happened.
const (
	TamperModify     = "modify"      // change a log file's content
	TamperDelete     = "delete"      // delete a log file
	TamperMove       = "move"        // move a digest to another key
	TamperBreakChain = "break-chain" // delete a digest from the chain
	TamperTruncate   = "truncate"    // delete a chain's newest digest, which no walk of the chain reaches
)

// Tamper is one requested tampering: a kind and, optionally, the key to
// tamper with (a random file of the right kind otherwise).
type Tamper struct {
	Kind string
	Key  string
}

// ParseTamper reads "kind" or "kind=key".
func ParseTamper(s string) (Tamper, error) {
	kind, key, _ := strings.Cut(s, "=")
	switch kind {
	case TamperModify, TamperDelete, TamperMove, TamperBreakChain, TamperTruncate:
		return Tamper{Kind: kind, Key: key}, nil
	}
	return Tamper{}, fmt.Errorf("%w: unknown tampering %q: use modify, delete, move, break-chain or truncate, optionally =KEY", ErrOptions, kind)
}

// Tampered records what a tampering did, for tests and for people trying
// verify.
type Tampered struct {
	Kind    string `json:"kind"`
	Key     string `json:"key"`
	MovedTo string `json:"moved_to,omitempty"`
}

// Apply tampers with a generated demo bucket. Random choices come from the
// manifest's seed, so they are reproducible too.
func Apply(ctx context.Context, store objstore.Store, m *Manifest, ts []Tamper) error {
	r := rand.New(rand.NewPCG(m.Seed, 0x74616d70))
	for _, t := range ts {
		want := layout.LogFile
		if t.Kind == TamperMove || t.Kind == TamperBreakChain || t.Kind == TamperTruncate {
			want = layout.DigestFile
		}
		key := t.Key
		if key == "" {
			var err error
			if t.Kind == TamperTruncate {
				key, err = pickNewest(ctx, store, m.Org, r)
			} else {
				key, err = pick(ctx, store, m.Org, want, r)
			}
			if err != nil {
				return err
			}
		}
		done := Tampered{Kind: t.Kind, Key: key}
		var err error
		switch t.Kind {
		case TamperModify:
			err = modify(ctx, store, key)
		case TamperDelete, TamperBreakChain, TamperTruncate:
			err = store.Delete(ctx, key)
		case TamperMove:
			done.MovedTo, err = move(ctx, store, key)
		}
		if err != nil {
			return fmt.Errorf("demo: tamper %s %s: %w", t.Kind, key, err)
		}
		m.Tampered = append(m.Tampered, done)
	}
	return nil
}

// pick chooses a random file of one kind, never the newest digest of a
// chain (whose loss validate-logs cannot see).
func pick(ctx context.Context, store objstore.Store, org *Org, kind layout.Kind, r *rand.Rand) (string, error) {
	var keys []string
	err := store.List(ctx, layout.AccountsPrefix(org.Prefix, org.ID), "", func(o objstore.Object) error {
		k, err := layout.Parse(o.Key)
		if err == nil && k.Kind == kind {
			keys = append(keys, o.Key)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(keys) < 3 {
		return "", fmt.Errorf("demo: not enough %s files to tamper with", kind)
	}
	sort.Strings(keys)
	return keys[1+r.IntN(len(keys)-2)], nil
}

// pickNewest chooses the newest digest of a random chain (account and
// region).
func pickNewest(ctx context.Context, store objstore.Store, org *Org, r *rand.Rand) (string, error) {
	newest := map[string]string{}
	err := store.List(ctx, layout.AccountsPrefix(org.Prefix, org.ID), "", func(o objstore.Object) error {
		k, err := layout.Parse(o.Key)
		chain := k.Account + "/" + k.Region
		if err == nil && k.Kind == layout.DigestFile && !k.Backfill && o.Key > newest[chain] {
			newest[chain] = o.Key
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(newest) == 0 {
		return "", fmt.Errorf("demo: no digest to truncate a chain at")
	}
	keys := make([]string, 0, len(newest))
	for _, k := range newest {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[r.IntN(len(keys))], nil
}

// modify changes one record's event name and re-compresses the file, as an
// attacker erasing a trace would.
func modify(ctx context.Context, store objstore.Store, key string) error {
	body, meta, err := store.Get(ctx, key)
	if err != nil {
		return err
	}
	defer func() { _ = body.Close() }()
	zr, err := gzip.NewReader(body)
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	changed := bytes.Replace(raw, []byte(`"eventName":"`), []byte(`"eventName":"X`), 1)
	if bytes.Equal(changed, raw) {
		changed = append(raw[:len(raw):len(raw)], ' ')
	}
	out := gzipBytes(changed)
	return store.Put(ctx, key, bytes.NewReader(out), int64(len(out)), meta)
}

// move copies a digest, with its metadata, to the same key one day later
// and deletes the original.
func move(ctx context.Context, store objstore.Store, key string) (string, error) {
	k, err := layout.Parse(key)
	if err != nil {
		return "", err
	}
	body, meta, err := store.Get(ctx, key)
	if err != nil {
		return "", err
	}
	data, err := io.ReadAll(body)
	_ = body.Close()
	if err != nil {
		return "", err
	}
	to := layout.DigestKey(k.Prefix, k.OrgID, k.Account, k.Region, k.TrailName, k.HomeRegion, k.FileTime.AddDate(0, 0, 1).Add(7*60e9), k.Backfill)
	if err := store.Put(ctx, to, bytes.NewReader(data), int64(len(data)), meta); err != nil {
		return "", err
	}
	return to, store.Delete(ctx, key)
}
