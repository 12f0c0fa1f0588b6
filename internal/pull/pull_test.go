package pull_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/layout"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/pull"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// memSink is a sink that remembers which keys it loaded; it can fail after
// a number of batches, as a killed process would.
type memSink struct {
	mu           sync.Mutex
	keys         map[string]int
	events       int
	batches      int
	failAfter    int
	unverifiedOK bool // as the store under --no-verify
}

func (m *memSink) IngestedKeys(_ context.Context, prefix string) (map[string]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]bool{}
	for k := range m.keys {
		if strings.HasPrefix(k, prefix) {
			out[k] = true
		}
	}
	return out, nil
}

func (m *memSink) Load(_ context.Context, b *batch.Events) (pull.Loaded, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAfter > 0 && m.batches >= m.failAfter {
		return pull.Loaded{}, errors.New("killed")
	}
	m.batches++
	for _, f := range b.Files() {
		if !f.Verified && !m.unverifiedOK {
			return pull.Loaded{}, errors.New("unverified file loaded while verifying")
		}
		if !f.Partial {
			m.keys[f.Key]++
		}
	}
	m.events += b.Rows()
	return pull.Loaded{Events: b.Rows()}, nil
}

func (m *memSink) Commit(context.Context) error { return nil }

func (m *memSink) Prepare(context.Context, *batch.Events) error { return nil }

func bucket(t *testing.T, tamper ...demo.Tamper) (objstore.Store, *demo.Result) {
	t.Helper()
	st, err := folder.Create(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st.WithoutSync()
	ctx := context.Background()
	res, err := demo.Generate(ctx, st, demo.Options{Accounts: 3, Regions: []string{"us-east-1", "eu-west-1"}, Days: 1, Seed: 21,
		Bucket: "demo-bucket", Trail: "org-trail"})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.Apply(ctx, st, res.Manifest, tamper); err != nil {
		t.Fatal(err)
	}
	return st, res
}

func options(t *testing.T, res *demo.Result) pull.Options {
	keys, err := digest.ParseKeySet(bytes.NewReader(res.PublicKeys))
	if err != nil {
		t.Fatal(err)
	}
	return pull.Options{Bucket: "demo-bucket", Since: res.Manifest.Start, Until: res.Manifest.End.Add(1), Keys: keys, Jobs: 4, BatchFiles: 10, Loaders: 2,
		TempDir: t.TempDir()}
}

func TestPullLoadsEveryVerifiedFileOnce(t *testing.T) {
	st, res := bucket(t)
	sink := &memSink{keys: map[string]int{}}
	sum, err := pull.Run(context.Background(), st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if int64(sum.Loaded) != res.Manifest.LogFiles || len(sum.Bad) != 0 || sum.Unverified != 0 || len(sum.Gaps) != 0 || !sum.OK {
		t.Fatalf("summary %+v, demo wrote %d log files", sum, res.Manifest.LogFiles)
	}
	// The digest report counts the files the pull checked against it.
	d := sum.Digests
	if d == nil || d.LogFiles != sum.Loaded || d.LogFilesValid != d.LogFiles || d.Bytes != sum.Bytes {
		t.Fatalf("digest report %+v, want the %d loaded files (%d bytes) counted as checked and valid", d, sum.Loaded, sum.Bytes)
	}
	perChain := 0
	for _, c := range d.Chains {
		perChain += c.LogFiles
		if !c.Valid() {
			t.Errorf("chain %s/%s: %+v, want valid", c.Account, c.Region, c)
		}
	}
	if perChain != d.LogFiles {
		t.Fatalf("chains count %d log files, the report %d", perChain, d.LogFiles)
	}
	again, err := pull.Run(context.Background(), st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if again.Loaded != 0 || again.AlreadyLoaded != sum.Loaded {
		t.Fatalf("second pull: %+v", again)
	}
	for k, n := range sink.keys {
		if n != 1 {
			t.Fatalf("%s loaded %d times", k, n)
		}
	}
}

func TestPullResumesAfterAKill(t *testing.T) {
	st, res := bucket(t)
	sink := &memSink{keys: map[string]int{}, failAfter: 3}
	if _, err := pull.Run(context.Background(), st, sink, options(t, res)); err == nil {
		t.Fatal("the killed pull reported success")
	}
	partial := len(sink.keys)
	sink.failAfter = 0
	sum, err := pull.Run(context.Background(), st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if partial == 0 || sum.AlreadyLoaded != partial || int64(len(sink.keys)) != res.Manifest.LogFiles {
		t.Fatalf("resume: %d before, %+v after, %d keys", partial, sum, len(sink.keys))
	}
	for k, n := range sink.keys {
		if n != 1 {
			t.Fatalf("%s loaded %d times", k, n)
		}
	}
}

func TestPullRefusesTamperedFiles(t *testing.T) {
	st, res := bucket(t, demo.Tamper{Kind: demo.TamperModify})
	sink := &memSink{keys: map[string]int{}}
	sum, err := pull.Run(context.Background(), st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	bad := res.Manifest.Tampered[0].Key
	if len(sum.Bad) != 1 || sum.Bad[0].Key != bad || sink.keys[bad] != 0 {
		t.Fatalf("tampered %s: bad %+v, loaded %d", bad, sum.Bad, sink.keys[bad])
	}
	if d := sum.Digests; d == nil || d.LogFiles != sum.Loaded+1 || d.LogFilesValid != sum.Loaded {
		t.Fatalf("digest report %+v, want %d files checked and all but the tampered one valid", d, sum.Loaded+1)
	}
	opt := options(t, res)
	opt.NoVerify = true
	nv := &memSink{keys: map[string]int{}, unverifiedOK: true}
	sum, err = pull.Run(context.Background(), st, nv, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Verified || int64(sum.Loaded) != res.Manifest.LogFiles {
		t.Fatalf("--no-verify: %+v", sum)
	}
}

// Files that are not log files are listed as bad, with what is wrong,
// and the rest of the pull goes on.
func TestPullSetsBadFilesAsideAndContinues(t *testing.T) {
	st, res := bucket(t)
	var victims []string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		if len(victims) < 4 && strings.Contains(o.Key, "/CloudTrail/us-east-1/") && strings.HasSuffix(o.Key, ".json.gz") {
			victims = append(victims, o.Key)
		}
		return nil
	})
	bodies := [][]byte{gz(`{"Records":[{"eventID":"x"},1]}`), gz(`{"Records":[`), gz(`{"awsAccountId":"1","logFiles":[]}`),
		gz(`{"Records":[]}`)[:20]}
	want := []string{"record 2 is not a JSON object", "unexpected end of JSON", "no Records array", "not a valid gzip file"}
	for i, v := range victims {
		if err := st.Put(context.Background(), v, bytes.NewReader(bodies[i]), int64(len(bodies[i])), nil); err != nil {
			t.Fatal(err)
		}
	}
	sink := &memSink{keys: map[string]int{}, unverifiedOK: true}
	opt := options(t, res)
	opt.NoVerify = true
	sum, err := pull.Run(context.Background(), st, sink, opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Bad) != len(victims) || int64(len(sink.keys)) != res.Manifest.LogFiles-int64(len(victims)) {
		t.Fatalf("bad %+v, loaded %d of %d", sum.Bad, len(sink.keys), res.Manifest.LogFiles)
	}
	for _, b := range sum.Bad {
		i := slices.Index(victims, b.Key)
		if i < 0 || !strings.Contains(b.Problem, want[i]) {
			t.Fatalf("bad %s: %q, want a problem saying %q", b.Key, b.Problem, want[min(max(i, 0), 3)])
		}
	}
}

// Files above the in-memory size are downloaded to disk, verified, and
// loaded in parts: the same files and events as read in memory.
func TestPullStreamsLargeFiles(t *testing.T) {
	st, res := bucket(t)
	whole := &memSink{keys: map[string]int{}}
	if _, err := pull.Run(context.Background(), st, whole, options(t, res)); err != nil {
		t.Fatal(err)
	}
	opt := options(t, res)
	opt.InMemoryFile = 1
	opt.BatchBytes = 64 << 10 // parts of a file
	streamed := &memSink{keys: map[string]int{}}
	sum, err := pull.Run(context.Background(), st, streamed, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(whole.keys, streamed.keys) || whole.events != streamed.events || int64(sum.Loaded) != res.Manifest.LogFiles {
		t.Fatalf("streamed %d files, %d events; in memory %d files, %d events", len(streamed.keys), streamed.events,
			len(whole.keys), whole.events)
	}
	if streamed.batches <= whole.batches {
		t.Fatalf("%d batches streamed, %d in memory: no file was loaded in parts", streamed.batches, whole.batches)
	}
}

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

// A pull reads only the digests from its oldest new file on: the ones
// before vouch for nothing it loads, and a pull with nothing new reads
// none.
func TestPullVerifiesFromTheOldestNewFile(t *testing.T) {
	st, res := bucket(t)
	ctx := context.Background()
	sink := &memSink{keys: map[string]int{}}
	half := options(t, res)
	half.Until = res.Manifest.Start.Add(12 * time.Hour)
	first, err := pull.Run(ctx, st, sink, half)
	if err != nil {
		t.Fatal(err)
	}
	if first.Digests == nil || !first.Digests.Start.Equal(res.Manifest.Start) {
		t.Fatalf("first pull: digests %+v, want them read from %s", first.Digests, res.Manifest.Start)
	}
	rest, err := pull.Run(ctx, st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if rest.Loaded == 0 || rest.Digests == nil || rest.Digests.Start.Before(half.Until.Add(-time.Hour)) {
		t.Fatalf("second pull: loaded %d, digests from %v; want the new files' digests only, from about %s",
			rest.Loaded, rest.Digests, half.Until)
	}
	// The second half of the day, and the hour on each side of it.
	if got, all := int64(rest.Digests.Digests), res.Manifest.DigestFiles; got > all*2/3 {
		t.Fatalf("the second pull read %d of the bucket's %d digests, want about half", got, all)
	}
	again, err := pull.Run(ctx, st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if again.Loaded != 0 || again.Digests != nil || again.AlreadyLoaded != again.Listed {
		t.Fatalf("pull with nothing new: %+v, want nothing loaded and no digests read", again)
	}
	for k, n := range sink.keys {
		if n != 1 {
			t.Fatalf("%s loaded %d times", k, n)
		}
	}
}

func problems(sum *pull.Summary) map[string]string {
	out := map[string]string{}
	for _, b := range sum.Bad {
		out[b.Key] = b.Problem
	}
	return out
}

// A log file a valid digest lists but the bucket lacks fails the pull,
// named, as it fails verify; the other files are loaded.
func TestPullFailsOnADeletedLogFile(t *testing.T) {
	st, res := bucket(t, demo.Tamper{Kind: demo.TamperDelete})
	sink := &memSink{keys: map[string]int{}}
	sum, err := pull.Run(context.Background(), st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	gone := res.Manifest.Tampered[0].Key
	if got := problems(sum); len(got) != 1 || got[gone] != pull.ProblemNotFound || sum.OK {
		t.Fatalf("deleted %s: bad %v, ok %v", gone, sum.Bad, sum.OK)
	}
	if int64(sum.Loaded) != res.Manifest.LogFiles-1 || int64(len(sink.keys)) != res.Manifest.LogFiles-1 {
		t.Fatalf("loaded %d of the %d files left", sum.Loaded, res.Manifest.LogFiles-1)
	}
	if d := sum.Digests; d.LogFiles != sum.Loaded+1 || d.LogFilesValid != sum.Loaded {
		t.Fatalf("digest report: %d/%d log files valid, want %d/%d", d.LogFilesValid, d.LogFiles, sum.Loaded, sum.Loaded+1)
	}
}

// truncate deletes the newest digest of one chain and returns the
// chain's newest log file, which no digest lists any more.
func truncate(t *testing.T, st objstore.Store, res *demo.Result, account, region string) (orphan string) {
	t.Helper()
	var digests, logs []string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		switch {
		case strings.Contains(o.Key, "/"+account+"/CloudTrail-Digest/"+region+"/"):
			digests = append(digests, o.Key)
		case strings.Contains(o.Key, "/"+account+"/CloudTrail/"+region+"/"):
			logs = append(logs, o.Key)
		}
		return nil
	})
	slices.Sort(digests)
	slices.Sort(logs)
	if err := st.Delete(context.Background(), digests[len(digests)-1]); err != nil {
		t.Fatal(err)
	}
	last := logs[len(logs)-1]
	if !strings.Contains(last, res.Manifest.End.Add(-time.Hour).Format("20060102T15")) {
		t.Fatalf("the chain's newest log file %s is not in its last hour", last)
	}
	return last
}

// A chain whose newest digest is gone ends early: a gap that fails the
// pull, and its orphaned log file is named, not only counted; read within
// the delivery delay, the digest may still come and the file waits.
func TestPullTruncatedChain(t *testing.T) {
	st, res := bucket(t)
	m := res.Manifest
	acct, region := m.Org.Accounts[1], m.Org.HomeRegion
	orphan := truncate(t, st, res, acct, region)

	sum, err := pull.Run(context.Background(), st, &memSink{keys: map[string]int{}}, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK || len(sum.Gaps) != 1 {
		t.Fatalf("ok %v, gaps %+v: want the truncated chain's gap", sum.OK, sum.Gaps)
	}
	if g := sum.Gaps[0]; g.Account != acct || g.Region != region || g.Reason != verify.GapEndsEarly || !g.From.Equal(m.End.Add(-time.Hour)) {
		t.Fatalf("gap %+v", g)
	}
	if got := problems(sum); len(got) != 1 || got[orphan] != pull.ProblemNotInDigest || sum.Unverified != 0 {
		t.Fatalf("bad %v, %d waiting: want %s named", sum.Bad, sum.Unverified, orphan)
	}

	live := options(t, res)
	live.Now = m.End.Add(10 * time.Minute)
	sum, err = pull.Run(context.Background(), st, &memSink{keys: map[string]int{}}, live)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Bad) != 0 || len(sum.Gaps) != 0 || sum.Unverified != 1 || !sum.OK {
		t.Fatalf("ten minutes after the hour: bad %v, gaps %+v, %d waiting, ok %v; want the orphan waiting", sum.Bad, sum.Gaps, sum.Unverified, sum.OK)
	}
}

// A log file no digest lists, in the middle of a verified chain, is
// named and not loaded.
func TestPullNamesAFileNoDigestLists(t *testing.T) {
	st, res := bucket(t)
	m := res.Manifest
	var src string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		if src == "" && strings.Contains(o.Key, "/CloudTrail/us-east-1/") {
			src = o.Key
		}
		return nil
	})
	body, _, err := st.Get(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var data bytes.Buffer
	_, _ = data.ReadFrom(body)
	_ = body.Close()
	extra := layout.LogKey(m.Org.Prefix, m.Org.ID, m.Org.Accounts[2], "us-east-1", m.Start.Add(7*time.Hour+31*time.Minute), "ZZZZZZZZZZZZZZZZ")
	if err := st.Put(context.Background(), extra, bytes.NewReader(data.Bytes()), int64(data.Len()), nil); err != nil {
		t.Fatal(err)
	}
	sink := &memSink{keys: map[string]int{}}
	sum, err := pull.Run(context.Background(), st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if got := problems(sum); len(got) != 1 || got[extra] != pull.ProblemNotInDigest || sum.OK || sink.keys[extra] != 0 {
		t.Fatalf("bad %v, ok %v, loaded %d: want %s named and not loaded", sum.Bad, sum.OK, sink.keys[extra], extra)
	}
	if int64(sum.Loaded) != m.LogFiles {
		t.Fatalf("loaded %d, want the demo's %d", sum.Loaded, m.LogFiles)
	}
}

// A window with no log file fails and says where the newest file is,
// whether the window is after the data or before it.
func TestPullEmptyWindow(t *testing.T) {
	st, res := bucket(t)
	// The newest by the time in the file name, ties to the greater key,
	// as pull says (the names alone sort by account and region first).
	var newest string
	var newestTime time.Time
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		k, err := layout.Parse(o.Key)
		if err == nil && k.Kind == layout.LogFile && (newest == "" || k.FileTime.After(newestTime) || (k.FileTime.Equal(newestTime) && o.Key > newest)) {
			newest, newestTime = o.Key, k.FileTime
		}
		return nil
	})
	for _, w := range []struct{ name, since, until string }{
		{"after the data", "2026-12-01T00:00:00Z", "2026-12-08T00:00:00Z"},
		{"before the data", "2026-11-01T00:00:00Z", "2026-11-19T00:00:00Z"},
	} {
		t.Run(w.name, func(t *testing.T) {
			opt := options(t, res)
			opt.Since, _ = time.Parse(time.RFC3339, w.since)
			opt.Until, _ = time.Parse(time.RFC3339, w.until)
			sink := &memSink{keys: map[string]int{}}
			sum, err := pull.Run(context.Background(), st, sink, opt)
			if err != nil {
				t.Fatal(err)
			}
			if sum.OK || sum.Listed != 0 || sum.Newest == nil || sum.Newest.Key != newest || !sum.Since.Equal(opt.Since) || !sum.Until.Equal(opt.Until) {
				t.Fatalf("summary %+v newest %+v, want not ok, and the newest file %s", sum, sum.Newest, newest)
			}
			k, _ := layout.Parse(newest)
			if !sum.Newest.Time.Equal(k.FileTime) {
				t.Fatalf("newest time %s, want %s", sum.Newest.Time, k.FileTime)
			}
		})
	}
}

// A replaced digest withholds its own hour, not the hour before: the
// predecessor's signature holds, so its log files are loaded, while the
// replaced digest's are not and the pull fails.
func TestPullReplacedDigestKeepsThePredecessorsHour(t *testing.T) {
	st, res := bucket(t)
	m := res.Manifest
	ctx := context.Background()
	acct, region := m.Org.Accounts[0], "eu-west-1"
	var ds []string
	_ = st.List(ctx, layout.DigestPrefix(m.Org.Prefix, m.Org.ID, acct, region), "", func(o objstore.Object) error {
		ds = append(ds, o.Key)
		return nil
	})
	slices.Sort(ds)
	const victim = 9
	readDigest := func(key string) (*digest.File, objstore.Metadata) {
		body, meta, err := st.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = body.Close() }()
		var raw bytes.Buffer
		if _, _, err := digest.HashGzipTee(body, &raw); err != nil {
			t.Fatal(err)
		}
		d, err := digest.Parse(raw.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		return d, meta
	}
	pred, _ := readDigest(ds[victim-1])
	d, meta := readDigest(ds[victim])
	if len(pred.LogFiles) == 0 || len(d.LogFiles) == 0 {
		t.Fatalf("digests %s and %s list %d and %d files", ds[victim-1], ds[victim], len(pred.LogFiles), len(d.LogFiles))
	}
	withheld := d.LogFiles
	forged := *d
	other := strings.Repeat("cd", 32)
	forged.PreviousDigestHashValue = &other
	forged.LogFiles = d.LogFiles[1:]
	raw, err := digest.Marshal(&forged)
	if err != nil {
		t.Fatal(err)
	}
	body := gz(string(raw))
	if err := st.Put(ctx, ds[victim], bytes.NewReader(body), int64(len(body)), meta); err != nil {
		t.Fatal(err)
	}

	sink := &memSink{keys: map[string]int{}}
	sum, err := pull.Run(ctx, st, sink, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if sum.OK || sum.Digests == nil || sum.Digests.DigestsValid != sum.Digests.Digests-1 {
		t.Fatalf("ok %v, digests %+v: want the one replaced digest invalid", sum.OK, sum.Digests)
	}
	for _, lf := range pred.LogFiles {
		if sink.keys[lf.S3Object] != 1 {
			t.Errorf("predecessor's log file %s loaded %d times, want once", lf.S3Object, sink.keys[lf.S3Object])
		}
	}
	for _, lf := range withheld {
		if sink.keys[lf.S3Object] != 0 {
			t.Errorf("log file %s of the replaced digest loaded", lf.S3Object)
		}
	}
	if want := m.LogFiles - int64(len(withheld)); int64(sum.Loaded) != want {
		t.Errorf("loaded %d, want the %d files no replaced digest lists", sum.Loaded, want)
	}
}

// A record that repeats a top-level key is loaded, and the summary names
// it by file and ordinal, whether the file is read in memory or in parts;
// the pull still passes.
func TestPullNamesRecordsThatRepeatAKey(t *testing.T) {
	st, res := bucket(t)
	var victim string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		if victim == "" && strings.Contains(o.Key, "/CloudTrail/eu-west-1/") && strings.HasSuffix(o.Key, ".json.gz") {
			victim = o.Key
		}
		return nil
	})
	var recs []string
	for i := range 30 {
		r := fmt.Sprintf(`{"eventID":"e%d","recipientAccountId":"111111111111","eventTime":"2026-11-20T01:00:00Z","eventName":"Get"}`, i)
		if i == 4 || i == 20 {
			r = strings.Replace(r, `"eventName"`, `"eventID":"other","eventName"`, 1)
		}
		recs = append(recs, r)
	}
	body := gz(`{"Records":[` + strings.Join(recs, ",") + `]}`)
	if err := st.Put(context.Background(), victim, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		t.Fatal(err)
	}
	for _, streamed := range []bool{false, true} {
		opt := options(t, res)
		opt.NoVerify = true
		if streamed {
			opt.InMemoryFile, opt.BatchBytes = 1, 1<<10
		}
		sum, err := pull.Run(context.Background(), st, &memSink{keys: map[string]int{}, unverifiedOK: true}, opt)
		if err != nil {
			t.Fatal(err)
		}
		want := []pull.FileRepeatedKeys{{Key: victim, Records: 2, First: []batch.RepeatedKey{{Record: 5, Key: "eventID"}, {Record: 21, Key: "eventID"}}}}
		if !sum.OK || len(sum.Bad) != 0 || !reflect.DeepEqual(sum.RepeatedKeys, want) {
			t.Fatalf("streamed %v: ok %v, bad %v, repeated keys %+v; want %+v", streamed, sum.OK, sum.Bad, sum.RepeatedKeys, want)
		}
	}
}
