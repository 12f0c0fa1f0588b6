package eval

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/policy"
)

// family groups operators that compare values the same way.
type family uint8

const (
	famString family = iota
	famNumeric
	famDate
	famBool
	famBinary
	famIP
	famARN
	famNull
)

var familyNames = [...]string{"string", "number", "date", "boolean", "base64 value", "IP address", "ARN", "null test"}

// cmpOp is the comparison of an operator: request value OP policy value.
type cmpOp uint8

const (
	cmpEq cmpOp = iota
	cmpLt
	cmpLte
	cmpGt
	cmpGte
)

// opSpec describes a base operator. Negated operators (StringNotEquals,
// NotIpAddress, …) are the positive comparison inverted, so several values
// must all fail to match [doc: multiple values].
type opSpec struct {
	fam     family
	cmp     cmpOp
	negated bool
	like    bool // * and ? are wildcards
	fold    bool // case-insensitive values
}

// operators are the 26 base operators plus Null. Names are case-sensitive,
// as in policy.ParseOperator.
var operators = map[string]opSpec{
	"StringEquals":              {fam: famString},
	"StringNotEquals":           {fam: famString, negated: true},
	"StringEqualsIgnoreCase":    {fam: famString, fold: true},
	"StringNotEqualsIgnoreCase": {fam: famString, fold: true, negated: true},
	"StringLike":                {fam: famString, like: true},
	"StringNotLike":             {fam: famString, like: true, negated: true},
	"NumericEquals":             {fam: famNumeric},
	"NumericNotEquals":          {fam: famNumeric, negated: true},
	"NumericLessThan":           {fam: famNumeric, cmp: cmpLt},
	"NumericLessThanEquals":     {fam: famNumeric, cmp: cmpLte},
	"NumericGreaterThan":        {fam: famNumeric, cmp: cmpGt},
	"NumericGreaterThanEquals":  {fam: famNumeric, cmp: cmpGte},
	"DateEquals":                {fam: famDate},
	"DateNotEquals":             {fam: famDate, negated: true},
	"DateLessThan":              {fam: famDate, cmp: cmpLt},
	"DateLessThanEquals":        {fam: famDate, cmp: cmpLte},
	"DateGreaterThan":           {fam: famDate, cmp: cmpGt},
	"DateGreaterThanEquals":     {fam: famDate, cmp: cmpGte},
	"Bool":                      {fam: famBool},
	"BinaryEquals":              {fam: famBinary},
	"IpAddress":                 {fam: famIP},
	"NotIpAddress":              {fam: famIP, negated: true},
	// ArnEquals and ArnLike both accept * and ? [doc].
	"ArnEquals":    {fam: famARN, like: true},
	"ArnLike":      {fam: famARN, like: true},
	"ArnNotEquals": {fam: famARN, like: true, negated: true},
	"ArnNotLike":   {fam: famARN, like: true, negated: true},
	"Null":         {fam: famNull},
}

// cValue is one compiled policy value; only the field of its family is set.
type cValue struct {
	str  string // string families (lower-cased for IgnoreCase)
	g    glob   // StringLike
	arn  arnPattern
	num  float64
	t    time.Time
	pfx  netip.Prefix
	bin  []byte
	b    bool
	bad  bool // a resolved variable gave a value of the wrong type
	text string
}

// cCondition is one operator/key pair with its values.
type cCondition struct {
	name     string // operator as written
	key      string // key as written
	lkey     string // lower-cased key: keys are case-insensitive [doc]
	set      policy.SetQualifier
	ifExists bool
	spec     opSpec
	raw      []string
	vals     []cValue  // static values
	tmpl     [][]token // per-value templates when the condition has variables
	vars     bool
	nulls    []bool
}

func compileCondition(c policy.Condition, varsOn bool) (cCondition, error) {
	spec, ok := operators[c.Operator.Base]
	if !ok {
		return cCondition{}, fmt.Errorf("unknown condition operator %q", c.Operator.String())
	}
	cc := cCondition{
		name: c.Operator.String(), key: c.Key, lkey: strings.ToLower(c.Key),
		set: c.Operator.Set, ifExists: c.Operator.IfExists, spec: spec, raw: c.Values,
	}
	switch {
	case c.Key == "":
		return cc, errors.New("empty condition key")
	case spec.fam == famNull && c.Operator.IfExists:
		return cc, errors.New("the Null operator cannot take IfExists")
	}
	// Variables are allowed only with String, ARN and Bool operators [doc].
	varsOK := varsOn && (spec.fam == famString || spec.fam == famARN || spec.fam == famBool)
	for _, v := range c.Values {
		if varsOn && !varsOK && strings.Contains(v, "${") {
			return cc, fmt.Errorf("policy variables are not allowed with %s", c.Operator.Base)
		}
		toks := parseTemplate(v, varsOK, spec.like)
		if hasVar(toks) {
			cc.vars = true
		}
		cc.tmpl = append(cc.tmpl, toks)
	}
	if spec.fam == famNull {
		for _, v := range c.Values {
			b, ok := parseBool(v)
			if !ok {
				return cc, fmt.Errorf("the Null operator takes true or false, got %q", v)
			}
			cc.nulls = append(cc.nulls, b)
		}
		return cc, nil
	}
	if cc.vars {
		return cc, nil
	}
	for i, toks := range cc.tmpl {
		cv := makeValue(spec, toks)
		if cv.bad {
			return cc, fmt.Errorf("value %q is not a valid %s", c.Values[i], familyNames[spec.fam])
		}
		cc.vals = append(cc.vals, cv)
	}
	cc.tmpl = nil
	return cc, nil
}

// makeValue compiles one value from its (resolved) tokens.
func makeValue(spec opSpec, toks []token) cValue {
	cv := cValue{text: render(toks)}
	switch spec.fam {
	case famString:
		switch {
		case spec.like:
			cv.g = compileGlob(toks)
		case spec.fold:
			cv.str = strings.ToLower(literal(toks))
		default:
			cv.str = literal(toks)
		}
	case famARN:
		cv.arn = compileARN(toks)
	case famBool:
		cv.b, cv.bad = parseBool(literal(toks))
		cv.bad = !cv.bad
	case famNumeric:
		var ok bool
		cv.num, ok = parseNumber(cv.text)
		cv.bad = !ok
	case famDate:
		var ok bool
		cv.t, ok = parseDate(cv.text)
		cv.bad = !ok
	case famIP:
		var ok bool
		cv.pfx, ok = parsePolicyIP(cv.text)
		cv.bad = !ok
	case famBinary:
		var ok bool
		cv.bin, ok = parseBinary(cv.text)
		cv.bad = !ok
	}
	return cv
}

// values returns the policy values for this request, substituting
// variables. missing names a variable with no value: such a value matches
// nothing, and for a negated operator it makes the condition false, since
// AWS says the failed match "causes the statement to be invalid" [doc].
// The returned values stay aligned with the policy values; unusable ones
// are marked bad and never match.
func (c *cCondition) values(ctx reqContext) (vals []cValue, resolved []string, missing string, usable bool) {
	if !c.vars {
		return c.vals, nil, "", true
	}
	vals = make([]cValue, 0, len(c.tmpl))
	resolved = make([]string, 0, len(c.tmpl))
	for _, toks := range c.tmpl {
		rt, miss, ok := resolve(toks, ctx)
		if !ok {
			if missing == "" {
				missing = miss
			}
			resolved = append(resolved, miss+" (no value)")
			vals = append(vals, cValue{bad: true})
			continue
		}
		cv := makeValue(c.spec, rt)
		resolved = append(resolved, cv.text)
		vals = append(vals, cv)
		usable = usable || !cv.bad
	}
	return vals, resolved, missing, usable
}

// eval applies the condition to the request context. The rules for missing
// keys, IfExists and the set qualifiers follow tables 2.2 and 2.3 of the
// spec.
func (c *cCondition) eval(ctx reqContext) ConditionResult {
	req := ctx[c.lkey]
	res := ConditionResult{Operator: c.name, Key: c.key, Values: c.raw, RequestValues: req}
	present := len(req) > 0 // an empty list counts as absent
	if c.spec.fam == famNull {
		for _, want := range c.nulls {
			if want != present {
				res.Matched = true
			}
		}
		res.Explanation = "key absent"
		if present {
			res.Explanation = "key present"
		}
		return res
	}
	if !present {
		switch {
		case c.set == policy.ForAllValues:
			res.Matched, res.Explanation = true, "key absent or empty: ForAllValues matches vacuously"
		case c.ifExists:
			res.Matched, res.Explanation = true, "key absent: IfExists matches"
		case c.set == policy.ForAnyValue:
			res.Explanation = "key absent or empty: ForAnyValue needs a matching value"
		case c.spec.negated:
			res.Matched, res.Explanation = true, "key absent: a negated operator matches"
		default:
			res.Explanation = "key absent"
		}
		return res
	}
	if c.set == policy.NoSet && ctx.multivalued(c.lkey) {
		// iam-simulate's rule; AWS only documents that set operators are
		// required for multivalued keys.
		res.Explanation = fmt.Sprintf("key is multivalued (%d values): a single-valued operator does not match; use ForAnyValue: or ForAllValues:", len(req))
		return res
	}
	vals, resolved, missing, usable := c.values(ctx)
	res.Resolved = resolved
	if missing != "" && (c.spec.negated || !usable) {
		res.Explanation = "policy variable " + missing + " has no value"
		return res
	}
	shown := c.raw
	if resolved != nil {
		shown = resolved
	}
	switch c.set {
	case policy.ForAnyValue:
		for _, v := range req {
			if ok, hit, bad := c.matchOne(v, vals); ok {
				res.Matched = true
				res.Explanation = "ForAnyValue: " + describe(v, hit, bad, shown, c.spec)
				return res
			}
		}
		res.Explanation = "ForAnyValue: no request value matches " + quoteList(shown)
	case policy.ForAllValues:
		for _, v := range req {
			if ok, hit, bad := c.matchOne(v, vals); !ok {
				res.Explanation = "ForAllValues: " + describe(v, hit, bad, shown, c.spec)
				return res
			}
		}
		res.Matched, res.Explanation = true, "ForAllValues: every request value matches"
	default:
		ok, hit, bad := c.matchOne(req[0], vals)
		res.Matched, res.Explanation = ok, describe(req[0], hit, bad, shown, c.spec)
	}
	return res
}

var relations = [...]string{cmpLt: "less than", cmpLte: "less than or equal to", cmpGt: "greater than", cmpGte: "greater than or equal to"}

// describe explains one request value against the policy values.
func describe(v string, hit int, bad bool, shown []string, spec opSpec) string {
	rv := "request value " + strconv.Quote(v)
	switch {
	case bad:
		return rv + " is not a valid " + familyNames[spec.fam]
	case spec.cmp != cmpEq:
		rel := relations[spec.cmp]
		if hit >= 0 && hit < len(shown) {
			return rv + " is " + rel + " " + strconv.Quote(shown[hit])
		}
		return rv + " is not " + rel + " any of " + quoteList(shown)
	case spec.fam == famIP:
		if hit >= 0 && hit < len(shown) {
			return rv + " is in " + strconv.Quote(shown[hit])
		}
		return rv + " is in none of " + quoteList(shown)
	case hit >= 0 && hit < len(shown):
		return rv + " matches " + strconv.Quote(shown[hit])
	}
	out := rv + " matches none of " + quoteList(shown)
	if spec.fam == famARN {
		if !isARNValue(v) {
			out += "; the request value is not an ARN (an ARN has six colon-separated components)"
		}
		out += shortARNNote(shown)
	}
	return out
}

// shortARNNote points out ARN patterns without six components, which the
// ARN operators never match (a "*" does not span a colon).
func shortARNNote(patterns []string) string {
	var short []string
	for _, p := range patterns {
		if !strings.HasSuffix(p, " (no value)") && !isARNValue(p) {
			short = append(short, strconv.Quote(p))
		}
	}
	if len(short) == 0 {
		return ""
	}
	return "; " + strings.Join(short, ", ") + " has fewer than the six colon-separated components of an ARN, " +
		"and ARN operators compare component by component, so it matches no ARN"
}
