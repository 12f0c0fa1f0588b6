package store

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// DuckDB's JSON readers parse a whole CloudTrail file ({"Records":[...]})
// as one JSON object held in memory, several times over while parsing. A
// buffer big enough for CloudTrail's biggest files (50 MB gzipped, several
// hundred MB of JSON) would blow the memory limit. So files above a size
// derived from the limit are first streamed by Go into newline-delimited
// records (one small object per line), which DuckDB reads in bounded
// pieces. Typical log files are far smaller and are read directly.

// Memory, measured with DuckDB 1.4.5 on log files of 1 KB records under
// memory limits of 96 to 512 MB: one thread parses files of a few MB
// within 96 MB, but DuckDB's JSON readers and functions need about 96 MB
// per thread for two threads and 64 MB for four, however small the files,
// and about 24 times the size of the file being parsed on top. So threads
// are capped at one per 96 MB of memory limit (defaultThreads), files are
// read whole only up to maxObjectSize and streamed above it, and a batch
// is loaded in chunks of chunkBytes of JSON (see loadBatch).

// defaultThreads is GOMAXPROCS, capped by the memory limit.
func defaultThreads(limit int64, procs int) int {
	return max(1, min(procs, int(limit/(96<<20))))
}

// maxObjectSize is the largest decompressed file read whole: what is left
// of a thread's share of memory after its buffers, over 24: 3.2 MB with
// the defaults (256 MB, two threads).
func maxObjectSize(limit int64, threads int) int64 {
	n := (limit/int64(threads) - 48<<20) / 24
	const lo, hi = 512 << 10, 256 << 20
	return min(max(n, lo), hi)
}

// chunkBytes is how much JSON one chunk of a batch stages at a time.
func chunkBytes(limit int64) int64 { return max(limit/8, 4<<20) }

// gzipSize estimates a gzipped file's decompressed size from its trailer's
// ISIZE (the size modulo 2^32). The compressed size covers files large
// enough to wrap it, and damaged files whose trailer is noise.
func gzipSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if st.Size() < 18 { // smaller than an empty gzip member: let DuckDB reject it
		return st.Size(), nil
	}
	var tail [4]byte
	if _, err := f.ReadAt(tail[:], st.Size()-4); err != nil {
		return 0, err
	}
	return max(int64(binary.LittleEndian.Uint32(tail[:])), st.Size()), nil
}

// splitRecords streams the gzipped CloudTrail file at src into dst as one
// line per record, {"o":<ordinal>,"r":<record>}, holding one record in
// memory at a time, and returns the longest line. A file that is not gzip,
// not JSON, or has no Records array is a *BadFileError without its key;
// other errors are I/O errors.
func splitRecords(src string, dst io.Writer) (int, error) {
	f, err := os.Open(src)
	if err != nil {
		return 0, err
	}
	defer func() { _ = f.Close() }()
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		return 0, bad("not gzip: %w", err)
	}
	dec := json.NewDecoder(zr)
	dec.UseNumber()
	if err := expectDelim(dec, '{'); err != nil {
		return 0, err
	}
	w := bufio.NewWriterSize(dst, 1<<20)
	n, longest, found := 0, 0, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return 0, bad("invalid JSON: %w", err)
		}
		if tok != "Records" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return 0, bad("invalid JSON: %w", err)
			}
			continue
		}
		if found {
			return 0, bad("two Records arrays")
		}
		found = true
		if err := expectDelim(dec, '['); err != nil {
			return 0, err
		}
		var line bytes.Buffer
		for dec.More() {
			var rec json.RawMessage
			if err := dec.Decode(&rec); err != nil {
				return 0, bad("invalid JSON in record %d: %w", n+1, err)
			}
			n++
			line.Reset()
			line.WriteString(`{"o":` + strconv.Itoa(n) + `,"r":`)
			if err := json.Compact(&line, rec); err != nil {
				return 0, bad("invalid JSON in record %d: %w", n, err)
			}
			line.WriteString("}\n")
			if _, err := w.Write(line.Bytes()); err != nil {
				return 0, err
			}
			longest = max(longest, line.Len())
		}
		if _, err := dec.Token(); err != nil { // ']'
			return 0, bad("invalid JSON: %w", err)
		}
	}
	if _, err := dec.Token(); err != nil { // '}'
		return 0, bad("invalid JSON: %w", err)
	}
	if !found {
		return 0, bad("no Records array (a digest, or not a CloudTrail log file)")
	}
	// Trailing data after the object, or a damaged gzip trailer, is damage.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return 0, bad("data after the JSON object")
	}
	if _, err := io.Copy(io.Discard, zr); err != nil { //nolint:gosec // discarded while streaming: memory stays bounded
		return 0, bad("gzip: %w", err)
	}
	return longest, w.Flush()
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return bad("invalid JSON: %w", err)
	}
	if tok != want {
		return bad("invalid JSON: got %v where %q was expected", tok, want)
	}
	return nil
}

// bad is a content error; the caller fills in the key.
func bad(format string, a ...any) error {
	return &BadFileError{Err: fmt.Errorf(format, a...)}
}

// parseBytes reads a DuckDB-style size: "256MB", "1.5GB", "512 MiB".
func parseBytes(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := strings.IndexFunc(t, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' })
	if i < 0 {
		i = len(t)
	}
	num, err := strconv.ParseFloat(t[:i], 64)
	if err != nil || num <= 0 {
		return 0, fmt.Errorf("%q is not a size like 256MB", s)
	}
	units := map[string]float64{"": 1, "b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}
	u, ok := units[strings.ToLower(strings.TrimSpace(t[i:]))]
	if !ok {
		return 0, fmt.Errorf("%q is not a size like 256MB", s)
	}
	return int64(num * u), nil
}
