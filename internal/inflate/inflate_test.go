package inflate

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
)

// reference is what a streaming reader makes of src, read as one gzip
// member with nothing after it: the output, or ok false.
func reference(src []byte) ([]byte, bool) {
	zr, err := gzip.NewReader(bytes.NewReader(src))
	if err != nil {
		return nil, false
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		return nil, false
	}
	// The member must be the whole input, as Gunzip requires.
	rest := bytes.NewReader(src)
	zr2, _ := gzip.NewReader(rest)
	zr2.Multistream(false)
	_, _ = io.Copy(io.Discard, zr2)
	if rest.Len() > 0 {
		return nil, false
	}
	return out, true
}

func gz(tb testing.TB, parts ...string) []byte {
	tb.Helper()
	var b bytes.Buffer
	for _, p := range parts {
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write([]byte(p)); err != nil {
			tb.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			tb.Fatal(err)
		}
	}
	return b.Bytes()
}

// corpus is the record package's log file samples.
func corpus(tb testing.TB) [][]byte {
	tb.Helper()
	paths, err := filepath.Glob("../record/testdata/*.json")
	if err != nil || len(paths) == 0 {
		tb.Fatalf("no corpus: %v", err)
	}
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestGunzipAgreesWithAStreamingReader(t *testing.T) {
	if !Available {
		t.Skip("built with nolibdeflate: Gunzip is a stub that always fails (tested by TestGunzipWithoutLibdeflate)")
	}
	log := `{"Records":[{"eventVersion":"1.09","eventName":"ConsoleLogin"}]}`
	good := gz(t, log)
	flip := func(b []byte, i int) []byte {
		c := bytes.Clone(b)
		c[i] ^= 0x40
		return c
	}
	lyingSize := bytes.Clone(good)
	binary.LittleEndian.PutUint32(lyingSize[len(lyingSize)-4:], uint32(len(log)+1))
	cases := []struct {
		name string
		src  []byte
		dst  int
		ok   bool
	}{
		{"one member", good, len(log), true},
		{"room to spare", good, len(log) + 100, true},
		{"empty payload", gz(t, ""), 0, true},
		{"output larger than dst", good, len(log) - 1, false},
		{"truncated", good[:len(good)-5], len(log), false},
		{"corrupt data", flip(good, 12), len(log), false},
		{"corrupt CRC", flip(good, len(good)-6), len(log), false},
		{"size trailer lies", lyingSize, len(log) + 10, false},
		{"two members", gz(t, log, log), 2 * len(log), false},
		{"trailing garbage", append(bytes.Clone(good), 0, 0, 0), len(log), false},
		{"not gzip", []byte(log), len(log), false},
		{"empty input", nil, 10, false},
	}
	z := New()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dst := make([]byte, c.dst)
			n, ok := z.Gunzip(dst, c.src)
			if ok != c.ok {
				t.Fatalf("ok = %v, want %v", ok, c.ok)
			}
			want, refOK := reference(c.src)
			if ok && (!refOK || !bytes.Equal(dst[:n], want)) {
				t.Fatalf("got %q, the streaming reader %q (ok %v)", dst[:n], want, refOK)
			}
			if !ok && refOK && len(want) <= c.dst {
				t.Fatalf("failed where the streaming reader reads %d bytes that fit", len(want))
			}
		})
	}
	for i, log := range corpus(t) {
		src := gz(t, string(log))
		dst := make([]byte, len(log))
		if n, ok := z.Gunzip(dst, src); !ok || !bytes.Equal(dst[:n], log) {
			t.Fatalf("corpus file %d: ok=%v, output differs", i, ok)
		}
	}
}

func TestGunzipWithoutLibdeflate(t *testing.T) {
	if Available {
		t.Skip("libdeflate is linked (TestGunzipAgreesWithAStreamingReader covers it)")
	}
	if _, ok := New().Gunzip(make([]byte, 10), gz(t, "x")); ok {
		t.Fatal("the nolibdeflate stub must always fail, so callers use their streaming reader")
	}
}

// FuzzGunzip checks Gunzip against the streaming reader on any input:
// whatever it accepts, the reader reads identically.
func FuzzGunzip(f *testing.F) {
	for _, log := range corpus(f) {
		f.Add(gz(f, string(log)), uint16(len(log)))
	}
	f.Add(gz(f, "a", "b"), uint16(2))
	f.Add([]byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff}, uint16(4))
	z := New()
	f.Fuzz(func(t *testing.T, src []byte, size uint16) {
		dst := make([]byte, size)
		n, ok := z.Gunzip(dst, src)
		want, refOK := reference(src)
		switch {
		case ok && (!refOK || !bytes.Equal(dst[:n], want)):
			t.Fatalf("Gunzip accepted what the reader reads as %q (ok %v); Gunzip gave %q", want, refOK, dst[:n])
		case !ok && refOK && len(want) <= int(size) && Available:
			t.Fatalf("Gunzip refused a member the reader reads (%d bytes, room for %d)", len(want), size)
		}
	})
}

// BenchmarkGunzip decompresses CloudTrail-like log files with libdeflate
// and with the streaming reader the fallback uses, side by side.
func BenchmarkGunzip(b *testing.B) {
	var files [][]byte
	var raw int64
	for i := 0; i < 50; i++ {
		var log bytes.Buffer
		log.WriteString(`{"Records":[`)
		for r := 0; r < 500; r++ {
			if r > 0 {
				log.WriteByte(',')
			}
			fmt.Fprintf(&log, `{"eventVersion":"1.09","eventTime":"2026-11-20T%02d:%02d:%02dZ","eventSource":"s3.amazonaws.com",`+
				`"eventName":"GetObject","awsRegion":"us-east-1","sourceIPAddress":"10.%d.%d.%d","userAgent":"aws-cli/2.%d",`+
				`"requestParameters":{"bucketName":"bucket-%d","key":"logs/%d/%d.json"},"eventID":"%08x-0000-4000-8000-%012x"}`,
				r%24, r%60, (r*7)%60, i, r%256, (r*13)%256, r%40, i, r, r*i, i*1000+r, r)
		}
		log.WriteString(`]}`)
		raw += int64(log.Len())
		files = append(files, gz(b, log.String()))
	}
	b.Run("libdeflate", func(b *testing.B) {
		if !Available {
			b.Skip("built with nolibdeflate")
		}
		z := New()
		dst := make([]byte, 1<<20)
		b.SetBytes(raw)
		for b.Loop() {
			for _, f := range files {
				if _, ok := z.Gunzip(dst, f); !ok {
					b.Fatal("gunzip failed")
				}
			}
		}
	})
	b.Run("stream", func(b *testing.B) {
		var zr gzip.Reader
		dst := bytes.NewBuffer(make([]byte, 0, 1<<20))
		b.SetBytes(raw)
		for b.Loop() {
			for _, f := range files {
				dst.Reset()
				if err := zr.Reset(bytes.NewReader(f)); err != nil {
					b.Fatal(err)
				}
				if _, err := io.Copy(dst, &zr); err != nil && !errors.Is(err, io.EOF) {
					b.Fatal(err)
				}
			}
		}
	})
}
