package digest

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/readlimit"
)

// SigningDelay is how long after its end time a digest may be signed. A
// digest is delivered after its hour closes, so near a key rotation its end
// time can precede the validity of the key that signed it. validate-logs
// widens its key window by the same two hours (aws-cli #10072).
const SigningDelay = 2 * time.Hour

// PublicKey is one CloudTrail public key of a region. A zero ValidFrom or
// ValidTo leaves that side of the validity window open.
type PublicKey struct {
	Fingerprint string
	Key         *rsa.PublicKey
	ValidFrom   time.Time
	ValidTo     time.Time
}

// KeySet holds the public keys of one region. The zero value and nil are
// empty sets.
type KeySet struct {
	keys []PublicKey
}

// NewKeySet returns a set holding copies of keys.
func NewKeySet(keys ...PublicKey) *KeySet {
	return &KeySet{keys: append([]PublicKey(nil), keys...)}
}

// Keys returns a copy of the keys in input order.
func (s *KeySet) Keys() []PublicKey {
	if s == nil {
		return nil
	}
	return append([]PublicKey(nil), s.keys...)
}

// Lookup returns the key with the fingerprint that could have signed a
// digest ending at at: at must lie in [ValidFrom-SigningDelay, ValidTo].
// Errors wrap ErrKeyNotFound and read like the CLI's
// "public key not found for fingerprint <fp>".
func (s *KeySet) Lookup(fingerprint string, at time.Time) (*PublicKey, error) {
	var near *PublicKey
	for _, k := range s.Keys() {
		if k.Fingerprint != fingerprint {
			continue
		}
		if (k.ValidFrom.IsZero() || !at.Before(k.ValidFrom.Add(-SigningDelay))) &&
			(k.ValidTo.IsZero() || !at.After(k.ValidTo)) {
			return &k, nil
		}
		near = &k
	}
	if near != nil {
		return nil, fmt.Errorf("%w for fingerprint %s at %s: the key is valid from %s to %s",
			ErrKeyNotFound, fingerprint, at.UTC().Format(time.RFC3339),
			near.ValidFrom.UTC().Format(time.RFC3339), near.ValidTo.UTC().Format(time.RFC3339))
	}
	return nil, fmt.Errorf("%w for fingerprint %s", ErrKeyNotFound, fingerprint)
}

// listEntry is one element of PublicKeyList as `aws cloudtrail
// list-public-keys` prints it.
type listEntry struct {
	Value             string `json:"Value"`
	ValidityStartTime string `json:"ValidityStartTime"`
	ValidityEndTime   string `json:"ValidityEndTime"`
	Fingerprint       string `json:"Fingerprint"`
}

// MaxKeySetSize bounds a public-key file: list-public-keys prints about a
// kilobyte per key.
const MaxKeySetSize = 16 << 20

// ReadKeySet is ParseKeySet over a file of at most MaxKeySetSize bytes; a
// larger one is a *readlimit.Error with its real size ("public-key file
// is 20,000,000 bytes, over the 16 MiB limit"), not a JSON error about
// where it was cut.
func ReadKeySet(r io.Reader) (*KeySet, error) {
	data, err := readlimit.ReadAll(r, "public-key file", MaxKeySetSize)
	if err != nil {
		if le := (*readlimit.Error)(nil); errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("read public keys: %w", err)
	}
	return ParseKeySet(bytes.NewReader(data))
}

// ParseKeySet reads the JSON of `aws cloudtrail list-public-keys`:
// {"PublicKeyList":[{"Value","ValidityStartTime","ValidityEndTime","Fingerprint"}]}.
// Times may be ISO 8601 strings (CLI v2) or epoch seconds, possibly
// fractional (CLI v1). Value may be encoded in any form DecodePublicKey
// accepts. Errors name the entry index and field.
func ParseKeySet(r io.Reader) (*KeySet, error) {
	var doc map[string]json.RawMessage
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("parse public keys: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("parse public keys: data after the JSON document")
	}
	rawList, ok := doc["PublicKeyList"]
	if !ok {
		return nil, errors.New("parse public keys: no PublicKeyList field (expected the output of aws cloudtrail list-public-keys)")
	}
	var entries []map[string]json.RawMessage
	if err := json.Unmarshal(rawList, &entries); err != nil {
		return nil, fmt.Errorf("parse public keys: PublicKeyList: %w", err)
	}
	set := &KeySet{keys: make([]PublicKey, 0, len(entries))}
	for i, e := range entries {
		k, err := parseEntry(e)
		if err != nil {
			return nil, fmt.Errorf("parse public keys: entry %d: %w", i, err)
		}
		set.keys = append(set.keys, k)
	}
	return set, nil
}

func parseEntry(e map[string]json.RawMessage) (PublicKey, error) {
	var k PublicKey
	for _, name := range []string{"Fingerprint", "Value", "ValidityStartTime", "ValidityEndTime"} {
		v, ok := e[name]
		if !ok || string(v) == "null" {
			return k, fmt.Errorf("field %s is missing", name)
		}
	}
	if err := json.Unmarshal(e["Fingerprint"], &k.Fingerprint); err != nil || k.Fingerprint == "" {
		return k, errors.New("field Fingerprint: want a non-empty string")
	}
	var value string
	if err := json.Unmarshal(e["Value"], &value); err != nil {
		return k, errors.New("field Value: want a string")
	}
	var err error
	if k.Key, err = DecodePublicKey([]byte(value)); err != nil {
		return k, fmt.Errorf("field Value: %w", err)
	}
	if k.ValidFrom, err = parseListTime(e["ValidityStartTime"]); err != nil {
		return k, fmt.Errorf("field ValidityStartTime: %w", err)
	}
	if k.ValidTo, err = parseListTime(e["ValidityEndTime"]); err != nil {
		return k, fmt.Errorf("field ValidityEndTime: %w", err)
	}
	if k.ValidTo.Before(k.ValidFrom) {
		return k, errors.New("field ValidityEndTime is before ValidityStartTime")
	}
	return k, nil
}

// DecodePublicKey accepts a CloudTrail public key in every encoding seen in
// the wild, because AWS documents the field as DER PKCS#1 yet the CLI
// base64-decodes it once more and its documentation shows PKIX values too:
// DER PKCS#1 or PKIX, PEM, or base64 of any of these (up to three layers).
func DecodePublicKey(value []byte) (*rsa.PublicKey, error) {
	v := value
	for range 4 {
		if k, err := x509.ParsePKCS1PublicKey(v); err == nil {
			return k, nil
		}
		if k, err := x509.ParsePKIXPublicKey(v); err == nil {
			rk, ok := k.(*rsa.PublicKey)
			if !ok {
				return nil, fmt.Errorf("key is %T, not RSA", k)
			}
			return rk, nil
		}
		if block, _ := pem.Decode(v); block != nil {
			v = block.Bytes
			continue
		}
		next, ok := unbase64(v)
		if !ok {
			break
		}
		v = next
	}
	return nil, errors.New("not a DER PKCS#1 or PKIX RSA public key, nor PEM or base64 of one")
}

// unbase64 decodes standard base64 with or without padding, ignoring
// whitespace (wrapped output).
func unbase64(v []byte) ([]byte, bool) {
	s := strings.Join(strings.Fields(string(v)), "")
	if s == "" {
		return nil, false
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

var epochRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// parseListTime reads an ISO 8601 string or epoch seconds.
func parseListTime(raw json.RawMessage) (time.Time, error) {
	var t time.Time
	var err error
	if bytes.HasPrefix(raw, []byte(`"`)) {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return t, err
		}
		t, err = parseISO(s)
	} else {
		t, err = parseEpoch(string(raw))
	}
	if err != nil {
		return t, err
	}
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, fmt.Errorf("%s is out of range", raw)
	}
	return t.UTC(), nil
}

func parseISO(s string) (time.Time, error) {
	for _, layout := range []string{
		"2006-01-02T15:04:05.999999999Z07:00",
		"2006-01-02T15:04:05.999999999Z0700",
		"2006-01-02 15:04:05.999999999Z07:00",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	// A time without a zone is UTC: CloudTrail has no local times.
	if t, err := time.Parse("2006-01-02T15:04:05.999999999", s); err == nil {
		return t, nil
	}
	if epochRe.MatchString(s) {
		return parseEpoch(s)
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time or epoch seconds", s)
}

// parseEpoch reads seconds since 1970. Plain decimals are split by hand so
// fractions keep full precision; exponent forms fall back to float.
func parseEpoch(s string) (time.Time, error) {
	bad := fmt.Errorf("%s is not an ISO 8601 time or epoch seconds", s)
	if epochRe.MatchString(s) {
		whole, frac, _ := strings.Cut(s, ".")
		sec, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || sec > 1e12 || sec < -1e12 {
			return time.Time{}, bad
		}
		frac = (frac + "000000000")[:9]
		ns, _ := strconv.ParseInt(frac, 10, 64)
		if strings.HasPrefix(whole, "-") {
			ns = -ns
		}
		return time.Unix(sec, ns), nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f > 1e12 || f < -1e12 {
		return time.Time{}, bad
	}
	sec := int64(f)
	return time.Unix(sec, int64((f-float64(sec))*1e9)), nil
}

// MarshalKeySet writes keys in the list-public-keys JSON: Value is base64 of
// DER PKCS#1, times are RFC 3339 in UTC. ParseKeySet reads it back.
func MarshalKeySet(keys []PublicKey) ([]byte, error) {
	doc := struct {
		PublicKeyList []listEntry `json:"PublicKeyList"`
	}{PublicKeyList: make([]listEntry, 0, len(keys))}
	for i, k := range keys {
		if k.Key == nil {
			return nil, fmt.Errorf("marshal public keys: entry %d (fingerprint %s): no key", i, k.Fingerprint)
		}
		doc.PublicKeyList = append(doc.PublicKeyList, listEntry{
			Value:             base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(k.Key)),
			ValidityStartTime: k.ValidFrom.UTC().Format(time.RFC3339Nano),
			ValidityEndTime:   k.ValidTo.UTC().Format(time.RFC3339Nano),
			Fingerprint:       k.Fingerprint,
		})
	}
	b, err := json.MarshalIndent(doc, "", "    ")
	if err != nil {
		return nil, fmt.Errorf("marshal public keys: %w", err)
	}
	return append(b, '\n'), nil
}
