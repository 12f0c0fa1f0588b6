package digest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// HashGzip returns the lower-hex SHA-256 of the uncompressed bytes of a gzip
// file and how many uncompressed bytes there were. This is the hash digests
// record for log files (hashValue) and the hash in a digest's signing
// string. It streams: memory stays bounded whatever the file size.
//
// Like validate-logs since aws-cli #10326, only the first gzip member counts
// and anything after it is invalid: the gzip reader would otherwise read
// concatenated members as one stream, letting appended data pass. The
// reader is klauspost/compress's, compress/gzip's API at about 1.25 times
// its speed here (1.37 s instead of 1.71 s for 397 MB, hashing included).
//
// Errors wrap ErrTrailingData (bytes after the first member), ErrCorrupt
// (bad header, bad deflate data, checksum mismatch, truncation, empty
// input), or the error of r itself.
func HashGzip(r io.Reader) (hexSHA256 string, uncompressedBytes int64, err error) {
	return HashGzipTee(r, nil)
}

// HashGzipTee is HashGzip that also writes the uncompressed bytes to w, so
// pull can verify exactly the bytes it ingests with one download. The bytes
// reach w before the stream is known to be valid: on any error the caller
// must discard what w received. n counts the bytes produced before an error.
func HashGzipTee(r io.Reader, w io.Writer) (hexSHA256 string, n int64, err error) {
	src := &sourceReader{r: r}
	// gzip.NewReader uses a reader that is also an io.ByteReader directly,
	// without its own read-ahead buffer, and flate reads it byte by byte,
	// never past the end of the member. So once the member ends, br is
	// positioned exactly after the gzip trailer and Peek can see what follows.
	br := bufio.NewReaderSize(src, 64<<10)
	zr, err := gzip.NewReader(br)
	if err != nil {
		if errors.Is(err, io.EOF) && src.err == nil {
			return "", 0, fmt.Errorf("hash gzip: %w: empty input", ErrCorrupt)
		}
		return "", 0, classify(err, src, nil)
	}
	zr.Multistream(false)
	h := sha256.New()
	var dst io.Writer = h
	var sink *sinkWriter
	if w != nil {
		sink = &sinkWriter{w: w}
		dst = io.MultiWriter(h, sink)
	}
	// With Multistream(false) the reader returns io.EOF only after it has
	// checked the member's CRC-32 and length, so io.Copy's nil error means
	// the member is intact.
	// No size cap: the hash must cover every byte AWS hashed, and memory
	// stays bounded by the fixed buffers whatever the ratio.
	n, err = io.Copy(dst, zr) //nolint:gosec // G110: see above
	if err != nil {
		return "", n, classify(err, src, sink)
	}
	if _, err := br.Peek(1); err == nil {
		return "", n, fmt.Errorf("hash gzip: %w", ErrTrailingData)
	} else if !errors.Is(err, io.EOF) {
		return "", n, fmt.Errorf("hash gzip: read: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// classify tells the caller's I/O failures (a network read, a full disk)
// apart from a bad gzip file: only the latter is a finding about the file.
func classify(err error, src *sourceReader, sink *sinkWriter) error {
	switch {
	case src.err != nil:
		return fmt.Errorf("hash gzip: read: %w", src.err)
	case sink != nil && sink.err != nil:
		return fmt.Errorf("hash gzip: write: %w", sink.err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("hash gzip: %w: truncated: %w", ErrCorrupt, io.ErrUnexpectedEOF)
	}
	return fmt.Errorf("hash gzip: %w: %w", ErrCorrupt, err)
}

// sourceReader remembers the first real error of the underlying reader.
type sourceReader struct {
	r   io.Reader
	err error
}

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) && s.err == nil {
		s.err = err
	}
	return n, err
}

// sinkWriter remembers the first error of the tee destination.
type sinkWriter struct {
	w   io.Writer
	err error
}

func (s *sinkWriter) Write(p []byte) (int, error) {
	n, err := s.w.Write(p)
	if err != nil && s.err == nil {
		s.err = err
	}
	return n, err
}
