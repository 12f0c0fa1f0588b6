package detect

import (
	"strconv"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/query"
	"github.com/trailwarden/trailwarden/internal/sigma"
)

// sqlGen writes the SQL of a run in one dialect: the same questions with
// the store's column names (DuckDB) or the CloudTrail table's (Athena).
type sqlGen struct {
	d  sigma.Dialect
	sc Scope
}

func newSQL(d sigma.Dialect, sc Scope) *sqlGen { return &sqlGen{d: d, sc: sc} }

// scanFixed is the number of columns of a scan before the rules' flags.
const scanFixed = 7

func (g *sqlGen) athena() bool { return g.d == sigma.Athena }

// table is what the queries read.
func (g *sqlGen) table() string {
	if !g.athena() {
		return "events"
	}
	if g.sc.Table != "" {
		return g.sc.Table
	}
	return query.AthenaTable
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func inList(col string, vals []string) string {
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = quote(v)
	}
	return col + " IN (" + strings.Join(q, ", ") + ")"
}

// scope is the WHERE condition of the window, accounts and regions. On
// Athena it also prunes the projected partitions: account, region and
// the delivery day ("timestamp", yyyy/MM/dd), which may be a day after
// the event.
func (g *sqlGen) scope() string {
	var c []string
	if g.athena() {
		since := g.sc.Since
		if since.IsZero() {
			c = append(c, `"timestamp" >= date_format(current_date - interval '`+strconv.Itoa(AthenaDefaultDays)+`' day, '%Y/%m/%d')`)
		} else {
			c = append(c, `"timestamp" >= `+quote(since.UTC().Format("2006/01/02")))
			c = append(c, `from_iso8601_timestamp(eventtime) >= from_iso8601_timestamp(`+quote(since.UTC().Format(time.RFC3339))+`)`)
		}
		if !g.sc.Until.IsZero() {
			c = append(c, `"timestamp" <= `+quote(g.sc.Until.UTC().Add(24*time.Hour).Format("2006/01/02")))
			c = append(c, `from_iso8601_timestamp(eventtime) < from_iso8601_timestamp(`+quote(g.sc.Until.UTC().Format(time.RFC3339))+`)`)
		}
		if len(g.sc.Accounts) > 0 {
			c = append(c, inList("account", g.sc.Accounts))
		}
		if len(g.sc.Regions) > 0 {
			c = append(c, inList("region", g.sc.Regions))
		}
	} else {
		const layout = "2006-01-02 15:04:05.999999"
		if !g.sc.Since.IsZero() {
			c = append(c, "event_time >= TIMESTAMP "+quote(g.sc.Since.UTC().Format(layout)))
		}
		if !g.sc.Until.IsZero() {
			c = append(c, "event_time < TIMESTAMP "+quote(g.sc.Until.UTC().Format(layout)))
		}
		if len(g.sc.Accounts) > 0 {
			c = append(c, inList("account", g.sc.Accounts))
		}
		if len(g.sc.Regions) > 0 {
			c = append(c, inList("aws_region", g.sc.Regions))
		}
	}
	if len(c) == 0 {
		return "true"
	}
	return strings.Join(c, " AND ")
}

// nameIn is the test that an event's name is one of names (lower case),
// as Sigma compares: without regard to case.
func (g *sqlGen) nameIn(names []string) string {
	col := "event_name"
	if g.athena() {
		col = "eventname"
	}
	return inList("lower("+col+")", names)
}

// narrowed is a rule's condition, behind the test of the event names it
// requires when it requires some: the cheap test rules out most rows.
func (g *sqlGen) narrowed(r *Rule) string {
	if len(r.names) == 0 {
		return r.compiled.Where
	}
	return g.nameIn(r.names) + " AND (" + r.compiled.Where + ")"
}

// where is a rule's condition within the scope.
func (g *sqlGen) where(w string) string {
	if sc := g.scope(); sc != "true" {
		return sc + " AND (" + w + ")"
	}
	return w
}

// coverage counts the window's events per account.
func (g *sqlGen) coverage() string {
	return "SELECT account, count(*) AS events FROM " + g.table() + " WHERE " + g.scope() + " GROUP BY account ORDER BY account"
}

// The columns a detection names, in each dialect: event id, time,
// account, region, principal (the identity's ARN, else the role behind
// the session, the service or user name, the identity type), source
// address, event name.
var (
	duckCols = []string{"event_id", "event_time", "account", "aws_region",
		"coalesce(user_identity.arn, user_identity.session_context.session_issuer.arn, user_identity.invoked_by, user_identity.user_name, user_identity.type) AS principal",
		"source_ip_address", "event_name"}
	// duckOut are duckCols as the scan's d names them.
	duckOut    = []string{"d.event_id", "d.event_time", "d.account", "d.aws_region", "d.principal", "d.source_ip_address", "d.event_name"}
	athenaCols = []string{"eventid", "eventtime", "account", "awsregion",
		"coalesce(useridentity.arn, useridentity.sessioncontext.sessionissuer.arn, useridentity.invokedby, useridentity.username, useridentity.type)",
		"sourceipaddress", "eventname"}
)

// scan is the pass of the single-event rules. On DuckDB it is one query
// of one branch per rule (UNION ALL), each row tagged with its rule's
// index: the store is columnar and in memory, so each branch reads only
// the columns its rule tests, and DuckDB runs the branches in parallel;
// one WHERE w1 OR w2 ... with a flag per rule measured 6x slower. On
// Athena, which bills every pass over the data, it is one pass: the rows
// that meet any rule, with one boolean per rule saying which.
func (g *sqlGen) scan(rs []*Rule) string {
	var b strings.Builder
	if !g.athena() {
		// The branches return row ids only; the columns a detection names
		// are read for the matched rows alone (a semi-join on rowid). A
		// branch that read them, or a join of the ids with the table,
		// read them for every row: 2 to 3 times slower.
		b.WriteString("WITH m AS (\n")
		for i, r := range rs {
			if i > 0 {
				b.WriteString("\n  UNION ALL\n")
			}
			b.WriteString("  SELECT rowid AS rid, " + strconv.Itoa(i) + " AS rule FROM events WHERE " + g.where(g.narrowed(r)))
		}
		b.WriteString("\n),\nd AS (SELECT rowid AS rid, " + strings.Join(duckCols, ", ") + " FROM events WHERE rowid IN (SELECT rid FROM m))\n" +
			"SELECT " + strings.Join(duckOut, ", ") + ", m.rule\nFROM m JOIN d ON d.rid = m.rid")
		return b.String()
	}
	b.WriteString("SELECT ")
	b.WriteString(strings.Join(athenaCols, ", "))
	for i, r := range rs {
		b.WriteString(",\n  coalesce((" + r.compiled.Where + "), false) AS r" + strconv.Itoa(i))
	}
	b.WriteString("\nFROM " + g.table() + "\nWHERE " + g.scope() + "\n  AND (")
	for i, r := range rs {
		if i > 0 {
			b.WriteString("\n    OR ")
		}
		b.WriteString("(" + g.narrowed(r) + ")")
	}
	b.WriteString(")")
	return b.String()
}

// events are the detection columns of the events with these ids.
func (g *sqlGen) events(ids []string) string {
	cols, id := duckCols, "event_id"
	if g.athena() {
		cols, id = athenaCols, "eventid"
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + g.table() + " WHERE " + g.scope() + " AND " + inList(id, ids)
}
