package batch

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/inflate"
	"github.com/trailwarden/trailwarden/internal/record"
)

// ErrTooLarge is Parser.Append's error for a file that decompresses to
// more than its limit: read it with Stream instead.
var ErrTooLarge = errors.New("decompressed log file above the in-memory limit")

// The in-memory bounds of a log file: compressed bytes read whole, and
// the most they may decompress to. Larger files are read with Stream.
const (
	InMemoryFile    = 8 << 20
	InMemoryRecords = 64 << 20
)

// MaxRecord bounds the bytes of one record a streamed file's reader holds
// to read it. Records over RecordLimit are refused once read.
const MaxRecord = 64 << 20

// RecordLimit is the largest record a file may hold to be loaded, in
// bytes: four times the 256 KB CloudTrail gives an event (of version 1.05
// and later). A larger record cannot come from CloudTrail, and the store
// cannot hold every such value: one 50 MB value failed every later
// commit of a pull (DuckDB could not allocate it within the pull's
// memory). Its file is bad, named with the record and its largest field.
const RecordLimit = 1 << 20

// ErrRecordTooLarge matches errors for a file with a record over
// RecordLimit (a *RecordTooLargeError).
var ErrRecordTooLarge = errors.New("record over the size limit")

// RecordTooLargeError names the record over RecordLimit, its size and its
// largest value.
type RecordTooLargeError struct {
	Record, Size int // the record's ordinal in its file (from 1), its bytes
	Field        string
	FieldSize    int
}

func (e *RecordTooLargeError) Error() string {
	size := Size(int64(e.Size))
	if size == Size(RecordLimit) {
		size = fmt.Sprintf("%d bytes", e.Size) // just over: 1.0 MiB would read as the limit
	}
	return fmt.Sprintf("record %d is %s, over the 1 MiB limit on a record (CloudTrail writes at most 256 KB an event): its field %s is %s",
		e.Record, size, e.Field, Size(int64(e.FieldSize)))
}

// Is makes errors.Is(err, ErrRecordTooLarge) hold.
func (e *RecordTooLargeError) Is(target error) bool { return target == ErrRecordTooLarge }

// checkSize refuses record n if it is over RecordLimit.
func checkSize(n int, e *record.Event) error {
	if e.Size <= RecordLimit {
		return nil
	}
	field, size := e.Largest()
	return &RecordTooLargeError{Record: n, Size: e.Size, Field: field, FieldSize: size}
}

// Size writes a byte count for people: 812 bytes, 256.0 KiB, 47.7 MiB.
func Size(n int64) string {
	switch {
	case n < 1<<10:
		return fmt.Sprintf("%d bytes", n)
	case n < 1<<20:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}

// Parser reads gzipped log files into batches, reusing its buffers. One
// goroutine uses a Parser at a time.
type Parser struct {
	z   *inflate.Decompressor
	zr  *gzip.Reader
	buf []byte
}

// Append decompresses a whole gzipped log file held in memory, appends its
// records to b as file f and returns the hex SHA-256 of the decompressed
// bytes, the hash digests record. Only the first gzip member counts and
// bytes after it are an error (as digest.HashGzip). The file's rows are
// left open: the caller checks the hash, then Commits or Aborts. A file
// that decompresses to more than limit bytes gives ErrTooLarge.
func (p *Parser) Append(b *Events, f File, data []byte, limit int) (string, error) {
	b.Begin(f)
	raw, err := p.gunzip(data, limit)
	if err != nil {
		b.Abort()
		return "", err
	}
	sum := sha256.Sum256(raw)
	err = record.Scan(raw, func(n int, e *record.Event) error {
		if err := checkSize(n, e); err != nil {
			return err
		}
		b.Add(e)
		if e.DuplicateKey != nil {
			b.Repeated(n, e.DuplicateKey)
		}
		return nil
	})
	if err != nil {
		b.Abort()
		return "", err
	}
	return hex.EncodeToString(sum[:]), nil
}

func (p *Parser) gunzip(data []byte, limit int) ([]byte, error) {
	if raw, ok := p.inflate(data, limit); ok {
		return raw, nil
	}
	// Not one well-formed member within the limit: the streaming reader
	// finds out what is wrong and says so.
	src := bytes.NewReader(data)
	var err error
	if p.zr == nil {
		p.zr, err = gzip.NewReader(src)
	} else {
		err = p.zr.Reset(src)
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%w: empty input", digest.ErrCorrupt)
		}
		return nil, fmt.Errorf("%w: %w", digest.ErrCorrupt, err)
	}
	p.zr.Multistream(false)
	// The trailer's ISIZE (the size modulo 2^32) presizes the buffer.
	if len(data) >= 4 {
		if hint := int(binary.LittleEndian.Uint32(data[len(data)-4:])); hint <= limit && hint > cap(p.buf) {
			p.buf = make([]byte, 0, hint+1)
		}
	}
	buf := p.buf[:0]
	for {
		if len(buf) == cap(buf) {
			if len(buf) > limit {
				return nil, ErrTooLarge
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := p.zr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			p.buf = buf[:0]
			if errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: truncated: %w", digest.ErrCorrupt, err)
			}
			return nil, fmt.Errorf("%w: %w", digest.ErrCorrupt, err)
		}
	}
	p.buf = buf[:0]
	if len(buf) > limit {
		return nil, ErrTooLarge
	}
	if src.Len() > 0 {
		return nil, digest.ErrTrailingData
	}
	return buf, nil
}

// inflate is gunzip's fast path: the whole member at once (package
// inflate), into a buffer of the size its trailer gives.
func (p *Parser) inflate(data []byte, limit int) ([]byte, bool) {
	if !inflate.Available || len(data) < 18 { // the smallest gzip member
		return nil, false
	}
	size := int(binary.LittleEndian.Uint32(data[len(data)-4:]))
	if size > limit {
		return nil, false
	}
	if p.z == nil {
		p.z = inflate.New()
	}
	if cap(p.buf) < size {
		p.buf = make([]byte, 0, size)
	}
	n, ok := p.z.Gunzip(p.buf[:size], data)
	if !ok || n != size {
		return nil, false
	}
	return p.buf[:n], true
}

// Stream reads a gzipped log file too large for memory, twice from open:
// first it hashes the decompressed bytes and checks every record (so a bad
// file loads nothing), then, if the hash is want ("" loads unverified), it
// appends the records to b, handing b to emit (after b.CommitPart) each
// time it holds maxBytes. The last part stays open for the caller to
// Commit, as with Append. Memory stays bounded whatever the file's size.
func (p *Parser) Stream(b *Events, f File, open func() (io.ReadCloser, error), want string,
	maxBytes int, emit func(*Events) error) error {
	hash, err := pass(open, func(r io.Reader) (string, error) {
		pr, pw := io.Pipe()
		done := make(chan error, 1)
		go func() {
			err := record.Stream(pr, MaxRecord, checkSize)
			_ = pr.CloseWithError(err)
			done <- err
		}()
		hash, _, err := digest.HashGzipTee(r, pw)
		_ = pw.CloseWithError(err)
		// A bad record stops the reader first; the hash then fails to
		// write, and the record's error is the one that explains it.
		var se *record.SyntaxError
		if serr := <-done; errors.As(serr, &se) || errors.Is(serr, ErrRecordTooLarge) {
			return "", serr
		}
		return hash, err
	})
	if err != nil {
		return err
	}
	if want != "" {
		if err := digest.CheckHash(hash, want); err != nil {
			return err
		}
	}
	b.Begin(f)
	_, err = pass(open, func(r io.Reader) (string, error) {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return "", err
		}
		zr.Multistream(false)
		return "", record.Stream(zr, MaxRecord, func(n int, e *record.Event) error {
			if err := checkSize(n, e); err != nil {
				return err
			}
			b.Add(e)
			if e.DuplicateKey != nil {
				b.Repeated(n, e.DuplicateKey)
			}
			if b.Bytes() < maxBytes {
				return nil
			}
			b.CommitPart()
			if err := emit(b); err != nil {
				return err
			}
			b.Begin(f)
			return nil
		})
	})
	if err != nil {
		b.Abort()
	}
	return err
}

// ErrHashMismatch is the error for a file whose bytes are not the ones its
// digest vouches for (digest.ErrHashMismatch).
var ErrHashMismatch = digest.ErrHashMismatch

func pass(open func() (io.ReadCloser, error), fn func(io.Reader) (string, error)) (string, error) {
	r, err := open()
	if err != nil {
		return "", err
	}
	defer func() { _ = r.Close() }()
	return fn(r)
}

// BadContent says whether err is about a file's bytes rather than the
// reading of them: not gzip or cut short, data after the gzip stream, not
// a CloudTrail log file (a digest, an Insights file, not JSON), a record
// over the size limit, or bytes its digest does not vouch for. Such a
// file is bad whoever reads it; anything else (I/O, a cancelled context,
// a stalled endpoint) stops the reading instead. It is the one test of a
// bad file: pull asks it of every file it reads.
func BadContent(err error) bool {
	return errors.Is(err, record.ErrNotLogFile) || errors.Is(err, digest.ErrCorrupt) || errors.Is(err, digest.ErrTrailingData) ||
		errors.Is(err, ErrRecordTooLarge) || errors.Is(err, ErrHashMismatch)
}
