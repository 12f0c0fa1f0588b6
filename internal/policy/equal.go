package policy

import (
	"slices"
	"strconv"
	"strings"
)

// Equal reports whether a and b are the same policy to AWS:
//   - an absent Version means "2008-10-17";
//   - statement order does not matter, but each statement counts (multiset);
//   - Sids and positions are ignored; Id is compared exactly;
//   - statements are compared with EqualStatement.
func Equal(a, b *Document) bool {
	if a == nil || b == nil {
		return a == b
	}
	if effectiveVersion(a.Version) != effectiveVersion(b.Version) || a.ID != b.ID {
		return false
	}
	if len(a.Statements) != len(b.Statements) {
		return false
	}
	ka, kb := statementKeys(a.Statements), statementKeys(b.Statements)
	return slices.Equal(ka, kb)
}

func effectiveVersion(v string) string {
	if v == "" {
		return Version2008
	}
	return v
}

// EqualStatement reports whether two statements mean the same thing:
//   - Sid and Pos are ignored;
//   - value lists are sets (order, duplicates and string-vs-list form do
//     not matter);
//   - actions and condition keys compare case-insensitively, condition
//     operators exactly, Bool and *IgnoreCase values case-insensitively;
//   - Principal "*" is {"AWS": "*"}, a 12-digit AWS account id is
//     "arn:aws:iam::<id>:root", service principals compare
//     case-insensitively.
func EqualStatement(a, b Statement) bool {
	return statementKey(a) == statementKey(b)
}

func statementKeys(sts []Statement) []string {
	keys := make([]string, len(sts))
	for i, st := range sts {
		keys[i] = statementKey(st)
	}
	slices.Sort(keys)
	return keys
}

// statementKey reduces a statement to a normal form encoded as a string;
// two statements are equal when their keys are. strconv.Quote keeps the
// encoding unambiguous (and lossless, even for invalid UTF-8). Nil lists
// encode as "-" so that an absent element differs from a present one.
func statementKey(s Statement) string {
	var b strings.Builder
	b.WriteString(strconv.Quote(string(s.Effect)))
	writePrincipal(&b, s.Principal)
	writePrincipal(&b, s.NotPrincipal)
	writeList(&b, normSet(s.Action, strings.ToLower))
	writeList(&b, normSet(s.NotAction, strings.ToLower))
	writeList(&b, normSet(s.Resource, nil))
	writeList(&b, normSet(s.NotResource, nil))
	for _, c := range normalizeConditions(s.Condition) {
		b.WriteString(" " + strconv.Quote(c.Operator) + strconv.Quote(c.Key))
		writeList(&b, c.Values)
	}
	return b.String()
}

func writeList(b *strings.Builder, values []string) {
	if values == nil {
		b.WriteString(" -")
		return
	}
	b.WriteString(" [")
	for _, v := range values {
		b.WriteString(strconv.Quote(v))
	}
	b.WriteString("]")
}

func writePrincipal(b *strings.Builder, p *Principal) {
	n := normalizePrincipal(p)
	if n == nil {
		b.WriteString(" -")
		return
	}
	b.WriteString(" {")
	writeList(b, n.AWS)
	writeList(b, n.CanonicalUser)
	writeList(b, n.Federated)
	writeList(b, n.Service)
	b.WriteString("}")
}

type normPrincipal struct {
	AWS, Service, Federated, CanonicalUser []string
}

type normCondition struct {
	Operator string
	Key      string
	Values   []string
}

func normalizePrincipal(p *Principal) *normPrincipal {
	if p == nil {
		return nil
	}
	aws := slices.Clone(p.AWS)
	if p.Wildcard {
		aws = append(aws, "*")
	}
	return &normPrincipal{
		AWS:           nonNil(normSet(aws, accountRoot)),
		Service:       nonNil(normSet(p.Service, strings.ToLower)),
		Federated:     nonNil(normSet(p.Federated, nil)),
		CanonicalUser: nonNil(normSet(p.CanonicalUser, nil)),
	}
}

// nonNil makes an absent principal type equal to an empty one: both mean
// "no principals of this type".
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// accountRoot expands a bare account id the way AWS does when it stores
// the policy.
func accountRoot(v string) string {
	if len(v) != 12 {
		return v
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return v
		}
	}
	return "arn:aws:iam::" + v + ":root"
}

// normSet maps, sorts and dedupes values, keeping nil as nil.
func normSet(values []string, fn func(string) string) []string {
	if values == nil {
		return nil
	}
	out := make([]string, len(values))
	for i, v := range values {
		if fn != nil {
			v = fn(v)
		}
		out[i] = v
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// caseInsensitiveValues are the operators whose values AWS compares
// without regard to case.
func caseInsensitiveValues(base string) bool {
	switch base {
	case "Bool", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
		return true
	}
	return false
}

// normalizeConditions returns the conditions as a sorted set: all of a
// statement's conditions must hold, so order and repetition do not matter.
func normalizeConditions(conds []Condition) []normCondition {
	if len(conds) == 0 {
		return nil
	}
	out := make([]normCondition, len(conds))
	for i, c := range conds {
		var fn func(string) string
		if caseInsensitiveValues(c.Operator.Base) {
			fn = strings.ToLower
		}
		out[i] = normCondition{
			Operator: c.Operator.String(),
			Key:      strings.ToLower(c.Key),
			Values:   nonNil(normSet(c.Values, fn)),
		}
	}
	cmp := func(a, b normCondition) int {
		if c := strings.Compare(a.Operator, b.Operator); c != 0 {
			return c
		}
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return slices.Compare(a.Values, b.Values)
	}
	slices.SortFunc(out, cmp)
	return slices.CompactFunc(out, func(a, b normCondition) bool { return cmp(a, b) == 0 })
}

// Clone returns a deep copy of s; nil slices stay nil.
func (s Statement) Clone() Statement {
	c := s
	c.Principal = s.Principal.clone()
	c.NotPrincipal = s.NotPrincipal.clone()
	c.Action = slices.Clone(s.Action)
	c.NotAction = slices.Clone(s.NotAction)
	c.Resource = slices.Clone(s.Resource)
	c.NotResource = slices.Clone(s.NotResource)
	c.Condition = slices.Clone(s.Condition)
	for i := range c.Condition {
		c.Condition[i].Values = slices.Clone(c.Condition[i].Values)
	}
	return c
}

// Clone returns a deep copy of d (nil for nil).
func (d *Document) Clone() *Document {
	if d == nil {
		return nil
	}
	c := *d
	c.Statements = slices.Clone(d.Statements)
	for i := range c.Statements {
		c.Statements[i] = c.Statements[i].Clone()
	}
	return &c
}

func (p *Principal) clone() *Principal {
	if p == nil {
		return nil
	}
	return &Principal{
		Wildcard:      p.Wildcard,
		AWS:           slices.Clone(p.AWS),
		Service:       slices.Clone(p.Service),
		Federated:     slices.Clone(p.Federated),
		CanonicalUser: slices.Clone(p.CanonicalUser),
	}
}
