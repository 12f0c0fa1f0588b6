package verify_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/storetest"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// TestVerifyStopsOnAStalledEndpoint: a stalled endpoint says nothing about
// the file it was serving. Wherever the store stalls (a log file or a
// digest, before or in the middle of its body, the Head of a digest a
// chain names, a listing), verify stops with the duckdb's error instead of
// reporting the file INVALID (or "not found") and going on.
func TestVerifyStopsOnAStalledEndpoint(t *testing.T) {
	st, res := demoBucket(t, 13)
	m := res.Manifest
	// One chain loses a digest, so that its walk asks for it by Head; the
	// files that stall are another chain's.
	ds := chainDigests(t, st, res, m.Org.Accounts[2], m.Org.HomeRegion)
	if err := demo.Apply(context.Background(), st, m, []demo.Tamper{{Kind: demo.TamperBreakChain, Key: ds[10]}}); err != nil {
		t.Fatal(err)
	}
	logKey := firstKeys(t, st, m.Org.Accounts[0]+"/CloudTrail/us-east-1/", 1)[0]
	digestKey := firstKeys(t, st, m.Org.Accounts[0]+"/CloudTrail-Digest/eu-west-1/", 1)[0]
	keys, err := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		op, key string // key "" stalls every call of op
	}{
		{"LogFileGet", storetest.StallGet, logKey},
		{"LogFileBody", storetest.StallBody, logKey},
		{"DigestGet", storetest.StallGet, digestKey},
		{"DigestBody", storetest.StallBody, digestKey},
		{"HeadOfAMissingDigest", storetest.StallHead, ""},
		{"List", storetest.StallList, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &storetest.Stalling{Store: st, Match: func(op, key string) bool { return op == tt.op && (tt.key == "" || key == tt.key) }}
			rep, err := verify.Run(context.Background(), s, verify.Options{Bucket: "demo-bucket", Start: m.Start,
				End: m.End, Keys: keys, Jobs: 8})
			if !errors.Is(err, objstore.ErrStalled) {
				var invalid []string
				if rep != nil {
					for _, f := range rep.Invalid {
						invalid = append(invalid, f.Key+": "+f.Problem)
					}
				}
				t.Fatalf("error %v, want the stall; invalid: %v", err, invalid)
			}
			if rep != nil || !strings.Contains(err.Error(), "stalltest: "+tt.op+" ") {
				t.Fatalf("report %v, error %q: want no report and the store's own words", rep, err)
			}
		})
	}
}
