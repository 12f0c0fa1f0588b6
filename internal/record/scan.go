package record

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// ErrNotLogFile matches errors for input that is not a CloudTrail log
// file: not JSON, or a JSON value without a Records array of objects.
var ErrNotLogFile = errors.New("not a CloudTrail log file")

// SyntaxError says where a file stops being what Scan expects.
type SyntaxError struct {
	Offset int64 // bytes from the start of the file
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("%s at byte %d", e.Msg, e.Offset) }

// Is makes errors.Is(err, ErrNotLogFile) hold.
func (e *SyntaxError) Is(target error) bool { return target == ErrNotLogFile }

// maxDepth bounds nesting, so a hostile file cannot exhaust the stack.
const maxDepth = 512

// Scan calls fn for every record of the log file data, in order, with n
// the record's 1-based ordinal. The Event and its slices are reused: fn
// must copy what it keeps. A file that is not {"Records":[{...}, ...]}
// gives a *SyntaxError; an error from fn stops the scan and is returned.
func Scan(data []byte, fn func(n int, e *Event) error) error {
	var s scanner
	return s.file(data, fn)
}

// scanner holds the scratch space for unescaped strings and Extra.
type scanner struct {
	data    []byte
	scratch []byte
	extra   []byte
	ev      Event
	// keys counts the record's members, members has a bit for each one
	// with a column, others lists the others; careful says the record
	// repeats a key and is read again checking each. See event.
	keys    int
	members uint64
	others  [][]byte
	careful bool
}

func (s *scanner) fail(pos int, format string, args ...any) error {
	return &SyntaxError{Offset: int64(pos), Msg: fmt.Sprintf(format, args...)}
}

func (s *scanner) file(data []byte, fn func(int, *Event) error) error {
	s.data = data
	i := s.ws(0)
	if i >= len(data) || data[i] != '{' {
		return s.fail(i, "no JSON object")
	}
	i = s.ws(i + 1)
	found := false
	if i < len(data) && data[i] == '}' {
		i++
	} else {
		for {
			key, next, err := s.key(i)
			if err != nil {
				return err
			}
			if string(key) == "Records" && found {
				// Reading either array alone would drop the other's records.
				return s.fail(i, "a second Records member")
			}
			i = next
			if string(key) == "Records" {
				if i >= len(data) || data[i] != '[' {
					return s.fail(i, "Records is not an array (a digest, or not a CloudTrail log file)")
				}
				found = true
				if i, err = s.records(i+1, fn); err != nil {
					return err
				}
			} else if i, err = s.skip(i, 1); err != nil {
				return err
			}
			if i, err = s.after(i, '}'); err != nil {
				return err
			}
			if data[i-1] == '}' {
				break
			}
		}
	}
	if j := s.ws(i); j < len(data) {
		return s.fail(j, "data after the JSON object")
	}
	if !found {
		return s.fail(i, "no Records array (a digest, or not a CloudTrail log file)")
	}
	return nil
}

// records reads the elements of the Records array starting after '['.
func (s *scanner) records(i int, fn func(int, *Event) error) (int, error) {
	d := s.data
	i = s.ws(i)
	if i < len(d) && d[i] == ']' {
		return i + 1, nil
	}
	for n := 1; ; n++ {
		if i >= len(d) {
			return 0, s.fail(i, "unexpected end of JSON in record %d (a truncated file)", n)
		}
		if d[i] != '{' {
			return 0, s.fail(i, "record %d is not a JSON object", n)
		}
		end, err := s.event(i)
		if err != nil {
			return 0, err
		}
		s.ev.Size = end - i
		if err := fn(n, &s.ev); err != nil {
			return 0, err
		}
		if i, err = s.after(end, ']'); err != nil {
			return 0, err
		}
		if d[i-1] == ']' {
			return i, nil
		}
	}
}

// after consumes the ',' or the closing byte that follows a value and the
// whitespace after it.
func (s *scanner) after(i int, closing byte) (int, error) {
	i = s.ws(i)
	if i >= len(s.data) {
		return 0, s.fail(i, "unexpected end of JSON")
	}
	switch s.data[i] {
	case ',':
		return s.ws(i + 1), nil
	case closing:
		return i + 1, nil
	}
	return 0, s.fail(i, "expected ',' or '%c'", closing)
}

// key reads `"name" :` at i and returns the name and the start of the value.
func (s *scanner) key(i int) ([]byte, int, error) {
	if i >= len(s.data) || s.data[i] != '"' {
		return nil, 0, s.fail(i, "expected a string key")
	}
	k, end, err := s.str(i)
	if err != nil {
		return nil, 0, err
	}
	end = s.ws(end)
	if end >= len(s.data) || s.data[end] != ':' {
		return nil, 0, s.fail(end, "expected ':'")
	}
	return k, s.ws(end + 1), nil
}

func (s *scanner) ws(i int) int {
	for i < len(s.data) {
		switch s.data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// str reads the string starting at the quote at i and returns its
// contents (unescaped, invalid UTF-8 replaced by U+FFFD) and the position
// after its closing quote. Strings without escapes are not copied.
func (s *scanner) str(i int) ([]byte, int, error) {
	d := s.data
	j := plain(d, i+1, highBits)
	for j < len(d) {
		c := d[j]
		if c == '"' {
			return d[i+1 : j : j], j + 1, nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		j++
	}
	if j >= len(d) {
		return nil, 0, s.fail(i, "unterminated string")
	}
	if d[j] < 0x20 {
		return nil, 0, s.fail(j, "control character in string")
	}
	// The slow path: copy into scratch, unescaping and fixing UTF-8.
	start := len(s.scratch)
	s.scratch = append(s.scratch, d[i+1:j]...)
	for j < len(d) {
		c := d[j]
		switch {
		case c == '"':
			out := s.scratch[start:len(s.scratch):len(s.scratch)]
			return out, j + 1, nil
		case c < 0x20:
			return nil, 0, s.fail(j, "control character in string")
		case c == '\\':
			n, err := s.escape(j)
			if err != nil {
				return nil, 0, err
			}
			j = n
		case c < utf8.RuneSelf:
			s.scratch = append(s.scratch, c)
			j++
		default:
			r, size := utf8.DecodeRune(d[j:])
			s.scratch = utf8.AppendRune(s.scratch, r) // RuneError for invalid bytes
			j += size
		}
	}
	return nil, 0, s.fail(i, "unterminated string")
}

// escape appends the character of the escape sequence at i (a backslash)
// to scratch and returns the position after it.
func (s *scanner) escape(i int) (int, error) {
	d := s.data
	if i+1 >= len(d) {
		return 0, s.fail(i, "unterminated string")
	}
	switch c := d[i+1]; c {
	case '"', '\\', '/':
		s.scratch = append(s.scratch, c)
	case 'b':
		s.scratch = append(s.scratch, '\b')
	case 'f':
		s.scratch = append(s.scratch, '\f')
	case 'n':
		s.scratch = append(s.scratch, '\n')
	case 'r':
		s.scratch = append(s.scratch, '\r')
	case 't':
		s.scratch = append(s.scratch, '\t')
	case 'u':
		r, ok := hex4(d, i+2)
		if !ok {
			return 0, s.fail(i, "invalid \\u escape")
		}
		next := i + 6
		if utf16.IsSurrogate(r) {
			if r2, ok := hex4(d, next+2); ok && next+1 < len(d) && d[next] == '\\' && d[next+1] == 'u' {
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					s.scratch = utf8.AppendRune(s.scratch, dec)
					return next + 6, nil
				}
			}
			r = utf8.RuneError
		}
		s.scratch = utf8.AppendRune(s.scratch, r)
		return next, nil
	default:
		return 0, s.fail(i, "invalid escape \\%c", c)
	}
	return i + 2, nil
}

// hex4 reads the four hex digits of a \u escape at d[i:].
func hex4(d []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(d) {
		return 0, false
	}
	var r rune
	for _, c := range d[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// skip validates the JSON value at i and returns the position after it.
func (s *scanner) skip(i, depth int) (int, error) {
	d := s.data
	if i >= len(d) {
		return 0, s.fail(i, "unexpected end of JSON")
	}
	switch c := d[i]; {
	case c == '"':
		return s.skipStr(i)
	case c == '{' || c == '[':
		if depth > maxDepth {
			return 0, s.fail(i, "JSON nested deeper than %d", maxDepth)
		}
		closing := byte('}')
		if c == '[' {
			closing = ']'
		}
		j := s.ws(i + 1)
		if j < len(d) && d[j] == closing {
			return j + 1, nil
		}
		for {
			var err error
			if c == '{' {
				if j, err = s.skipKey(j); err != nil {
					return 0, err
				}
			}
			if j, err = s.skip(j, depth+1); err != nil {
				return 0, err
			}
			if j, err = s.after(j, closing); err != nil {
				return 0, err
			}
			if d[j-1] == closing {
				return j, nil
			}
		}
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	case c == '-' || c >= '0' && c <= '9':
		return s.number(i)
	}
	return 0, s.fail(i, "invalid character %q looking for a JSON value", d[i])
}

func (s *scanner) skipKey(i int) (int, error) {
	d := s.data
	if i >= len(d) || d[i] != '"' {
		return 0, s.fail(i, "expected a string key")
	}
	j, err := s.skipStr(i)
	if err != nil {
		return 0, err
	}
	j = s.ws(j)
	if j >= len(d) || d[j] != ':' {
		return 0, s.fail(j, "expected ':'")
	}
	return s.ws(j + 1), nil
}

// skipStr validates the string at i without copying it. Invalid UTF-8 is
// accepted here; raw values holding it are repaired by clean.
func (s *scanner) skipStr(i int) (int, error) {
	d := s.data
	for j := i + 1; j < len(d); j++ {
		if j = plain(d, j, 0); j == len(d) {
			break
		}
		switch c := d[j]; {
		case c == '"':
			return j + 1, nil
		case c == '\\':
			if j+1 >= len(d) {
				return 0, s.fail(i, "unterminated string")
			}
			switch d[j+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				j++
			case 'u':
				if _, ok := hex4(d, j+2); !ok {
					return 0, s.fail(j, "invalid \\u escape")
				}
				j += 5
			default:
				return 0, s.fail(j, "invalid escape \\%c", d[j+1])
			}
		case c < 0x20:
			return 0, s.fail(j, "control character in string")
		}
	}
	return 0, s.fail(i, "unterminated string")
}

func (s *scanner) literal(i int, lit string) (int, error) {
	if len(s.data)-i < len(lit) || string(s.data[i:i+len(lit)]) != lit {
		return 0, s.fail(i, "invalid literal")
	}
	return i + len(lit), nil
}

// number validates a JSON number at i.
func (s *scanner) number(i int) (int, error) {
	d := s.data
	j := i
	if d[j] == '-' {
		j++
	}
	digits := func() int {
		k := j
		for j < len(d) && d[j] >= '0' && d[j] <= '9' {
			j++
		}
		return j - k
	}
	switch {
	case j < len(d) && d[j] == '0':
		j++
	case digits() == 0:
		return 0, s.fail(i, "invalid number")
	}
	if j < len(d) && d[j] == '.' {
		j++
		if digits() == 0 {
			return 0, s.fail(i, "invalid number")
		}
	}
	if j < len(d) && (d[j] == 'e' || d[j] == 'E') {
		j++
		if j < len(d) && (d[j] == '+' || d[j] == '-') {
			j++
		}
		if digits() == 0 {
			return 0, s.fail(i, "invalid number")
		}
	}
	return j, nil
}

// raw returns the JSON value at i as text (see clean) and the position
// after it.
func (s *scanner) raw(i int) ([]byte, int, error) {
	end, err := s.skip(i, 1)
	if err != nil {
		return nil, 0, err
	}
	return s.clean(s.data[i:end:end]), end, nil
}

// clean returns the valid JSON text v as DuckDB accepts it, and as
// encoding/json reads it: invalid UTF-8 inside strings becomes U+FFFD, and
// so does a \u escape of a lone surrogate (written \ufffd; DuckDB refuses
// the text otherwise). Text that needs neither is returned as it is.
func (s *scanner) clean(v []byte) []byte {
	if utf8.Valid(v) && !loneSurrogate(v) {
		return v
	}
	start := len(s.scratch)
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == '\\':
			n := escapeLen(v, i)
			if r, _ := hex4(v, i+2); n == 6 && utf16.IsSurrogate(r) {
				s.scratch = append(s.scratch, `\ufffd`...)
			} else {
				s.scratch = append(s.scratch, v[i:i+n]...)
			}
			i += n
		case c < utf8.RuneSelf:
			s.scratch = append(s.scratch, c)
			i++
		default:
			r, size := utf8.DecodeRune(v[i:])
			s.scratch = utf8.AppendRune(s.scratch, r) // RuneError for invalid bytes
			i += size
		}
	}
	return s.scratch[start:len(s.scratch):len(s.scratch)]
}

// loneSurrogate says whether the valid JSON text v has a \u escape of a
// surrogate that is not half of a pair.
func loneSurrogate(v []byte) bool {
	for i := 0; ; {
		k := bytes.IndexByte(v[i:], '\\')
		if k < 0 {
			return false
		}
		i += k
		n := escapeLen(v, i)
		if r, _ := hex4(v, i+2); n == 6 && utf16.IsSurrogate(r) {
			return true
		}
		i += n
	}
}

// escapeLen returns the length of the escape at v[i], a backslash in valid
// JSON text: 12 for a surrogate pair, 6 for another \u escape, else 2.
func escapeLen(v []byte, i int) int {
	if v[i+1] != 'u' {
		return 2
	}
	if r, _ := hex4(v, i+2); utf16.IsSurrogate(r) {
		if r2, ok := hex4(v, i+8); ok && v[i+6] == '\\' && v[i+7] == 'u' && utf16.DecodeRune(r, r2) != utf8.RuneError {
			return 12
		}
	}
	return 6
}

const (
	lowBits  = 0x0101010101010101
	highBits = 0x8080808080808080
)

// plain returns the index of the first byte at or after j that may end a
// run of plain string bytes: a quote, a backslash, a control character,
// or (when high is highBits) a byte of a multi-byte UTF-8 sequence. It
// looks at 8 bytes at a time and stops within 8 of the end (or at it),
// leaving the exact byte-by-byte checks to the caller: strings are most
// of a CloudTrail file, and this made scanning them about a third faster.
func plain(d []byte, j int, high uint64) int {
	for j+8 <= len(d) {
		if m := special(binary.LittleEndian.Uint64(d[j:]), high); m != 0 {
			return j + bits.TrailingZeros64(m)/8
		}
		j += 8
	}
	return j
}

// special sets the high bit of the bytes of w that are '"', '\\', below
// 0x20, or (with high set) 0x80 and above. A borrow can also mark a byte
// above a marked one, so only the lowest mark is exact.
func special(w, high uint64) uint64 {
	quote := w ^ (lowBits * '"')
	slash := w ^ (lowBits * '\\')
	return ((quote-lowBits)&^quote | (slash-lowBits)&^slash | (w-lowBits*0x20)&^w | w&high) & highBits
}
