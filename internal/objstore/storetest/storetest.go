// Package storetest is the conformance suite every objstore.Store
// implementation runs: one set of behaviours, S3's, checked the same way
// against a folder and against a real S3-compatible server.
//
// Usage, in an implementation's test:
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) objstore.Store { return newEmptyStore(t) })
//	}
//
// newStore must return a new, empty store each time it is called (the
// subtests run in parallel and each lists the whole store).
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/objstore"
)

// FileBacked is implemented by stores that keep objects as files under a
// directory (the folder store). For them the suite expects a file system's
// limits instead of S3's anything-goes keys: hostile keys ("..", absolute,
// empty segments, NUL) must be rejected with an error and must never create
// a file outside Dir, and a key cannot name both an object and the
// "directory" of other objects ("a/b" and "a/b/c"), so the second Put must
// fail and leave the first object intact. Other stores must store all of
// these keys as S3 does, or reject a hostile key with an error.
type FileBacked interface {
	Dir() string
}

// LargeSize is the size of the object the suite streams through Put and Get.
const LargeSize = 20 << 20

// ManyKeys is how many objects the pagination test lists (more than two S3
// pages of 1,000).
const ManyKeys = 2500

// Options adjusts the suite to a backend's documented deviations from S3.
type Options struct {
	// ObjectPrefixConflict, if not empty, says why the backend cannot
	// reliably hold an object and the "directory" of other objects of the
	// same name ("a/b" and "a/b/c"; MinIO accepts both but lists one). The
	// suite then accepts a failed second Put or a listing that omits one of
	// the two, but still requires every successful Put to be readable.
	ObjectPrefixConflict string
}

// Run runs the conformance suite against the stores newStore makes. Each
// subtest gets a fresh store and runs in parallel with the others.
func Run(t *testing.T, newStore func(t *testing.T) objstore.Store) {
	t.Helper()
	RunWith(t, newStore, Options{})
}

// RunWith is Run for a backend with the deviations o describes.
func RunWith(t *testing.T, newStore func(t *testing.T) objstore.Store, o Options) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s objstore.Store)
	}{
		{"RoundTrip", testRoundTrip},
		{"Overwrite", testOverwrite},
		{"Missing", testMissing},
		{"Delete", testDelete},
		{"ListOrder", testListOrder},
		{"ListPrefixStartAfter", testListPrefixStartAfter},
		{"ListPagination", testListPagination},
		{"ListStops", testListStops},
		{"ListDirs", testListDirs},
		{"KeyConflict", func(t *testing.T, s objstore.Store) { testKeyConflict(t, s, o) }},
		{"Concurrent", testConcurrent},
		{"Large", testLarge},
		{"BadSize", testBadSize},
		{"HostileKeys", testHostileKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newStore(t)
			if s == nil {
				t.Fatal("newStore returned nil")
			}
			if s.String() == "" {
				t.Error("String() is empty")
			}
			tc.fn(t, s)
		})
	}
}

// --- helpers ---------------------------------------------------------------

func put(t testing.TB, s objstore.Store, key, body string, meta objstore.Metadata) {
	t.Helper()
	if err := s.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), meta); err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
}

func get(t testing.TB, s objstore.Store, key string) (string, objstore.Metadata) {
	t.Helper()
	rc, meta, err := s.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer func() { _ = rc.Close() }()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("Get(%q): read body: %v", key, err)
	}
	return string(b), meta
}

func list(t testing.TB, s objstore.Store, prefix, startAfter string) []objstore.Object {
	t.Helper()
	var out []objstore.Object
	err := s.List(context.Background(), prefix, startAfter, func(o objstore.Object) error {
		out = append(out, o)
		return nil
	})
	if err != nil {
		t.Fatalf("List(%q, %q): %v", prefix, startAfter, err)
	}
	return out
}

func keys(objs []objstore.Object) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.Key
	}
	return out
}

func sameMeta(a, b objstore.Metadata) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// wantKeys is the S3 answer for a listing of all: the keys that start with
// prefix and sort after startAfter, in byte order.
func wantKeys(all []string, prefix, startAfter string) []string {
	var out []string
	for _, k := range all {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func checkRecent(t testing.TB, what string, ts time.Time) {
	t.Helper()
	if ts.IsZero() {
		t.Errorf("%s: LastModified is zero", what)
		return
	}
	if d := time.Since(ts); d > time.Hour || d < -time.Hour {
		t.Errorf("%s: LastModified %v is not close to now", what, ts)
	}
}

// --- tests -----------------------------------------------------------------

func testRoundTrip(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	key := "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/02/111122223333_CloudTrail_us-east-1_20260102T0000Z_abc.json.gz"
	body := `{"Records":[]}`
	meta := objstore.Metadata{"signature": "c2lnbmF0dXJl", "signature-algorithm": "SHA256withRSA"}
	put(t, s, key, body, meta)

	gotBody, gotMeta := get(t, s, key)
	if gotBody != body {
		t.Errorf("Get body = %q, want %q", gotBody, body)
	}
	if !sameMeta(gotMeta, meta) {
		t.Errorf("Get metadata = %v, want %v", gotMeta, meta)
	}
	obj, headMeta, err := s.Head(ctx, key)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	if obj.Key != key || obj.Size != int64(len(body)) {
		t.Errorf("Head = %+v, want key %q size %d", obj, key, len(body))
	}
	checkRecent(t, "Head", obj.LastModified)
	if !sameMeta(headMeta, meta) {
		t.Errorf("Head metadata = %v, want %v", headMeta, meta)
	}
	objs := list(t, s, "", "")
	if len(objs) != 1 || objs[0].Key != key || objs[0].Size != int64(len(body)) {
		t.Fatalf("List = %+v, want the one object %q of %d bytes", objs, key, len(body))
	}
	checkRecent(t, "List", objs[0].LastModified)

	// Metadata keys come back lower-case, as S3 returns them.
	put(t, s, "mixed-case", "x", objstore.Metadata{"Signature-Algorithm": "SHA256withRSA"})
	if _, m := get(t, s, "mixed-case"); !sameMeta(m, objstore.Metadata{"signature-algorithm": "SHA256withRSA"}) {
		t.Errorf("metadata of mixed-case = %v, want the key lower-cased", m)
	}

	// No metadata, and an empty body.
	put(t, s, "empty", "", nil)
	if b, m := get(t, s, "empty"); b != "" || len(m) != 0 {
		t.Errorf("Get(empty) = %q, %v; want empty body, no metadata", b, m)
	}
	if o, m, err := s.Head(ctx, "empty"); err != nil || o.Size != 0 || len(m) != 0 {
		t.Errorf("Head(empty) = %+v, %v, %v; want size 0, no metadata", o, m, err)
	}
}

func testOverwrite(t *testing.T, s objstore.Store) {
	const key = "dir/obj"
	put(t, s, key, "version one, longer", objstore.Metadata{"signature": "one", "only-in-one": "x"})
	put(t, s, key, "v2", objstore.Metadata{"signature": "two"})
	if b, m := get(t, s, key); b != "v2" || !sameMeta(m, objstore.Metadata{"signature": "two"}) {
		t.Errorf("after overwrite Get = %q, %v; want v2 with only signature=two", b, m)
	}
	if o, _, err := s.Head(t.Context(), key); err != nil || o.Size != 2 {
		t.Errorf("after overwrite Head = %+v, %v; want size 2", o, err)
	}
	put(t, s, key, "v3", nil)
	if b, m := get(t, s, key); b != "v3" || len(m) != 0 {
		t.Errorf("after overwrite without metadata Get = %q, %v; want v3 with no metadata", b, m)
	}
	if got := keys(list(t, s, "", "")); !slices.Equal(got, []string{key}) {
		t.Errorf("List after overwrites = %q, want just %q", got, key)
	}
}

func testMissing(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	put(t, s, "present/child", "x", nil)
	for _, key := range []string{"absent", "present", "present/", "present/child/deeper", "present/chil"} {
		if key == "present/" {
			if _, ok := s.(FileBacked); ok {
				continue // not a valid folder key; HostileKeys covers it
			}
		}
		rc, _, err := s.Get(ctx, key)
		if err == nil {
			_ = rc.Close()
		}
		if !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Get(%q) error = %v, want one wrapping objstore.ErrNotFound", key, err)
		}
		if _, _, err := s.Head(ctx, key); !errors.Is(err, objstore.ErrNotFound) {
			t.Errorf("Head(%q) error = %v, want one wrapping objstore.ErrNotFound", key, err)
		}
	}
}

func testDelete(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	put(t, s, "keep", "k", nil)
	put(t, s, "gone/deep/obj", "g", objstore.Metadata{"signature": "s"})
	if err := s.Delete(ctx, "gone/deep/obj"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, _, err := s.Get(ctx, "gone/deep/obj"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get after Delete error = %v, want ErrNotFound", err)
	}
	if _, _, err := s.Head(ctx, "gone/deep/obj"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Head after Delete error = %v, want ErrNotFound", err)
	}
	if got := keys(list(t, s, "", "")); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("List after Delete = %q, want [keep]", got)
	}
	for _, key := range []string{"gone/deep/obj", "never-existed", "gone/deep", "keep/below"} {
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q) of a missing key: %v, want nil", key, err)
		}
	}
	// The deleted object's "directories" are gone too: its parent path can
	// now be an object, and a re-created object has no stale metadata.
	put(t, s, "gone/deep", "now an object", nil)
	if b, _ := get(t, s, "gone/deep"); b != "now an object" {
		t.Errorf("Get(gone/deep) = %q", b)
	}
	if err := s.Delete(ctx, "gone/deep"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	put(t, s, "gone/deep/obj", "again", nil)
	if b, m := get(t, s, "gone/deep/obj"); b != "again" || len(m) != 0 {
		t.Errorf("re-created object = %q, %v; want no metadata", b, m)
	}
}

// orderKeys are designed to catch a listing in file-system walk order: in a
// walk the directory "a" (keys "a/...") comes before "a-b" and "a.b", but in
// key order '!' < '-' < '.' < '/' < '0'. Two groups, because a folder cannot
// hold both "a/b" and "a/b/c".
var orderKeys = []string{
	// group one: "a/b" is an object
	"one/a/b", "one/a-b", "one/a.b", "one/ab", "one/a0", "one/a!", "one/a~",
	"one/a/b-c", "one/a/b.c", "one/a/bc", "one/a/c", "one/b",
	// group two: "a/b" is a "directory"
	"two/a/b/c", "two/a-b", "two/a.b", "two/ab", "two/a/b-c", "two/a/b.c",
	"two/a/bc", "two/a/b0/x", "two/a/b/c-d", "two/a/b/c./d", "two/a/b/c.d",
	"two/\u00e9", "two/z", "two/Z",
}

func putAll(t testing.TB, s objstore.Store, keys []string, workers int) {
	t.Helper()
	ch := make(chan string)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for range workers {
		wg.Go(func() {
			for k := range ch {
				if err := s.Put(context.Background(), k, strings.NewReader(k), int64(len(k)), nil); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("Put(%q): %w", k, err)
					}
					mu.Unlock()
				}
			}
		})
	}
	for _, k := range keys {
		ch <- k
	}
	close(ch)
	wg.Wait()
	if firstErr != nil {
		t.Fatal(firstErr)
	}
}

func testListOrder(t *testing.T, s objstore.Store) {
	putAll(t, s, orderKeys, 4)
	got := list(t, s, "", "")
	want := wantKeys(orderKeys, "", "")
	if !slices.Equal(keys(got), want) {
		t.Fatalf("List order:\n got %q\nwant %q", keys(got), want)
	}
	for _, o := range got {
		if o.Size != int64(len(o.Key)) {
			t.Errorf("List: %q has size %d, want %d", o.Key, o.Size, len(o.Key))
		}
	}
	// Spelled out, in case wantKeys and the store share a misconception.
	spelled := []string{"two/Z", "two/a-b", "two/a.b", "two/a/b-c", "two/a/b.c", "two/a/b/c", "two/a/b/c-d", "two/a/b/c./d", "two/a/b/c.d", "two/a/b0/x", "two/a/bc", "two/ab", "two/z", "two/\u00e9"}
	if g := keys(list(t, s, "two/", "")); !slices.Equal(g, spelled) {
		t.Errorf("List(two/):\n got %q\nwant %q", g, spelled)
	}
}

func testListPrefixStartAfter(t *testing.T, s objstore.Store) {
	putAll(t, s, orderKeys, 4)
	// Every prefix of every key, plus some that match nothing.
	prefixSet := map[string]bool{"": true, "zzz": true, "one/a/b/": true, "two/a/b/c./": true}
	for _, k := range orderKeys {
		for i := range k { // on rune boundaries: keys are UTF-8
			if i > 0 {
				prefixSet[k[:i]] = true
			}
		}
		prefixSet[k] = true
	}
	prefixes := slices.Sorted(func(yield func(string) bool) {
		for p := range prefixSet {
			if !yield(p) {
				return
			}
		}
	})
	// startAfter: every key, and strings between and around them.
	starts := []string{"", "one/", "one/a", "one/a/", "one/a/b", "one/a/b/", "one/a-", "one/a/c~", "two/a/b/c/", "two/a/b/c!", "two/a/b/", "two/b", "~"}
	starts = append(starts, orderKeys...)
	n := 0
	for _, p := range prefixes {
		for _, sa := range starts {
			// Skip combinations that cannot matter, to keep the test quick
			// against a server: startAfter far away from the prefix.
			if sa != "" && !strings.HasPrefix(sa, p) && !strings.HasPrefix(p, sa) && len(p) > 4 {
				continue
			}
			want := wantKeys(orderKeys, p, sa)
			if got := keys(list(t, s, p, sa)); !slices.Equal(got, want) {
				t.Errorf("List(prefix %q, startAfter %q):\n got %q\nwant %q", p, sa, got, want)
			}
			n++
		}
	}
	t.Logf("%d listings checked", n)
}

func manyKeys() []string {
	out := make([]string, 0, ManyKeys)
	for i := range ManyKeys {
		// CloudTrail-like: several days, several files a day; a few keys
		// beside the day directories to mix files and directories.
		day := i % 7
		if i%100 == 0 {
			out = append(out, fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/%02d-note-%04d", day+1, i))
			continue
		}
		out = append(out, fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/%02d/111122223333_CloudTrail_us-east-1_20260101T%04dZ_%04d.json.gz", day+1, i%1440, i))
	}
	return out
}

func testListPagination(t *testing.T, s objstore.Store) {
	all := manyKeys()
	putAll(t, s, all, 16)
	slices.Sort(all)

	got := keys(list(t, s, "", ""))
	if len(got) != len(all) {
		t.Fatalf("List returned %d keys, want %d", len(got), len(all))
	}
	if !slices.Equal(got, all) {
		for i := range got {
			if got[i] != all[i] {
				t.Fatalf("List: key %d is %q, want %q", i, got[i], all[i])
			}
		}
	}
	// Resume in the middle, across a page boundary.
	for _, i := range []int{0, 999, 1000, 1234, 2001, len(all) - 1} {
		want := all[i+1:]
		if g := keys(list(t, s, "", all[i])); !slices.Equal(g, want) {
			t.Errorf("List(startAfter key %d) returned %d keys, want %d", i, len(g), len(want))
		}
	}
	// One day's prefix, and a prefix with a startAfter inside it.
	day := "AWSLogs/111122223333/CloudTrail/us-east-1/2026/01/03/"
	want := wantKeys(all, day, "")
	if g := keys(list(t, s, day, "")); !slices.Equal(g, want) {
		t.Errorf("List(%q) returned %d keys, want %d", day, len(g), len(want))
	}
	want = wantKeys(all, day, want[len(want)/2])
	if g := keys(list(t, s, day, want[0])); !slices.Equal(g, want[1:]) {
		t.Errorf("List(%q, startAfter) returned %d keys, want %d", day, len(g), len(want)-1)
	}
}

func testListStops(t *testing.T, s objstore.Store) {
	all := manyKeys()[:1200]
	putAll(t, s, all, 16)

	stop := errors.New("stop here")
	calls := 0
	err := s.List(t.Context(), "", "", func(objstore.Object) error {
		calls++
		if calls == 1100 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) {
		t.Errorf("List error = %v, want the callback's error", err)
	}
	if calls != 1100 {
		t.Errorf("callback called %d times after returning an error at 1100", calls)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	calls = 0
	err = s.List(ctx, "", "", func(objstore.Object) error {
		calls++
		if calls == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("List with a cancelled context: error = %v, want context.Canceled", err)
	}
	if calls != 10 {
		t.Errorf("callback called %d times, want 10 (it cancelled the context on the 10th)", calls)
	}
}

func testKeyConflict(t *testing.T, s objstore.Store, o Options) {
	ctx := t.Context()
	_, fileBacked := s.(FileBacked)
	quirk := o.ObjectPrefixConflict != ""
	if quirk {
		t.Logf("backend quirk: %s", o.ObjectPrefixConflict)
	}
	// The keys of the brief: "a/b" and "a/b/c" both objects.
	brief := []string{"a/b", "a-b", "a.b", "a/b/c", "ab"}
	var stored []string
	for _, k := range brief {
		err := s.Put(ctx, k, strings.NewReader(k), int64(len(k)), objstore.Metadata{"k": k})
		switch {
		case err == nil:
			stored = append(stored, k)
		case (fileBacked || quirk) && k == "a/b/c":
			t.Logf("Put(%q) after Put(\"a/b\") failed, as it may here: %v", k, err)
		default:
			t.Fatalf("Put(%q): %v", k, err)
		}
	}
	if fileBacked && slices.Contains(stored, "a/b/c") {
		t.Errorf("a file-backed store accepted both %q and %q", "a/b", "a/b/c")
	}
	// Every successful Put is readable.
	for _, k := range stored {
		if b, m := get(t, s, k); b != k || m["k"] != k {
			t.Errorf("Get(%q) = %q, %v after the conflicting Put", k, b, m)
		}
	}
	got := keys(list(t, s, "", ""))
	switch want := wantKeys(stored, "", ""); {
	case !quirk:
		if !slices.Equal(got, want) {
			t.Errorf("List = %q, want %q", got, want)
		}
		if !fileBacked {
			if spelled := []string{"a-b", "a.b", "a/b", "a/b/c", "ab"}; !slices.Equal(got, spelled) {
				t.Errorf("List = %q, want %q", got, spelled)
			}
		}
	default:
		// One of the pair may be missing from the listing, nothing else.
		unrelated := slices.DeleteFunc(slices.Clone(got), func(k string) bool { return k == "a/b/c" })
		if w := slices.DeleteFunc(slices.Clone(want), func(k string) bool { return k == "a/b/c" }); !slices.Equal(unrelated, w) {
			t.Errorf("List = %q, want %q (give or take a/b/c)", got, want)
		}
	}

	// The other way round: the deeper key first.
	put(t, s, "d/x/y/z", "deep", nil)
	err := s.Put(ctx, "d/x/y", strings.NewReader("shallow"), 7, nil)
	switch {
	case fileBacked && err == nil:
		t.Errorf("a file-backed store accepted %q over the directory of %q", "d/x/y", "d/x/y/z")
	case !fileBacked && !quirk && err != nil:
		t.Errorf("Put(d/x/y): %v", err)
	case err == nil:
		if b, _ := get(t, s, "d/x/y"); b != "shallow" {
			t.Errorf("Get(d/x/y) = %q", b)
		}
		if !quirk {
			if g := keys(list(t, s, "d/", "")); !slices.Equal(g, []string{"d/x/y", "d/x/y/z"}) {
				t.Errorf("List(d/) = %q", g)
			}
		}
	}
	if b, _ := get(t, s, "d/x/y/z"); b != "deep" {
		t.Errorf("Get(d/x/y/z) = %q after the conflicting Put", b)
	}
}

func testConcurrent(t *testing.T, s objstore.Store) {
	const (
		writers   = 8
		perWriter = 15
		hot       = "hot/object"
		hotSize   = 256 << 10
	)
	put(t, s, hot, strings.Repeat("@", hotSize), nil)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	report := func(err error) {
		select {
		case errs <- err:
		default:
		}
	}
	// Distinct keys, each written then read back.
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				key := fmt.Sprintf("w%d/obj-%03d", w, i)
				body := strings.Repeat(key, 10)
				meta := objstore.Metadata{"writer": fmt.Sprint(w)}
				if err := s.Put(context.Background(), key, strings.NewReader(body), int64(len(body)), meta); err != nil {
					report(err)
					return
				}
				rc, m, err := s.Get(context.Background(), key)
				if err != nil {
					report(err)
					return
				}
				b, err := io.ReadAll(rc)
				_ = rc.Close()
				if err != nil {
					report(fmt.Errorf("read back %q: %w", key, err))
					return
				}
				if string(b) != body || m["writer"] != fmt.Sprint(w) {
					report(fmt.Errorf("read back %q: %d bytes, metadata %v; want %d bytes, writer %d", key, len(b), m, len(body), w))
					return
				}
			}
		})
	}
	// One key overwritten by several writers while readers read it: every
	// read must see one complete version, never a mix or a part.
	for _, c := range []string{"A", "B", "C", "D"} {
		wg.Go(func() {
			body := strings.Repeat(c, hotSize)
			for range 10 {
				if err := s.Put(context.Background(), hot, strings.NewReader(body), hotSize, objstore.Metadata{"version": c}); err != nil {
					report(err)
					return
				}
			}
		})
	}
	for range 4 {
		wg.Go(func() {
			for range 20 {
				rc, _, err := s.Get(context.Background(), hot)
				if err != nil {
					report(fmt.Errorf("Get(%s) during overwrites: %w", hot, err))
					return
				}
				b, err := io.ReadAll(rc)
				_ = rc.Close()
				if err != nil {
					report(err)
					return
				}
				if len(b) != hotSize || strings.Count(string(b), string(b[:1])) != hotSize {
					report(fmt.Errorf("Get(%s) during overwrites saw a torn object (%d bytes)", hot, len(b)))
					return
				}
			}
		})
	}
	// Listings while all of that goes on must not fail.
	wg.Go(func() {
		for range 5 {
			if err := s.List(context.Background(), "", "", func(objstore.Object) error { return nil }); err != nil {
				report(fmt.Errorf("listing during writes: %w", err))
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	got := keys(list(t, s, "w", ""))
	if len(got) != writers*perWriter {
		t.Errorf("List(w) after concurrent puts returned %d keys, want %d", len(got), writers*perWriter)
	}
}

// streamReader yields deterministic pseudo-random bytes and, having no Seek
// method, forces a Store to stream rather than rewind.
type streamReader struct {
	rng  *rand.ChaCha8
	left int64
}

func newStream(n int64) *streamReader {
	return &streamReader{rng: rand.NewChaCha8([32]byte{'t', 'r', 'a', 'i', 'l'}), left: n}
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.left {
		p = p[:r.left]
	}
	n, _ := r.rng.Read(p)
	r.left -= int64(n)
	return n, nil
}

func testLarge(t *testing.T, s objstore.Store) {
	const key = "large/object.bin"
	h := sha256.New()
	start := time.Now()
	if err := s.Put(t.Context(), key, io.TeeReader(newStream(LargeSize), h), LargeSize, objstore.Metadata{"signature": "large"}); err != nil {
		t.Fatalf("Put of %d bytes: %v", LargeSize, err)
	}
	putTime := time.Since(start)
	want := h.Sum(nil)

	o, m, err := s.Head(t.Context(), key)
	if err != nil || o.Size != LargeSize || m["signature"] != "large" {
		t.Fatalf("Head = %+v, %v, %v; want size %d", o, m, err, LargeSize)
	}
	start = time.Now()
	rc, _, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	defer func() { _ = rc.Close() }()
	h.Reset()
	n, err := io.Copy(h, rc)
	if err != nil {
		t.Fatalf("Get: read: %v", err)
	}
	if n != LargeSize || !bytes.Equal(h.Sum(nil), want) {
		t.Fatalf("Get returned %d bytes with a different SHA-256 than the %d put", n, LargeSize)
	}
	t.Logf("%d MB: put %v, get %v", LargeSize>>20, putTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

func testBadSize(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	// A body shorter than its size must fail and leave nothing behind.
	if err := s.Put(ctx, "short", newStream(1000), 2000, nil); err == nil {
		t.Error("Put with a body shorter than size succeeded")
	}
	if _, _, err := s.Get(ctx, "short"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("Get after a failed Put: error = %v, want ErrNotFound (no partial object)", err)
	}
	// A failed overwrite leaves the old version.
	put(t, s, "keep", "old body", objstore.Metadata{"signature": "old"})
	if err := s.Put(ctx, "keep", newStream(10), 20, objstore.Metadata{"signature": "new"}); err == nil {
		t.Error("Put with a body shorter than size succeeded")
	}
	if b, m := get(t, s, "keep"); b != "old body" || m["signature"] != "old" {
		t.Errorf("after a failed overwrite Get = %q, %v; want the old version", b, m)
	}
	if got := keys(list(t, s, "", "")); !slices.Equal(got, []string{"keep"}) {
		t.Errorf("List after failed puts = %q, want [keep]", got)
	}
}

func testHostileKeys(t *testing.T, s objstore.Store) {
	ctx := t.Context()
	fb, fileBacked := s.(FileBacked)
	escape := fmt.Sprintf("trailwarden-escape-%d", rand.Int64()) // #nosec G404 -- a unique name, not a secret
	hostile := []string{
		"",
		"../" + escape,
		"a/../../" + escape,
		"a/../b",
		"..",
		".",
		"./a",
		"a/./b",
		"/" + escape,
		"//" + escape,
		"a//b",
		"a/",
		"a/b/",
		"a\x00b",
		"a\\..\\..\\" + escape,
		".trailwarden/meta/x",
		".trailwarden",
		"x/.trailwarden-tmp-0001",
	}
	for _, key := range hostile {
		err := s.Put(ctx, key, strings.NewReader("hostile"), 7, objstore.Metadata{"signature": "h"})
		if fileBacked {
			if err == nil {
				t.Errorf("Put(%q) succeeded, want an error", key)
				continue
			}
			if key != "" && !strings.Contains(err.Error(), fmt.Sprintf("%q", key)) {
				t.Errorf("Put(%q) error %q does not name the key", key, err)
			}
			if _, _, err := s.Get(ctx, key); err == nil || errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("Get(%q) error = %v, want a key error", key, err)
			}
			if _, _, err := s.Head(ctx, key); err == nil || errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("Head(%q) error = %v, want a key error", key, err)
			}
			if err := s.Delete(ctx, key); err == nil {
				t.Errorf("Delete(%q) succeeded, want a key error", key)
			}
			continue
		}
		if err != nil {
			t.Logf("Put(%q) rejected: %v", key, err)
			continue
		}
		// Accepted: it must be stored under exactly that key.
		if b, m := get(t, s, key); b != "hostile" || m["signature"] != "h" {
			t.Errorf("Get(%q) = %q, %v", key, b, m)
		}
		if g := keys(list(t, s, key, "")); len(g) == 0 || g[0] != key {
			t.Errorf("List(%q) = %q, want the key itself first", key, g)
		}
		if err := s.Delete(ctx, key); err != nil {
			t.Errorf("Delete(%q): %v", key, err)
		}
	}
	if fileBacked {
		dir := fb.Dir()
		for _, p := range []string{filepath.Join(filepath.Dir(dir), escape), filepath.Join("/", escape)} {
			if _, err := os.Lstat(p); err == nil {
				t.Errorf("a hostile key created %s outside the store", p)
				_ = os.Remove(p)
			}
		}
		if got := list(t, s, "", ""); len(got) != 0 {
			t.Errorf("List after hostile puts = %q, want nothing", keys(got))
		}
	}
}

// testListDirs checks folder discovery: the next path segments under a
// prefix, sorted and distinct, as S3 common prefixes with delimiter "/".
func testListDirs(t *testing.T, s objstore.Store) {
	ctx := context.Background()
	for _, k := range []string{"AWSLogs/222222222222/CloudTrail/us-east-1/x", "AWSLogs/111111111111/CloudTrail/eu-west-1/y",
		"AWSLogs/111111111111/CloudTrail/us-east-1/z", "AWSLogs/top.json", "other/q"} {
		put(t, s, k, "x", nil)
	}
	for prefix, want := range map[string]string{
		"":                                 "AWSLogs,other",
		"AWSLogs/":                         "111111111111,222222222222",
		"AWSLogs/111111111111/CloudTrail/": "eu-west-1,us-east-1",
		"AWSLogs/333333333333/":            "",
	} {
		got, err := s.ListDirs(ctx, prefix)
		if err != nil {
			t.Fatalf("ListDirs(%q): %v", prefix, err)
		}
		if strings.Join(got, ",") != want {
			t.Errorf("ListDirs(%q) = %q, want %q", prefix, got, want)
		}
	}
}
