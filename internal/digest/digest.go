// Package digest models CloudTrail digest files and implements the checks of
// `aws cloudtrail validate-logs`: the digest signing string, RSA signature
// verification, public-key sets, and streaming SHA-256 of gzip files with
// the CLI's rule that data after the first gzip member is invalid.
//
// The package does no network or file I/O: callers hand it bytes and
// streams, so pull (which verifies what it ingests) and an offline verify
// share the same code.
package digest

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Algorithm names as CloudTrail writes them in digests.
const (
	SignatureAlgorithm = "SHA256withRSA"
	HashAlgorithm      = "SHA-256"
)

// Sentinel errors. Their texts are the words validate-logs prints after
// "INVALID: " so reports can match the CLI's vocabulary.
var (
	ErrInvalidFormat = errors.New("invalid format")
	ErrSignature     = errors.New("signature verification failed")
	ErrKeyNotFound   = errors.New("public key not found")
	ErrTrailingData  = errors.New("unexpected data after end of compressed stream")
	ErrCorrupt       = errors.New("corrupt gzip stream")
	// ErrHashMismatch is a log file whose bytes are not the ones its
	// digest vouches for.
	ErrHashMismatch = errors.New("hash value doesn't match its digest")
)

// CheckHash compares a log file's SHA-256 (hex, as HashGzip returns it)
// with the hashValue its digest lists for it: the one test of a log file
// against its digest, wherever the bytes were read (verify, pull).
func CheckHash(got, want string) error {
	if got != want {
		return ErrHashMismatch
	}
	return nil
}

// File is one digest file. Times are kept as the strings CloudTrail wrote,
// because the signing string uses digestEndTime verbatim; StartTime and
// EndTime parse them. Nullable fields are pointers: nil is JSON null, which
// is what a starting digest has in all five previousDigest* fields.
type File struct {
	AWSAccountID                string    `json:"awsAccountId"`
	DigestStartTime             string    `json:"digestStartTime"`
	DigestEndTime               string    `json:"digestEndTime"`
	DigestS3Bucket              string    `json:"digestS3Bucket"`
	DigestS3Object              string    `json:"digestS3Object"`
	DigestPublicKeyFingerprint  string    `json:"digestPublicKeyFingerprint"`
	DigestSignatureAlgorithm    string    `json:"digestSignatureAlgorithm"`
	NewestEventTime             *string   `json:"newestEventTime"`
	OldestEventTime             *string   `json:"oldestEventTime"`
	PreviousDigestS3Bucket      *string   `json:"previousDigestS3Bucket"`
	PreviousDigestS3Object      *string   `json:"previousDigestS3Object"`
	PreviousDigestHashValue     *string   `json:"previousDigestHashValue"`
	PreviousDigestHashAlgorithm *string   `json:"previousDigestHashAlgorithm"`
	PreviousDigestSignature     *string   `json:"previousDigestSignature"`
	LogFiles                    []LogFile `json:"logFiles"`
}

// LogFile is one entry of a digest's logFiles: a log file delivered in the
// digest's hour and the SHA-256 of its uncompressed bytes.
type LogFile struct {
	S3Bucket        string `json:"s3Bucket"`
	S3Object        string `json:"s3Object"`
	HashValue       string `json:"hashValue"`
	HashAlgorithm   string `json:"hashAlgorithm"`
	NewestEventTime string `json:"newestEventTime"`
	OldestEventTime string `json:"oldestEventTime"`
}

// required are the keys validate-logs insists on before anything else; a
// digest without one of them is "INVALID: invalid format". Only
// previousDigestSignature may be null (a starting digest).
var required = []string{
	"digestPublicKeyFingerprint", "digestS3Bucket", "digestS3Object",
	"previousDigestSignature", "digestEndTime", "digestStartTime",
}

// Parse decodes a digest from its gunzipped bytes. Errors wrap
// ErrInvalidFormat and name the offending field.
//
// Top-level keys are matched exactly (encoding/json would also accept
// "DigestS3Bucket"), as the CLI's Python dict lookups do.
func Parse(raw []byte) (*File, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return nil, fmt.Errorf("parse digest: %w: %w", ErrInvalidFormat, err)
	}
	if fields == nil {
		return nil, fmt.Errorf("parse digest: %w: not a JSON object", ErrInvalidFormat)
	}
	for _, name := range required {
		v, ok := fields[name]
		if !ok {
			return nil, fmt.Errorf("parse digest: %w: missing field %s", ErrInvalidFormat, name)
		}
		if name != "previousDigestSignature" && string(v) == "null" {
			return nil, fmt.Errorf("parse digest: %w: field %s is null", ErrInvalidFormat, name)
		}
	}
	f := &File{}
	for _, t := range f.targets() {
		v, ok := fields[t.name]
		if !ok {
			continue
		}
		if err := json.Unmarshal(v, t.dst); err != nil {
			return nil, fmt.Errorf("parse digest: %w: field %s: %w", ErrInvalidFormat, t.name, err)
		}
	}
	if _, err := f.StartTime(); err != nil {
		return nil, fmt.Errorf("parse digest: %w: %w", ErrInvalidFormat, err)
	}
	if _, err := f.EndTime(); err != nil {
		return nil, fmt.Errorf("parse digest: %w: %w", ErrInvalidFormat, err)
	}
	return f, nil
}

// target is a JSON key and the field it decodes into.
type target struct {
	name string
	dst  any
}

// targets lists f's fields in document order, so that with several bad
// fields the error always names the same one.
func (f *File) targets() []target {
	return []target{
		{"awsAccountId", &f.AWSAccountID},
		{"digestStartTime", &f.DigestStartTime},
		{"digestEndTime", &f.DigestEndTime},
		{"digestS3Bucket", &f.DigestS3Bucket},
		{"digestS3Object", &f.DigestS3Object},
		{"digestPublicKeyFingerprint", &f.DigestPublicKeyFingerprint},
		{"digestSignatureAlgorithm", &f.DigestSignatureAlgorithm},
		{"newestEventTime", &f.NewestEventTime},
		{"oldestEventTime", &f.OldestEventTime},
		{"previousDigestS3Bucket", &f.PreviousDigestS3Bucket},
		{"previousDigestS3Object", &f.PreviousDigestS3Object},
		{"previousDigestHashValue", &f.PreviousDigestHashValue},
		{"previousDigestHashAlgorithm", &f.PreviousDigestHashAlgorithm},
		{"previousDigestSignature", &f.PreviousDigestSignature},
		{"logFiles", &f.LogFiles},
	}
}

// Marshal writes f as CloudTrail does, for synthetic digests: logFiles is
// always an array (an empty digest has "logFiles": []), never null.
// Sign the hash of exactly these bytes.
func Marshal(f *File) ([]byte, error) {
	c := *f
	if c.LogFiles == nil {
		c.LogFiles = []LogFile{}
	}
	b, err := json.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("marshal digest: %w", err)
	}
	return b, nil
}

// Starting reports whether f starts a chain: no previous digest signature.
func (f *File) Starting() bool { return f.PreviousDigestSignature == nil }

// StartTime parses digestStartTime.
func (f *File) StartTime() (time.Time, error) {
	return parseDigestTime("digestStartTime", f.DigestStartTime)
}

// EndTime parses digestEndTime.
func (f *File) EndTime() (time.Time, error) {
	return parseDigestTime("digestEndTime", f.DigestEndTime)
}

func parseDigestTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("field %s: %q is not an RFC 3339 time", field, s)
	}
	return t.UTC(), nil
}
