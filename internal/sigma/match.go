package sigma

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"
)

// prepared is a detection with its field tests built for a set of
// placeholder values: what Match and Compile work from.
type prepared struct {
	rule     *Rule
	searches map[string][][]*pred
	cond     node
}

// prepare checks that the rule can run and builds its tests.
func (r *Rule) prepare(ph Placeholders) (*prepared, error) {
	if err := r.usable(); err != nil {
		return nil, err
	}
	if r.Detection == nil {
		return nil, r.unsupported("a correlation rule matches groups of events, not one event")
	}
	d := r.Detection
	if d.Timeframe != "" {
		return nil, r.unsupported("the obsolete detection timeframe is not supported: write a correlation rule")
	}
	p := &prepared{rule: r, searches: map[string][][]*pred{}, cond: d.cond}
	for _, s := range d.Searches {
		if len(s.Keywords) > 0 {
			return nil, r.unsupported(fmt.Sprintf("search %s: keyword search (values without a field) is not supported", s.Name))
		}
		if len(s.Alternatives) == 0 {
			return nil, r.unsupported(fmt.Sprintf("search %s is empty", s.Name))
		}
		var alts [][]*pred
		for _, alt := range s.Alternatives {
			if len(alt) == 0 {
				// An empty map would match every event.
				return nil, r.unsupported(fmt.Sprintf("search %s is empty", s.Name))
			}
			var conj []*pred
			for _, t := range alt {
				pd, err := build(t, ph)
				if err != nil {
					return nil, r.wrap(err)
				}
				conj = append(conj, pd)
			}
			alts = append(alts, conj)
		}
		p.searches[s.Name] = alts
	}
	return p, nil
}

// usable refuses a rule that is not a CloudTrail rule or failed to parse.
func (r *Rule) usable() error {
	if r.invalid != "" {
		return r.unsupported(r.invalid)
	}
	if strings.EqualFold(r.Status, "unsupported") {
		return r.unsupported("its status is unsupported: its authors say it cannot run as written")
	}
	if r.Correlation == nil && !r.Logsource.CloudTrail() {
		return r.unsupported(notCloudTrail(r.Logsource))
	}
	return nil
}

func notCloudTrail(l Logsource) string {
	return fmt.Sprintf("log source is not CloudTrail (product %q, service %q, category %q)", l.Product, l.Service, l.Category)
}

// NotCloudTrail says whether err is a refusal because the rule's log
// source is not CloudTrail (a skip rather than a fault).
func NotCloudTrail(err error) bool {
	var u *UnsupportedError
	return errors.As(err, &u) && strings.HasPrefix(u.Reason, "log source is not CloudTrail")
}

func (r *Rule) unsupported(reason string) *UnsupportedError {
	return &UnsupportedError{RuleID: r.ID, Title: r.Title, Source: r.Source, Reason: reason}
}

// wrap turns a build error into the rule's UnsupportedError.
func (r *Rule) wrap(err error) error {
	var u *unsupported
	if errors.As(err, &u) {
		return r.unsupported(err.Error())
	}
	return r.unsupported(err.Error())
}

// Match says whether one raw CloudTrail record (decoded JSON; decode with
// json.Decoder.UseNumber to keep numbers as written) matches the rule.
// Field names are CloudTrail's, case-sensitive; values match as Sigma
// says (case-insensitive unless cased, * and ? wildcards).
func (r *Rule) Match(record map[string]any, ph Placeholders) (bool, error) {
	p, err := r.prepare(ph)
	if err != nil {
		return false, err
	}
	return p.match(record), nil
}

func (p *prepared) match(rec map[string]any) bool { return p.eval(p.cond, rec) }

func (p *prepared) eval(n node, rec map[string]any) bool {
	switch n := n.(type) {
	case *nodeRef:
		for _, conj := range p.searches[n.name] {
			ok := true
			for _, pd := range conj {
				if !pd.match(rec) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		return false
	case *nodeOp:
		switch n.op {
		case "not":
			return !p.eval(n.args[0], rec)
		case "and":
			for _, a := range n.args {
				if !p.eval(a, rec) {
					return false
				}
			}
			return true
		default:
			for _, a := range n.args {
				if p.eval(a, rec) {
					return true
				}
			}
			return false
		}
	}
	return false
}

// lookup follows path through the record's objects.
func lookup(rec map[string]any, path []string) (any, bool) {
	var cur any = rec
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// text is a value as Sigma compares it: strings as they are, numbers and
// booleans as CloudTrail writes them, objects and lists as compact JSON;
// false for null.
func text(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case json.Number:
		return x.String(), true
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true
	case int:
		return strconv.Itoa(x), true
	case int64:
		return strconv.FormatInt(x, 10), true
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false
	}
	return strings.TrimSuffix(b.String(), "\n"), true
}

func (pd *pred) match(rec map[string]any) bool {
	switch pd.kind {
	case predExists:
		_, present := pd.field.values(rec)
		return present == pd.exists
	case predFieldRef:
		// A field reference compares the fields' own values, without
		// descending into lists.
		v, _ := lookup(rec, pd.field.path)
		a, ok1 := text(v)
		ov, _ := lookup(rec, pd.other.path)
		b, ok2 := text(ov)
		eq := ok1 && ok2 && strings.ToLower(a) == strings.ToLower(b) //nolint:staticcheck // as SQL's lower(a) = lower(b), not Unicode folding
		return eq != pd.neq
	}
	vals, _ := pd.field.values(rec)
	res := true
	for _, g := range pd.groups {
		if !groupMatch(g, vals) {
			res = false
			break
		}
	}
	return res != pd.neq
}

// groupMatch says whether one of the values matches one of the group's
// patterns; a group of null says the field has no value.
func groupMatch(g []pattern, vals []any) bool {
	if len(g) == 1 && g[0].kind == patNull {
		for _, v := range vals {
			if v != nil {
				return false
			}
		}
		return true
	}
	for _, v := range vals {
		s, ok := text(v)
		if !ok {
			continue
		}
		for i := range g {
			if g[i].match(s, true) {
				return true
			}
		}
	}
	return false
}

func (pt *pattern) match(s string, ok bool) bool {
	if pt.kind == patNull {
		return !ok
	}
	if !ok {
		return false
	}
	switch pt.kind {
	case patGlob:
		if !pt.cased {
			return globMatch(pt.lower, strings.ToLower(s))
		}
		return globMatch(pt.glob, s)
	case patRegex:
		return pt.rx.MatchString(s)
	case patCIDR:
		a, err := netip.ParseAddr(s)
		return err == nil && pt.pfx.Contains(a)
	case patNum:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return false
		}
		switch pt.op {
		case "gt":
			return f > pt.num
		case "gte":
			return f >= pt.num
		case "lt":
			return f < pt.num
		default:
			return f <= pt.num
		}
	}
	return false
}

// globMatch says whether s matches the glob: literals byte for byte, ?
// one character, * any run of characters (the classic two-pointer walk
// that backs up to the last star, linear in practice).
func globMatch(toks []globTok, s string) bool {
	type unit struct {
		b    byte
		wild byte
	}
	var us []unit
	for _, t := range toks {
		if t.wild != 0 {
			us = append(us, unit{wild: t.wild})
			continue
		}
		for i := 0; i < len(t.lit); i++ {
			us = append(us, unit{b: t.lit[i]})
		}
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		if p < len(us) && us[p].wild == '*' {
			star, mark = p, i
			p++
			continue
		}
		if p < len(us) && us[p].wild == '?' {
			_, w := utf8.DecodeRuneInString(s[i:])
			i += w
			p++
			continue
		}
		if p < len(us) && us[p].wild == 0 && us[p].b == s[i] {
			i++
			p++
			continue
		}
		if star < 0 {
			return false
		}
		// Let the last star take one more character.
		p = star + 1
		_, w := utf8.DecodeRuneInString(s[mark:])
		mark += w
		i = mark
	}
	for p < len(us) && us[p].wild == '*' {
		p++
	}
	return p == len(us)
}

// lowerGlob lower-cases a glob's literals, as SQL's lower() the subject.
func lowerGlob(toks []globTok) []globTok {
	out := make([]globTok, len(toks))
	for i, t := range toks {
		out[i] = globTok{lit: strings.ToLower(t.lit), wild: t.wild}
	}
	return out
}
