package demo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"io"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
)

func generate(t *testing.T, seed uint64) (*folder.Store, *demo.Result) {
	t.Helper()
	st, err := folder.Create(t.TempDir())
	if err == nil {
		st.WithoutSync()
	}
	if err != nil {
		t.Fatal(err)
	}
	res, err := demo.Generate(context.Background(), st, demo.Options{Accounts: 3, Regions: []string{"us-east-1", "eu-west-1"}, Days: 1,
		Seed: seed, Bucket: "demo-bucket", Trail: "org-trail"})
	if err != nil {
		t.Fatal(err)
	}
	return st, res
}

// treeHash hashes every key, body and metadata of the store in key order.
func treeHash(t *testing.T, st objstore.Store) [32]byte {
	t.Helper()
	h := sha256.New()
	err := st.List(context.Background(), "", "", func(o objstore.Object) error {
		body, meta, err := st.Get(context.Background(), o.Key)
		if err != nil {
			return err
		}
		defer func() { _ = body.Close() }()
		_, _ = io.WriteString(h, o.Key+"\n"+meta["signature"]+"\n")
		_, err = io.Copy(h, body)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var out [32]byte
	copy(out[:], h.Sum(nil))
	return out
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, ra := generate(t, 7)
	b, rb := generate(t, 7)
	c, _ := generate(t, 8)
	if treeHash(t, a) != treeHash(t, b) || !bytes.Equal(ra.PublicKeys, rb.PublicKeys) {
		t.Fatal("same seed gave different buckets")
	}
	if treeHash(t, a) == treeHash(t, c) {
		t.Fatal("different seeds gave the same bucket")
	}
}

func TestGenerateWritesSignedChains(t *testing.T) {
	st, res := generate(t, 1)
	m := res.Manifest
	if m.DigestFiles != 3*2*24 {
		t.Fatalf("digests = %d, want one per hour per account and region (144)", m.DigestFiles)
	}
	if m.LogFiles == 0 || m.Events == 0 || len(m.PipelineEvents) == 0 {
		t.Fatalf("manifest %+v", m)
	}
	keys, err := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	checked := 0
	err = st.List(ctx, "", "", func(o objstore.Object) error {
		k, err := layout.Parse(o.Key)
		if err != nil {
			t.Errorf("demo wrote a malformed key %q: %v", o.Key, err)
			return nil
		}
		if k.Kind != layout.DigestFile {
			return nil
		}
		body, meta, err := st.Get(ctx, o.Key)
		if err != nil {
			return err
		}
		defer func() { _ = body.Close() }()
		var raw bytes.Buffer
		hash, _, err := digest.HashGzipTee(body, &raw)
		if err != nil {
			return err
		}
		d, err := digest.Parse(raw.Bytes())
		if err != nil {
			return err
		}
		end, _ := d.EndTime()
		pk, err := keys.Lookup(d.DigestPublicKeyFingerprint, end)
		if err != nil {
			return err
		}
		if err := digest.Verify(pk.Key, digest.SigningString(d, hash), meta["signature"]); err != nil {
			t.Errorf("%s: %v", o.Key, err)
		}
		checked++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked != int(m.DigestFiles) {
		t.Fatalf("checked %d digests, manifest says %d", checked, m.DigestFiles)
	}
	if !m.Start.Equal(demo.DefaultStart) || !m.End.Equal(demo.DefaultStart.Add(24*time.Hour)) {
		t.Fatalf("range %v..%v", m.Start, m.End)
	}
}

func TestApplyTamper(t *testing.T) {
	st, res := generate(t, 3)
	ts := []demo.Tamper{{Kind: demo.TamperModify}, {Kind: demo.TamperDelete}, {Kind: demo.TamperMove}, {Kind: demo.TamperBreakChain},
		{Kind: demo.TamperTruncate}}
	if err := demo.Apply(context.Background(), st, res.Manifest, ts); err != nil {
		t.Fatal(err)
	}
	if len(res.Manifest.Tampered) != 5 {
		t.Fatalf("tampered %+v", res.Manifest.Tampered)
	}
	for _, tp := range res.Manifest.Tampered {
		_, _, err := st.Head(context.Background(), tp.Key)
		gone := err != nil
		if (tp.Kind == demo.TamperModify) == gone {
			t.Errorf("%s %s: present=%v", tp.Kind, tp.Key, !gone)
		}
	}
	// truncate deletes the newest digest of its chain: every digest the
	// chain has left ends before it.
	cutKey := res.Manifest.Tampered[4].Key
	cut, err := layout.Parse(cutKey)
	if err != nil || cut.Kind != layout.DigestFile {
		t.Fatalf("truncate deleted %s, want a digest", cutKey)
	}
	left := 0
	_ = st.List(context.Background(), layout.DigestPrefix(cut.Prefix, cut.OrgID, cut.Account, cut.Region), "", func(o objstore.Object) error {
		left++
		if o.Key > cutKey {
			t.Errorf("truncate deleted %s, but %s is newer", cutKey, o.Key)
		}
		return nil
	})
	if left == 0 {
		t.Errorf("truncate left no digest in the chain of %s", cutKey)
	}
	if _, err := demo.ParseTamper("shred"); err == nil {
		t.Fatal("unknown tamper kind accepted")
	}
}
