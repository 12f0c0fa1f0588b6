package record

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzStream checks Stream, the reader of files too large for memory,
// against Scan: it never panics, fails only with a log-file error (the
// input is in memory, so no read error can happen), and accepts exactly
// the files Scan accepts, with the same records, whenever every record is
// within its size limit.
func FuzzStream(f *testing.F) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		f.Fatalf("no corpus: %v", err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{`{"Records":[]}`, `{"a":[1,{"b":2}],"Records":[{"eventID":"x"}],"c":null}`, `{"Records":[{}]} `,
		`{"Records":[{"a":"` + strings.Repeat("x", 5000) + `"}]}`, `{"Records":[],"Records":[]}`, `{"Records":[1]}`} {
		f.Add([]byte(s))
	}
	const maxRecord = 4096
	f.Fuzz(func(t *testing.T, data []byte) {
		want, scanErr := events(t, func(fn func(int, *Event) error) error { return Scan(data, fn) })
		got, streamErr := events(t, func(fn func(int, *Event) error) error { return Stream(bytes.NewReader(data), maxRecord, fn) })
		if streamErr != nil && !errors.Is(streamErr, ErrNotLogFile) {
			t.Fatalf("Stream failed with %v, not a log-file error", streamErr)
		}
		if msg := errString(streamErr); strings.Contains(msg, "too large") || strings.Contains(msg, "larger than") {
			return // a record or value over Stream's limit: Scan has none
		}
		if (scanErr == nil) != (streamErr == nil) {
			t.Fatalf("Scan: %v; Stream: %v", scanErr, streamErr)
		}
		if scanErr == nil && strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("Stream and Scan read different records:\nstream %v\nscan   %v", got, want)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
