package eval

import (
	"bytes"
	"encoding/base64"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// matchOne applies the operator to one request value. hit is the index of
// the policy value that matched the positive comparison (-1 if none); bad is
// true when the request value cannot be read as the operator's type, which
// never matches, negated or not.
func (c *cCondition) matchOne(v string, vals []cValue) (ok bool, hit int, bad bool) {
	hit = -1
	switch c.spec.fam {
	case famString:
		if c.spec.fold {
			v = strings.ToLower(v)
		}
		for i := range vals {
			pv := &vals[i]
			if pv.bad {
				continue
			}
			if (c.spec.like && pv.g.match(v)) || (!c.spec.like && pv.str == v) {
				hit = i
				break
			}
		}
	case famARN:
		// A value without six components is matched by no pattern; a
		// negated operator then holds, as for any value no pattern matches.
		for i := range vals {
			if !vals[i].bad && vals[i].arn.matchComponents(v) {
				hit = i
				break
			}
		}
	case famBool:
		b, okb := parseBool(v)
		if !okb {
			return false, -1, true
		}
		for i := range vals {
			if !vals[i].bad && vals[i].b == b {
				hit = i
				break
			}
		}
	case famNumeric:
		x, okn := parseNumber(v)
		if !okn {
			return false, -1, true
		}
		for i := range vals {
			if compare(c.spec.cmp, cmpFloat(x, vals[i].num)) {
				hit = i
				break
			}
		}
	case famDate:
		t, okd := parseDate(v)
		if !okd {
			return false, -1, true
		}
		for i := range vals {
			if compare(c.spec.cmp, t.Compare(vals[i].t)) {
				hit = i
				break
			}
		}
	case famIP:
		a, oka := parseRequestIP(v)
		if !oka {
			return false, -1, true
		}
		for i := range vals {
			if vals[i].pfx.Contains(a) {
				hit = i
				break
			}
		}
	case famBinary:
		b, okb := parseBinary(v)
		if !okb {
			return false, -1, true
		}
		for i := range vals {
			if bytes.Equal(b, vals[i].bin) {
				hit = i
				break
			}
		}
	}
	return (hit >= 0) != c.spec.negated, hit, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare turns a three-way comparison (request vs policy) into the
// operator's answer.
func compare(op cmpOp, c int) bool {
	switch op {
	case cmpLt:
		return c < 0
	case cmpLte:
		return c <= 0
	case cmpGt:
		return c > 0
	case cmpGte:
		return c >= 0
	}
	return c == 0
}

// parseBool accepts true/false in any case; JSON booleans arrive as text.
func parseBool(s string) (value, ok bool) {
	switch strings.ToLower(s) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseNumber accepts plain decimal numbers (optional sign, fraction and
// exponent). strconv alone would also take "NaN", "Inf", hex floats and
// underscores, none of which AWS documents.
func parseNumber(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// dateLayouts are the ISO 8601 forms accepted besides epoch seconds. A
// missing zone means UTC.
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02",
	"20060102T150405Z0700",
	"20060102T150405Z",
	"20060102",
}

// parseDate reads ISO 8601 or epoch seconds [doc: Date operators].
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	if n, ok := parseNumber(s); ok && !strings.ContainsAny(s, "eE") && !strings.HasPrefix(s, "+") {
		if len(s) == 8 && !strings.Contains(s, ".") && !strings.HasPrefix(s, "-") {
			// 20240131 is a basic-format date, not epoch second 20,240,131.
			if t, err := time.Parse("20060102", s); err == nil {
				return t, true
			}
		}
		sec, frac := math.Modf(n)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), true
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parsePolicyIP reads a CIDR or a bare address (a /32 or /128) [doc: IP
// address operators]. Host bits are cleared, as AWS treats the block.
func parsePolicyIP(s string) (netip.Prefix, bool) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, false
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
		}
		return p.Masked(), true
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}

func parseRequestIP(s string) (netip.Addr, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.Unmap().WithZone(""), true
}

// parseBinary decodes standard base64, padded or not.
func parseBinary(s string) ([]byte, bool) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	if b, err := base64.RawStdEncoding.DecodeString(s); err == nil {
		return b, true
	}
	return nil, false
}
