package detect

import (
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/sigma"
)

// eventNames is the set of event names a single-event rule can match at
// all, when its condition requires one (lower case), or nil when it does
// not say. It is a necessary condition only, derived conservatively: a
// search requires the names when every one of its alternatives tests
// eventName for exact values; "a and b" requires those of either, "a or
// b" the union of both's, and anything else (not, 1 of, keywords,
// wildcards, placeholders, modifiers) requires nothing. The scan tests it
// first: comparing event_name is much cheaper than a rule's whole
// condition, so most rows are ruled out without it.
func eventNames(r *sigma.Rule) []string {
	if r == nil || r.Detection == nil || len(r.Detection.Conditions) != 1 {
		return nil
	}
	searches := map[string]*sigma.Search{}
	for _, s := range r.Detection.Searches {
		searches[s.Name] = s
	}
	p := &condNames{toks: tokens(r.Detection.Conditions[0]), searches: searches}
	set, ok := p.or()
	if !ok || p.pos != len(p.toks) || len(set) == 0 {
		return nil
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func tokens(cond string) []string {
	cond = strings.NewReplacer("(", " ( ", ")", " ) ").Replace(cond)
	return strings.Fields(cond)
}

// condNames walks a condition; each method returns the names its part
// requires and whether it requires any.
type condNames struct {
	toks     []string
	pos      int
	searches map[string]*sigma.Search
}

func (p *condNames) peek() string {
	if p.pos < len(p.toks) {
		return strings.ToLower(p.toks[p.pos])
	}
	return ""
}

func (p *condNames) or() (map[string]bool, bool) {
	set, ok := p.and()
	for p.peek() == "or" {
		p.pos++
		next, nok := p.and()
		if !ok || !nok {
			ok = false
			continue
		}
		for n := range next {
			set[n] = true
		}
	}
	return set, ok
}

func (p *condNames) and() (map[string]bool, bool) {
	set, ok := p.unary()
	for p.peek() == "and" {
		p.pos++
		next, nok := p.unary()
		if !ok && nok {
			set, ok = next, true
		}
	}
	return set, ok
}

func (p *condNames) unary() (map[string]bool, bool) {
	switch t := p.peek(); t {
	case "not":
		p.pos++
		p.unary()
		return nil, false
	case "(":
		p.pos++
		set, ok := p.or()
		if p.peek() != ")" {
			p.pos = len(p.toks) + 1 // unbalanced: give up
			return nil, false
		}
		p.pos++
		return set, ok
	case "", ")", "and", "or":
		p.pos = len(p.toks) + 1
		return nil, false
	case "1", "all", "any":
		// "1 of x*", "all of them": not analysed.
		p.pos += 3
		return nil, false
	default:
		p.pos++
		return searchNames(p.searches[p.toks[p.pos-1]])
	}
}

// searchNames are the exact event names every alternative of a search
// tests, if each does.
func searchNames(s *sigma.Search) (map[string]bool, bool) {
	if s == nil || len(s.Keywords) > 0 || len(s.Alternatives) == 0 {
		return nil, false
	}
	set := map[string]bool{}
	for _, alt := range s.Alternatives {
		found := false
		for _, t := range alt {
			// The field exactly as CloudTrail names it: another spelling
			// may map elsewhere, and then says nothing here.
			if t.Field != "eventName" || len(t.Modifiers) > 0 || len(t.Values) == 0 {
				continue
			}
			vals := map[string]bool{}
			exact := true
			for _, v := range t.Values {
				if v == nil || *v == "" || strings.ContainsAny(*v, `*?%\`) {
					exact = false
					break
				}
				vals[strings.ToLower(*v)] = true
			}
			if exact {
				for n := range vals {
					set[n] = true
				}
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return set, true
}
