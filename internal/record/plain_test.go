package record

import (
	"math/rand/v2"
	"testing"
)

// plainByByte is plain's definition, one byte at a time.
func plainByByte(d []byte, j int, high uint64) int {
	for ; j < len(d); j++ {
		c := d[j]
		if c == '"' || c == '\\' || c < 0x20 || (high != 0 && c >= 0x80) {
			return j
		}
	}
	return j
}

func TestPlainStopsWhereTheByteLoopWould(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	check := func(d []byte) {
		t.Helper()
		for _, high := range []uint64{0, highBits} {
			for j := 0; j <= len(d); j++ {
				got, want := plain(d, j, high), plainByByte(d, j, high)
				// plain may stop early only within the last 8 bytes.
				if got > want || (got < want && len(d)-got >= 8) {
					t.Fatalf("plain(%q, %d, %#x) = %d, the first special byte is at %d", d, j, high, got, want)
				}
			}
		}
	}
	// Every byte value at every position of a word, with plain bytes
	// before and special ones after it (a borrow must not hide it).
	for c := range 256 {
		for pos := range 8 {
			d := []byte("abcdefghijklmnop")
			d[pos] = byte(c)
			check(d)
			d[pos+1] = 0
			check(d)
		}
	}
	for range 2000 {
		d := make([]byte, rng.IntN(40))
		for i := range d {
			d[i] = byte(0x20 + rng.IntN(0x5f))
			if rng.IntN(12) == 0 {
				d[i] = byte(rng.IntN(256))
			}
		}
		check(d)
	}
}
