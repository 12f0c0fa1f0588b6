package policy

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode/utf8"
)

// Canonical form, shared by Compact and Canonical:
//   - top-level keys Version, Id, Statement (empty Version/Id omitted);
//     Statement is always an array;
//   - statement keys Sid, Effect, Principal, NotPrincipal, Action,
//     NotAction, Resource, NotResource, Condition (absent ones omitted);
//   - a one-value list is a plain string, longer lists are arrays kept in
//     the order written: people review these diffs, so no sorting or dedup;
//   - principal "*" stays "*"; map keys AWS, CanonicalUser, Federated,
//     Service;
//   - condition operators sorted by name, keys within an operator sorted
//     case-insensitively (stable), values always strings;
//   - no HTML escaping, so "<" and "&" stay readable.

// Compact returns the canonical form without whitespace. AWS size limits
// are measured on this form.
func Compact(d *Document) []byte {
	if d == nil {
		return []byte("null")
	}
	var b []byte
	b = append(b, '{')
	first := true
	if d.Version != "" {
		b = appendKey(b, &first, "Version")
		b = appendString(b, d.Version)
	}
	if d.ID != "" {
		b = appendKey(b, &first, "Id")
		b = appendString(b, d.ID)
	}
	b = appendKey(b, &first, "Statement")
	b = append(b, '[')
	for i, st := range d.Statements {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStatement(b, st)
	}
	b = append(b, ']', '}')
	return b
}

// Canonical returns the canonical form indented with two spaces and ending
// in a newline, for humans and files.
func Canonical(d *Document) []byte {
	return indent(Compact(d))
}

func indent(compact []byte) []byte {
	var out bytes.Buffer
	// Indent only fails on invalid JSON, which appendString never produces.
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		panic("policy: canonical output is not valid JSON: " + err.Error())
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// MarshalJSON returns the compact canonical form. Note that encoding/json
// re-escapes '<', '>' and '&' in Marshaler output unless the caller's
// Encoder has SetEscapeHTML(false); use Compact or Canonical directly to
// get the unescaped text.
func (d *Document) MarshalJSON() ([]byte, error) {
	return Compact(d), nil
}

// UnmarshalJSON parses data with Parse. Positions in errors are relative
// to data. As encoding/json recommends, "null" is a no-op.
func (d *Document) UnmarshalJSON(data []byte) error {
	if string(bytes.TrimSpace(data)) == "null" {
		return nil
	}
	p, err := Parse(data)
	if err != nil {
		return err
	}
	*d = *p
	return nil
}

// MarshalJSON returns the statement in compact canonical form.
func (s Statement) MarshalJSON() ([]byte, error) {
	return appendStatement(nil, s), nil
}

func appendStatement(b []byte, s Statement) []byte {
	b = append(b, '{')
	first := true
	if s.Sid != "" {
		b = appendKey(b, &first, "Sid")
		b = appendString(b, s.Sid)
	}
	if s.Effect != "" {
		b = appendKey(b, &first, "Effect")
		b = appendString(b, string(s.Effect))
	}
	if s.Principal != nil {
		b = appendKey(b, &first, "Principal")
		b = appendPrincipal(b, s.Principal)
	}
	if s.NotPrincipal != nil {
		b = appendKey(b, &first, "NotPrincipal")
		b = appendPrincipal(b, s.NotPrincipal)
	}
	for _, e := range []struct {
		name   string
		values []string
	}{
		{"Action", s.Action}, {"NotAction", s.NotAction},
		{"Resource", s.Resource}, {"NotResource", s.NotResource},
	} {
		if e.values != nil {
			b = appendKey(b, &first, e.name)
			b = appendList(b, e.values)
		}
	}
	if len(s.Condition) > 0 {
		b = appendKey(b, &first, "Condition")
		b = appendConditions(b, s.Condition)
	}
	return append(b, '}')
}

func appendPrincipal(b []byte, p *Principal) []byte {
	if p.Wildcard {
		return appendString(b, "*")
	}
	b = append(b, '{')
	first := true
	for _, e := range []struct {
		name   string
		values []string
	}{
		{PrincipalAWS, p.AWS}, {PrincipalCanonicalUser, p.CanonicalUser},
		{PrincipalFederated, p.Federated}, {PrincipalService, p.Service},
	} {
		if len(e.values) > 0 {
			b = appendKey(b, &first, e.name)
			b = appendList(b, e.values)
		}
	}
	return append(b, '}')
}

func appendConditions(b []byte, conds []Condition) []byte {
	byOp := make(map[string][]Condition)
	var ops []string
	for _, c := range conds {
		name := c.Operator.String()
		if _, ok := byOp[name]; !ok {
			ops = append(ops, name)
		}
		byOp[name] = append(byOp[name], c)
	}
	slices.Sort(ops)
	b = append(b, '{')
	firstOp := true
	for _, name := range ops {
		b = appendKey(b, &firstOp, name)
		cs := byOp[name]
		slices.SortStableFunc(cs, func(x, y Condition) int {
			return strings.Compare(strings.ToLower(x.Key), strings.ToLower(y.Key))
		})
		b = append(b, '{')
		firstKey := true
		for _, c := range cs {
			b = appendKey(b, &firstKey, c.Key)
			b = appendList(b, c.Values)
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendList writes one value as a string and anything else as an array.
func appendList(b []byte, values []string) []byte {
	if len(values) == 1 {
		return appendString(b, values[0])
	}
	b = append(b, '[')
	for i, v := range values {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, v)
	}
	return append(b, ']')
}

func appendKey(b []byte, first *bool, key string) []byte {
	if !*first {
		b = append(b, ',')
	}
	*first = false
	b = appendString(b, key)
	return append(b, ':')
}

// appendString writes s as a JSON string without HTML escaping. Invalid
// UTF-8 (only possible in documents built in code) becomes U+FFFD so the
// output is always valid JSON.
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		default:
			if c < 0x20 {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			} else {
				b = append(b, c)
			}
		}
		i++
	}
	return append(b, '"')
}
