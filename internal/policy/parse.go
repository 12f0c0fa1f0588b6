package policy

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trailwarden/trailwarden/internal/readlimit"
)

// MaxInputSize is the largest input Parse accepts. The largest AWS policy
// (a 32 KB key policy) is far below it; the bound only keeps hostile input
// from costing memory and time.
const MaxInputSize = 1 << 20

// ParseError is a problem in a policy document. Path is JSONPath-like
// ("$.Statement[0].Effect"); Pos is where in the source the offending
// value is, or zero when the document did not come from source text.
type ParseError struct {
	Path string
	Pos  Position
	Msg  string
}

func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Pos.Line > 0 {
		fmt.Fprintf(&b, " (line %d, column %d)", e.Pos.Line, e.Pos.Column)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Parse parses an IAM JSON policy in any shape AWS accepts and rejects what
// AWS rejects (unknown elements, duplicate keys, bad Effect, empty lists,
// unknown condition operators...). Errors are *ParseError.
func Parse(data []byte) (doc *Document, err error) {
	if len(data) > MaxInputSize {
		e := &readlimit.Error{Size: int64(len(data)), Limit: MaxInputSize}
		return nil, &ParseError{Path: "$", Msg: "policy is " + e.Measure()}
	}
	s := newScanner(data)
	defer func() {
		if r := recover(); r != nil {
			b, ok := r.(bailout)
			if !ok {
				panic(r)
			}
			doc, err = nil, b.err
		}
	}()
	return s.document(), nil
}

// Read reads a policy document from r and parses it. A document over
// MaxInputSize is refused with its real size, measured without holding
// it: "policy.json is 52,428,800 bytes, over the 1 MiB limit" (a
// *readlimit.Error; name is for that message). Other errors are read
// errors or *ParseError.
func Read(r io.Reader, name string) (*Document, error) {
	data, err := readlimit.ReadAll(r, name, MaxInputSize)
	if err != nil {
		if le := (*readlimit.Error)(nil); errors.As(err, &le) {
			return nil, err
		}
		return nil, fmt.Errorf("read policy %s: %w", name, err)
	}
	return Parse(data)
}

var (
	topElements       = []string{"Version", "Id", "Statement"}
	statementElements = []string{"Sid", "Effect", "Principal", "NotPrincipal",
		"Action", "NotAction", "Resource", "NotResource", "Condition"}
	principalTypes = []string{PrincipalAWS, PrincipalService, PrincipalFederated, PrincipalCanonicalUser}
)

func (s *scanner) document() *Document {
	const path = "$"
	switch c := s.peek(); {
	case s.eof():
		s.fail(path, s.off, "policy is empty")
	case c != '{':
		s.typeError(path, "policy must be a JSON object")
	}
	start := s.off
	doc := &Document{}
	haveStatement := false
	s.object(path, func(key string, keyOff int) {
		p := childPath(path, key)
		switch key {
		case "Version":
			valOff := s.off
			doc.Version = s.stringValue(p, "version")
			if doc.Version != Version2012 && doc.Version != Version2008 {
				s.fail(p, valOff, "version must be %q or %q, got %q", Version2012, Version2008, doc.Version)
			}
		case "Id":
			doc.ID = s.stringValue(p, "id")
		case "Statement":
			doc.Statements = s.statements(p)
			haveStatement = true
		default:
			s.fail(p, keyOff, "unknown policy element %q%s", key, suggest(key, topElements))
		}
	})
	if s.skipSpace(); !s.eof() {
		s.fail(path, s.off, "unexpected data after the policy document")
	}
	if !haveStatement {
		s.fail(path, start, "policy has no Statement element")
	}
	return doc
}

// suggest offers the correctly cased element name when only case differs.
func suggest(key string, known []string) string {
	for _, k := range known {
		if strings.EqualFold(k, key) {
			return fmt.Sprintf(" (did you mean %q?)", k)
		}
	}
	return ""
}

func (s *scanner) stringValue(path, what string) string {
	if s.peek() != '"' {
		s.typeError(path, what+" must be a string")
	}
	return s.str(path)
}

// statements reads the Statement element: one object or a non-empty array.
func (s *scanner) statements(path string) []Statement {
	switch s.peek() {
	case '{':
		return []Statement{s.statement(path)}
	case '[':
		start := s.off
		var out []Statement
		s.array(path, func(_ int, p string) {
			if s.peek() != '{' {
				s.typeError(p, "statement must be an object")
			}
			out = append(out, s.statement(p))
		})
		if len(out) == 0 {
			s.fail(path, start, "statement list must not be empty")
		}
		return out
	}
	s.typeError(path, "statement must be an object or an array of objects")
	return nil
}

func (s *scanner) statement(path string) Statement {
	st := Statement{Pos: s.position(s.off)}
	start := s.off
	haveEffect := false
	// conflict rejects the second of two mutually exclusive elements.
	conflict := func(key string, keyOff int, otherSet bool, other string) {
		if otherSet {
			s.fail(childPath(path, key), keyOff, "statement has both %s and %s", other, key)
		}
	}
	s.object(path, func(key string, keyOff int) {
		p := childPath(path, key)
		switch key {
		case "Sid":
			st.Sid = s.stringValue(p, "sid")
		case "Effect":
			valOff := s.off
			e := s.stringValue(p, "effect")
			if e != string(Allow) && e != string(Deny) {
				s.fail(p, valOff, "effect must be %q or %q, got %q", Allow, Deny, e)
			}
			st.Effect, haveEffect = Effect(e), true
		case "Principal":
			conflict(key, keyOff, st.NotPrincipal != nil, "NotPrincipal")
			st.Principal = s.principal(p)
		case "NotPrincipal":
			conflict(key, keyOff, st.Principal != nil, "Principal")
			st.NotPrincipal = s.principal(p)
		case "Action":
			conflict(key, keyOff, st.NotAction != nil, "NotAction")
			st.Action = s.stringList(p, "action", checkAction)
		case "NotAction":
			conflict(key, keyOff, st.Action != nil, "Action")
			st.NotAction = s.stringList(p, "action", checkAction)
		case "Resource":
			conflict(key, keyOff, st.NotResource != nil, "NotResource")
			st.Resource = s.stringList(p, "resource", checkResource)
		case "NotResource":
			conflict(key, keyOff, st.Resource != nil, "Resource")
			st.NotResource = s.stringList(p, "resource", checkResource)
		case "Condition":
			st.Condition = s.conditions(p)
		default:
			s.fail(p, keyOff, "unknown statement element %q%s", key, suggest(key, statementElements))
		}
	})
	if !haveEffect {
		s.fail(path, start, "statement has no Effect")
	}
	if st.Action == nil && st.NotAction == nil {
		s.fail(path, start, "statement has no Action or NotAction")
	}
	return st
}

// stringList reads a string or a non-empty array of strings, checking each
// value with check (which returns a message, or "" when the value is fine).
func (s *scanner) stringList(path, what string, check func(string) string) []string {
	one := func(p string) string {
		if s.peek() != '"' {
			s.typeError(p, what+" must be a string")
		}
		off := s.off
		v := s.str(p)
		if msg := check(v); msg != "" {
			s.fail(p, off, "%s", msg)
		}
		return v
	}
	switch s.peek() {
	case '"':
		return []string{one(path)}
	case '[':
		start := s.off
		var out []string
		s.array(path, func(_ int, p string) { out = append(out, one(p)) })
		if len(out) == 0 {
			s.fail(path, start, "%s list must not be empty", what)
		}
		return out
	}
	s.typeError(path, what+" must be a string or an array of strings")
	return nil
}

func checkAction(v string) string {
	if v == "*" || strings.Contains(v, ":") {
		return ""
	}
	return fmt.Sprintf(`action must be "*" or "service:action", got %q`, v)
}

func checkResource(v string) string {
	if v == "*" || (strings.HasPrefix(v, "arn:") && strings.Count(v, ":") >= 5) {
		return ""
	}
	return fmt.Sprintf(`resource must be "*" or an ARN ("arn:partition:service:region:account:resource"), got %q`, v)
}

// checkPrincipal only rejects empty names: AWS returns unique ids such as
// "AROA..." in place of deleted roles, so anything else may be legitimate.
func checkPrincipal(v string) string {
	if v == "" {
		return "principal must not be an empty string"
	}
	return ""
}

func (s *scanner) principal(path string) *Principal {
	switch s.peek() {
	case '"':
		off := s.off
		if v := s.str(path); v != "*" {
			s.fail(path, off, `principal must be "*" or an object such as {"AWS": ...}, got %q`, v)
		}
		return &Principal{Wildcard: true}
	case '{':
		start := s.off
		p := &Principal{}
		n := 0
		s.object(path, func(key string, keyOff int) {
			kp := childPath(path, key)
			var dst *[]string
			switch key {
			case PrincipalAWS:
				dst = &p.AWS
			case PrincipalService:
				dst = &p.Service
			case PrincipalFederated:
				dst = &p.Federated
			case PrincipalCanonicalUser:
				dst = &p.CanonicalUser
			default:
				s.fail(kp, keyOff, "unknown principal type %q%s", key, suggest(key, principalTypes))
			}
			*dst = s.stringList(kp, "principal", checkPrincipal)
			n++
		})
		if n == 0 {
			s.fail(path, start, "principal must not be empty")
		}
		return p
	}
	s.typeError(path, `principal must be "*" or an object`)
	return nil
}

// conditions reads the Condition block, one Condition per (operator, key)
// in source order.
func (s *scanner) conditions(path string) []Condition {
	if s.peek() != '{' {
		s.typeError(path, "condition must be an object mapping operators to {key: value}")
	}
	var out []Condition
	s.object(path, func(name string, nameOff int) {
		opPath := childPath(path, name)
		op, err := ParseOperator(name)
		if err != nil {
			s.fail(opPath, nameOff, "%s", err.Error())
		}
		if s.peek() != '{' {
			s.typeError(opPath, "condition operator block must be an object mapping keys to values")
		}
		s.object(opPath, func(key string, keyOff int) {
			kp := childPath(opPath, key)
			if key == "" {
				s.fail(kp, keyOff, "condition key must not be empty")
			}
			pos := s.position(s.off)
			out = append(out, Condition{Operator: op, Key: key, Values: s.conditionValues(kp), Pos: pos})
		})
	})
	return out
}

// conditionValues reads a scalar or an array of scalars (possibly empty:
// the result is then non-nil and empty).
func (s *scanner) conditionValues(path string) []string {
	if s.peek() == '[' {
		out := []string{}
		s.array(path, func(_ int, p string) { out = append(out, s.scalar(p)) })
		return out
	}
	return []string{s.scalar(path)}
}

// scalar reads a condition value as text: numbers keep their literal text
// and booleans become "true"/"false", which is how AWS compares them.
func (s *scanner) scalar(path string) string {
	switch c := s.peek(); {
	case c == '"':
		return s.str(path)
	case c == 't':
		s.literal(path, "true")
		return "true"
	case c == 'f':
		s.literal(path, "false")
		return "false"
	case c == '-' || ('0' <= c && c <= '9'):
		return s.number(path)
	case c == 'n':
		s.literal(path, "null")
		s.fail(path, s.off-len("null"), "condition value must not be null")
	}
	s.typeError(path, "condition value must be a string, number, boolean or an array of them")
	return ""
}
