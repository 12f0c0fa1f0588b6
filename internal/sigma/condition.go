package sigma

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// node is a parsed condition.
type node interface{ isNode() }

// nodeRef is a search identifier.
type nodeRef struct{ name string }

// nodeOp is and/or over args, or not over args[0].
type nodeOp struct {
	op   string
	args []node
}

func (*nodeRef) isNode() {}
func (*nodeOp) isNode()  {}

// condParser is a recursive-descent parser over the condition's tokens,
// with Sigma's precedence (least to most binding): or, and, not,
// "x of", parentheses.
type condParser struct {
	toks []string
	pos  int
	d    *Detection
}

var tokenRE = regexp.MustCompile(`\(|\)|[^\s()]+`)

func parseCondition(s string, d *Detection) (node, error) {
	if strings.Contains(s, "|") {
		return nil, fmt.Errorf("condition %q: the aggregation syntax (| count() ...) is obsolete and not supported: write a correlation rule", s)
	}
	p := &condParser{toks: tokenRE.FindAllString(s, -1), d: d}
	if len(p.toks) == 0 {
		return nil, errors.New("empty condition")
	}
	n, err := p.or()
	if err != nil {
		return nil, fmt.Errorf("condition %q: %w", s, err)
	}
	if p.pos < len(p.toks) {
		return nil, fmt.Errorf("condition %q: unexpected %q", s, p.toks[p.pos])
	}
	return n, nil
}

func (p *condParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *condParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *condParser) or() (node, error) {
	return p.binary("or", p.and)
}

func (p *condParser) and() (node, error) {
	return p.binary("and", p.not)
}

func (p *condParser) binary(op string, sub func() (node, error)) (node, error) {
	first, err := sub()
	if err != nil {
		return nil, err
	}
	args := []node{first}
	for strings.EqualFold(p.peek(), op) {
		p.next()
		n, err := sub()
		if err != nil {
			return nil, err
		}
		args = append(args, n)
	}
	if len(args) == 1 {
		return first, nil
	}
	return &nodeOp{op: op, args: args}, nil
}

func (p *condParser) not() (node, error) {
	if strings.EqualFold(p.peek(), "not") {
		p.next()
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return &nodeOp{op: "not", args: []node{n}}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (node, error) {
	t := p.next()
	switch {
	case t == "":
		return nil, errors.New("ends early")
	case t == "(":
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, errors.New("unbalanced parentheses")
		}
		return n, nil
	case t == ")":
		return nil, errors.New("unexpected )")
	case isKeyword(t):
		return nil, fmt.Errorf("unexpected %q", t)
	}
	if strings.EqualFold(p.peek(), "of") {
		p.next()
		pat := p.next()
		if pat == "" || pat == "(" || pat == ")" || isKeyword(pat) {
			return nil, fmt.Errorf("%q of: no search identifier pattern", t)
		}
		return p.of(t, pat)
	}
	if p.d.search(t) == nil {
		return nil, fmt.Errorf("no search identifier %q", t)
	}
	return &nodeRef{name: t}, nil
}

func isKeyword(t string) bool {
	switch strings.ToLower(t) {
	case "and", "or", "not", "of":
		return true
	}
	return false
}

// of expands "1 of pattern", "all of pattern", "1 of them", "all of them".
func (p *condParser) of(q, pat string) (node, error) {
	var op string
	switch {
	case q == "1" || strings.EqualFold(q, "any"):
		op = "or"
	case strings.EqualFold(q, "all"):
		op = "and"
	default:
		n, err := strconv.Atoi(q)
		if err == nil && n > 1 {
			return nil, fmt.Errorf("%q of: only 1 of and all of are defined", q)
		}
		return nil, fmt.Errorf("%q of: only 1 of and all of are defined", q)
	}
	var refs []node
	for _, s := range p.d.Searches {
		if strings.EqualFold(pat, "them") {
			if strings.HasPrefix(s.Name, "_") {
				continue
			}
		} else if ok, _ := path.Match(pat, s.Name); !ok {
			continue
		}
		refs = append(refs, &nodeRef{name: s.Name})
	}
	if len(refs) == 0 {
		return nil, fmt.Errorf("%s of %s: no search identifier matches", q, pat)
	}
	if len(refs) == 1 {
		return refs[0], nil
	}
	return &nodeOp{op: op, args: refs}, nil
}

func (d *Detection) search(name string) *Search {
	for _, s := range d.Searches {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// parseCorrelation reads a correlation section.
func parseCorrelation(n *yaml.Node) (*Correlation, error) {
	var raw struct {
		Type      string    `yaml:"type"`
		Rules     yaml.Node `yaml:"rules"`
		GroupBy   yaml.Node `yaml:"group-by"`
		Timespan  string    `yaml:"timespan"`
		Timeframe string    `yaml:"timeframe"` // the name in early drafts
		Condition yaml.Node `yaml:"condition"`
		Generate  bool      `yaml:"generate"`
		Aliases   yaml.Node `yaml:"aliases"`
	}
	if err := n.Decode(&raw); err != nil {
		return nil, fmt.Errorf("correlation: %w", err)
	}
	c := &Correlation{Type: raw.Type, Timespan: raw.Timespan, Generate: raw.Generate, Aliases: raw.Aliases.Kind != 0}
	if c.Timespan == "" {
		c.Timespan = raw.Timeframe
	}
	c.Rules = stringList(&raw.Rules)
	c.GroupBy = stringList(&raw.GroupBy)
	if len(c.Rules) == 0 {
		return c, errors.New("correlation names no rules")
	}
	secs, err := parseTimespan(c.Timespan)
	if err != nil {
		return c, err
	}
	c.Seconds = secs
	cn := &raw.Condition
	if cn.Kind != yaml.MappingNode {
		if c.Type == "temporal" || c.Type == "temporal_ordered" {
			return c, nil
		}
		return c, errors.New("correlation condition is not a map (gte: 10)")
	}
	for i := 0; i+1 < len(cn.Content); i += 2 {
		k, v := cn.Content[i].Value, cn.Content[i+1].Value
		if k == "field" {
			c.Field = v
			continue
		}
		switch k {
		case "gt", "gte", "lt", "lte", "eq", "neq":
		default:
			return c, fmt.Errorf("correlation condition %q is not one of gt, gte, lt, lte, eq, neq", k)
		}
		num, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return c, fmt.Errorf("correlation condition %s: %q is not a whole number", k, v)
		}
		c.Conditions = append(c.Conditions, CountCondition{Op: k, N: num})
	}
	if len(c.Conditions) == 0 {
		return c, errors.New("correlation condition has no criterion (gte: 10)")
	}
	return c, nil
}

func stringList(n *yaml.Node) []string {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Value == "" {
			return nil
		}
		return []string{n.Value}
	case yaml.SequenceNode:
		var out []string
		for _, e := range n.Content {
			out = append(out, e.Value)
		}
		return out
	}
	return nil
}

// parseTimespan reads "5m", "1h", "30s", "2d" into seconds.
func parseTimespan(s string) (int64, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("correlation timespan %q is not a number and a unit (30s, 5m, 1h, 1d)", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 || n > 1<<31 {
		return 0, fmt.Errorf("correlation timespan %q is not a number and a unit (30s, 5m, 1h, 1d)", s)
	}
	switch s[len(s)-1] {
	case 's':
		return n, nil
	case 'm':
		return n * 60, nil
	case 'h':
		return n * 3600, nil
	case 'd':
		return n * 86400, nil
	case 'w':
		return n * 7 * 86400, nil
	}
	return 0, fmt.Errorf("correlation timespan %q is not a number and a unit (30s, 5m, 1h, 1d)", s)
}
