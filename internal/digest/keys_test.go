package digest

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestDecodePublicKey(t *testing.T) {
	pub := &mustKey(t, testKey).PublicKey
	pkcs1 := x509.MarshalPKCS1PublicKey(pub)
	pkix, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString
	wrapped := b64(pkcs1)
	wrapped = wrapped[:64] + "\n" + wrapped[64:]
	good := map[string][]byte{
		"DER PKCS#1":            pkcs1,
		"DER PKIX":              pkix,
		"base64 PKCS#1":         []byte(b64(pkcs1)),
		"base64 PKIX":           []byte(b64(pkix)),
		"base64 without pad":    []byte(strings.TrimRight(b64(pkcs1), "=")),
		"wrapped base64":        []byte(wrapped),
		"base64 of base64":      []byte(b64([]byte(b64(pkcs1)))),
		"PEM PKCS#1 (openssl)":  readFile(t, "testdata/openssl-pub-pkcs1.pem"),
		"PEM PKIX (openssl)":    readFile(t, "testdata/openssl-pub-pkix.pem"),
		"base64 of openssl PEM": []byte(b64(readFile(t, "testdata/openssl-pub-pkix.pem"))),
		"base64 of DER via CLI": []byte(b64([]byte(b64(pkix)))),
	}
	for name, v := range good {
		k, err := DecodePublicKey(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if strings.Contains(name, "openssl") {
			if Fingerprint(k) != "0002cc7136e66065a4f6bb93cc875c3a" {
				t.Errorf("%s: decoded a different key", name)
			}
		} else if !k.Equal(pub) {
			t.Errorf("%s: decoded a different key", name)
		}
	}
	bad := map[string][]byte{
		"empty":     nil,
		"garbage":   []byte("not a key"),
		"truncated": pkcs1[:len(pkcs1)-3],
		"EC key":    readFile(t, "testdata/openssl-ec-pub-pkix.pem"),
	}
	for name, v := range bad {
		if k, err := DecodePublicKey(v); err == nil {
			t.Errorf("%s: decoded %v", name, k)
		}
	}
	if _, err := DecodePublicKey(bad["EC key"]); err == nil || !strings.Contains(err.Error(), "not RSA") {
		t.Errorf("EC key error: %v", err)
	}
}

func TestParseKeySet(t *testing.T) {
	pub := &mustKey(t, testKey).PublicKey
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(pub))
	pkixDER, _ := x509.MarshalPKIXPublicKey(pub)
	pkix := base64.StdEncoding.EncodeToString(pkixDER)
	double := base64.StdEncoding.EncodeToString([]byte(pkcs1))
	// The shapes of CLI v1 (epoch floats) and v2 (ISO 8601) output, mixed.
	doc := fmt.Sprintf(`{"PublicKeyList": [
	  {"ValidityStartTime": 1453076702.0, "ValidityEndTime": 1455668702.25, "Value": %q, "Fingerprint": "fp-epoch"},
	  {"ValidityStartTime": "2024-01-01T00:00:00+00:00", "ValidityEndTime": "2024-01-31T02:00:00.5+02:00", "Value": %q, "Fingerprint": "fp-iso"},
	  {"ValidityStartTime": "2024-02-01T00:00:00Z", "ValidityEndTime": "2024-03-01T00:00:00", "Value": %q, "Fingerprint": "fp-double"},
	  {"ValidityStartTime": 1.7e9, "ValidityEndTime": "1800000000", "Value": %q, "Fingerprint": "fp-exp"}
	], "NextToken": "ignored"}`, pkcs1, pkix, double, pkcs1)
	set, err := ParseKeySet(strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Keys()
	want := []struct {
		fp         string
		from, till time.Time
	}{
		{"fp-epoch", time.Unix(1453076702, 0), time.Unix(1455668702, 250_000_000)},
		{"fp-iso", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 1, 31, 0, 0, 0, 500_000_000, time.UTC)},
		{"fp-double", time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"fp-exp", time.Unix(1_700_000_000, 0), time.Unix(1_800_000_000, 0)},
	}
	if len(keys) != len(want) {
		t.Fatalf("%d keys, want %d", len(keys), len(want))
	}
	for i, w := range want {
		k := keys[i]
		if k.Fingerprint != w.fp || !k.ValidFrom.Equal(w.from) || !k.ValidTo.Equal(w.till) || !k.Key.Equal(pub) {
			t.Errorf("key %d = %s %v..%v, want %s %v..%v", i, k.Fingerprint, k.ValidFrom, k.ValidTo, w.fp, w.from, w.till)
		}
		if k.ValidFrom.Location() != time.UTC || k.ValidTo.Location() != time.UTC {
			t.Errorf("key %d: times not in UTC", i)
		}
	}
	empty, err := ParseKeySet(strings.NewReader(`{"PublicKeyList": []}`))
	if err != nil || len(empty.Keys()) != 0 {
		t.Errorf("empty list: %v, %v", empty, err)
	}
}

func TestParseKeySetErrors(t *testing.T) {
	pkcs1 := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&mustKey(t, testKey).PublicKey))
	ok := fmt.Sprintf(`{"Value": %q, "ValidityStartTime": 1, "ValidityEndTime": 2, "Fingerprint": "a"}`, pkcs1)
	entry := func(old, repl string) string {
		return `{"PublicKeyList": [` + ok + `, ` + strings.Replace(ok, old, repl, 1) + `]}`
	}
	tests := []struct{ name, doc, want string }{
		{"not JSON", `{"PublicKeyList": [`, "parse public keys: unexpected EOF"},
		{"trailing data", `{"PublicKeyList": []} {}`, "data after the JSON document"},
		{"no list", `{"Keys": []}`, "no PublicKeyList field"},
		{"list not an array", `{"PublicKeyList": {}}`, "PublicKeyList: json: cannot unmarshal object"},
		{"missing Value", entry(`"Value"`, `"value"`), "entry 1: field Value is missing"},
		{"null Fingerprint", entry(`"a"`, `null`), "entry 1: field Fingerprint is missing"},
		{"empty Fingerprint", entry(`"a"`, `""`), "entry 1: field Fingerprint: want a non-empty string"},
		{"Value not a string", entry(fmt.Sprintf("%q", pkcs1), `42`), "entry 1: field Value: want a string"},
		{"Value garbage", entry(pkcs1, "bm90IGEga2V5"), "entry 1: field Value: not a DER PKCS#1 or PKIX RSA public key"},
		{"start not a time", entry(`"ValidityStartTime": 1`, `"ValidityStartTime": "soon"`), `entry 1: field ValidityStartTime: "soon" is not an ISO 8601 time`},
		{"end a bool", entry(`"ValidityEndTime": 2`, `"ValidityEndTime": true`), "entry 1: field ValidityEndTime: true is not"},
		{"end out of range", entry(`"ValidityEndTime": 2`, `"ValidityEndTime": 1e20`), "entry 1: field ValidityEndTime: 1e20 is not"},
		{"end before start", entry(`"ValidityEndTime": 2`, `"ValidityEndTime": 0.5`), "entry 1: field ValidityEndTime is before ValidityStartTime"},
		{"missing end", entry(`"ValidityEndTime"`, `"End"`), "entry 1: field ValidityEndTime is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			set, err := ParseKeySet(strings.NewReader(tt.doc))
			if err == nil {
				t.Fatalf("parsed %+v", set.Keys())
			}
			if !strings.HasPrefix(err.Error(), "parse public keys: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// ReadKeySet refuses an oversized key file with its real size, not a JSON
// error about where a limit cut it, and reads a normal one.
func TestReadKeySetSize(t *testing.T) {
	big := `{"PublicKeyList": [` + strings.Repeat(" ", 20_000_000-21) + `]}`
	_, err := ReadKeySet(strings.NewReader(big))
	if want := "public-key file is 20,000,000 bytes, over the 16 MiB limit"; err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	set, err := ReadKeySet(strings.NewReader(`{"PublicKeyList": []}`))
	if err != nil || len(set.Keys()) != 0 {
		t.Fatalf("empty list: %v", err)
	}
}

func TestMarshalKeySetRoundTrip(t *testing.T) {
	a, b := &mustKey(t, testKey).PublicKey, &mustKey(t, otherKey).PublicKey
	keys := []PublicKey{
		{Fingerprint: Fingerprint(a), Key: a, ValidFrom: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), ValidTo: time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)},
		{Fingerprint: Fingerprint(b), Key: b, ValidFrom: time.Date(2024, 2, 1, 0, 0, 0, 123456789, time.FixedZone("x", -3600)), ValidTo: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)},
	}
	out, err := MarshalKeySet(keys)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		PublicKeyList []map[string]string
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc.PublicKeyList) != 2 ||
		!strings.HasPrefix(doc.PublicKeyList[0]["Value"], "MIIBCgKCAQEA") ||
		doc.PublicKeyList[1]["ValidityStartTime"] != "2024-02-01T01:00:00.123456789Z" {
		t.Fatalf("marshalled %s (%v)", out, err)
	}
	set, err := ParseKeySet(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	got := set.Keys()
	for i := range keys {
		if got[i].Fingerprint != keys[i].Fingerprint || !got[i].Key.Equal(keys[i].Key) ||
			!got[i].ValidFrom.Equal(keys[i].ValidFrom) || !got[i].ValidTo.Equal(keys[i].ValidTo) {
			t.Errorf("key %d: got %+v, want %+v", i, got[i], keys[i])
		}
	}
	if again, _ := MarshalKeySet(got); !bytes.Equal(again, out) {
		t.Error("marshal is not stable across a round trip")
	}
	if _, err := MarshalKeySet([]PublicKey{{Fingerprint: "x"}}); err == nil || !strings.Contains(err.Error(), "entry 0 (fingerprint x): no key") {
		t.Errorf("nil key: %v", err)
	}
	if empty, err := MarshalKeySet(nil); err != nil || !strings.Contains(string(empty), `"PublicKeyList": []`) {
		t.Errorf("no keys: %s, %v", empty, err)
	}
}

func TestLookup(t *testing.T) {
	a, b := &mustKey(t, testKey).PublicKey, &mustKey(t, otherKey).PublicKey
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	feb := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	set := NewKeySet(
		PublicKey{Fingerprint: "old", Key: a, ValidFrom: jan, ValidTo: feb},
		PublicKey{Fingerprint: "new", Key: b, ValidFrom: feb, ValidTo: feb.AddDate(0, 1, 0)},
		PublicKey{Fingerprint: "open", Key: a},
	)
	found := []struct {
		fp string
		at time.Time
	}{
		{"old", jan},
		{"old", jan.Add(-SigningDelay)}, // digest ended before the key's start, signed after it
		{"old", feb},
		{"new", feb.Add(-time.Hour)},
		{"new", feb.AddDate(0, 1, 0)},
		{"open", time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, f := range found {
		k, err := set.Lookup(f.fp, f.at)
		if err != nil || k.Fingerprint != f.fp {
			t.Errorf("Lookup(%s, %v) = %v, %v", f.fp, f.at, k, err)
		}
	}
	missing := []struct {
		fp   string
		at   time.Time
		want string
	}{
		{"old", jan.Add(-SigningDelay - time.Second), "public key not found for fingerprint old at 2023-12-31T21:59:59Z: the key is valid from 2024-01-01T00:00:00Z to 2024-02-01T00:00:00Z"},
		{"old", feb.Add(time.Second), "public key not found for fingerprint old at 2024-02-01T00:00:01Z"},
		{"nope", feb, "public key not found for fingerprint nope"},
		{"", feb, "public key not found for fingerprint "},
	}
	for _, m := range missing {
		k, err := set.Lookup(m.fp, m.at)
		if !errors.Is(err, ErrKeyNotFound) || k != nil || !strings.HasPrefix(err.Error(), m.want) {
			t.Errorf("Lookup(%s, %v) = %v, %v; want %q", m.fp, m.at, k, err, m.want)
		}
	}
	k, _ := set.Lookup("old", jan)
	k.Fingerprint = "changed"
	if again, err := set.Lookup("old", jan); err != nil || again.Fingerprint != "old" {
		t.Error("Lookup exposes the set's storage")
	}
	var nilSet *KeySet
	if _, err := nilSet.Lookup("old", jan); !errors.Is(err, ErrKeyNotFound) {
		t.Errorf("nil set: %v", err)
	}
}
