package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// events renders every record a reader finds, for comparing readers.
func events(t *testing.T, read func(fn func(int, *Event) error) error) ([]string, error) {
	t.Helper()
	var out []string
	err := read(func(_ int, e *Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
		return nil
	})
	return out, err
}

// Stream reads what Scan reads, record for record, from every corpus file.
func TestStream_SameAsScan(t *testing.T) {
	files, err := filepath.Glob("testdata/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		want, err := events(t, func(fn func(int, *Event) error) error { return Scan(data, fn) })
		if err != nil {
			t.Fatalf("%s: Scan: %v", f, err)
		}
		got, err := events(t, func(fn func(int, *Event) error) error { return Stream(bytes.NewReader(data), 1<<20, fn) })
		if err != nil {
			t.Fatalf("%s: Stream: %v", f, err)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: Stream and Scan differ:\nstream %v\nscan   %v", f, got, want)
		}
	}
}

func TestStream_Errors(t *testing.T) {
	rec := `{"eventID":"1"}`
	for name, c := range map[string]struct {
		in, want string
	}{
		"not JSON":          {`nope`, "no JSON object"},
		"digest file":       {`{"awsAccountId":"1","logFiles":[]}`, "no Records array"},
		"not an array":      {`{"Records":{}}`, "Records is not an array"},
		"record not object": {`{"Records":[` + rec + `,1]}`, "record 2 is not a JSON object"},
		"truncated":         {`{"Records":[` + rec + `,`, "invalid record 2"},
		"second Records":    {`{"Records":[],"Records":[` + rec + `]}`, "a second Records member"},
		"trailing data":     {`{"Records":[]} x`, "data after the JSON object"},
		"record too large":  {`{"Records":[{"a":"` + strings.Repeat("x", 3<<20) + `"}]}`, "too large"},
	} {
		t.Run(name, func(t *testing.T) {
			err := Stream(strings.NewReader(c.in), 1<<10, func(int, *Event) error { return nil })
			if !errors.Is(err, ErrNotLogFile) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a log-file error saying %q", err, c.want)
			}
		})
	}
	// A reader's own error is returned as it is, not as a syntax error.
	boom := errors.New("disk on fire")
	err := Stream(&failing{data: []byte(`{"Records":[` + rec), err: boom}, 1<<20, func(int, *Event) error { return nil })
	if !errors.Is(err, boom) || errors.Is(err, ErrNotLogFile) {
		t.Fatalf("err = %v, want the reader's error", err)
	}
}

type failing struct {
	data []byte
	err  error
}

func (f *failing) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}
