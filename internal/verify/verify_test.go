package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	crand "crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/verify"
)

func demoBucket(t *testing.T, seed uint64, tamper ...demo.Tamper) (objstore.Store, *demo.Result) {
	t.Helper()
	st, err := folder.Create(t.TempDir())
	if err == nil {
		st.WithoutSync()
	}
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
	if err == nil {
		st.WithoutSync()
	}
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// firstKey returns the first key of a kind under the store.
func firstKeys(t *testing.T, st objstore.Store, substr string, n int) []string {
	t.Helper()
	var out []string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		if strings.Contains(o.Key, substr) && len(out) < n {
			out = append(out, o.Key)
		}
		return nil
	})
	if len(out) < n {
		t.Fatalf("fewer than %d keys with %q", n, substr)
	}
	return out
}

func overwrite(t *testing.T, st objstore.Store, key string, body []byte, meta objstore.Metadata) {
	t.Helper()
	if err := st.Put(context.Background(), key, bytes.NewReader(body), int64(len(body)), meta); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, st objstore.Store, key string) ([]byte, objstore.Metadata) {
	t.Helper()
	body, meta, err := st.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = body.Close() }()
	var b bytes.Buffer
	_, _ = b.ReadFrom(body)
	return b.Bytes(), meta
}

// TestVerifyBadFiles damages files in ways a transfer or an attacker could
// and checks each is reported, never a crash, while the rest still verifies.
func TestVerifyBadFiles(t *testing.T) {
	st, res := demoBucket(t, 14)
	logs := firstKeys(t, st, "/CloudTrail/us-east-1/", 3)
	digests := firstKeys(t, st, "/CloudTrail-Digest/eu-west-1/2026/11/20/", 3)

	trailing, _ := read(t, st, logs[0])
	overwrite(t, st, logs[0], append(trailing, trailing...), nil) // a second gzip member
	truncated, _ := read(t, st, logs[1])
	overwrite(t, st, logs[1], truncated[:len(truncated)/2], nil)
	overwrite(t, st, logs[2], []byte("not gzip at all"), nil)
	_, meta := read(t, st, digests[1])
	overwrite(t, st, digests[1], gz(t, `{"awsAccountId":"111111111111","logFiles":[]}`), meta) // fields missing
	body, meta := read(t, st, digests[2])
	delete(meta, "signature")
	overwrite(t, st, digests[2], body, meta)

	rep := run(t, st, res, nil)
	want := map[string]string{
		logs[0]: verify.ProblemTrailingData, logs[1]: verify.ProblemCorrupt, logs[2]: verify.ProblemCorrupt,
		digests[1]: verify.ProblemFormat, digests[2]: verify.ProblemSignature,
	}
	got := map[string]string{}
	for _, f := range rep.Invalid {
		got[f.Key] = f.Problem
	}
	for key, problem := range want {
		if !strings.HasPrefix(got[key], problem) {
			t.Errorf("%s: problem %q, want %q", key, got[key], problem)
		}
	}
	if rep.DigestsValid != rep.Digests-2 {
		t.Errorf("damage spread: %d/%d digests valid", rep.DigestsValid, rep.Digests)
	}
}

func gz(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

func TestVerifyBadInput(t *testing.T) {
	st, res := demoBucket(t, 15)
	keys, _ := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	ctx := context.Background()
	if _, err := verify.Run(ctx, st, verify.Options{Start: res.Manifest.End, End: res.Manifest.Start, Keys: keys}); err == nil {
		t.Error("end before start accepted")
	}
	if _, err := verify.Run(ctx, st, verify.Options{Start: res.Manifest.Start, End: res.Manifest.End}); err == nil {
		t.Error("missing keys accepted")
	}
	_, err := verify.Run(ctx, st, verify.Options{Start: res.Manifest.Start, End: res.Manifest.End, Keys: keys, Accounts: []string{"999999999999"}})
	if err == nil || !strings.Contains(err.Error(), "no digest files") {
		t.Errorf("unknown account: %v", err)
	}
	// A window with no digests in it: found chains, nothing to check.
	rep := run(t, st, res, func(o *verify.Options) {
		o.Start, o.End = o.Start.AddDate(1, 0, 0), o.End.AddDate(1, 0, 0)
	})
	if rep.OK() || rep.Digests != 0 {
		t.Errorf("a window without digests must not pass: %+v", rep)
	}
}

// TestVerifyBackfillDigests adds backfill digests beside a chain and checks
// they are walked on their own and need their generation time: one without
// backfill-generation-timestamp is invalid before any signature check.
func TestVerifyBackfillDigests(t *testing.T) {
	st, res := demoBucket(t, 16)
	d := firstKeys(t, st, "/CloudTrail-Digest/us-east-1/2026/11/20/", 2)
	var backfill []string
	for i, key := range d {
		body, meta := read(t, st, key)
		raw := gunzip(t, body)
		k := strings.Replace(key, ".json.gz", "_backfill.json.gz", 1)
		raw = bytes.Replace(raw, []byte(`"digestS3Object":"`+key+`"`), []byte(`"digestS3Object":"`+k+`"`), 1)
		if i == 0 {
			meta["backfill-generation-timestamp"] = "2026-11-20T05:00:00Z"
		}
		overwrite(t, st, k, gz(t, string(raw)), meta)
		backfill = append(backfill, k)
	}
	rep := run(t, st, res, nil)
	got := map[string]string{}
	for _, f := range rep.Invalid {
		if !f.Backfill {
			t.Errorf("regular file reported: %+v", f)
		}
		got[f.Key] = f.Problem
	}
	// Re-pointed content no longer matches its signature; the one without
	// a generation time fails earlier, on format.
	if !strings.HasPrefix(got[backfill[0]], verify.ProblemSignature) || !strings.Contains(got[backfill[1]], "backfill-generation-timestamp") {
		t.Fatalf("backfill results: %v", got)
	}
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if _, err := out.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// chainDigests returns the keys of one chain's digests, oldest first.
func chainDigests(t *testing.T, st objstore.Store, res *demo.Result, account, region string) []string {
	t.Helper()
	var keys []string
	err := st.List(context.Background(), layout.DigestPrefix(res.Manifest.Org.Prefix, res.Manifest.Org.ID, account, region), "",
		func(o objstore.Object) error {
			keys = append(keys, o.Key)
			return nil
		})
	if err != nil || len(keys) == 0 {
		t.Fatalf("digests of %s %s: %v", account, region, err)
	}
	sort.Strings(keys)
	return keys
}

func deleteKeys(t *testing.T, st objstore.Store, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if err := st.Delete(context.Background(), k); err != nil {
			t.Fatal(err)
		}
	}
}

// TestVerifyTruncatedChain deletes a chain's newest digests, which no
// walk can see: the chain ends before the others and the window do, a
// gap that fails the run, with the window ending at the demo's end or past it.
func TestVerifyTruncatedChain(t *testing.T) {
	for _, n := range []int{1, 3} {
		st, res := demoBucket(t, 17)
		m := res.Manifest
		acct, region := m.Org.Accounts[1], "eu-west-1"
		ds := chainDigests(t, st, res, acct, region)
		deleteKeys(t, st, ds[len(ds)-n:]...)
		lastLeft := m.End.Add(-time.Duration(n) * time.Hour)
		for _, end := range []time.Time{m.End, m.End.Add(5 * time.Hour)} {
			t.Run(fmt.Sprintf("%d deleted, end %s", n, end.Format(time.RFC3339)), func(t *testing.T) {
				rep := run(t, st, res, func(o *verify.Options) { o.End = end })
				if rep.OK() {
					t.Fatal("a truncated chain verified as valid")
				}
				// Past the demo's end every chain ends early; the truncated
				// one from its own last digest.
				want := map[[2]string]verify.Gap{{acct, region}: {Account: acct, Region: region, From: lastLeft, To: end, Reason: verify.GapEndsEarly}}
				if end.After(m.End) {
					for _, c := range rep.Chains {
						if c.Account != acct || c.Region != region {
							want[[2]string{c.Account, c.Region}] = verify.Gap{Account: c.Account, Region: c.Region, From: m.End, To: end, Reason: verify.GapEndsEarly}
						}
					}
				}
				if len(rep.Gaps) != len(want) {
					t.Fatalf("gaps %+v, want %+v", rep.Gaps, want)
				}
				for _, g := range rep.Gaps {
					if want[[2]string{g.Account, g.Region}] != g {
						t.Errorf("gap %+v, want %+v", g, want[[2]string{g.Account, g.Region}])
					}
				}
				for _, c := range rep.Chains {
					if c.Gaps != 1 && (end.After(m.End) || (c.Account == acct && c.Region == region)) {
						t.Errorf("chain %s %s: %d gaps", c.Account, c.Region, c.Gaps)
					}
				}
				if !rep.ExpectedEnd.Equal(end) {
					t.Errorf("expected end %s, want %s", rep.ExpectedEnd, end)
				}
			})
		}
	}
}

// TestVerifyChainEndsLive checks the delivery delay on a bucket read while
// CloudTrail still writes to it: the newest digest may take an hour.
func TestVerifyChainEndsLive(t *testing.T) {
	st, res := demoBucket(t, 18)
	m := res.Manifest
	ds := chainDigests(t, st, res, m.Org.Accounts[2], "us-east-1")
	deleteKeys(t, st, ds[len(ds)-1])
	soon := run(t, st, res, func(o *verify.Options) { o.End, o.Now = m.End.Add(30*time.Minute), m.End.Add(30*time.Minute) })
	if len(soon.Gaps) != 0 {
		t.Fatalf("half an hour after the hour, its digest may still come: gaps %+v", soon.Gaps)
	}
	late := run(t, st, res, func(o *verify.Options) { o.End, o.Now = m.End.Add(61*time.Minute), m.End.Add(61*time.Minute) })
	if late.OK() || len(late.Gaps) != 1 || late.Gaps[0].Reason != verify.GapEndsEarly {
		t.Fatalf("an hour after the hour its digest is overdue: gaps %+v", late.Gaps)
	}
}

// TestVerifyWindowPastEveryChain: a window that reaches past all the data
// is a gap in every chain, never an all-clear: logging may have stopped
// everywhere at once (StopLogging on an organization trail), and a bucket
// cannot tell that from a copy that ends there. The report says where the
// chains end, and a window ending there is valid.
func TestVerifyWindowPastEveryChain(t *testing.T) {
	st, res := demoBucket(t, 19)
	m := res.Manifest
	rep := run(t, st, res, func(o *verify.Options) { o.End = m.End.Add(5 * time.Hour) })
	if rep.OK() || len(rep.Gaps) != len(rep.Chains) || !rep.ChainsEnd.Equal(m.End) {
		t.Fatalf("clean demo, end 5 h past it: ok %v, %d gaps for %d chains, chains end %s", rep.OK(), len(rep.Gaps), len(rep.Chains), rep.ChainsEnd)
	}
	for _, g := range rep.Gaps {
		if g.Reason != verify.GapEndsEarly || !g.From.Equal(m.End) || !g.To.Equal(m.End.Add(5*time.Hour)) {
			t.Errorf("gap %+v, want from the demo's end to the window's", g)
		}
	}
	exact := run(t, st, res, nil)
	if !exact.OK() || !exact.ChainsEnd.IsZero() {
		t.Fatalf("clean demo, its own window: ok %v, chains end %s, gaps %+v", exact.OK(), exact.ChainsEnd, exact.Gaps)
	}
}

// TestVerifyNamesUnlistedLogFiles: a log file no digest lists is named
// once a digest should list it; one newer than the delivery delay waits.
func TestVerifyNamesUnlistedLogFiles(t *testing.T) {
	st, res := demoBucket(t, 20)
	m := res.Manifest
	acct := m.Org.Accounts[0]
	body, _ := read(t, st, firstKeys(t, st, "/"+acct+"/CloudTrail/us-east-1/", 1)[0])
	mid := layout.LogKey(m.Org.Prefix, m.Org.ID, acct, "us-east-1", m.Start.Add(10*time.Hour+30*time.Minute), "AAAAAAAAAAAAAAAA")
	recent := layout.LogKey(m.Org.Prefix, m.Org.ID, acct, "us-east-1", m.End.Add(-20*time.Minute), "BBBBBBBBBBBBBBBB")
	overwrite(t, st, mid, body, nil)
	overwrite(t, st, recent, body, nil)

	named := func(rep *verify.Report) map[string]bool {
		out := map[string]bool{}
		for _, f := range rep.Invalid {
			if f.Problem == verify.ProblemNotInDigest {
				out[f.Key] = true
			}
		}
		return out
	}
	later := run(t, st, res, nil) // read long after: both are overdue
	if got := named(later); len(got) != 2 || !got[mid] || !got[recent] || later.OK() {
		t.Fatalf("read later: named %v, want %s and %s; ok %v", got, mid, recent, later.OK())
	}
	unvouched := 0
	for _, c := range later.Chains {
		unvouched += c.Unvouched
		if c.Account == acct && c.Region == "us-east-1" && c.Valid() {
			t.Errorf("chain with unlisted log files is valid: %+v", c)
		}
	}
	if unvouched != 2 || later.LogFiles != int(m.LogFiles) || later.LogFilesValid != later.LogFiles {
		t.Fatalf("%d unvouched, %d/%d log files valid; want 2 and the demo's %d all valid", unvouched, later.LogFilesValid, later.LogFiles, m.LogFiles)
	}
	// Read ten minutes after the demo's last digest: the recent file's
	// digest may still come.
	live := run(t, st, res, func(o *verify.Options) { o.Now = m.End.Add(10 * time.Minute) })
	if got := named(live); len(got) != 1 || !got[mid] {
		t.Fatalf("read live: named %v, want only %s", got, mid)
	}
}

// TestVerifyBreakChainNamesOrphanedLogFiles: the log files of a deleted
// digest are listed by none any more, and named.
func TestVerifyBreakChainNamesOrphanedLogFiles(t *testing.T) {
	st, res := demoBucket(t, 21)
	m := res.Manifest
	ds := chainDigests(t, st, res, m.Org.Accounts[0], m.Org.HomeRegion)
	victim := ds[10]
	body, _ := read(t, st, victim)
	d, err := digest.Parse(gunzip(t, body))
	if err != nil || len(d.LogFiles) == 0 {
		t.Fatalf("digest %s: %v, %d log files", victim, err, len(d.LogFiles))
	}
	if err := demo.Apply(context.Background(), st, m, []demo.Tamper{{Kind: demo.TamperBreakChain, Key: victim}}); err != nil {
		t.Fatal(err)
	}
	rep := run(t, st, res, nil)
	got := map[string]string{}
	for _, f := range rep.Invalid {
		got[f.Key] = f.Problem
	}
	if got[victim] != verify.ProblemNotFound {
		t.Errorf("deleted digest: %q", got[victim])
	}
	for _, lf := range d.LogFiles {
		if got[lf.S3Object] != verify.ProblemNotInDigest {
			t.Errorf("log file of the deleted digest %s: %q, want %q", lf.S3Object, got[lf.S3Object], verify.ProblemNotInDigest)
		}
	}
}

// TestVerifyDemoTruncate: demo --tamper truncate is found as the gap of
// the chain it cut.
func TestVerifyDemoTruncate(t *testing.T) {
	st, res := demoBucket(t, 22, demo.Tamper{Kind: demo.TamperTruncate})
	rep := run(t, st, res, nil)
	cut, err := layout.Parse(res.Manifest.Tampered[0].Key)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || len(rep.Gaps) != 1 || rep.Gaps[0].Account != cut.Account || rep.Gaps[0].Region != cut.Region ||
		rep.Gaps[0].Reason != verify.GapEndsEarly {
		t.Fatalf("truncated %s: gaps %+v", res.Manifest.Tampered[0].Key, rep.Gaps)
	}
}

// TestVerifyReplacedDigestSparesItsPredecessor: a digest replaced by an
// attacker (its content forged, or another genuine digest copied over it)
// is invalid, but its previousDigestHashValue is the forger's word: the
// predecessor whose own signature holds stays valid and its log files
// are still checked, as a chain ending at the predecessor would be.
func TestVerifyReplacedDigestSparesItsPredecessor(t *testing.T) {
	replace := map[string]func(t *testing.T, st objstore.Store, ds []string, victim int){
		// The forger drops a log file from the hour and points the
		// previous hash elsewhere; the old signature no longer holds.
		"forged": func(t *testing.T, st objstore.Store, ds []string, victim int) {
			body, meta := read(t, st, ds[victim])
			d, err := digest.Parse(gunzip(t, body))
			if err != nil || len(d.LogFiles) == 0 {
				t.Fatalf("digest %s: %v, %d log files", ds[victim], err, len(d.LogFiles))
			}
			d.LogFiles = d.LogFiles[1:]
			other := strings.Repeat("ab", 32)
			d.PreviousDigestHashValue = &other
			raw, err := digest.Marshal(d)
			if err != nil {
				t.Fatal(err)
			}
			overwrite(t, st, ds[victim], gz(t, string(raw)), meta)
		},
		// A genuine digest of another hour, with its signature, copied
		// over the victim: moved, and its previous hash names another
		// digest.
		"copied": func(t *testing.T, st objstore.Store, ds []string, victim int) {
			body, meta := read(t, st, ds[victim-5])
			overwrite(t, st, ds[victim], body, meta)
		},
	}
	for name, fn := range replace {
		t.Run(name, func(t *testing.T) {
			st, res := demoBucket(t, 23)
			m := res.Manifest
			acct, region := m.Org.Accounts[1], "us-east-1"
			ds := chainDigests(t, st, res, acct, region)
			const victim = 12
			body, _ := read(t, st, ds[victim-1])
			pred, err := digest.Parse(gunzip(t, body))
			if err != nil || len(pred.LogFiles) == 0 {
				t.Fatalf("predecessor %s: %v, %d log files", ds[victim-1], err, len(pred.LogFiles))
			}
			body, _ = read(t, st, ds[victim])
			orig, err := digest.Parse(gunzip(t, body))
			if err != nil {
				t.Fatal(err)
			}
			fn(t, st, ds, victim)
			var checked []string
			var mu sync.Mutex
			rep := run(t, st, res, func(o *verify.Options) {
				o.OnFile = func(f verify.FileResult) {
					mu.Lock()
					defer mu.Unlock()
					if f.Type == verify.TypeLog && f.Valid {
						checked = append(checked, f.Key)
					}
				}
			})
			got := map[string]string{}
			for _, f := range rep.Invalid {
				got[f.Key] = f.Problem
			}
			if rep.OK() || got[ds[victim]] == "" {
				t.Fatalf("replaced digest %s not reported: invalid %v", ds[victim], got)
			}
			if p, bad := got[ds[victim-1]]; bad {
				t.Fatalf("genuine predecessor %s condemned: %q", ds[victim-1], p)
			}
			// Besides the replaced digest, only log files it listed may be
			// named: no valid digest lists them now.
			for key, p := range got {
				listed := slices.ContainsFunc(orig.LogFiles, func(lf digest.LogFile) bool { return lf.S3Object == key })
				if key != ds[victim] && (!listed || p != verify.ProblemNotInDigest) {
					t.Errorf("%s: %q; want only the replaced digest and the log files it listed", key, p)
				}
			}
			for _, lf := range pred.LogFiles {
				if !slices.Contains(checked, lf.S3Object) {
					t.Errorf("predecessor's log file %s not checked", lf.S3Object)
				}
			}
			if rep.DigestsValid != rep.Digests-1 {
				t.Errorf("%d/%d digests valid, want all but the replaced one", rep.DigestsValid, rep.Digests)
			}
		})
	}
}

// TestVerifyChainHashCondemnsASignedPredecessor keeps the other side of
// the rule: when the next digest's own signature holds, its
// previousDigestHashValue is CloudTrail's, and a predecessor that does not
// hash to it is invalid even though it is signed (here: its content
// changed and re-signed with the chain's key, as by someone who holds it).
func TestVerifyChainHashCondemnsASignedPredecessor(t *testing.T) {
	st, res := demoBucket(t, 24)
	m := res.Manifest
	acct, region := m.Org.Accounts[2], "eu-west-1"
	ds := chainDigests(t, st, res, acct, region)
	priv, err := rsa.GenerateKey(crand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := digest.PublicKey{Fingerprint: digest.Fingerprint(&priv.PublicKey), Key: &priv.PublicKey,
		ValidFrom: m.Start.Add(-24 * time.Hour), ValidTo: m.End.Add(24 * time.Hour)}
	// sign rewrites a digest with the test key and returns its hash and
	// signature; prev links it to the digest signed before, as CloudTrail does.
	sign := func(key string, prevHash, prevSig *string, mutate func(*digest.File)) (string, string) {
		body, meta := read(t, st, key)
		d, err := digest.Parse(gunzip(t, body))
		if err != nil {
			t.Fatal(err)
		}
		d.DigestPublicKeyFingerprint = pub.Fingerprint
		if !d.Starting() {
			d.PreviousDigestHashValue, d.PreviousDigestSignature = prevHash, prevSig
		}
		if mutate != nil {
			mutate(d)
		}
		raw, err := digest.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(raw)
		hash := hex.EncodeToString(sum[:])
		sig, err := digest.Sign(priv, digest.SigningString(d, hash))
		if err != nil {
			t.Fatal(err)
		}
		meta["signature"] = sig
		overwrite(t, st, key, gz(t, string(raw)), meta)
		return hash, sig
	}
	var prevHash, prevSig string
	sigs := make([]string, len(ds))
	for i, key := range ds {
		h, s := prevHash, prevSig
		prevHash, prevSig = sign(key, &h, &s, nil)
		sigs[i] = prevSig
	}
	const victim = 7
	body, _ := read(t, st, ds[victim])
	d, err := digest.Parse(gunzip(t, body))
	if err != nil || len(d.LogFiles) == 0 {
		t.Fatalf("digest %s: %v", ds[victim], err)
	}
	dropped := d.LogFiles[0].S3Object
	h, s := "", sigs[victim-1]
	if d.PreviousDigestHashValue != nil {
		h = *d.PreviousDigestHashValue
	}
	sign(ds[victim], &h, &s, func(f *digest.File) { f.LogFiles = f.LogFiles[1:] })

	rep := run(t, st, res, func(o *verify.Options) {
		o.Keys = digest.NewKeySet(pub)
		o.Accounts, o.Regions = []string{acct}, []string{region}
	})
	got := map[string]string{}
	for _, f := range rep.Invalid {
		got[f.Key] = f.Problem
	}
	want := map[string]string{ds[victim]: verify.ProblemChainHash, dropped: verify.ProblemNotInDigest}
	if !maps.Equal(got, want) || rep.OK() {
		t.Fatalf("invalid %v, want %v", got, want)
	}
	if rep.DigestsValid != len(ds)-1 {
		t.Fatalf("%d/%d digests valid, want all but the re-signed one", rep.DigestsValid, len(ds))
	}
}
