package policy

import (
	"fmt"
	"slices"
	"strings"
)

// baseOperators is every condition operator AWS accepts, without set
// qualifier or IfExists suffix.
var baseOperators = []string{
	"StringEquals", "StringNotEquals",
	"StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase",
	"StringLike", "StringNotLike",
	"NumericEquals", "NumericNotEquals",
	"NumericLessThan", "NumericLessThanEquals",
	"NumericGreaterThan", "NumericGreaterThanEquals",
	"DateEquals", "DateNotEquals",
	"DateLessThan", "DateLessThanEquals",
	"DateGreaterThan", "DateGreaterThanEquals",
	"Bool",
	"BinaryEquals",
	"IpAddress", "NotIpAddress",
	"ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
	"Null",
}

// BaseOperators returns the condition operators AWS accepts, without
// ForAnyValue:/ForAllValues: prefix or IfExists suffix. The slice is a
// fresh copy.
func BaseOperators() []string { return slices.Clone(baseOperators) }

// IsBaseOperator reports whether name is one of BaseOperators (exact case).
func IsBaseOperator(name string) bool { return slices.Contains(baseOperators, name) }

// ParseOperator parses a condition operator name such as
// "ForAllValues:StringLikeIfExists". Names are case-sensitive, as AWS
// writes them, and unknown operators are errors because AWS rejects them.
func ParseOperator(name string) (Operator, error) {
	var op Operator
	rest := name
	if r, ok := strings.CutPrefix(rest, "ForAnyValue:"); ok {
		op.Set, rest = ForAnyValue, r
	} else if r, ok := strings.CutPrefix(rest, "ForAllValues:"); ok {
		op.Set, rest = ForAllValues, r
	}
	if r, ok := strings.CutSuffix(rest, "IfExists"); ok && IsBaseOperator(r) {
		op.IfExists, rest = true, r
	}
	if !IsBaseOperator(rest) {
		return Operator{}, fmt.Errorf("unknown condition operator %q%s", name, suggestOperator(name))
	}
	if op.IfExists && rest == "Null" {
		return Operator{}, fmt.Errorf("condition operator %q: Null does not take the IfExists suffix", name)
	}
	op.Base = rest
	return op, nil
}

// suggestOperator offers the correctly cased spelling for the common
// mistake of writing "stringequals" or "forAnyValue:StringLike".
func suggestOperator(name string) string {
	prefix, base := "", name
	if i := strings.IndexByte(name, ':'); i >= 0 {
		prefix, base = name[:i+1], name[i+1:]
		switch {
		case strings.EqualFold(prefix, "ForAnyValue:"):
			prefix = "ForAnyValue:"
		case strings.EqualFold(prefix, "ForAllValues:"):
			prefix = "ForAllValues:"
		default:
			return ""
		}
	}
	suffix := ""
	if len(base) > len("IfExists") && strings.EqualFold(base[len(base)-len("IfExists"):], "IfExists") {
		base, suffix = base[:len(base)-len("IfExists")], "IfExists"
	}
	for _, b := range baseOperators {
		if strings.EqualFold(b, base) {
			if b == "Null" && suffix != "" {
				return ""
			}
			return fmt.Sprintf(" (did you mean %q?)", prefix+b+suffix)
		}
	}
	return ""
}
