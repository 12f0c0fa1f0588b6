package batch

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/digest"
	"github.com/trailwarden/trailwarden/internal/record"
)

func gz(s string) []byte {
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	_, _ = zw.Write([]byte(s))
	_ = zw.Close()
	return b.Bytes()
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func logOf(n int) string {
	var recs []string
	for i := range n {
		recs = append(recs, ev(fmt.Sprint(i), "1", "2026-11-20T10:00:00Z"))
	}
	return `{"Records":[` + strings.Join(recs, ",") + `]}`
}

func TestAppend(t *testing.T) {
	good := logOf(3)
	cases := []struct {
		name string
		data []byte
		rows int
		err  error
	}{
		{"good", gz(good), 3, nil},
		{"empty Records", gz(`{"Records":[]}`), 0, nil},
		{"trailing data", append(gz(good), gz(good)...), 0, digest.ErrTrailingData},
		{"truncated", gz(good)[:40], 0, digest.ErrCorrupt},
		{"not gzip", []byte(good), 0, digest.ErrCorrupt},
		{"empty", nil, 0, digest.ErrCorrupt},
		{"digest file", gz(`{"awsAccountId":"1","logFiles":[]}`), 0, record.ErrNotLogFile},
		{"bad record", gz(`{"Records":[{"eventID":"1"},{"eventID":]}`), 0, record.ErrNotLogFile},
	}
	var p Parser
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b Events
			b.Begin(file("before"))
			add(t, &b, ev("x", "1", "2026-11-20T10:00:00Z"))
			b.Commit()
			hash, err := p.Append(&b, file("k"), c.data, 1<<20)
			if !errors.Is(err, c.err) {
				t.Fatalf("err = %v, want %v", err, c.err)
			}
			b.Commit()
			if got := b.Rows() - 1; got != c.rows {
				t.Fatalf("%d rows kept, want %d", got, c.rows)
			}
			if c.err == nil && c.name == "good" && hash != sha(good) {
				t.Fatalf("hash %s, want the SHA-256 of the decompressed bytes", hash)
			}
			if c.err != nil && len(b.Files()) != 1 {
				t.Fatalf("a failed file left %d files in the batch", len(b.Files()))
			}
		})
	}
	var b Events
	if _, err := p.Append(&b, file("big"), gz(good), len(good)-1); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("over the limit: err = %v, want ErrTooLarge", err)
	}
}

type bytesFile struct{ *bytes.Reader }

func (bytesFile) Close() error { return nil }

func TestStreamLoadsInPartsOnlyWhatVerifies(t *testing.T) {
	body := logOf(500)
	data := gz(body)
	open := func() (io.ReadCloser, error) { return bytesFile{bytes.NewReader(data)}, nil }
	var p Parser
	var b Events
	var parts, rows int
	emit := func(b *Events) error {
		parts++
		rows += b.Rows()
		if f := b.Files(); len(f) != 1 || !f[0].Partial {
			t.Fatalf("emitted files %+v, want one partial", f)
		}
		b.Reset()
		return nil
	}
	if err := p.Stream(&b, file("big"), open, sha(body), 16<<10, emit); err != nil {
		t.Fatal(err)
	}
	b.Commit()
	rows += b.Rows()
	if parts < 3 || rows != 500 || b.Files()[0].Partial {
		t.Fatalf("%d parts, %d rows, last %+v", parts, rows, b.Files())
	}
	// A wrong hash or a bad record anywhere loads nothing at all.
	for name, c := range map[string]struct {
		data []byte
		want string
		err  error
	}{
		"hash":       {data, sha("other"), ErrHashMismatch},
		"bad record": {gz(body[:len(body)-2] + `,1]}`), "", record.ErrNotLogFile},
		"truncated":  {data[:len(data)/2], "", digest.ErrCorrupt},
	} {
		var b Events
		open := func() (io.ReadCloser, error) { return bytesFile{bytes.NewReader(c.data)}, nil }
		err := p.Stream(&b, file("bad"), open, c.want, 16<<10, func(*Events) error {
			t.Fatalf("%s: a part was emitted", name)
			return nil
		})
		if !errors.Is(err, c.err) || b.Rows() != 0 {
			t.Fatalf("%s: err = %v, rows %d; want %v and nothing kept", name, err, b.Rows(), c.err)
		}
	}
}

// A record that repeats a top-level key is kept and named with its
// ordinal in the file, read whole or in parts; a file that turns out bad
// names nothing.
func TestRepeatedKeysAreNamed(t *testing.T) {
	var recs []string
	for i := range 40 {
		r := ev(fmt.Sprint(i), "1", "2026-11-20T10:00:00Z")
		switch i {
		case 1: // record 2
			r = strings.Replace(r, `"eventName"`, `"eventID":"shadow","eventName"`, 1)
		case 6, 9, 30, 31: // records 7, 10, 31, 32
			r = strings.Replace(r, `"readOnly":true`, `"readOnly":true,"recipientAccountId":"2"`, 1)
		}
		recs = append(recs, r)
	}
	body := `{"Records":[` + strings.Join(recs, ",") + `]}`
	want := []RepeatedKey{{2, "eventID"}, {7, "recipientAccountId"}, {10, "recipientAccountId"}}
	check := func(how string, files []FileRows) {
		t.Helper()
		n, rows := 0, 0
		var named []RepeatedKey
		for _, f := range files {
			n += f.RepeatedKeys
			rows += f.Rows
			named = append(named, f.Repeats...)
		}
		if n != 5 || rows != 40 || len(named) < 3 || !slices.Equal(named[:3], want) {
			t.Fatalf("%s: %d records repeat a key, %d rows, named %v; want 5, 40 and %v first", how, n, rows, named, want)
		}
	}
	var p Parser
	var b Events
	if _, err := p.Append(&b, file("k"), gz(body), 1<<20); err != nil {
		t.Fatal(err)
	}
	b.Commit()
	check("in memory", b.Files())
	if got := b.Files()[0].Repeats; len(got) != MaxRepeatedKeys {
		t.Fatalf("a file names %d records, want the first %d", len(got), MaxRepeatedKeys)
	}
	var parts []FileRows
	var s Events
	open := func() (io.ReadCloser, error) { return bytesFile{bytes.NewReader(gz(body))}, nil }
	err := p.Stream(&s, file("k"), open, "", 2<<10, func(e *Events) error {
		parts = append(parts, e.Files()...)
		e.Reset()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Commit()
	parts = append(parts, s.Files()...)
	if len(parts) < 3 {
		t.Fatalf("%d parts, want several", len(parts))
	}
	check("in parts", parts)
	var bad Events
	if _, err := p.Append(&bad, file("bad"), gz(body[:len(body)-2]+`,1]}`), 1<<20); err == nil {
		t.Fatal("a bad file was read")
	}
	bad.Commit()
	if len(bad.Files()) != 0 {
		t.Fatalf("a bad file left %+v", bad.Files())
	}
}

// A record over RecordLimit makes its file bad, read whole or streamed,
// with nothing of it kept: the error names the record, its size and its
// largest field; a record at the limit is kept.
func TestRecordOverTheLimitIsRefused(t *testing.T) {
	pad := func(n int) string {
		// A record of exactly n bytes, its userAgent filling it.
		r := ev("big", "1", "2026-11-20T10:00:00Z")
		return strings.Replace(r, `"readOnly":true`, `"readOnly":true,"userAgent":"`+strings.Repeat("a", n-len(r)-len(`,"userAgent":""`))+`"`, 1)
	}
	at, over := pad(RecordLimit), pad(RecordLimit+1)
	huge := strings.Replace(over, `"userAgent":"`, `"userAgent":"`+strings.Repeat("b", 49<<20), 1)
	if len(at) != RecordLimit || len(over) != RecordLimit+1 {
		t.Fatalf("padded records of %d and %d bytes", len(at), len(over))
	}
	var p Parser
	for name, c := range map[string]struct {
		rec  string
		want string
	}{
		"at the limit":  {at, ""},
		"one byte over": {over, "record 3 is 1048577 bytes, over the 1 MiB limit on a record (CloudTrail writes at most 256 KB an event): its field userAgent is 1023.8 KiB"},
		"50 MB":         {huge, "record 3 is 50.0 MiB, over the 1 MiB limit on a record (CloudTrail writes at most 256 KB an event): its field userAgent is 50.0 MiB"},
	} {
		body := `{"Records":[` + ev("a", "1", "2026-11-20T10:00:00Z") + "," + ev("b", "1", "2026-11-20T10:00:00Z") + "," + c.rec + "]}"
		var b Events
		_, err := p.Append(&b, file("k"), gz(body), 64<<20)
		b.Commit()
		var s Events
		open := func() (io.ReadCloser, error) { return bytesFile{bytes.NewReader(gz(body))}, nil }
		serr := p.Stream(&s, file("k"), open, "", 1<<10, func(*Events) error {
			if c.want != "" {
				t.Errorf("%s: a part of a file with a record over the limit was emitted", name)
			}
			return nil
		})
		s.Commit()
		for how, e := range map[string]error{"in memory": err, "streamed": serr} {
			switch {
			case c.want == "" && e != nil:
				t.Errorf("%s, %s: %v", name, how, e)
			case c.want != "" && (!errors.Is(e, ErrRecordTooLarge) || e.Error() != c.want):
				t.Errorf("%s, %s: err = %v\nwant %s", name, how, e, c.want)
			}
		}
		if c.want != "" && (b.Rows() != 0 || s.Rows() != 0) {
			t.Errorf("%s: %d and %d rows kept of a refused file", name, b.Rows(), s.Rows())
		}
	}
}
