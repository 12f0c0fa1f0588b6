package record

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Stream is Scan for files too large to hold in memory: it reads r
// holding one record at a time (up to maxRecord bytes; larger records are
// an error), so memory stays bounded whatever the file's size. It is
// slower than Scan, which is for files that fit in memory.
func Stream(r io.Reader, maxRecord int64, fn func(n int, e *Event) error) error {
	cr := &countingReader{r: r}
	dec := json.NewDecoder(cr)
	fail := func(msg string, args ...any) error {
		return &SyntaxError{Offset: dec.InputOffset(), Msg: fmt.Sprintf(msg, args...)}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return streamErr(err, dec, cr, "no JSON object")
	}
	var s scanner
	found := false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return streamErr(err, dec, cr, "expected a string key")
		}
		if key, _ := tok.(string); key != "Records" {
			if err := skipValue(dec, cr, maxRecord); err != nil {
				return err
			}
			continue
		}
		if found {
			return fail("a second Records member")
		}
		found = true
		if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
			return streamErr(err, dec, cr, "Records is not an array (a digest, or not a CloudTrail log file)")
		}
		for n := 1; dec.More(); n++ {
			start := cr.n
			cr.limit = start + maxRecord + 1<<20
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return streamErr(err, dec, cr, "invalid record %d", n)
			}
			if int64(len(raw)) > maxRecord || cr.n-start > maxRecord+(1<<20) {
				return fail("record %d is larger than %d bytes", n, maxRecord)
			}
			s.data = raw
			i := s.ws(0)
			if i >= len(raw) || raw[i] != '{' {
				return fail("record %d is not a JSON object", n)
			}
			if _, err := s.event(i); err != nil {
				return err
			}
			s.ev.Size = len(raw)
			if err := fn(n, &s.ev); err != nil {
				return err
			}
		}
		if _, err := dec.Token(); err != nil {
			return streamErr(err, dec, cr, "unterminated Records array")
		}
	}
	if _, err := dec.Token(); err != nil {
		return streamErr(err, dec, cr, "unterminated JSON object")
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		if err != nil && cr.err != nil {
			return cr.err
		}
		return fail("data after the JSON object")
	}
	if !found {
		return fail("no Records array (a digest, or not a CloudTrail log file)")
	}
	return nil
}

// skipValue reads past a value that is not the Records array.
func skipValue(dec *json.Decoder, cr *countingReader, maxRecord int64) error {
	start := cr.n
	cr.limit = start + maxRecord + 1<<20
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return streamErr(err, dec, cr, "invalid JSON value")
	}
	if cr.n-start > maxRecord+(1<<20) {
		return &SyntaxError{Offset: dec.InputOffset(), Msg: fmt.Sprintf("a value larger than %d bytes", maxRecord)}
	}
	return nil
}

// streamErr returns the reader's own error (an I/O failure, a corrupt
// gzip stream) as it is, and anything else as a *SyntaxError.
func streamErr(err error, dec *json.Decoder, cr *countingReader, msg string, args ...any) error {
	if cr.err != nil {
		return cr.err
	}
	m := fmt.Sprintf(msg, args...)
	if err != nil && !errors.Is(err, io.EOF) {
		m += ": " + err.Error()
	} else if errors.Is(err, io.EOF) {
		m += ": unexpected end of JSON"
	}
	return &SyntaxError{Offset: dec.InputOffset(), Msg: m}
}

// countingReader counts bytes read and keeps the first real read error.
type countingReader struct {
	r     io.Reader
	n     int64
	err   error
	limit int64 // read no further than this (0: no limit)
}

// errValueTooLarge stops a read that would buffer more than one value's
// worth of bytes.
var errValueTooLarge = errors.New("a JSON value is too large")

func (c *countingReader) Read(p []byte) (int, error) {
	if c.limit > 0 && c.n >= c.limit {
		if c.err == nil {
			c.err = &SyntaxError{Offset: c.n, Msg: errValueTooLarge.Error() + " (a record over the size limit)"}
		}
		return 0, c.err
	}
	if c.limit > 0 && int64(len(p)) > c.limit-c.n {
		p = p[:c.limit-c.n]
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && c.err == nil {
		c.err = err
	}
	return n, err
}
