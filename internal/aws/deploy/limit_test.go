package deploy

import (
	"testing"
	"time"
)

func TestTokenBucket(t *testing.T) {
	const i = time.Second
	b := newTokenBucket(i, 1)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		at   time.Duration
		wait time.Duration
	}{
		{0, 0},     // the burst token
		{0, i},     // queued behind it
		{0, 2 * i}, // and behind that one
		{500 * time.Millisecond, 2*i + 500*time.Millisecond},
		{10 * i, 0}, // idle long enough: a full bucket, never more than burst
		{10 * i, i},
	} {
		if got := b.reserve(t0.Add(tt.at)); got != tt.wait {
			t.Errorf("at %v: wait %v, want %v", tt.at, got, tt.wait)
		}
	}
}
