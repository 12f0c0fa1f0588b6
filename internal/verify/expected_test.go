package verify_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// expectedBucket is a three-account demo over two regions and one day,
// with the options that verify it and the expected set it was made for.
func expectedBucket(t *testing.T) (*folder.Store, *demo.Result, verify.Options, []verify.Expected) {
	t.Helper()
	st, err := folder.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st.WithoutSync()
	res, err := demo.Generate(context.Background(), st, demo.Options{Accounts: 3, Regions: []string{"us-east-1", "eu-west-1"}, Days: 1, Seed: 5,
		Bucket: "demo-bucket", Trail: "org-trail"})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if err != nil {
		t.Fatal(err)
	}
	var exp []verify.Expected
	for _, a := range res.Manifest.Org.Accounts {
		exp = append(exp, verify.Expected{Account: a, Regions: []string{"eu-west-1", "us-east-1"}})
	}
	return st, res, verify.Options{Bucket: "demo-bucket", Start: res.Manifest.Start, End: res.Manifest.End, Keys: keys, Jobs: 4}, exp
}

func removeAll(t *testing.T, st objstore.Store, prefix string) {
	t.Helper()
	var keys []string
	if err := st.List(context.Background(), prefix, "", func(o objstore.Object) error {
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := st.Delete(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
}

// Issue 13 item 6: an account whose files were all deleted leaves a bucket
// where every digest found is valid. Knowing what should be there makes
// each of its regions a gap over the whole range.
func TestRunExpected_DeletedAccountIsAGap(t *testing.T) {
	st, res, opt, exp := expectedBucket(t)
	gone := res.Manifest.Org.Accounts[2]
	removeAll(t, st, "AWSLogs/"+res.Manifest.Org.ID+"/"+gone+"/")

	plain, err := verify.Run(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !plain.OK() || len(plain.Gaps) != 0 {
		t.Fatalf("without an expected set: OK %v gaps %v (the vanished account is invisible to Run alone)", plain.OK(), plain.Gaps)
	}

	rep, missing, err := verify.RunExpected(context.Background(), st, opt, exp)
	if err != nil {
		t.Fatal(err)
	}
	if len(missing) != 2 || len(rep.Gaps) != 2 {
		t.Fatalf("missing %+v gaps %+v, want both regions of %s", missing, rep.Gaps, gone)
	}
	for i, r := range []string{"eu-west-1", "us-east-1"} {
		g := missing[i]
		if g.Account != gone || g.Region != r || !g.From.Equal(opt.Start) || !g.To.Equal(opt.End) {
			t.Errorf("missing %d = %+v", i, g)
		}
	}
	if rep.DigestsValid != rep.Digests || rep.Digests != 4*24 {
		t.Errorf("the other chains: %d/%d digests", rep.DigestsValid, rep.Digests)
	}
}

func TestRunExpected_ScopeAndEmptyBucket(t *testing.T) {
	st, res, opt, exp := expectedBucket(t)
	// Scoped to one account: only its pairs are expected.
	scoped := opt
	scoped.Accounts = []string{res.Manifest.Org.Accounts[0]}
	exp = append(exp, verify.Expected{Account: "999999999999", Regions: []string{"us-east-1"}})
	rep, missing, err := verify.RunExpected(context.Background(), st, scoped, exp)
	if err != nil || len(missing) != 0 || len(rep.Chains) != 2 {
		t.Fatalf("scoped run: err %v missing %+v chains %d", err, missing, len(rep.Chains))
	}
	// Nothing expected is in the bucket: every pair missing, no error.
	scoped.Accounts = []string{"999999999999"}
	rep, missing, err = verify.RunExpected(context.Background(), st, scoped, exp)
	if err != nil || len(missing) != 1 || missing[0].Account != "999999999999" || rep.OK() {
		t.Fatalf("empty run: err %v missing %+v OK %v", err, missing, rep.OK())
	}
	// The options Run refuses are still refused.
	bad := scoped
	bad.Keys = nil
	if _, _, err := verify.RunExpected(context.Background(), st, bad, exp); err == nil {
		t.Fatal("no keys accepted")
	}
}
