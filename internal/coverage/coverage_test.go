package coverage_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/verify"
)

var regions = []string{"us-east-1", "eu-west-1"}

// demoBucket is a three-account organization over two regions and one day
// (2026-11-20), with its manifest.
func demoBucket(t *testing.T) (*folder.Store, *demo.Result) {
	t.Helper()
	st, err := folder.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st.WithoutSync()
	res, err := demo.Generate(context.Background(), st, demo.Options{Accounts: 3, Regions: regions, Days: 1, Seed: 7,
		Bucket: "demo-bucket", Trail: "org-trail"})
	if err != nil {
		t.Fatal(err)
	}
	return st, res
}

// expectAll is the demo organization's accounts over its regions.
func expectAll(t *testing.T, res *demo.Result) *coverage.Expected {
	t.Helper()
	snap, err := res.Manifest.Org.Snapshot(res.Manifest.End)
	if err != nil {
		t.Fatal(err)
	}
	e, err := coverage.Resolve(coverage.Input{Config: res.Manifest.Org.Config(), Snapshot: snap, SnapshotName: "snapshot.json"})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func check(t *testing.T, st objstore.Store, res *demo.Result, e *coverage.Expected, mutate func(*coverage.Options)) *coverage.Report {
	t.Helper()
	keys, err := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if err != nil {
		t.Fatal(err)
	}
	opt := coverage.Options{Expected: e, Since: res.Manifest.Start, Until: res.Manifest.End, Now: res.Manifest.End.Add(48 * time.Hour),
		Bucket: "demo-bucket", OrgID: res.Manifest.Org.ID, Keys: keys, Jobs: 4}
	if mutate != nil {
		mutate(&opt)
	}
	rep, err := coverage.Run(context.Background(), st, opt)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// deleteUnder removes every object whose key starts with prefix and that
// keep does not keep.
func deleteUnder(t *testing.T, st objstore.Store, prefix string, keep func(layout.Key) bool) int {
	t.Helper()
	ctx := context.Background()
	var keys []string
	if err := st.List(ctx, prefix, "", func(o objstore.Object) error {
		if k, err := layout.Parse(o.Key); err == nil && keep != nil && keep(k) {
			return nil
		}
		keys = append(keys, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if err := st.Delete(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	return len(keys)
}

func TestRun_CleanDemoIsCoveredEveryHour(t *testing.T) {
	st, res := demoBucket(t)
	rep := check(t, st, res, expectAll(t, res), nil)
	if !rep.OK() || len(rep.Gaps) != 0 || len(rep.Invalid) != 0 {
		t.Fatalf("clean demo: gaps %v invalid %v", rep.Gaps, rep.Invalid)
	}
	if len(rep.Cells) != 6 || rep.Totals.Hours != 6*24 || rep.Totals.HoursCovered != 6*24 || rep.Totals.Digests != 6*24 || rep.Totals.DigestsValid != 6*24 {
		t.Fatalf("totals %+v over %d cells, want 6 cells x 24 hours all covered", rep.Totals, len(rep.Cells))
	}
	for _, c := range rep.Cells {
		if c.Status != coverage.StatusOK || !c.LastDigest.Equal(res.Manifest.End) || c.LastLogFile.IsZero() || c.LastLogFile.After(res.Manifest.End) {
			t.Errorf("cell %+v", c)
		}
	}
	if len(rep.Unexpected) != 0 {
		t.Errorf("unexpected %v in a bucket of exactly the expected set", rep.Unexpected)
	}
}

// The case of issue 13 item 6: one account's files all deleted. verify
// finds nothing wrong with what is left; coverage names the account.
func TestRun_DeletedAccountIsAGapInEveryRegion(t *testing.T) {
	st, res := demoBucket(t)
	gone := res.Manifest.Org.Accounts[2]
	if n := deleteUnder(t, st, "AWSLogs/"+res.Manifest.Org.ID+"/"+gone+"/", nil); n == 0 {
		t.Fatal("nothing deleted")
	}
	rep := check(t, st, res, expectAll(t, res), nil)
	if rep.OK() {
		t.Fatal("coverage OK with an account deleted")
	}
	if len(rep.Gaps) != 2 {
		t.Fatalf("gaps %+v, want one whole-window gap per region of %s", rep.Gaps, gone)
	}
	for i, r := range []string{"eu-west-1", "us-east-1"} {
		g := rep.Gaps[i]
		if g.Account != gone || g.Region != r || !g.Start.Equal(res.Manifest.Start) || !g.End.Equal(res.Manifest.End) || g.Hours != 24 {
			t.Errorf("gap %d = %+v, want %s %s over the whole day", i, g, gone, r)
		}
	}
	if rep.Totals.CellsOK != 4 || rep.Totals.HoursMissing != 48 {
		t.Errorf("totals %+v", rep.Totals)
	}
}

func TestRun_MissingHoursAreOneGapPerRange(t *testing.T) {
	st, res := demoBucket(t)
	acct := res.Manifest.Org.Accounts[1]
	day := res.Manifest.Start
	// Digests ending 11:00..14:00 vouch for hours 10:00..13:00; one more
	// ending 20:00 for hour 19:00.
	drop := map[int]bool{11: true, 12: true, 13: true, 14: true, 20: true}
	deleteUnder(t, st, "AWSLogs/"+res.Manifest.Org.ID+"/"+acct+"/CloudTrail-Digest/eu-west-1/", func(k layout.Key) bool {
		return !drop[k.FileTime.Hour()] || !k.FileTime.Truncate(24*time.Hour).Equal(day)
	})
	rep := check(t, st, res, expectAll(t, res), nil)
	want := []coverage.Gap{
		{Account: acct, Region: "eu-west-1", Start: day.Add(10 * time.Hour), End: day.Add(14 * time.Hour), Hours: 4},
		{Account: acct, Region: "eu-west-1", Start: day.Add(19 * time.Hour), End: day.Add(20 * time.Hour), Hours: 1},
	}
	if len(rep.Gaps) != len(want) {
		t.Fatalf("gaps %+v, want %+v", rep.Gaps, want)
	}
	for i := range want {
		if g := rep.Gaps[i]; g.Account != want[i].Account || g.Region != want[i].Region || !g.Start.Equal(want[i].Start) || !g.End.Equal(want[i].End) || g.Hours != want[i].Hours {
			t.Errorf("gap %d = %+v, want %+v", i, g, want[i])
		}
	}
	// The chain names the deleted digests: they are invalid (not found)
	// as verify says, and still no coverage.
	if rep.OK() || len(rep.Invalid) == 0 {
		t.Fatalf("OK %v invalid %v", rep.OK(), rep.Invalid)
	}
	for _, c := range rep.Cells {
		if c.Account == acct && c.Region == "eu-west-1" && (c.Status != coverage.StatusGap || c.HoursMissing != 5 || c.HoursCovered != 19) {
			t.Errorf("cell %+v", c)
		}
	}
}

func TestRun_HoursNotDueArePending(t *testing.T) {
	st, res := demoBucket(t)
	start := res.Manifest.Start
	// Now is 12:30: hours up to 10:00 are due (their digests end by
	// 11:00 and arrive by 12:00); 11:00 and later are pending. Digests
	// written "in the future" of now do not matter: delete them.
	now := start.Add(12*time.Hour + 30*time.Minute)
	deleteUnder(t, st, "AWSLogs/", func(k layout.Key) bool {
		return k.Kind != layout.DigestFile || !k.FileTime.After(start.Add(11*time.Hour))
	})
	rep := check(t, st, res, expectAll(t, res), func(o *coverage.Options) { o.Now = now })
	if len(rep.Gaps) != 0 || !rep.OK() {
		t.Fatalf("gaps %+v before their digests were due", rep.Gaps)
	}
	for _, c := range rep.Cells {
		if c.HoursCovered != 11 || c.HoursPending != 13 || c.Status != coverage.StatusOK {
			t.Errorf("cell %+v, want 11 covered and 13 pending", c)
		}
	}
	// An hour later, hour 11:00 is due and missing.
	rep = check(t, st, res, expectAll(t, res), func(o *coverage.Options) { o.Now = now.Add(time.Hour) })
	if len(rep.Gaps) != 6 || rep.Gaps[0].Hours != 1 || !rep.Gaps[0].Start.Equal(start.Add(11*time.Hour)) {
		t.Fatalf("gaps %+v, want hour 11:00 missing in each cell", rep.Gaps)
	}
}

func TestRun_UnexpectedPlacesAreListedNotCounted(t *testing.T) {
	st, res := demoBucket(t)
	org := res.Manifest.Org
	e, err := coverage.Resolve(coverage.Input{Accounts: []string{org.Accounts[0], "999999999999"}, Regions: []string{"us-east-1", "ap-south-1"}})
	if err != nil {
		t.Fatal(err)
	}
	rep := check(t, st, res, e, nil)
	if len(rep.Cells) != 4 || rep.Totals.HoursCovered != 24 {
		t.Fatalf("cells %+v", rep.Cells)
	}
	got := map[string]int{}
	for _, g := range rep.Gaps {
		got[g.Account+" "+g.Region] = g.Hours
	}
	want := map[string]int{org.Accounts[0] + " ap-south-1": 24, "999999999999 us-east-1": 24, "999999999999 ap-south-1": 24}
	if len(got) != len(want) {
		t.Fatalf("gaps %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("gap %s = %d hours, want %d", k, got[k], v)
		}
	}
	// Every other pair of the bucket is listed, and counted nowhere.
	if len(rep.Unexpected) != 5 {
		t.Errorf("unexpected %v, want the 5 other account x region pairs", rep.Unexpected)
	}
	for _, p := range rep.Unexpected {
		if p.Account == org.Accounts[0] && p.Region == "us-east-1" {
			t.Errorf("expected pair listed as unexpected")
		}
	}
}

func TestRun_InvalidDigestIsNotCoverage(t *testing.T) {
	st, res := demoBucket(t)
	if err := demo.Apply(context.Background(), st, res.Manifest, []demo.Tamper{{Kind: demo.TamperMove}}); err != nil {
		t.Fatal(err)
	}
	rep := check(t, st, res, expectAll(t, res), nil)
	if rep.OK() || len(rep.Invalid) == 0 || rep.Totals.HoursInvalid+rep.Totals.HoursMissing == 0 {
		t.Fatalf("a moved digest: OK %v invalid %v totals %+v", rep.OK(), rep.Invalid, rep.Totals)
	}
}

// countingStore counts the GETs of each kind of CloudTrail file.
type countingStore struct {
	objstore.Store
	logs, digests, other atomic.Int64
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Metadata, error) {
	k, _ := layout.Parse(key)
	switch k.Kind {
	case layout.LogFile:
		c.logs.Add(1)
	case layout.DigestFile:
		c.digests.Add(1)
	default:
		c.other.Add(1)
	}
	return c.Store.Get(ctx, key)
}

// Coverage reads listings and digests only: a log file body is never
// fetched, so it stays fast on a large bucket.
func TestRun_ReadsNoLogFile(t *testing.T) {
	st, res := demoBucket(t)
	cs := &countingStore{Store: st}
	rep := check(t, cs, res, expectAll(t, res), nil)
	if !rep.OK() {
		t.Fatalf("gaps %v invalid %v", rep.Gaps, rep.Invalid)
	}
	if n := cs.logs.Load(); n != 0 {
		t.Fatalf("coverage fetched %d log files", n)
	}
	if n := cs.digests.Load(); n != res.Manifest.DigestFiles {
		t.Fatalf("coverage fetched %d digests, the demo wrote %d", n, res.Manifest.DigestFiles)
	}
	// The same store does count log GETs: verify fetches them all.
	keys, _ := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if _, err := verify.Run(context.Background(), cs, verify.Options{Start: res.Manifest.Start, End: res.Manifest.End, Keys: keys}); err != nil {
		t.Fatal(err)
	}
	if cs.logs.Load() != res.Manifest.LogFiles {
		t.Fatalf("the counting store saw %d log GETs from verify, want %d", cs.logs.Load(), res.Manifest.LogFiles)
	}
}

func TestSlotAndWindow(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for end, want := range map[string]string{
		"2026-11-20T01:00:00Z": "2026-11-20T00:00:00Z",
		"2026-11-20T04:01:31Z": "2026-11-20T03:00:00Z",
		"2026-11-21T00:00:00Z": "2026-11-20T23:00:00Z",
	} {
		if got := coverage.Slot(at(end)); !got.Equal(at(want)) {
			t.Errorf("Slot(%s) = %s, want %s", end, got, want)
		}
	}
	s, u := coverage.Window(at("2026-11-20T10:20:00Z"), at("2026-11-20T12:00:01Z"))
	if !s.Equal(at("2026-11-20T10:00:00Z")) || !u.Equal(at("2026-11-20T13:00:00Z")) {
		t.Errorf("Window = %s, %s", s, u)
	}
}

func TestRun_RefusesAnEmptyExpectedSet(t *testing.T) {
	st, res := demoBucket(t)
	_, err := coverage.Run(context.Background(), st, coverage.Options{Since: res.Manifest.Start, Until: res.Manifest.End})
	if err == nil || !strings.Contains(err.Error(), "no expected accounts") {
		t.Fatalf("err = %v", err)
	}
}
