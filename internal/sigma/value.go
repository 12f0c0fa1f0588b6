package sigma

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Placeholders are the values of Sigma placeholders (%name%), which a
// value takes with the `expand` modifier. A placeholder's values are
// Sigma strings: wildcards in them work.
type Placeholders map[string][]string

// UnsupportedError is a rule that cannot be compiled or matched, and why.
type UnsupportedError struct {
	RuleID, Title, Source string
	Reason                string
}

func (e *UnsupportedError) Error() string {
	id := e.RuleID
	if id == "" {
		id = e.Title
	}
	return fmt.Sprintf("sigma: rule %s (%s): %s", id, e.Source, e.Reason)
}

// unsupported is a reason, raised while building a rule.
type unsupported struct{ reason string }

func (u *unsupported) Error() string { return u.reason }

func unsup(format string, args ...any) error { return &unsupported{fmt.Sprintf(format, args...)} }

// predKind says what a pred tests.
type predKind int

const (
	predMatch    predKind = iota // the value matches pats (any, or all)
	predExists                   // the field is (not) present
	predFieldRef                 // the value equals another field's value
)

// pred is one field test, its modifiers applied and placeholders
// expanded: what both the matcher and the compilers work from.
type pred struct {
	field  fieldRef
	kind   predKind
	all    bool // every group must match (the all modifier)
	neq    bool // the result is negated (the neq modifier)
	exists bool
	other  fieldRef
	// groups are the values: each group is a set of alternatives (one
	// value can expand to several, as base64offset or a placeholder do).
	groups [][]pattern
}

type patKind int

const (
	patGlob  patKind = iota // a string with * and ? wildcards
	patRegex                // a regular expression
	patCIDR                 // an IPv4 network
	patNum                  // a numeric comparison
	patNull                 // the field is absent or null
)

type globTok struct {
	lit  string
	wild byte // '*' or '?' or 0 for a literal
}

type pattern struct {
	kind  patKind
	glob  []globTok
	lower []globTok // glob lower-cased, for a case-insensitive match
	cased bool
	re    string // with its flags, RE2 and Java compatible
	rx    *regexp.Regexp
	pfx   netip.Prefix
	op    string // gt gte lt lte
	num   float64
}

// build turns a field test into a pred.
func build(t *FieldTest, ph Placeholders) (*pred, error) {
	f, err := parseField(t.Field)
	if err != nil {
		return nil, err
	}
	p := &pred{field: f}
	var pos string // contains, startswith, endswith
	var re, cidr, b64, b64off, expand, cased bool
	var reFlags string
	var cmp string
	for _, m := range t.Modifiers {
		switch m {
		case "contains", "startswith", "endswith":
			if pos != "" {
				return nil, unsup("field %s: modifiers %s and %s together", t.Field, pos, m)
			}
			pos = m
		case "all":
			p.all = true
		case "re":
			re = true
		case "i", "m", "s":
			if !re {
				return nil, unsup("field %s: modifier %s applies only after re", t.Field, m)
			}
			reFlags += m
		case "cidr":
			cidr = true
		case "exists":
			p.kind = predExists
		case "base64":
			b64 = true
		case "base64offset":
			b64off = true
		case "expand":
			expand = true
		case "cased":
			cased = true
		case "neq":
			p.neq = true
		case "gt", "gte", "lt", "lte":
			if cmp != "" {
				return nil, unsup("field %s: two comparisons", t.Field)
			}
			cmp = m
		case "fieldref":
			p.kind = predFieldRef
		case "windash", "utf16", "utf16le", "utf16be", "wide":
			return nil, unsup("field %s: modifier %s is for Windows logs and is not supported on CloudTrail", t.Field, m)
		case "minute", "hour", "day", "week", "month", "year":
			return nil, unsup("field %s: time modifier %s is not supported", t.Field, m)
		default:
			return nil, unsup("field %s: unknown modifier %q", t.Field, m)
		}
	}
	if p.all && len(t.Values) < 2 {
		return nil, unsup("field %s: the all modifier needs a list of values", t.Field)
	}
	switch p.kind {
	case predExists:
		if len(t.Modifiers) != 1 || len(t.Values) != 1 || t.Values[0] == nil {
			return nil, unsup("field %s: exists takes true or false and no other modifier", t.Field)
		}
		switch strings.ToLower(*t.Values[0]) {
		case "true", "yes":
			p.exists = true
		case "false", "no":
		default:
			return nil, unsup("field %s: exists takes true or false, not %q", t.Field, *t.Values[0])
		}
		return p, nil
	case predFieldRef:
		if len(t.Values) != 1 || t.Values[0] == nil {
			return nil, unsup("field %s: fieldref takes one field name", t.Field)
		}
		for _, m := range t.Modifiers {
			if m != "fieldref" && m != "neq" {
				return nil, unsup("field %s: fieldref with modifier %s is not supported", t.Field, m)
			}
		}
		o, err := parseField(*t.Values[0])
		if err != nil {
			return nil, err
		}
		p.other = o
		return p, nil
	}
	kinds := 0
	for _, b := range []bool{re, cidr, cmp != "", b64 || b64off} {
		if b {
			kinds++
		}
	}
	if kinds > 1 || (b64 && b64off) {
		return nil, unsup("field %s: modifiers %s do not combine", t.Field, strings.Join(t.Modifiers, "|"))
	}
	if (re || cidr || cmp != "") && pos != "" {
		return nil, unsup("field %s: %s does not combine with re, cidr or a comparison", t.Field, pos)
	}
	for _, v := range t.Values {
		if v == nil {
			if len(t.Values) > 1 {
				return nil, unsup("field %s: null cannot be one of a list of values; test it in a selection of its own", t.Field)
			}
			if len(t.Modifiers) > 0 {
				return nil, unsup("field %s: null with modifiers", t.Field)
			}
			p.groups = append(p.groups, []pattern{{kind: patNull}})
			continue
		}
		vals := []string{*v}
		if expand {
			var err error
			if vals, err = expandPlaceholders(*v, ph); err != nil {
				return nil, fmt.Errorf("field %s: %w", t.Field, err)
			}
		}
		var group []pattern
		for _, s := range vals {
			switch {
			case re:
				src := s
				if reFlags != "" {
					src = "(?" + reFlags + ")" + s
				}
				rx, err := regexp.Compile(src)
				if err != nil {
					return nil, unsup("field %s: regular expression %q: %v", t.Field, s, err)
				}
				if strings.Contains(s, `\p`) || strings.Contains(s, `\Q`) || strings.Contains(s, `\z`) || strings.Contains(s, `(?P`) {
					return nil, unsup("field %s: regular expression %q uses syntax beyond Sigma's PCRE subset", t.Field, s)
				}
				group = append(group, pattern{kind: patRegex, re: src, rx: rx})
			case cidr:
				pfx, err := netip.ParsePrefix(s)
				if err != nil {
					return nil, unsup("field %s: cidr %q: %v", t.Field, s, err)
				}
				if !pfx.Addr().Is4() {
					return nil, unsup("field %s: cidr %q: IPv6 networks are not supported", t.Field, s)
				}
				group = append(group, pattern{kind: patCIDR, pfx: pfx.Masked()})
			case cmp != "":
				n, err := strconv.ParseFloat(s, 64)
				if err != nil || math.IsNaN(n) || math.IsInf(n, 0) {
					return nil, unsup("field %s: %s needs a number, not %q", t.Field, cmp, s)
				}
				group = append(group, pattern{kind: patNum, op: cmp, num: n})
			case b64 || b64off:
				toks := parseGlob(s)
				lit, plain := literal(toks)
				if !plain {
					return nil, unsup("field %s: base64 of a value with wildcards", t.Field)
				}
				var encs []string
				if b64 {
					encs = []string{base64.StdEncoding.EncodeToString([]byte(lit))}
				} else {
					encs = base64Offsets(lit)
				}
				for _, e := range encs {
					group = append(group, pattern{kind: patGlob, glob: position([]globTok{{lit: e}}, pos), cased: true})
				}
			default:
				group = append(group, pattern{kind: patGlob, glob: position(parseGlob(s), pos), cased: cased})
			}
		}
		p.groups = append(p.groups, group)
	}
	for _, g := range p.groups {
		for i := range g {
			if g[i].kind == patGlob && !g[i].cased {
				g[i].lower = lowerGlob(g[i].glob)
			}
		}
	}
	if !p.all {
		// Values are ORed: one group of every alternative.
		var flat []pattern
		for _, g := range p.groups {
			flat = append(flat, g...)
		}
		p.groups = [][]pattern{flat}
	}
	return p, nil
}

// parseGlob reads a Sigma string: * and ? are wildcards, a backslash
// escapes a wildcard or a backslash and is itself otherwise.
func parseGlob(s string) []globTok {
	var toks []globTok
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			toks = append(toks, globTok{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			lit.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			toks = append(toks, globTok{wild: c})
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return toks
}

// literal says whether toks hold no wildcard, and the text.
func literal(toks []globTok) (string, bool) {
	var b strings.Builder
	for _, t := range toks {
		if t.wild != 0 {
			return "", false
		}
		b.WriteString(t.lit)
	}
	return b.String(), true
}

// position applies contains, startswith or endswith.
func position(toks []globTok, pos string) []globTok {
	star := globTok{wild: '*'}
	if (pos == "contains" || pos == "endswith") && (len(toks) == 0 || toks[0].wild != '*') {
		toks = append([]globTok{star}, toks...)
	}
	if (pos == "contains" || pos == "startswith") && (len(toks) == 0 || toks[len(toks)-1].wild != '*') {
		toks = append(slices.Clone(toks), star)
	}
	return toks
}

// base64Offsets are the three encodings of s at the byte offsets 0, 1
// and 2 of a longer base64 text, less the characters that depend on the
// neighbouring bytes (as pySigma's base64offset).
func base64Offsets(s string) []string {
	start := []int{0, 2, 3}
	endCut := []int{0, 3, 2}
	var out []string
	for i := 0; i < 3; i++ {
		enc := base64.StdEncoding.EncodeToString(append([]byte(strings.Repeat(" ", i)), s...))
		cut := endCut[(len(s)+i)%3]
		e := enc[start[i] : len(enc)-cut]
		if e != "" {
			out = append(out, e)
		}
	}
	return out
}

var placeholderRE = regexp.MustCompile(`%[A-Za-z0-9_.\-]+%`)

// expandPlaceholders replaces each %name% of s by each of its values (a
// value with two placeholders becomes every combination). A \% is a
// plain percent sign.
func expandPlaceholders(s string, ph Placeholders) ([]string, error) {
	const esc = "\x00pct\x00"
	work := strings.ReplaceAll(s, `\%`, esc)
	locs := placeholderRE.FindAllStringIndex(work, -1)
	if len(locs) == 0 {
		return []string{strings.ReplaceAll(work, esc, "%")}, nil
	}
	outs := []string{""}
	last := 0
	for _, l := range locs {
		name := work[l[0]+1 : l[1]-1]
		vals, ok := ph[name]
		if !ok {
			return nil, unsup("placeholder %%%s%% has no value", name)
		}
		if len(vals) == 0 {
			return nil, unsup("placeholder %%%s%% has an empty list of values", name)
		}
		pre := work[last:l[0]]
		var next []string
		for _, o := range outs {
			for _, v := range vals {
				next = append(next, o+pre+v)
			}
		}
		outs = next
		last = l[1]
	}
	for i := range outs {
		outs[i] = strings.ReplaceAll(outs[i]+work[last:], esc, "%")
	}
	return outs, nil
}
