package layout

import (
	"errors"
	"testing"
)

// FuzzParse checks that Parse never panics, that every error is a
// *ParseError, and that every successful parse renders back to its input.
func FuzzParse(f *testing.F) {
	for _, c := range loadCases(f) {
		f.Add(c.Key)
	}
	f.Fuzz(func(t *testing.T, key string) {
		k, err := Parse(key)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) error %v is not a *ParseError", key, err)
			}
			return
		}
		if s := k.String(); s != key {
			t.Fatalf("Parse(%q).String() = %q", key, s)
		}
		again, err := Parse(k.String())
		if err != nil || again != k {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", key, again, err, k)
		}
	})
}
