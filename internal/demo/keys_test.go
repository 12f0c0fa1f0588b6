package demo

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"testing"
)

func TestSigningKeyIsDeterministicAndWorks(t *testing.T) {
	a, err := signingKey(42, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := signingKey(42, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := signingKey(43, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a.N.Cmp(b.N) != 0 || a.N.Cmp(c.N) == 0 {
		t.Fatal("key must depend on the seed and only on it")
	}
	h := sha256.Sum256([]byte("2026-11-20T01:00:00Z\nb/k\nabc\nnull"))
	sig, err := rsa.SignPKCS1v15(nil, a, crypto.SHA256, h[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(&b.PublicKey, crypto.SHA256, h[:], sig); err != nil {
		t.Fatalf("signature does not verify: %v", err)
	}
}
