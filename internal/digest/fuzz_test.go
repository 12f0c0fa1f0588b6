package digest

import (
	"bytes"
	"compress/gzip"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzParse checks that Parse never panics, that every error wraps
// ErrInvalidFormat, and that a parsed digest survives Marshal and Parse.
func FuzzParse(f *testing.F) {
	f.Add([]byte(awsSample))
	f.Add([]byte(startingDigest))
	f.Add([]byte(`{"digestPublicKeyFingerprint":"","digestS3Bucket":"","digestS3Object":"","previousDigestSignature":null,"digestEndTime":"2024-01-01T00:00:00Z","digestStartTime":"2024-01-01T00:00:00Z","logFiles":[{}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Parse(raw)
		if err != nil {
			if !errors.Is(err, ErrInvalidFormat) {
				t.Fatalf("error %v does not wrap ErrInvalidFormat", err)
			}
			return
		}
		_ = SigningString(d, "00")
		out, err := Marshal(d)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(d)): %v\n%s", err, out)
		}
		if d.LogFiles == nil {
			d.LogFiles = []LogFile{}
		}
		if !reflect.DeepEqual(d, again) {
			t.Fatalf("round trip changed the digest:\n%+v\n%+v", d, again)
		}
	})
}

// FuzzHashGzip checks that HashGzip never panics, classifies every failure
// of an in-memory input as corrupt or trailing data, and agrees with a
// reader that delivers one byte at a time and with its tee variant.
func FuzzHashGzip(f *testing.F) {
	one := gz(f, []byte(`{"Records":[{"eventName":"GetObject"}]}`))
	f.Add(one)
	f.Add(append(bytes.Clone(one), one...))
	f.Add(append(bytes.Clone(one), 0))
	f.Add(one[:len(one)-3])
	f.Add([]byte{})
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		h, n, err := HashGzip(bytes.NewReader(data))
		if err != nil {
			if errors.Is(err, ErrCorrupt) == errors.Is(err, ErrTrailingData) {
				t.Fatalf("error %v is not exactly one of corrupt or trailing", err)
			}
		}
		h2, n2, err2 := HashGzip(iotest.OneByteReader(bytes.NewReader(data)))
		if h != h2 || n != n2 || (err == nil) != (err2 == nil) {
			t.Fatalf("one-byte reader disagrees: %s %d %v vs %s %d %v", h, n, err, h2, n2, err2)
		}
		if err != nil {
			return
		}
		var out bytes.Buffer
		h3, _, err3 := HashGzipTee(bytes.NewReader(data), &out)
		if err3 != nil || h3 != h || sha(out.Bytes()) != h || int64(out.Len()) != n {
			t.Fatalf("tee disagrees: %s %v, %d bytes", h3, err3, out.Len())
		}
		// Independent check: the standard reader, single member, yields the
		// same bytes, and the input is exactly one member long.
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("gzip.NewReader rejects accepted input: %v", err)
		}
		zr.Multistream(false)
		body, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(body, out.Bytes()) {
			t.Fatalf("standard reader: %v", err)
		}
	})
}

// FuzzParseKeySet checks that ParseKeySet never panics, that every error
// says it is about the public keys, and that a key set it accepts survives
// MarshalKeySet and ParseKeySet: same fingerprints, keys and validity.
func FuzzParseKeySet(f *testing.F) {
	pub := &mustKey(f, testKey).PublicKey
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(pub))
	f.Add(fmt.Sprintf(`{"PublicKeyList":[{"ValidityStartTime":1453076702.0,"ValidityEndTime":1455668702.25,"Value":%q,"Fingerprint":"a"}]}`, pkcs1))
	f.Add(fmt.Sprintf(`{"PublicKeyList":[{"ValidityStartTime":"2024-01-01T00:00:00+00:00","ValidityEndTime":"2024-01-31T02:00:00.5+02:00","Value":%q,"Fingerprint":"b"}]}`, pkcs1))
	f.Add(`{"PublicKeyList":[]}`)
	f.Add(`{"PublicKeyList":[{"Value":"","ValidityStartTime":1e20}]}`)
	f.Fuzz(func(t *testing.T, doc string) {
		set, err := ParseKeySet(strings.NewReader(doc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "parse public keys: ") {
				t.Fatalf("error %q does not say it is about the public keys", err)
			}
			return
		}
		out, err := MarshalKeySet(set.Keys())
		if err != nil {
			t.Fatalf("MarshalKeySet: %v", err)
		}
		again, err := ParseKeySet(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("ParseKeySet(MarshalKeySet(keys)): %v\n%s", err, out)
		}
		a, b := set.Keys(), again.Keys()
		if len(a) != len(b) {
			t.Fatalf("%d keys, %d after the round trip", len(a), len(b))
		}
		for i := range a {
			if a[i].Fingerprint != b[i].Fingerprint || !a[i].Key.Equal(b[i].Key) || !a[i].ValidFrom.Equal(b[i].ValidFrom) || !a[i].ValidTo.Equal(b[i].ValidTo) {
				t.Fatalf("key %d changed in the round trip: %+v, then %+v\n%s", i, a[i], b[i], out)
			}
		}
	})
}
