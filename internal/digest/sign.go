package digest

import (
	"crypto"
	"crypto/md5" //nolint:gosec // fingerprints are identifiers, not a security control
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// SigningString returns the string CloudTrail signs for a digest:
//
//	digestEndTime + "\n" + digestS3Bucket + "/" + digestS3Object + "\n" +
//	hex(SHA-256(gunzipped digest bytes)) + "\n" + previousDigestSignature
//
// with the literal "null" for a starting digest's null previous signature.
// rawHashHex is the hash of the digest bytes exactly as stored (HashGzip's
// result), never of re-serialised JSON. The fields are used verbatim, as the
// CLI does; only the hash is lower-cased, since AWS signs lower-case hex.
func SigningString(f *File, rawHashHex string) string {
	prev := "null"
	if f.PreviousDigestSignature != nil {
		prev = *f.PreviousDigestSignature
	}
	return f.DigestEndTime + "\n" +
		f.DigestS3Bucket + "/" + f.DigestS3Object + "\n" +
		strings.ToLower(rawHashHex) + "\n" +
		prev
}

// Sign signs a signing string with RSA PKCS#1 v1.5 over SHA-256 and returns
// the hex signature, as CloudTrail stores it in x-amz-meta-signature. It
// exists for synthetic chains: real digests are signed by AWS.
func Sign(priv *rsa.PrivateKey, signing string) (string, error) {
	if priv == nil {
		return "", errors.New("sign digest: no private key")
	}
	h := sha256.Sum256([]byte(signing))
	sig, err := rsa.SignPKCS1v15(rand.Reader, priv, crypto.SHA256, h[:])
	if err != nil {
		return "", fmt.Errorf("sign digest: %w", err)
	}
	return hex.EncodeToString(sig), nil
}

// Verify checks a hex signature (x-amz-meta-signature) over a signing
// string. Every failure wraps ErrSignature, including a signature that is
// not hex, since for the report it is the same finding.
func Verify(pub *rsa.PublicKey, signing, hexSig string) error {
	if pub == nil {
		return fmt.Errorf("verify digest: %w: no public key", ErrSignature)
	}
	sig, err := hex.DecodeString(strings.TrimSpace(hexSig))
	if err != nil {
		return fmt.Errorf("verify digest: %w: signature is not hex: %w", ErrSignature, err)
	}
	h := sha256.Sum256([]byte(signing))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig); err != nil {
		return fmt.Errorf("verify digest: %w", ErrSignature)
	}
	return nil
}

// Fingerprint returns the lower-hex MD5 of the key's DER PKCS#1 encoding.
// This is trailwarden's convention for the synthetic keys it generates; AWS
// assigns real fingerprints (digestPublicKeyFingerprint) itself, so never
// check an AWS key's fingerprint against this function.
func Fingerprint(pub *rsa.PublicKey) string {
	sum := md5.Sum(x509.MarshalPKCS1PublicKey(pub)) //nolint:gosec // see above
	return hex.EncodeToString(sum[:])
}
