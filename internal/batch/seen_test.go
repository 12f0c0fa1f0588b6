package batch

import (
	"fmt"
	"testing"
)

func TestSeenAddsGrowsAndForgets(t *testing.T) {
	var s Seen
	const n = 3*minSeenSlots + 17 // several resizes
	for i := range n {
		if !s.add(fmt.Appendf(nil, "event-%d\x00\x01acct", i), uint64(i%3)) {
			t.Fatalf("key %d reported as seen on its first add", i)
		}
	}
	if s.Len() != n {
		t.Fatalf("Len = %d, want %d", s.Len(), n)
	}
	for i := range n {
		if s.add(fmt.Appendf(nil, "event-%d\x00\x01acct", i), 9) {
			t.Fatalf("key %d not found after the table grew", i)
		}
	}
	if s.add([]byte("event-1\x00\x01other-acct"), 0) == false {
		t.Fatal("the same event id for another recipient is a different key")
	}
	size := len(s.slots)
	s.Forget(map[uint64]bool{1: true, 2: false})
	want := n + 1 - (n+1)/3 // generation 1 was every third key from the second
	if s.Len() != want {
		t.Fatalf("Len after forgetting generation 1 = %d, want %d", s.Len(), want)
	}
	if len(s.slots) != size {
		t.Fatalf("Forget resized the table from %d to %d slots", size, len(s.slots))
	}
	for i := range n {
		kept := i%3 != 1
		if got := !s.add(fmt.Appendf(nil, "event-%d\x00\x01acct", i), 5); got != kept {
			t.Fatalf("key %d (generation %d): seen = %v after Forget, want %v", i, i%3, got, kept)
		}
	}
}

func TestSeenGenerationsModulo32Bits(t *testing.T) {
	var s Seen
	s.add([]byte("a"), 1<<32+7)
	s.add([]byte("b"), 8)
	s.Forget(map[uint64]bool{1<<32 + 7: true})
	if s.Len() != 1 || s.add([]byte("a"), 0) == false || s.add([]byte("b"), 0) {
		t.Fatal("Forget should drop exactly the key of generation 2^32+7")
	}
}

func BenchmarkSeen(b *testing.B) {
	keys := make([][]byte, 1<<20)
	for i := range keys {
		keys[i] = fmt.Appendf(nil, "%08x-1a2b-3c4d-5e6f-%012x\x00\x01123456789012", i, i*7919)
	}
	b.ResetTimer()
	for range b.N {
		var s Seen
		for i, k := range keys {
			s.add(k, uint64(i>>14))
		}
		s.Forget(map[uint64]bool{1: true, 2: true})
	}
}
