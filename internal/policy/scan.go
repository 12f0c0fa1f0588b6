package policy

import (
	"fmt"
	"sort"
	"strconv"
	"unicode/utf8"
)

// scanner is a small JSON reader over the whole input. encoding/json's
// Decoder is not used because its SyntaxError offsets are unreliable for
// streamed tokens (sometimes relative to the current value, sometimes past
// the offending byte), it accepts duplicate keys and it silently replaces
// invalid UTF-8; errors here must point at the exact line and column.
//
// Errors abort the parse by panicking with a bailout, recovered in Parse:
// the grammar is deeply nested and threading errors through every helper
// would triple its size.
type scanner struct {
	data  []byte
	off   int
	lines []int // byte offset at which each line starts
}

type bailout struct{ err *ParseError }

func newScanner(data []byte) *scanner {
	lines := []int{0}
	for i, c := range data {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return &scanner{data: data, lines: lines}
}

// position converts a byte offset to a 1-based line and column. Columns
// count bytes, like the Go toolchain does.
func (s *scanner) position(off int) Position {
	i := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > off }) - 1
	return Position{Line: i + 1, Column: off - s.lines[i] + 1}
}

func (s *scanner) fail(path string, off int, format string, args ...any) {
	panic(bailout{&ParseError{Path: path, Pos: s.position(off), Msg: fmt.Sprintf(format, args...)}})
}

func (s *scanner) skipSpace() {
	for s.off < len(s.data) {
		switch s.data[s.off] {
		case ' ', '\t', '\n', '\r':
			s.off++
		default:
			return
		}
	}
}

func (s *scanner) eof() bool { return s.off >= len(s.data) }

// peek skips whitespace and returns the next byte, or 0 at end of input
// (a NUL byte also gives 0: use eof to tell them apart).
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.off >= len(s.data) {
		return 0
	}
	return s.data[s.off]
}

// kind names the JSON type of the value at the current offset for "got X"
// messages. Anything that cannot start a value is a syntax error.
func (s *scanner) kind(path string) string {
	switch c := s.peek(); {
	case c == '"':
		return "string"
	case c == '{':
		return "object"
	case c == '[':
		return "array"
	case c == 't' || c == 'f':
		return "boolean"
	case c == 'n':
		return "null"
	case c == '-' || ('0' <= c && c <= '9'):
		return "number"
	}
	s.unexpected(path, "a value")
	return ""
}

// typeError reports a value of the wrong JSON type; want is e.g.
// "effect must be a string".
func (s *scanner) typeError(path, want string) {
	got := s.kind(path)
	s.fail(path, s.off, "%s, got %s", want, got)
}

// unexpected reports a syntax error at the current offset.
func (s *scanner) unexpected(path, expected string) {
	if s.off >= len(s.data) {
		s.fail(path, s.off, "unexpected end of input, expected %s", expected)
	}
	r, size := utf8.DecodeRune(s.data[s.off:])
	if r == utf8.RuneError && size == 1 {
		s.fail(path, s.off, "invalid UTF-8 byte 0x%02x, expected %s", s.data[s.off], expected)
	}
	s.fail(path, s.off, "unexpected character %s, expected %s", strconv.QuoteRune(r), expected)
}

func (s *scanner) expect(path string, c byte, expected string) {
	if s.peek() != c {
		s.unexpected(path, expected)
	}
	s.off++
}

// object reads an object, calling member for each key with the scanner
// positioned at the member's value, which member must consume. Duplicate
// keys are errors: Go's decoder keeps the last one silently, AWS rejects.
func (s *scanner) object(path string, member func(key string, keyOff int)) {
	s.expect(path, '{', "'{'")
	if s.peek() == '}' {
		s.off++
		return
	}
	seen := make(map[string]bool)
	for {
		if s.peek() != '"' {
			s.unexpected(path, "a string key")
		}
		keyOff := s.off
		key := s.str(path)
		if seen[key] {
			s.fail(childPath(path, key), keyOff, "duplicate key %s", strconv.Quote(key))
		}
		seen[key] = true
		s.expect(path, ':', "':' after object key")
		s.skipSpace()
		member(key, keyOff)
		switch s.peek() {
		case ',':
			s.off++
		case '}':
			s.off++
			return
		default:
			s.unexpected(path, "',' or '}' after object member")
		}
	}
}

// array reads an array, calling elem for each element with the scanner
// positioned at it, and returns the number of elements.
func (s *scanner) array(path string, elem func(i int, path string)) int {
	s.expect(path, '[', "'['")
	if s.peek() == ']' {
		s.off++
		return 0
	}
	for i := 0; ; i++ {
		s.skipSpace()
		elem(i, indexPath(path, i))
		switch s.peek() {
		case ',':
			s.off++
		case ']':
			s.off++
			return i + 1
		default:
			s.unexpected(path, "',' or ']' after array element")
		}
	}
}

// str reads a string literal at the current offset (which must be '"').
func (s *scanner) str(path string) string {
	s.off++
	var buf []byte // nil until an escape forces a copy
	lit := s.off
	for {
		if s.off >= len(s.data) {
			s.fail(path, s.off, "unexpected end of input in string")
		}
		c := s.data[s.off]
		switch {
		case c == '"':
			var out string
			if buf == nil {
				out = string(s.data[lit:s.off])
			} else {
				out = string(append(buf, s.data[lit:s.off]...))
			}
			s.off++
			return out
		case c == '\\':
			buf = append(buf, s.data[lit:s.off]...)
			buf = s.escape(path, buf)
			lit = s.off
		case c < 0x20:
			s.fail(path, s.off, "control character 0x%02x in string (use an escape)", c)
		case c < utf8.RuneSelf:
			s.off++
		default:
			r, size := utf8.DecodeRune(s.data[s.off:])
			if r == utf8.RuneError && size == 1 {
				s.fail(path, s.off, "invalid UTF-8 in string")
			}
			s.off += size
		}
	}
}

// escape decodes the escape sequence at the current offset ('\\') onto buf.
// Unpaired UTF-16 surrogates are rejected rather than replaced, so that no
// text is changed behind the author's back.
func (s *scanner) escape(path string, buf []byte) []byte {
	start := s.off
	if s.off+1 >= len(s.data) {
		s.fail(path, s.off, "unexpected end of input in string")
	}
	c := s.data[s.off+1]
	s.off += 2
	switch c {
	case '"', '\\', '/':
		return append(buf, c)
	case 'b':
		return append(buf, '\b')
	case 'f':
		return append(buf, '\f')
	case 'n':
		return append(buf, '\n')
	case 'r':
		return append(buf, '\r')
	case 't':
		return append(buf, '\t')
	case 'u':
		r := s.hex4(path, start)
		switch {
		case 0xD800 <= r && r < 0xDC00:
			if s.off+1 < len(s.data) && s.data[s.off] == '\\' && s.data[s.off+1] == 'u' {
				lowOff := s.off
				s.off += 2
				lo := s.hex4(path, lowOff)
				if 0xDC00 <= lo && lo < 0xE000 {
					return utf8.AppendRune(buf, 0x10000+(r-0xD800)<<10+(lo-0xDC00))
				}
			}
			s.fail(path, start, "unpaired UTF-16 surrogate in string escape")
		case 0xDC00 <= r && r < 0xE000:
			s.fail(path, start, "unpaired UTF-16 surrogate in string escape")
		}
		return utf8.AppendRune(buf, r)
	}
	s.fail(path, start, "invalid escape sequence in string")
	return nil
}

func (s *scanner) hex4(path string, escOff int) rune {
	if s.off+4 > len(s.data) {
		s.fail(path, escOff, "invalid \\u escape in string")
	}
	var r rune
	for _, c := range s.data[s.off : s.off+4] {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			s.fail(path, escOff, "invalid \\u escape in string")
		}
		r = r<<4 | rune(d)
	}
	s.off += 4
	return r
}

// number reads a JSON number and returns its literal text, which is what
// AWS compares (json.Number semantics).
func (s *scanner) number(path string) string {
	start := s.off
	if s.at('-') {
		s.off++
	}
	switch {
	case s.at('0'):
		s.off++
	case s.digit():
		s.digits()
	default:
		s.unexpected(path, "a digit")
	}
	if s.at('.') {
		s.off++
		if !s.digit() {
			s.unexpected(path, "a digit after '.'")
		}
		s.digits()
	}
	if s.at('e') || s.at('E') {
		s.off++
		if s.at('+') || s.at('-') {
			s.off++
		}
		if !s.digit() {
			s.unexpected(path, "a digit in exponent")
		}
		s.digits()
	}
	return string(s.data[start:s.off])
}

func (s *scanner) at(c byte) bool { return s.off < len(s.data) && s.data[s.off] == c }

func (s *scanner) digit() bool {
	return s.off < len(s.data) && '0' <= s.data[s.off] && s.data[s.off] <= '9'
}

func (s *scanner) digits() {
	for s.digit() {
		s.off++
	}
}

// literal consumes true, false or null.
func (s *scanner) literal(path, word string) {
	for i := 0; i < len(word); i++ {
		if !s.at(word[i]) {
			s.unexpected(path, fmt.Sprintf("literal %s", word))
		}
		s.off++
	}
}

// childPath appends a member to a JSONPath-ish path, bracket-quoting keys
// that are not plain identifiers (e.g. condition keys like "aws:SourceArn").
func childPath(path, key string) string {
	if isIdent(key) {
		return path + "." + key
	}
	return path + "[" + strconv.Quote(key) + "]"
}

func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		letter := c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
		if !letter && (i == 0 || c < '0' || c > '9') {
			return false
		}
	}
	return true
}
