package eval

import (
	"strings"
)

// tokKind classifies a piece of a policy string.
type tokKind uint8

const (
	tokLit   tokKind = iota // literal text
	tokStar                 // * wildcard
	tokQuest                // ? wildcard
	tokVar                  // ${key} or ${key, 'default'}
)

// token is one piece of a parsed policy string. Keeping variables and
// wildcards as tokens (rather than rewriting the string) means a substituted
// value is always literal, and ARN splitting can happen after substitution.
type token struct {
	kind   tokKind
	text   string // literal text, or the lower-cased key of a variable
	def    string // default value of a variable
	hasDef bool
}

// parseTemplate splits s into tokens. vars enables ${…} policy variables
// (only in 2012-10-17 documents [doc]); wild enables * and ? (only in Like
// operators, ARN operators and the Resource/Action elements).
func parseTemplate(s string, vars, wild bool) []token {
	var toks []token
	lit := func(t string) {
		if t == "" {
			return
		}
		if n := len(toks); n > 0 && toks[n-1].kind == tokLit {
			toks[n-1].text += t
			return
		}
		toks = append(toks, token{kind: tokLit, text: t})
	}
	start := 0
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case wild && (c == '*' || c == '?'):
			lit(s[start:i])
			k := tokStar
			if c == '?' {
				k = tokQuest
			}
			toks = append(toks, token{kind: k})
			i++
			start = i
		case vars && c == '$' && strings.HasPrefix(s[i:], "${"):
			t, n, ok := parseVariable(s[i:])
			if !ok {
				i += 2 // "${" without a valid variable is literal text
				continue
			}
			lit(s[start:i])
			if t.kind == tokLit {
				lit(t.text)
			} else {
				toks = append(toks, t)
			}
			i += n
			start = i
		default:
			i++
		}
	}
	lit(s[start:])
	return toks
}

// parseVariable reads "${…}" at the start of s and returns the token and the
// number of bytes consumed. ${*}, ${?} and ${$} are literal characters
// [doc: variables page]. Variable names are case-insensitive [doc].
func parseVariable(s string) (token, int, bool) {
	inQuote := false
	end := -1
	for i := 2; i < len(s); i++ {
		if s[i] == '\'' {
			inQuote = !inQuote
		} else if s[i] == '}' && !inQuote {
			end = i
			break
		}
	}
	if end < 0 {
		return token{}, 0, false
	}
	body := s[2:end]
	switch body {
	case "*", "?", "$":
		return token{kind: tokLit, text: body}, end + 1, true
	}
	name, def, hasDef := strings.Cut(body, ",")
	name = strings.TrimSpace(name)
	if name == "" || strings.ContainsAny(name, " '${") {
		return token{}, 0, false
	}
	t := token{kind: tokVar, text: strings.ToLower(name)}
	if hasDef {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return token{}, 0, false
		}
		t.def, t.hasDef = def[1:len(def)-1], true
	}
	return t, end + 1, true
}

func hasVar(toks []token) bool {
	for _, t := range toks {
		if t.kind == tokVar {
			return true
		}
	}
	return false
}

// firstVar returns the source form of the first variable, for messages.
func firstVar(toks []token) string {
	for _, t := range toks {
		if t.kind == tokVar {
			return "${" + t.text + "}"
		}
	}
	return ""
}

// resolve substitutes variables from the request context. A variable with no
// value and no default makes the whole string unresolvable: AWS says such a
// match "fails and causes the statement to be invalid" [doc]. Only
// single-valued keys can be variables [doc].
func resolve(toks []token, ctx reqContext) ([]token, string, bool) {
	out := make([]token, 0, len(toks))
	for _, t := range toks {
		if t.kind != tokVar {
			out = appendLit(out, t)
			continue
		}
		v, ok := ctx.single(t.text)
		if !ok {
			if !t.hasDef {
				return nil, "${" + t.text + "}", false
			}
			v = t.def
		}
		out = appendLit(out, token{kind: tokLit, text: v})
	}
	return out, "", true
}

func appendLit(out []token, t token) []token {
	if t.kind == tokLit {
		if t.text == "" {
			return out
		}
		if n := len(out); n > 0 && out[n-1].kind == tokLit {
			out[n-1].text += t.text
			return out
		}
	}
	return append(out, t)
}

// literal concatenates literal tokens; wildcard tokens become their
// characters. Used for operators without wildcards.
func literal(toks []token) string {
	if len(toks) == 1 && toks[0].kind == tokLit {
		return toks[0].text
	}
	var b strings.Builder
	for _, t := range toks {
		switch t.kind {
		case tokLit:
			b.WriteString(t.text)
		case tokStar:
			b.WriteByte('*')
		case tokQuest:
			b.WriteByte('?')
		}
	}
	return b.String()
}

// render turns tokens back into policy syntax for messages.
func render(toks []token) string {
	var b strings.Builder
	for _, t := range toks {
		switch t.kind {
		case tokLit:
			b.WriteString(t.text)
		case tokStar:
			b.WriteByte('*')
		case tokQuest:
			b.WriteByte('?')
		case tokVar:
			b.WriteString("${" + t.text + "}")
		}
	}
	return b.String()
}
