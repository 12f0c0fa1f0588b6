package eval

import (
	"strings"
	"unicode/utf8"
)

// globKind picks a fast path for the common pattern shapes.
type globKind uint8

const (
	globExact   globKind = iota // no wildcard
	globAny                     // "*"
	globPrefix                  // "literal*"
	globGeneral                 // anything else
)

// glob is a compiled IAM wildcard pattern: * matches any run of characters
// (including none), ? exactly one character. Matching is case-sensitive;
// callers lower-case both sides where IAM is case-insensitive.
type glob struct {
	kind globKind
	lit  string
	toks []token // literal, star and quest tokens only
}

func compileGlob(toks []token) glob {
	switch {
	case len(toks) == 0:
		return glob{kind: globExact}
	case len(toks) == 1 && toks[0].kind == tokLit:
		return glob{kind: globExact, lit: toks[0].text}
	case len(toks) == 1 && toks[0].kind == tokStar:
		return glob{kind: globAny}
	case len(toks) == 2 && toks[0].kind == tokLit && toks[1].kind == tokStar:
		return glob{kind: globPrefix, lit: toks[0].text}
	}
	return glob{kind: globGeneral, toks: toks}
}

func (g *glob) match(s string) bool {
	switch g.kind {
	case globExact:
		return s == g.lit
	case globAny:
		return true
	case globPrefix:
		return strings.HasPrefix(s, g.lit)
	}
	return matchTokens(g.toks, s)
}

// matchTokens is the classic wildcard matcher with backtracking to the last
// star. Between stars the pattern has a fixed length, so retrying only from
// the last star is enough; the worst case is O(len(pattern)*len(s)).
func matchTokens(toks []token, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			switch t := toks[ti]; t.kind {
			case tokStar:
				starT, starS = ti, si
				ti++
				continue
			case tokQuest:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tokLit:
				if strings.HasPrefix(s[si:], t.text) {
					si += len(t.text)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		ti, si = starT+1, starS
	}
}

// arnPattern matches ARNs segment by segment: "*" and "?" never cross one of
// the first five colons, while the last segment (the resource part) may
// contain colons [doc: ARN operators, Resource element].
//
// The two places ARNs are matched differ on a pattern with fewer than six
// segments. In the Resource element (match) its last segment absorbs the
// rest of the value, so Resource "*" matches every resource. The ARN
// condition operators (matchComponents) check "each of the six
// colon-delimited components of the ARN ... separately" [doc: condition
// operators], so there a pattern and a value must both have six components:
// ArnLike "arn:aws:iam::*" (five) matches no ARN.
type arnPattern struct {
	segs []glob
}

// arnComponents is the number of colon-delimited components of an ARN:
// arn, partition, service, region, account and resource; the resource keeps
// any further colons.
const arnComponents = 6

// isARNValue reports whether v has the six components of an ARN.
func isARNValue(v string) bool {
	return strings.Count(v, ":") >= arnComponents-1
}

// splitSegments splits tokens at the first five literal colons.
func splitSegments(toks []token) [][]token {
	segs := make([][]token, 1, 6)
	for _, t := range toks {
		if t.kind != tokLit {
			segs[len(segs)-1] = append(segs[len(segs)-1], t)
			continue
		}
		text := t.text
		for len(segs) < 6 {
			i := strings.IndexByte(text, ':')
			if i < 0 {
				break
			}
			if i > 0 {
				segs[len(segs)-1] = append(segs[len(segs)-1], token{kind: tokLit, text: text[:i]})
			}
			segs = append(segs, nil)
			text = text[i+1:]
		}
		if text != "" {
			segs[len(segs)-1] = append(segs[len(segs)-1], token{kind: tokLit, text: text})
		}
	}
	return segs
}

func compileARN(toks []token) arnPattern {
	segs := splitSegments(toks)
	p := arnPattern{segs: make([]glob, len(segs))}
	for i, s := range segs {
		p.segs[i] = compileGlob(s)
	}
	return p
}

func (p *arnPattern) match(v string) bool {
	last := len(p.segs) - 1
	for i := 0; i < last; i++ {
		j := strings.IndexByte(v, ':')
		if j < 0 || !p.segs[i].match(v[:j]) {
			return false
		}
		v = v[j+1:]
	}
	return p.segs[last].match(v)
}

// matchComponents is the ARN condition operators' comparison: pattern and
// value must both have six components, each pattern component is matched
// against the value's component of the same rank, and wildcards stay within
// their component (the resource component keeps its own colons).
func (p *arnPattern) matchComponents(v string) bool {
	return len(p.segs) == arnComponents && p.match(v)
}

// arnTemplate is an ARN pattern that may hold policy variables; with
// variables it is split and compiled per request, after substitution, so a
// colon inside ${aws:SourceAccount} never shifts the segments (the
// iam-simulate defect 1 this engine must avoid).
type arnTemplate struct {
	toks   []token
	static arnPattern // when the template has no variables
	vars   bool
}

func newARNTemplate(toks []token) arnTemplate {
	if hasVar(toks) {
		return arnTemplate{toks: toks, vars: true}
	}
	return arnTemplate{toks: toks, static: compileARN(toks)}
}

// match reports whether v matches; unresolved names the variable that had no
// value (the entry then matches nothing).
func (t *arnTemplate) match(v string, ctx reqContext) (ok bool, unresolved string) {
	if !t.vars {
		return t.static.match(v), ""
	}
	toks, missing, resolved := resolve(t.toks, ctx)
	if !resolved {
		return false, missing
	}
	p := compileARN(toks)
	return p.match(v), ""
}

// matchAction compares a lower-cased action with a lower-cased pattern;
// action names are case-insensitive [doc: Action element].
func matchAction(patterns []glob, action string) bool {
	for i := range patterns {
		if patterns[i].match(action) {
			return true
		}
	}
	return false
}
