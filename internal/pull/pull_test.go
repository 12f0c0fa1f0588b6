package pull_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/pull"
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
	if int64(sum.Loaded) != res.Manifest.LogFiles || len(sum.Bad) != 0 || sum.Unverified != 0 {
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
