package policy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/trailwarden/trailwarden/internal/policy"
)

// FuzzParse checks that Parse never panics, never accepts invalid JSON,
// and that whatever it accepts survives the canonical round trip.
func FuzzParse(f *testing.F) {
	for _, c := range loadParseCases(f) {
		f.Add(c.input(f))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		doc, err := policy.Parse(data)
		if err != nil {
			if doc != nil {
				t.Fatal("document returned with an error")
			}
			var pe *policy.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not *ParseError", err)
			}
			return
		}
		if !json.Valid(data) {
			t.Fatalf("accepted invalid JSON: %q", data)
		}
		canon := policy.Canonical(doc)
		again, err := policy.Parse(canon)
		if err != nil {
			t.Fatalf("canonical form does not parse: %v\n%s", err, canon)
		}
		if !policy.Equal(doc, again) {
			t.Fatalf("re-parse is not Equal:\n%s", canon)
		}
		if canon2 := policy.Canonical(again); !bytes.Equal(canon, canon2) {
			t.Fatalf("canonical form is not a fixed point:\n%s\n%s", canon, canon2)
		}
		if !policy.Equal(doc, doc.Clone()) {
			t.Fatal("clone is not Equal")
		}
	})
}
