package digest

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
)

// Keys are generated once per test binary: 2048-bit generation is slow
// under the race detector.
var (
	testKey  = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
	otherKey = sync.OnceValues(func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, 2048) })
)

func mustKey(tb testing.TB, gen func() (*rsa.PrivateKey, error)) *rsa.PrivateKey {
	tb.Helper()
	k, err := gen()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func TestSigningString(t *testing.T) {
	f, err := Parse([]byte(awsSample))
	if err != nil {
		t.Fatal(err)
	}
	want := "2015-08-17T15:01:31Z\n" +
		"amzn-s3-demo-bucket/AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_your-trail-name_us-east-2_20150817T150131Z.json.gz\n" +
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n" +
		"50887ccffad4c002b97caa37cc9dc626e3c680207d41d27fa5835458e066e0d3"
	if got := SigningString(f, "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855"); got != want {
		t.Errorf("SigningString =\n%q\nwant\n%q", got, want)
	}
	s, err := Parse([]byte(startingDigest))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := SigningString(s, "ab"), "2024-03-09T14:03:12Z\nb/k\nab\nnull"; got != want {
		t.Errorf("starting digest: %q, want %q", got, want)
	}
	empty := ""
	s.PreviousDigestSignature = &empty // an empty string is not null: kept verbatim, as the CLI does
	if got, want := SigningString(s, "ab"), "2024-03-09T14:03:12Z\nb/k\nab\n"; got != want {
		t.Errorf("empty previous signature: %q, want %q", got, want)
	}
}

func TestSignVerify(t *testing.T) {
	priv := mustKey(t, testKey)
	msg := "2024-03-09T14:03:12Z\nb/k\nab\nnull"
	sig, err := Sign(priv, msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 512 || strings.ToLower(sig) != sig {
		t.Errorf("signature is not 256 bytes of lower-case hex: %q", sig)
	}
	if err := Verify(&priv.PublicKey, msg, sig); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if err := Verify(&priv.PublicKey, msg, " "+strings.ToUpper(sig)+"\n"); err != nil {
		t.Errorf("Verify with upper-case, padded hex: %v", err)
	}
	flipped := []byte(sig)
	flipped[10] ^= 1
	fails := map[string]error{
		"tampered string":    Verify(&priv.PublicKey, strings.Replace(msg, "null", "nul1", 1), sig),
		"trailing newline":   Verify(&priv.PublicKey, msg+"\n", sig),
		"tampered signature": Verify(&priv.PublicKey, msg, string(flipped)),
		"not hex":            Verify(&priv.PublicKey, msg, "zz"+sig[2:]),
		"empty signature":    Verify(&priv.PublicKey, msg, ""),
		"other key":          Verify(&mustKey(t, otherKey).PublicKey, msg, sig),
		"no key":             Verify(nil, msg, sig),
	}
	for name, err := range fails {
		if !errors.Is(err, ErrSignature) {
			t.Errorf("%s: error %v, want ErrSignature", name, err)
		}
	}
	if _, err := Sign(nil, msg); err == nil {
		t.Error("Sign(nil) succeeded")
	}
}

// TestVerifyOpenSSL checks Verify and Fingerprint against a signature and
// a fingerprint made by openssl (testdata/README.md).
func TestVerifyOpenSSL(t *testing.T) {
	pemBytes := readFile(t, "testdata/openssl-pub-pkcs1.pem")
	pub, err := DecodePublicKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	msg := readFile(t, "testdata/openssl-message.txt")
	sig := readFile(t, "testdata/openssl-signature.hex")
	if err := Verify(pub, string(msg), string(sig)); err != nil {
		t.Errorf("openssl signature: %v", err)
	}
	if err := Verify(pub, string(msg)+" ", string(sig)); !errors.Is(err, ErrSignature) {
		t.Errorf("tampered openssl message: %v", err)
	}
	if got := Fingerprint(pub); got != "0002cc7136e66065a4f6bb93cc875c3a" {
		t.Errorf("Fingerprint = %s, want openssl's md5 of the DER", got)
	}
	block, _ := pem.Decode(pemBytes)
	if sum := sha256.Sum256(block.Bytes); Fingerprint(pub) == hex.EncodeToString(sum[:16]) {
		t.Error("fingerprint is not MD5")
	}
}

// TestChainEndToEnd signs a synthetic digest the way the demo will and
// verifies it the way verify will, hashing the stored bytes, not a
// re-serialisation: the stored bytes here are indented, Marshal's are not.
func TestChainEndToEnd(t *testing.T) {
	priv := mustKey(t, testKey)
	stored := []byte(awsSample)
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	if _, err := zw.Write(stored); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	rawHash, n, err := HashGzip(bytes.NewReader(gz.Bytes()))
	if err != nil || n != int64(len(stored)) {
		t.Fatalf("HashGzip: %v, %d bytes", err, n)
	}
	f, err := Parse(stored)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(priv, SigningString(f, rawHash))
	if err != nil {
		t.Fatal(err)
	}
	keys := NewKeySet(PublicKey{Fingerprint: Fingerprint(&priv.PublicKey), Key: &priv.PublicKey})
	end, _ := f.EndTime()
	pk, err := keys.Lookup(Fingerprint(&priv.PublicKey), end)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(pk.Key, SigningString(f, rawHash), sig); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	reserialised, _ := Marshal(f)
	sum := sha256.Sum256(reserialised)
	if err := Verify(pk.Key, SigningString(f, hex.EncodeToString(sum[:])), sig); !errors.Is(err, ErrSignature) {
		t.Errorf("hash of re-serialised JSON verified: %v", err)
	}
}

func readFile(tb testing.TB, name string) []byte {
	tb.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
