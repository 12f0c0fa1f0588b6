package trailkeys

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/digest"
)

func TestKeysForOneCallPerRegion(t *testing.T) {
	isolate(t)
	keys := testKeys()
	f := newFake(t, func(_ int, r request) reply {
		k := keys[0]
		if r.Region == "eu-central-1" {
			k = keys[1]
		}
		return ok(`{"PublicKeyList":[{"Fingerprint":"fp-` + r.Region + `","ValidityStartTime":1.7e9,"Value":"` + wireValue(k) + `"}]}`)
	})
	// Slow replies keep the first fetch in flight while the others arrive.
	f.delay = 50 * time.Millisecond
	keysFor := newTestClient(t, f, Options{}).KeysFor(start, end)

	regions := []string{"us-east-1", "eu-central-1"}
	const callers = 8
	sets := make([][callers]*digest.KeySet, len(regions))
	var wg sync.WaitGroup
	for ri, region := range regions {
		for i := range callers {
			wg.Go(func() {
				set, err := keysFor(context.Background(), region)
				if err != nil {
					t.Errorf("%s: %v", region, err)
				}
				sets[ri][i] = set
			})
		}
	}
	wg.Wait()

	hits := map[string]int{}
	for _, r := range f.requests() {
		hits[r.Region]++
	}
	for ri, region := range regions {
		if hits[region] != 1 {
			t.Errorf("%s fetched %d times, want 1", region, hits[region])
		}
		for i, set := range sets[ri] {
			if k := set.Keys(); len(k) != 1 || k[0].Fingerprint != "fp-"+region || !k[0].Key.Equal(keys[ri]) {
				t.Errorf("%s caller %d got %+v", region, i, k)
			}
		}
	}
	// Later calls are served from the cache.
	if _, err := keysFor(context.Background(), "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests after a cached call, want 2", n)
	}
}

func TestKeysForCachesErrors(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply {
		return reply{http.StatusBadRequest, `{"__type":"AccessDeniedException","message":"not authorized"}`}
	})
	keysFor := newTestClient(t, f, Options{}).KeysFor(start, end)
	for range 3 {
		if _, err := keysFor(context.Background(), "us-west-2"); err == nil || !strings.Contains(err.Error(), "cloudtrail:ListPublicKeys") {
			t.Errorf("error %v, want access denied", err)
		}
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests, want 1: a denied region is not asked again", n)
	}
}

// TestKeysForRetriesAfterCancel: a fetch cut short by its caller's context
// is not cached, so the next caller gets the keys.
func TestKeysForRetriesAfterCancel(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply {
		return ok(`{"PublicKeyList":[{"Fingerprint":"fp-a","Value":"` + wireValue(testKeys()[0]) + `"}]}`)
	})
	f.delay = 200 * time.Millisecond
	keysFor := newTestClient(t, f, Options{}).KeysFor(start, end)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := keysFor(ctx, "us-east-1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want the deadline", err)
	}
	set, err := keysFor(context.Background(), "us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Keys()) != 1 {
		t.Errorf("keys %+v, want 1", set.Keys())
	}
}

// TestKeysForWaiterTakesOver: a caller waiting on a fetch that its owner
// abandons fetches the keys itself rather than inheriting the cancellation.
func TestKeysForWaiterTakesOver(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply {
		return ok(`{"PublicKeyList":[{"Fingerprint":"fp-a","Value":"` + wireValue(testKeys()[0]) + `"}]}`)
	})
	f.delay = 100 * time.Millisecond
	keysFor := newTestClient(t, f, Options{}).KeysFor(start, end)

	ctx, cancel := context.WithCancel(context.Background())
	owner := make(chan error, 1)
	go func() {
		_, err := keysFor(ctx, "us-east-1")
		owner <- err
	}()
	for len(f.requests()) == 0 { // the owner's request is in flight
		time.Sleep(time.Millisecond)
	}
	waiter := make(chan error, 1)
	go func() {
		_, err := keysFor(context.Background(), "us-east-1")
		waiter <- err
	}()
	time.Sleep(10 * time.Millisecond)
	cancel()
	if err := <-owner; !errors.Is(err, context.Canceled) {
		t.Errorf("owner: %v, want cancelled", err)
	}
	if err := <-waiter; err != nil {
		t.Errorf("waiter: %v", err)
	}
	if n := len(f.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}
