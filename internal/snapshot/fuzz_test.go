package snapshot

import (
	"bytes"
	"strings"
	"testing"
)

// FuzzDecode checks that Decode never panics, that every error names the
// file, and that a snapshot it accepts is stable: encoded, decoded and
// encoded again, it gives the same bytes.
func FuzzDecode(f *testing.F) {
	var good bytes.Buffer
	if err := Encode(&good, sample()); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add([]byte(`{"version":1,"key":{"arn":"arn:aws:kms:us-east-1:1:key/1"}}`))
	f.Add([]byte(`{"version":2}`))
	f.Add([]byte(`{"version":99}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Decode(bytes.NewReader(data), "fuzz.json")
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.json") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		var once, twice bytes.Buffer
		if err := Encode(&once, s); err != nil {
			t.Fatalf("Encode: %v", err)
		}
		again, err := Decode(bytes.NewReader(once.Bytes()), "encoded.json")
		if err != nil {
			t.Fatalf("Decode(Encode(s)): %v\n%s", err, once.Bytes())
		}
		if err := Encode(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("encode and decode changed the snapshot:\n%s\n%s", once.Bytes(), twice.Bytes())
		}
	})
}
