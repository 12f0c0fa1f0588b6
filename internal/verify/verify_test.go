package verify_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/verify"
)

func demoBucket(t *testing.T, seed uint64, tamper ...demo.Tamper) (objstore.Store, *demo.Result) {
	t.Helper()
	st, err := folder.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	res, err := demo.Generate(ctx, st, demo.Options{Accounts: 3, Regions: []string{"us-east-1", "eu-west-1"}, Days: 2, Seed: seed,
		Bucket: "demo-bucket", Trail: "org-trail"})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Apply(ctx, st, res.Manifest, tamper); err != nil {
		t.Fatal(err)
	}
	return st, res
}

func run(t *testing.T, st objstore.Store, res *demo.Result, mutate func(*verify.Options)) *verify.Report {
	t.Helper()
	keys, err := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if err != nil {
		t.Fatal(err)
	}
	opt := verify.Options{Bucket: "demo-bucket", Start: res.Manifest.Start, End: res.Manifest.End, Keys: keys, Jobs: 8}
	if mutate != nil {
		mutate(&opt)
	}
	rep, err := verify.Run(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestVerifyCleanDemo(t *testing.T) {
	st, res := demoBucket(t, 11)
	rep := run(t, st, res, nil)
	m := res.Manifest
	if !rep.OK() || len(rep.Gaps) != 0 {
		t.Fatalf("clean demo not valid: invalid %v gaps %v", rep.Invalid, rep.Gaps)
	}
	if int64(rep.Digests) != m.DigestFiles || int64(rep.LogFiles) != m.LogFiles || rep.LogFilesValid != rep.LogFiles {
		t.Fatalf("verified %d digests %d/%d logs; demo wrote %d digests %d logs", rep.Digests, rep.LogFilesValid, rep.LogFiles, m.DigestFiles, m.LogFiles)
	}
	if len(rep.Chains) != 6 {
		t.Fatalf("%d chains, want 6", len(rep.Chains))
	}
}

func TestVerifyFindsTampering(t *testing.T) {
	tests := []struct {
		kind, problem string
	}{
		{demo.TamperModify, verify.ProblemHash},
		{demo.TamperDelete, verify.ProblemNotFound},
		{demo.TamperMove, verify.ProblemMoved},
		{demo.TamperBreakChain, verify.ProblemNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.kind, func(t *testing.T) {
			st, res := demoBucket(t, 12, demo.Tamper{Kind: tt.kind})
			rep := run(t, st, res, func(o *verify.Options) { o.End = o.End.Add(48 * time.Hour) })
			if rep.OK() {
				t.Fatal("tampered bucket verified as valid")
			}
			target := res.Manifest.Tampered[0]
			found := false
			for _, f := range rep.Invalid {
				if (f.Key == target.Key || f.Key == target.MovedTo) && strings.HasPrefix(f.Problem, tt.problem) {
					found = true
				}
			}
			if !found {
				t.Fatalf("tampered %s not reported as %q; invalid: %+v", target.Key, tt.problem, rep.Invalid)
			}
		})
	}
}

func TestVerifyWrongKeyAndFilters(t *testing.T) {
	st, res := demoBucket(t, 13)
	other, err := demo.Generate(context.Background(), mustFolder(t), demo.Options{Accounts: 2, Regions: []string{"us-east-1"}, Days: 1, Seed: 99, Bucket: "x-bucket", Trail: "t-1"})
	if err != nil {
		t.Fatal(err)
	}
	rep := run(t, st, res, func(o *verify.Options) {
		keys, _ := digest.ParseKeySet(bytes.NewReader(other.PublicKeys))
		o.Keys = keys
		o.Accounts = []string{res.Manifest.Org.Management}
		o.Regions = []string{"us-east-1"}
	})
	if rep.OK() || len(rep.Chains) != 1 || rep.DigestsValid != 0 {
		t.Fatalf("wrong public keys must fail every digest of the one selected chain: %+v", rep.Chains)
	}
	if !strings.Contains(rep.Invalid[0].Problem, "public key not found") {
		t.Fatalf("problem %q", rep.Invalid[0].Problem)
	}
}

func mustFolder(t *testing.T) objstore.Store {
	st, err := folder.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}
