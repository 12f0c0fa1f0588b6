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
	v, err := g.value(pd.field)
	if err != nil {
		return "", err
	}
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
		var alts []string
		for i := range grp {
			alts = append(alts, g.pattern(v, &grp[i]))
		}
		groups = append(groups, join(alts, " OR "))
	}
	s := "coalesce(" + join(groups, " AND ") + ", false)"
	if pd.neq {
		s = "NOT " + s
	}
	return s, nil
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
	if g.d == Athena {
		return g.athenaValue(f)
	}
	r := resolveDuck(f)
	if r.json == "" {
		switch r.col.kind {
		case colBool:
			return "CAST(" + r.col.duck + " AS VARCHAR)", nil
		case colTime:
			return "strftime(" + r.col.duck + ", '%Y-%m-%dT%H:%M:%SZ')", nil
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
	if g.d == Athena {
		v, err := g.athenaValue(f)
		if err != nil {
			return "", err
		}
		if strings.HasPrefix(v, "coalesce(json_extract_scalar(") {
			col, path := g.athenaJSON(f)
			return "(json_extract(" + col + ", " + quote(path) + ") IS NOT NULL)", nil
		}
		return "(" + v + " IS NOT NULL)", nil
	}
	r := resolveDuck(f)
	if r.json == "" {
		if r.col.kind == colJSON {
			return "(" + r.col.duck + " IS NOT NULL)", nil
		}
		// A null, or a value of another type, is kept in extra.
		return "(" + r.col.duck + " IS NOT NULL OR coalesce(json_exists(extra, " + quote(`$."`+r.key+`"`) + "), false))", nil
	}
	return "coalesce(json_exists(" + r.json + ", " + quote(g.jsonPath(r.sub)) + "), false)", nil
}

// athenaJSON is the JSON column and path of a field inside one.
func (g *gen) athenaJSON(f fieldRef) (string, string) {
	for i := len(f.path) - 1; i >= 1; i-- {
		if c, ok := columns[strings.Join(f.path[:i], ".")]; ok && c.athenaKind == colJSON && c.athena != "" {
			return c.athena, g.jsonPath(f.path[i:])
		}
	}
	return "", ""
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
	if col, path := g.athenaJSON(f); col != "" {
		return "coalesce(json_extract_scalar(" + col + ", " + quote(path) + "), nullif(json_format(json_extract(" + col + ", " + quote(path) + ")), 'null'))", nil
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
