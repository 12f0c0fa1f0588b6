package pull_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/folder"
	"github.com/trailwarden/trailwarden/internal/pull"
)

// memSink is a sink that remembers which keys it loaded; it can fail after
// a number of batches, as a killed process would.
type memSink struct {
	mu        sync.Mutex
	keys      map[string]int
	batches   int
	failAfter int
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

func (m *memSink) Load(_ context.Context, files []pull.File) (pull.Loaded, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAfter > 0 && m.batches >= m.failAfter {
		return pull.Loaded{}, errors.New("killed")
	}
	m.batches++
	for _, f := range files {
		if !f.Verified {
			return pull.Loaded{}, errors.New("unverified file loaded while verifying")
		}
		m.keys[f.Key]++
	}
	return pull.Loaded{Events: len(files)}, nil
}

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
	return pull.Options{Bucket: "demo-bucket", Since: res.Manifest.Start, Until: res.Manifest.End.Add(1), Keys: keys, Jobs: 4, BatchFiles: 10, TempDir: t.TempDir()}
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
	opt := options(t, res)
	opt.NoVerify = true
	nv := &memSink{keys: map[string]int{}}
	sum, err = pull.Run(context.Background(), st, unverifiedOK{nv}, opt)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Verified || int64(sum.Loaded) != res.Manifest.LogFiles {
		t.Fatalf("--no-verify: %+v", sum)
	}
}

// unverifiedOK accepts unverified files, as the store does under --no-verify.
type unverifiedOK struct{ *memSink }

func (u unverifiedOK) Load(ctx context.Context, files []pull.File) (pull.Loaded, error) {
	for i := range files {
		files[i].Verified = true
	}
	return u.memSink.Load(ctx, files)
}

// rejecting refuses one key, as the store does with a corrupt file.
type rejecting struct {
	*memSink
	key string
}

func (r rejecting) Load(ctx context.Context, files []pull.File) (pull.Loaded, error) {
	for _, f := range files {
		if f.Key == r.key {
			return pull.Loaded{}, &pull.RejectedError{Key: f.Key, Err: errors.New("invalid JSON")}
		}
	}
	return r.memSink.Load(ctx, files)
}

func TestPullSetsRejectedFilesAsideAndContinues(t *testing.T) {
	st, res := bucket(t)
	sink := &memSink{keys: map[string]int{}}
	var victim string
	_ = st.List(context.Background(), "", "", func(o objstore.Object) error {
		if victim == "" && strings.Contains(o.Key, "/CloudTrail/us-east-1/") {
			victim = o.Key
		}
		return nil
	})
	sum, err := pull.Run(context.Background(), st, rejecting{sink, victim}, options(t, res))
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Bad) != 1 || sum.Bad[0].Key != victim || int64(len(sink.keys)) != res.Manifest.LogFiles-1 {
		t.Fatalf("bad %+v, loaded %d of %d", sum.Bad, len(sink.keys), res.Manifest.LogFiles)
	}
}
