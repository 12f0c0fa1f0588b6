package batch

import "hash/maphash"

// Seen is the set of deduplication keys of the rows a loader has taken but
// not yet committed: 96-bit hashes of (eventID, recipientAccountId), each
// with the generation (batch) that added it, in 16 bytes whatever the ids'
// lengths. Two different keys share a hash with a probability of about
// n²/2^97, and a pull compares each key with at most a few million others.
//
// It is an open-addressing table with linear probing rather than a Go map:
// the keys are hashes already, so hashing them again is wasted, and a map
// of 2 million keys took 53 MB of a pull's 150 MB of Go heap where this
// takes 32 MB. The zero value is an empty set.
type Seen struct {
	slots []seenSlot // a power of two long, or nil
	used  int
}

// seenSlot is one key; hi is never 0 in a used slot, so 0 marks a free one.
type seenSlot struct {
	hi  uint64
	lo  uint32
	gen uint32 // the generation modulo 2^32: far fewer are ever pending
}

const minSeenSlots = 1 << 12

var seeds = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}

// Len is the number of keys in the set.
func (s *Seen) Len() int { return s.used }

// add inserts key's hash as generation gen and reports whether it was new.
func (s *Seen) add(key []byte, gen uint64) bool {
	hi := maphash.Bytes(seeds[0], key)
	if hi == 0 {
		hi = 1
	}
	lo := uint32(maphash.Bytes(seeds[1], key)) //nolint:gosec // 32 of the 96 bits
	if 4*(s.used+1) > 3*len(s.slots) {
		s.resize(max(minSeenSlots, 2*len(s.slots)))
	}
	mask := uint64(len(s.slots) - 1) //nolint:gosec // a power of two, at least minSeenSlots
	for i := hi & mask; ; i = (i + 1) & mask {
		sl := &s.slots[i]
		switch {
		case sl.hi == 0:
			*sl = seenSlot{hi: hi, lo: lo, gen: uint32(gen)} //nolint:gosec // modulo 2^32 on purpose
			s.used++
			return true
		case sl.hi == hi && sl.lo == lo:
			return false
		}
	}
}

// put places a slot known to be absent into a table with room for it.
func (s *Seen) put(sl seenSlot) {
	mask := uint64(len(s.slots) - 1) //nolint:gosec // a power of two, at least minSeenSlots
	i := sl.hi & mask
	for s.slots[i].hi != 0 {
		i = (i + 1) & mask
	}
	s.slots[i] = sl
	s.used++
}

func (s *Seen) resize(n int) {
	old := s.slots
	s.slots, s.used = make([]seenSlot, n), 0
	for _, sl := range old {
		if sl.hi != 0 {
			s.put(sl)
		}
	}
}

// Forget removes the keys of the given generations. Batches may be
// committed out of order (loaded by several writers), so a later
// generation may stay while an earlier one goes. The table keeps its size:
// the next commit window needs as much.
func (s *Seen) Forget(gens map[uint64]bool) {
	drop := make(map[uint32]bool, len(gens))
	for g, ok := range gens {
		if ok {
			drop[uint32(g)] = true //nolint:gosec // generations are kept modulo 2^32
		}
	}
	var kept []seenSlot
	for _, sl := range s.slots {
		if sl.hi != 0 && !drop[sl.gen] {
			kept = append(kept, sl)
		}
	}
	if len(kept) == s.used {
		return
	}
	clear(s.slots)
	s.used = 0
	for _, sl := range kept {
		s.put(sl)
	}
}
