package duckdb

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"time"
)

// DuckDB's to_json writes the times inside a STRUCT, LIST or MAP as it
// prints them ("2026-11-20 09:00:00"), not as the RFC 3339 of top-level
// columns. nestedType's tree of a column type says where its times are,
// and rfc3339Times rewrites just those strings, leaving the rest of the
// JSON (key order, numbers) as DuckDB wrote it.

// typeNode is a parsed DuckDB type, reduced to what the rewrite needs.
type typeNode struct {
	time   bool                 // TIMESTAMP (any precision, with or without zone) or DATE
	fields map[string]*typeNode // STRUCT members
	elem   *typeNode            // LIST or ARRAY element, MAP value
}

// hasTime reports whether a time is anywhere in n.
func (n *typeNode) hasTime() bool {
	if n == nil {
		return false
	}
	if n.time || n.elem.hasTime() {
		return true
	}
	for _, f := range n.fields {
		if f.hasTime() {
			return true
		}
	}
	return false
}

// parseType reads a DuckDB type as DESCRIBE prints it: STRUCT("a" T, b U),
// MAP(K, V), T[], T[3], UNION(...), or a scalar such as
// TIMESTAMP WITH TIME ZONE or DECIMAL(18,3). What it cannot read is a
// scalar: its values are left as they are.
func parseType(s string) *typeNode {
	p := &typeParser{s: s}
	n := p.typ()
	return n
}

type typeParser struct {
	s string
	i int
}

func (p *typeParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

func (p *typeParser) prefix(word string) bool {
	if strings.HasPrefix(strings.ToUpper(p.s[p.i:]), word) {
		p.i += len(word)
		return true
	}
	return false
}

// typ reads one type and its [] suffixes.
func (p *typeParser) typ() *typeNode {
	p.space()
	var n *typeNode
	switch {
	case p.prefix("STRUCT("):
		n = &typeNode{fields: map[string]*typeNode{}}
		for p.i < len(p.s) && p.s[p.i] != ')' {
			name := p.name()
			n.fields[name] = p.typ()
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
			}
		}
		p.i++ // )
	case p.prefix("MAP("):
		p.typ() // keys are object keys in JSON: strings
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
		}
		n = &typeNode{elem: p.typ()}
		p.space()
		p.i++ // )
	default:
		// A scalar (or a UNION, read as one): up to the next top-level
		// ',', ')' or '['.
		start, depth := p.i, 0
		for ; p.i < len(p.s); p.i++ {
			c := p.s[p.i]
			if depth == 0 && (c == ',' || c == ')' || c == '[') {
				break
			}
			switch c {
			case '(':
				depth++
			case ')':
				depth--
			case '"':
				if end := strings.IndexByte(p.s[p.i+1:], '"'); end >= 0 {
					p.i += end + 1
				}
			}
		}
		base := strings.ToUpper(strings.TrimSpace(p.s[start:p.i]))
		n = &typeNode{time: strings.HasPrefix(base, "TIMESTAMP") || base == "DATE"}
	}
	for p.i < len(p.s) && p.s[p.i] == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			p.i = len(p.s)
			break
		}
		p.i += end + 1
		n = &typeNode{elem: n}
	}
	return n
}

// name reads a STRUCT member's name, quoted ("a ""b""") or bare.
func (p *typeParser) name() string {
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '"' {
		var b strings.Builder
		for p.i++; p.i < len(p.s); p.i++ {
			if p.s[p.i] == '"' {
				if p.i+1 < len(p.s) && p.s[p.i+1] == '"' {
					b.WriteByte('"')
					p.i++
					continue
				}
				p.i++
				break
			}
			b.WriteByte(p.s[p.i])
		}
		return b.String()
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ' ' {
		p.i++
	}
	return p.s[start:p.i]
}

// duckTimeLayouts are how to_json prints TIMESTAMP, TIMESTAMP WITH TIME
// ZONE and DATE values.
var duckTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999-07", "2006-01-02 15:04:05.999999999", "2006-01-02"}

// rfc3339Times rewrites the times of text, to_json of a value of type n, as
// RFC 3339 in UTC; anything it cannot read is returned unchanged.
func rfc3339Times(text string, n *typeNode) string {
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var out bytes.Buffer
	if err := rewrite(dec, n, &out); err != nil {
		return text
	}
	if _, err := dec.Token(); err != io.EOF {
		return text
	}
	return out.String()
}

func rewrite(dec *json.Decoder, n *typeNode, out *bytes.Buffer) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			out.WriteByte('{')
			for first := true; dec.More(); first = false {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key, _ := k.(string)
				if !first {
					out.WriteByte(',')
				}
				writeJSON(out, key)
				out.WriteByte(':')
				var child *typeNode
				if n != nil {
					if n.fields != nil {
						child = n.fields[key]
					} else {
						child = n.elem
					}
				}
				if err := rewrite(dec, child, out); err != nil {
					return err
				}
			}
			_, err := dec.Token() // }
			out.WriteByte('}')
			return err
		case '[':
			out.WriteByte('[')
			var child *typeNode
			if n != nil {
				child = n.elem
			}
			for first := true; dec.More(); first = false {
				if !first {
					out.WriteByte(',')
				}
				if err := rewrite(dec, child, out); err != nil {
					return err
				}
			}
			_, err := dec.Token() // ]
			out.WriteByte(']')
			return err
		}
	case string:
		if n != nil && n.time {
			for _, layout := range duckTimeLayouts {
				if tm, err := time.Parse(layout, t); err == nil {
					t = tm.UTC().Format(time.RFC3339Nano)
					break
				}
			}
		}
		writeJSON(out, t)
		return nil
	}
	writeJSON(out, tok)
	return nil
}

// writeJSON writes one scalar without HTML escaping.
func writeJSON(out *bytes.Buffer, v any) {
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	out.Truncate(out.Len() - 1) // Encode's newline
}
