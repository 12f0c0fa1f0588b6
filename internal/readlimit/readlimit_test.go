package readlimit

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// zeros is an endless stream.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// stream hides a reader's Seek, as a pipe has none.
type stream struct{ io.Reader }

func TestReadAll(t *testing.T) {
	defer func(c int64) { countCap = c }(countCap)
	countCap = 8 << 20
	big := bytes.Repeat([]byte("x"), 3<<20+17)
	tests := []struct {
		name  string
		r     io.Reader
		limit int64
		want  string // the error; "" to read it whole
	}{
		{"under the limit", strings.NewReader("{}"), 2, ""},
		{"seekable", bytes.NewReader(big), 1 << 20, "p.json is 3,145,745 bytes, over the 1 MiB limit"},
		{"stream counted", stream{bytes.NewReader(big)}, 1 << 20, "p.json is 3,145,745 bytes, over the 1 MiB limit"},
		{"one byte over", stream{strings.NewReader("abc")}, 2, "p.json is 3 bytes, over the 2-byte limit"},
		{"endless stream", stream{zeros{}}, 1 << 20, "p.json is more than 8,388,608 bytes, over the 1 MiB limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := ReadAll(tt.r, "p.json", tt.limit)
			if tt.want == "" {
				if err != nil || string(data) != "{}" {
					t.Fatalf("got %q, %v", data, err)
				}
				return
			}
			var le *Error
			if !errors.As(err, &le) || err.Error() != tt.want {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// A file is measured from its length, also after part of it was read,
// and a pipe by counting.
func TestReadAllFileAndPipe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "policy.json")
	if err := os.WriteFile(path, bytes.Repeat([]byte(" "), 52428800), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	if _, err := f.Seek(100, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	_, err = ReadAll(f, "policy.json", 1<<20)
	if err == nil || err.Error() != "policy.json is 52,428,700 bytes, over the 1 MiB limit" {
		t.Fatalf("file: %v", err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, _ = pw.Write(bytes.Repeat([]byte("y"), 2<<20+1))
		_ = pw.Close()
	}()
	_, err = ReadAll(pr, "-", 1<<20)
	_ = pr.Close()
	if err == nil || err.Error() != "- is 2,097,153 bytes, over the 1 MiB limit" {
		t.Fatalf("pipe: %v", err)
	}
}

func TestBytesAndSize(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 52428800: "52,428,800", -1234567: "-1,234,567"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
	for n, want := range map[int64]string{1 << 20: "1 MiB", 16 << 20: "16 MiB", 20480: "20,480-byte"} {
		if got := Size(n); got != want {
			t.Errorf("Size(%d) = %q, want %q", n, got, want)
		}
	}
}
