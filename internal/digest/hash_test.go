package digest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
)

func gz(tb testing.TB, data []byte) []byte {
	tb.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		tb.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func sha(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// sampleLog is a log body large enough that the compressed file spans
// several 64 KiB buffer fills, so member boundaries fall mid-buffer.
var sampleLog = sync.OnceValue(func() []byte { return realisticLog(2 << 20) })

func TestHashGzip(t *testing.T) {
	body := sampleLog()
	file := gz(t, body)
	if len(file) < 3*64<<10 {
		t.Fatalf("sample compresses to only %d bytes", len(file))
	}
	readers := map[string]func([]byte) io.Reader{
		"bytes":    func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte": func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"data+EOF": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
		"half":     func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
	}
	for name, mk := range readers {
		got, n, err := HashGzip(mk(file))
		if err != nil || got != sha(body) || n != int64(len(body)) {
			t.Errorf("%s: %s, %d, %v; want %s, %d", name, got, n, err, sha(body), len(body))
		}
	}
	got, n, err := HashGzip(bytes.NewReader(readFile(t, "testdata/gzip-tool-log.json.gz")))
	if err != nil || n != 1378 || got != "4cab35737a2a0250f6a7eeabb110e6786a09daff0dbe99fcc34c2ee0f9602aa1" {
		t.Errorf("gzip tool fixture: %s, %d, %v", got, n, err)
	}
	got, n, err = HashGzip(bytes.NewReader(gz(t, nil)))
	if err != nil || n != 0 || got != sha(nil) {
		t.Errorf("empty member: %s, %d, %v", got, n, err)
	}
}

func TestHashGzipInvalid(t *testing.T) {
	body := sampleLog()
	file := gz(t, body)
	small := gz(t, []byte(`{"Records":[]}`))
	badCRC := bytes.Clone(small)
	badCRC[len(badCRC)-8] ^= 0xff
	badLen := bytes.Clone(small)
	badLen[len(badLen)-1] ^= 0x01
	badBody := bytes.Clone(file)
	badBody[len(badBody)/2] ^= 0xff
	tests := []struct {
		name  string
		input []byte
		want  error
		text  string
	}{
		{"second gzip member", append(bytes.Clone(file), gz(t, []byte(`{"Records":[{"evil":1}]}`))...), ErrTrailingData,
			"hash gzip: unexpected data after end of compressed stream"},
		{"second member after small file", append(bytes.Clone(small), small...), ErrTrailingData, ""},
		{"garbage appended", append(bytes.Clone(file), "garbage"...), ErrTrailingData, ""},
		{"one zero byte appended", append(bytes.Clone(small), 0), ErrTrailingData, ""},
		{"truncated trailer", file[:len(file)-1], ErrCorrupt, "hash gzip: corrupt gzip stream: truncated: unexpected EOF"},
		{"truncated mid-stream", file[:len(file)/2], ErrCorrupt, "truncated"},
		{"truncated header", file[:5], ErrCorrupt, "truncated"},
		{"bad CRC", badCRC, ErrCorrupt, "checksum"},
		{"bad length", badLen, ErrCorrupt, "checksum"},
		{"corrupt deflate data", badBody, ErrCorrupt, ""},
		{"not gzip", []byte(`{"Records":[]}`), ErrCorrupt, "invalid header"},
		{"empty input", nil, ErrCorrupt, "hash gzip: corrupt gzip stream: empty input"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := HashGzip(bytes.NewReader(tt.input))
			if !errors.Is(err, tt.want) || got != "" {
				t.Fatalf("HashGzip = %q, %v; want %v", got, err, tt.want)
			}
			if tt.text != "" && !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q does not contain %q", err, tt.text)
			}
			if errors.Is(err, ErrCorrupt) && errors.Is(err, ErrTrailingData) {
				t.Errorf("error %v is both corrupt and trailing", err)
			}
		})
	}
	// Every proper prefix of a small file is truncated, never valid.
	for i := range len(small) {
		if _, _, err := HashGzip(bytes.NewReader(small[:i])); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("prefix of %d bytes: %v", i, err)
		}
	}
}

// TestHashGzipIOErrors checks that failures of the caller's reader or
// writer are reported as such, not as a corrupt file.
func TestHashGzipIOErrors(t *testing.T) {
	file := gz(t, sampleLog())
	boom := errors.New("connection reset")
	for _, cut := range []int{0, 4, 100, len(file) / 2, len(file)} {
		r := io.MultiReader(bytes.NewReader(file[:cut]), iotest.ErrReader(boom))
		_, _, err := HashGzip(r)
		if !errors.Is(err, boom) || errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTrailingData) {
			t.Errorf("read error after %d bytes: %v", cut, err)
		}
	}
	full := errors.New("disk full")
	_, n, err := HashGzipTee(bytes.NewReader(file), failWriter{after: 1000, err: full})
	if !errors.Is(err, full) || errors.Is(err, ErrCorrupt) || !strings.HasPrefix(err.Error(), "hash gzip: write: ") || n == 0 {
		t.Errorf("write error: %d, %v", n, err)
	}
}

type failWriter struct {
	after int
	err   error
}

func (w failWriter) Write(p []byte) (int, error) {
	if len(p) > w.after {
		return w.after, w.err
	}
	return len(p), nil
}

func TestHashGzipTee(t *testing.T) {
	body := sampleLog()
	var out bytes.Buffer
	got, n, err := HashGzipTee(bytes.NewReader(gz(t, body)), &out)
	if err != nil || got != sha(body) || n != int64(len(body)) || !bytes.Equal(out.Bytes(), body) {
		t.Fatalf("tee: %s, %d, %v, %d bytes out", got, n, err, out.Len())
	}
	out.Reset()
	_, _, err = HashGzipTee(bytes.NewReader(append(gz(t, body), gz(t, []byte("x"))...)), &out)
	if !errors.Is(err, ErrTrailingData) || !bytes.Equal(out.Bytes(), body) {
		t.Errorf("tee with a second member: %v; the first member's %d bytes reach w, the second's never", err, out.Len())
	}
}

func TestCheckHash(t *testing.T) {
	data := gz(t, []byte(`{"Records":[]}`))
	got, _, err := HashGzip(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckHash(got, got); err != nil {
		t.Errorf("CheckHash of the same hash = %v", err)
	}
	other := strings.Repeat("0", len(got))
	if err := CheckHash(got, other); !errors.Is(err, ErrHashMismatch) {
		t.Errorf("CheckHash of another hash = %v, want ErrHashMismatch", err)
	}
}
