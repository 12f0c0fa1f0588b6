// Package readlimit reads inputs that have a size limit and, when one is
// over it, says how big it really is: "policy.json is 52,428,800 bytes,
// over the 1 MiB limit", not the limit plus one. The size is measured
// without holding the input: a file's from its length, a stream's by
// counting the rest of it up to CountCap.
package readlimit

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// CountCap bounds how much of an oversized stream is read to measure it;
// past it the size is reported as "more than".
const CountCap = 1 << 30

// countCap is CountCap, lowered by tests.
var countCap int64 = CountCap

// Error is an input over its limit.
type Error struct {
	Name    string // what was read, e.g. the file name; may be empty
	Size    int64  // its size in bytes, or a lower bound when AtLeast
	AtLeast bool   // the input is longer than Size (a stream past CountCap)
	Limit   int64
}

// Error reads "policy.json is 52,428,800 bytes, over the 1 MiB limit".
func (e *Error) Error() string {
	if e.Name == "" {
		return "input is " + e.Measure()
	}
	return e.Name + " is " + e.Measure()
}

// Measure is the message without the name: "52,428,800 bytes, over the 1
// MiB limit".
func (e *Error) Measure() string {
	size := Bytes(e.Size) + " bytes"
	if e.AtLeast {
		size = "more than " + size
	}
	return size + ", over the " + Size(e.Limit) + " limit"
}

// ReadAll reads r whole when it holds at most limit bytes; otherwise it
// returns an *Error with the real size (name is for the message).
func ReadAll(r io.Reader, name string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) <= limit {
		return data, nil
	}
	size, atLeast, err := measure(r, int64(len(data)))
	if err != nil {
		return nil, err
	}
	return nil, &Error{Name: name, Size: size, AtLeast: atLeast, Limit: limit}
}

// measure finds the size of an input of which read bytes were read: from
// the file's length when r can seek, else by counting the rest.
func measure(r io.Reader, read int64) (size int64, atLeast bool, err error) {
	if s, ok := r.(io.Seeker); ok {
		if cur, err := s.Seek(0, io.SeekCurrent); err == nil {
			if end, err := s.Seek(0, io.SeekEnd); err == nil && end >= cur {
				return read + end - cur, false, nil
			}
		}
	}
	rest, err := io.CopyN(io.Discard, r, countCap-read+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return 0, false, fmt.Errorf("measure: %w", err)
	}
	if read+rest > countCap {
		return countCap, true, nil
	}
	return read + rest, false, nil
}

// Bytes writes n with thousands separators: 52428800 is "52,428,800".
func Bytes(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := ""
	if n < 0 {
		neg, s = "-", s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return neg + string(out)
}

// Size is a limit as people say it before "limit": "1 MiB", "16 MiB",
// "20,480-byte".
func Size(n int64) string {
	const mib = 1 << 20
	if n >= mib && n%mib == 0 {
		return strconv.FormatInt(n/mib, 10) + " MiB"
	}
	return Bytes(n) + "-byte"
}
