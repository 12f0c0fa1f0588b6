package sigma

import (
	"fmt"
	"strconv"
	"strings"
)

// Dialect is the SQL a rule compiles to.
type Dialect int

// The dialects: the DuckDB store's events table, and the CloudTrail table
// on Athena (Trino SQL).
const (
	DuckDB Dialect = iota
	Athena
)

func (d Dialect) String() string {
	if d == Athena {
		return "athena"
	}
	return "duckdb"
}

// DefaultTable is the table each dialect's SQL reads by default.
func (d Dialect) DefaultTable() string {
	if d == Athena {
		return "cloudtrail_logs"
	}
	return "events"
}

// Compiled is a rule compiled to one dialect.
type Compiled struct {
	Rule *Rule
	// Where is the rule's condition as a boolean SQL expression over one
	// row of the events table; empty for a correlation.
	Where string
	// SQL is the whole SELECT. A detection returns one row per matching
	// event: event_id, event_time, account, region, principal,
	// source_ip_address, event_source, event_name. A correlation returns
	// one row per group and episode that fires: the group-by values
	// (named as the rule names the fields), first_time, last_time, count
	// (the largest count of a window) and event_ids (sorted).
	SQL         string
	Correlation bool
	// GroupBy are a correlation's group-by fields, as its SQL names
	// their columns.
	GroupBy []string
}

// Options tune the SQL.
type Options struct {
	// Table is the table to read; default Dialect.DefaultTable.
	Table string
	// Filter, when set, is a boolean SQL condition ANDed to the rule's
	// (a time window, partitions to read).
	Filter string
}

// Compile compiles a rule for a dialect, with the placeholders' values.
// A rule that uses something unsupported returns an *UnsupportedError.
func Compile(r *Rule, d Dialect, ph Placeholders) (*Compiled, error) {
	return CompileWith(r, d, ph, Options{})
}

// CompileWith is Compile with options.
func CompileWith(r *Rule, d Dialect, ph Placeholders, o Options) (*Compiled, error) {
	if o.Table == "" {
		o.Table = d.DefaultTable()
	}
	if r.Correlation != nil {
		return compileCorrelation(r, d, ph, o)
	}
	p, err := r.prepare(ph)
	if err != nil {
		return nil, err
	}
	g := &gen{d: d}
	where, err := g.cond(p, p.cond)
	if err != nil {
		return nil, r.wrap(err)
	}
	c := &Compiled{Rule: r, Where: where}
	c.SQL = "SELECT " + selectList(d) + "\nFROM " + o.Table + "\nWHERE " + filtered(where, o.Filter) + "\nORDER BY event_time, event_id"
	return c, nil
}

func filtered(where, filter string) string {
	if filter == "" {
		return where
	}
	return "(" + where + ") AND (" + filter + ")"
}

// selectList is a detection's columns.
func selectList(d Dialect) string {
	if d == Athena {
		return `eventid AS event_id, from_iso8601_timestamp(eventtime) AS event_time,
       coalesce(recipientaccountid, account) AS account, coalesce(awsregion, region) AS region,
       coalesce(useridentity.arn, useridentity.sessioncontext.sessionissuer.arn, useridentity.invokedby, useridentity.principalid, useridentity.type) AS principal,
       sourceipaddress AS source_ip_address, eventsource AS event_source, eventname AS event_name`
	}
	return `event_id, event_time,
       coalesce(recipient_account_id, account) AS account, coalesce(aws_region, region) AS region,
       coalesce(user_identity.arn, user_identity.session_context.session_issuer.arn, user_identity.invoked_by, user_identity.principal_id, user_identity.type) AS principal,
       source_ip_address, event_source, event_name`
}

// gen writes SQL for a dialect.
type gen struct{ d Dialect }

func (g *gen) cond(p *prepared, n node) (string, error) {
	switch n := n.(type) {
	case *nodeRef:
		var alts []string
		for _, conj := range p.searches[n.name] {
			var parts []string
			for _, pd := range conj {
				s, err := g.pred(pd)
				if err != nil {
					return "", err
				}
				parts = append(parts, s)
			}
			if len(parts) == 0 {
				parts = []string{"true"}
			}
			alts = append(alts, join(parts, " AND "))
		}
		if len(alts) == 0 {
			return "false", nil
		}
		return join(alts, " OR "), nil
	case *nodeOp:
		var parts []string
		for _, a := range n.args {
			s, err := g.cond(p, a)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		if n.op == "not" {
			return "NOT " + parts[0], nil
		}
		return join(parts, " "+strings.ToUpper(n.op)+" "), nil
	}
	return "", fmt.Errorf("sigma: unknown condition node %T", n)
}

// join parenthesizes each part when there are several.
func join(parts []string, sep string) string {
	if len(parts) == 1 {
		return parts[0]
	}
	return "(" + strings.Join(parts, sep) + ")"
}

func (g *gen) pred(pd *pred) (string, error) {
	switch pd.kind {
	case predExists:
		e, err := g.exists(pd.field)
		if err != nil {
			return "", err
		}
		if pd.exists {
			return e, nil
		}
		return "NOT " + e, nil
	case predFieldRef:
		v, err := g.value(pd.field)
		if err != nil {
			return "", err
		}
		o, err := g.value(pd.other)
		if err != nil {
			return "", err
		}
		s := "coalesce(lower(" + v + ") = lower(" + o + "), false)"
		if pd.neq {
			s = "NOT " + s
		}
		return s, nil
	}
	var groups []string
	for _, grp := range pd.groups {
		if len(grp) == 1 && grp[0].kind == patNull {
			any, err := g.anyValue(pd.field, func(v string) string { return v + " IS NOT NULL" })
			if err != nil {
				return "", err
			}
			groups = append(groups, "NOT "+any)
			continue
		}
		any, err := g.anyValue(pd.field, func(v string) string { return g.alternatives(v, grp) })
		if err != nil {
			return "", err
		}
		groups = append(groups, any)
	}
	s := join(groups, " AND ")
	if pd.neq {
		s = "NOT " + s
	}
	return s, nil
}

// anyValue is the SQL of "one of the field's values satisfies test", never
// NULL. Inside a JSON field a path may pass through lists: every way it
// can (each intermediate member a list or not) is tried, as Match walks
// them.
func (g *gen) anyValue(f fieldRef, test func(v string) string) (string, error) {
	if member, ok := resourceMember(f); ok {
		if g.d == Athena {
			return "coalesce(any_match(resources, x0 -> " + test("x0."+athenaStructMembers["resources"][member]) + "), false)", nil
		}
		return "coalesce(list_bool_or(list_transform(json_extract_string(resources, " + quote(`$[*]."`+member+`"`) + "), x -> " + test("x") + ")), false)", nil
	}
	col, sub := g.jsonTarget(f)
	if col == "" || len(sub) < 2 {
		v, err := g.value(f)
		if err != nil {
			return "", err
		}
		return "coalesce(" + test(v) + ", false)", nil
	}
	var parts []string
	for set := uint(0); set < 1<<(len(sub)-1); set++ {
		if g.d == Athena {
			parts = append(parts, "coalesce("+g.athenaAny(col, sub, set, 0, func(c, path string) string {
				return test(athenaText(c, path))
			})+", false)")
			continue
		}
		path := quote(g.listPath(sub, set))
		if set == 0 {
			parts = append(parts, "coalesce("+test("json_extract_string("+col+", "+path+")")+", false)")
			continue
		}
		parts = append(parts, "coalesce(list_bool_or(list_transform(json_extract_string("+col+", "+path+"), x -> "+test("x")+")), false)")
	}
	return join(parts, " OR "), nil
}

// listPath is a DuckDB JSON path with [*] after the members set marks.
func (g *gen) listPath(sub []string, set uint) string {
	var b strings.Builder
	b.WriteString("$")
	for i, k := range sub {
		b.WriteString(`."` + k + `"`)
		if set&(1<<i) != 0 {
			b.WriteString("[*]")
		}
	}
	return b.String()
}

// athenaAny is anyValue on Athena: any_match over the elements of each
// member set marks as a list, leaf(json, path) at the end.
func (g *gen) athenaAny(col string, sub []string, set uint, depth int, leaf func(c, path string) string) string {
	for i := range sub {
		if set&(1<<i) == 0 {
			continue
		}
		x := "x" + strconv.Itoa(depth)
		inner := g.athenaAny(x, sub[i+1:], set>>(i+1), depth+1, leaf)
		return "any_match(TRY_CAST(json_extract(" + col + ", " + quote(g.jsonPath(sub[:i+1])) + ") AS ARRAY(JSON)), " + x + " -> " + inner + ")"
	}
	return leaf(col, g.jsonPath(sub))
}

// athenaText is a JSON value as text on Athena: a scalar as itself, an
// object or list as its JSON, NULL for null or absent.
func athenaText(c, path string) string {
	return "coalesce(json_extract_scalar(" + c + ", " + quote(path) + "), nullif(json_format(json_extract(" + c + ", " + quote(path) + ")), 'null'))"
}

// jsonTarget is the JSON column a field is inside and the path below it,
// in the dialect; empty when the field is a column of its own.
func (g *gen) jsonTarget(f fieldRef) (string, []string) {
	if g.d == Athena {
		return g.athenaJSON(f)
	}
	r := resolveDuck(f)
	return r.json, r.sub
}

// alternatives is "v matches one of the patterns": plain values of the
// same casing as one IN list (one comparison per row, not one per value).
func (g *gen) alternatives(v string, grp []pattern) string {
	var alts, lits, cased []string
	for i := range grp {
		pt := &grp[i]
		if lit, plain := literal(pt.glob); pt.kind == patGlob && plain {
			if pt.cased {
				cased = append(cased, quote(lit))
			} else {
				lits = append(lits, quote(strings.ToLower(lit)))
			}
			continue
		}
		alts = append(alts, g.pattern(v, pt))
	}
	in := func(subject string, vals []string) string {
		if len(vals) == 1 {
			return subject + " = " + vals[0]
		}
		return subject + " IN (" + strings.Join(vals, ", ") + ")"
	}
	if len(lits) > 0 {
		alts = append([]string{in("lower("+v+")", lits)}, alts...)
	}
	if len(cased) > 0 {
		alts = append(alts, in(v, cased))
	}
	return join(alts, " OR ")
}

func (g *gen) pattern(v string, pt *pattern) string {
	switch pt.kind {
	case patNull:
		return v + " IS NULL"
	case patRegex:
		if g.d == Athena {
			return "regexp_like(" + v + ", " + quote(pt.re) + ")"
		}
		return "regexp_matches(" + v + ", " + quote(pt.re) + ")"
	case patCIDR:
		re := cidrRegexp(pt)
		if g.d == Athena {
			return "regexp_like(" + v + ", " + quote(re) + ")"
		}
		return "regexp_matches(" + v + ", " + quote(re) + ")"
	case patNum:
		ops := map[string]string{"gt": ">", "gte": ">=", "lt": "<", "lte": "<="}
		return "TRY_CAST(" + v + " AS DOUBLE) " + ops[pt.op] + " " + strconv.FormatFloat(pt.num, 'g', -1, 64)
	}
	subject := v
	if !pt.cased {
		subject = "lower(" + v + ")"
	}
	if lit, plain := literal(pt.glob); plain {
		if !pt.cased {
			lit = strings.ToLower(lit)
		}
		return subject + " = " + quote(lit)
	}
	var b strings.Builder
	for _, t := range pt.glob {
		switch t.wild {
		case '*':
			b.WriteByte('%')
		case '?':
			b.WriteByte('_')
		default:
			l := t.lit
			if !pt.cased {
				l = strings.ToLower(l)
			}
			for _, c := range []byte(l) {
				if c == '%' || c == '_' || c == '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(c)
			}
		}
	}
	return subject + " LIKE " + quote(b.String()) + ` ESCAPE '\'`
}

// quote is a SQL string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// cidrRegexp is an anchored regexp of the IPv4 addresses in a network, as
// net/netip writes them (decimal octets without leading zeros).
func cidrRegexp(pt *pattern) string {
	const anyOctet = `(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])`
	a := pt.pfx.Addr().As4()
	bits := pt.pfx.Bits()
	var parts []string
	for i := 0; i < 4; i++ {
		fixed := bits - 8*i
		switch {
		case fixed >= 8:
			parts = append(parts, strconv.Itoa(int(a[i])))
		case fixed <= 0:
			parts = append(parts, anyOctet)
		default:
			lo := int(a[i])
			hi := lo | (1<<(8-fixed) - 1)
			var vals []string
			for x := lo; x <= hi; x++ {
				vals = append(vals, strconv.Itoa(x))
			}
			parts = append(parts, "("+strings.Join(vals, "|")+")")
		}
	}
	return `^` + strings.Join(parts, `\.`) + `$`
}

// jsonPath is a JSON path into a column, in the dialect's syntax.
func (g *gen) jsonPath(sub []string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, k := range sub {
		if g.d == Athena {
			if simpleKey(k) {
				b.WriteString("." + k)
			} else {
				b.WriteString(`["` + k + `"]`)
			}
			continue
		}
		b.WriteString(`."` + k + `"`)
	}
	return b.String()
}

func simpleKey(k string) bool {
	for i, c := range k {
		if c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && c >= '0' && c <= '9') {
			continue
		}
		return false
	}
	return k != ""
}

// value is the SQL of a field's value as text (NULL when absent or null).
func (g *gen) value(f fieldRef) (string, error) {
	if _, ok := resourceMember(f); ok {
		return "", unsup("field %s names one member of each resource, not one value: it cannot be grouped by or referred to", f.name)
	}
	if g.d == Athena {
		return g.athenaValue(f)
	}
	r := resolveDuck(f)
	if r.json == "" {
		// A flag or time CloudTrail wrote in another form than the
		// column's is kept in extra as written.
		fallback := "json_extract_string(extra, " + quote(`$."`+r.key+`"`) + ")"
		switch r.col.kind {
		case colBool:
			return "coalesce(CAST(" + r.col.duck + " AS VARCHAR), " + fallback + ")", nil
		case colTime:
			return "coalesce(strftime(" + r.col.duck + ", '%Y-%m-%dT%H:%M:%SZ'), " + fallback + ")", nil
		case colJSON:
			return "nullif(CAST(" + r.col.duck + " AS VARCHAR), 'null')", nil
		}
		return r.col.duck, nil
	}
	return "json_extract_string(" + r.json + ", " + quote(g.jsonPath(r.sub)) + ")", nil
}

// exists is the SQL of a field's presence (null counts as present where
// the store can tell).
func (g *gen) exists(f fieldRef) (string, error) {
	if member, ok := resourceMember(f); ok {
		if g.d == Athena {
			return "coalesce(any_match(resources, x0 -> x0." + athenaStructMembers["resources"][member] + " IS NOT NULL), false)", nil
		}
		return "coalesce(len(json_extract(resources, " + quote(`$[*]."`+member+`"`) + ")) > 0, false)", nil
	}
	if col, sub := g.jsonTarget(f); col != "" {
		var parts []string
		for set := uint(0); set < 1<<max(len(sub)-1, 0); set++ {
			if g.d == Athena {
				parts = append(parts, "coalesce("+g.athenaAny(col, sub, set, 0, func(c, path string) string {
					return "json_extract(" + c + ", " + quote(path) + ") IS NOT NULL"
				})+", false)")
				continue
			}
			path := quote(g.listPath(sub, set))
			if set == 0 {
				parts = append(parts, "coalesce(json_exists("+col+", "+path+"), false)")
				continue
			}
			parts = append(parts, "coalesce(len(json_extract("+col+", "+path+")) > 0, false)")
		}
		return join(parts, " OR "), nil
	}
	if g.d == Athena {
		v, err := g.athenaValue(f)
		if err != nil {
			return "", err
		}
		return "(" + v + " IS NOT NULL)", nil
	}
	r := resolveDuck(f)
	if r.col.kind == colJSON {
		return "(" + r.col.duck + " IS NOT NULL)", nil
	}
	// A null, or a value of another type, is kept in extra.
	return "(" + r.col.duck + " IS NOT NULL OR coalesce(json_exists(extra, " + quote(`$."`+r.key+`"`) + "), false))", nil
}

// athenaJSON is the JSON column of the Athena table a field is inside,
// and the members below it.
func (g *gen) athenaJSON(f fieldRef) (string, []string) {
	for i := len(f.path) - 1; i >= 1; i-- {
		if c, ok := columns[strings.Join(f.path[:i], ".")]; ok && c.athenaKind == colJSON && c.athena != "" {
			return c.athena, f.path[i:]
		}
	}
	return "", nil
}

func (g *gen) athenaValue(f fieldRef) (string, error) {
	if c, ok := columns[f.name]; ok {
		switch {
		case c.athena == "":
		case c.athenaKind == structKind || c.athenaKind == arrayKind:
			return "", unsup("field %s: matching the whole %s is not supported on Athena, where it is a structure; name a member", f.name, f.name)
		default:
			return c.athena, nil
		}
		return "", unsup("field %s is not a column of the CloudTrail table on Athena", f.name)
	}
	if col, sub := g.athenaJSON(f); col != "" {
		return athenaText(col, g.jsonPath(sub)), nil
	}
	if len(f.path) == 2 {
		if m, ok := athenaStructMembers[f.path[0]]; ok && f.path[0] != "resources" {
			if col, ok := m[f.path[1]]; ok {
				return columns[f.path[0]].athena + "." + col, nil
			}
		}
	}
	return "", unsup("field %s is not a column of the CloudTrail table on Athena", f.name)
}

// resourceMember is the member of a resources.<member> field.
func resourceMember(f fieldRef) (string, bool) {
	if len(f.path) == 2 && f.path[0] == "resources" {
		return f.path[1], true
	}
	return "", false
}

// Combine is one SELECT for many compiled detections (not correlations),
// so that a run of many rules reads the table once: the detection
// columns, then one BOOLEAN column per rule, rule_0, rule_1, ... in the
// order of cs, over the rows that match at least one rule.
func Combine(cs []*Compiled, d Dialect, o Options) (string, error) {
	if o.Table == "" {
		o.Table = d.DefaultTable()
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("sigma: combine: no rules")
	}
	var flags, wheres []string
	for i, c := range cs {
		if c.Correlation || c.Where == "" {
			return "", fmt.Errorf("sigma: combine: rule %s is a correlation, which runs on its own", c.Rule.ID)
		}
		flags = append(flags, c.Where+" AS rule_"+strconv.Itoa(i))
		wheres = append(wheres, c.Where)
	}
	return "SELECT " + selectList(d) + ",\n       " + strings.Join(flags, ",\n       ") +
		"\nFROM " + o.Table + "\nWHERE " + filtered(join(wheres, "\n   OR "), o.Filter) + "\nORDER BY event_time, event_id", nil
}
