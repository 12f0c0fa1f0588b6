package athena

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/athena"
	"github.com/aws/aws-sdk-go-v2/service/athena/types"

	"github.com/trailwarden/trailwarden/internal/query"
)

// rows streams a succeeded query's results, one GetQueryResults page
// (at most pageSize rows) in memory at a time.
type rows struct {
	ctx    context.Context
	c      *Client
	id     string
	header bool // the first row of the first page repeats the column names

	cols  []string
	types []string
	page  []types.Row
	pos   int
	token *string // of the next page; nil after the last
	pages int

	cur    []any
	err    error
	closed bool
}

// fetch reads the next page. The first page also carries the column
// metadata and, for DML, the header row, which is skipped.
func (r *rows) fetch() error {
	if r.pages == maxPages {
		return fmt.Errorf("athena: query %s: more than %d pages of results; giving up", r.id, maxPages)
	}
	first := r.pages == 0
	in := &athena.GetQueryResultsInput{QueryExecutionId: aws.String(r.id), MaxResults: aws.Int32(pageSize), NextToken: r.token}
	out, err := r.c.api.GetQueryResults(r.ctx, in)
	if err != nil {
		return explain("get query results "+r.id, err)
	}
	r.pages++
	if out.ResultSet == nil {
		return fmt.Errorf("athena: get query results %s: the response has no result set", r.id)
	}
	if first {
		if md := out.ResultSet.ResultSetMetadata; md != nil {
			for _, ci := range md.ColumnInfo {
				name := aws.ToString(ci.Name)
				if name == "" {
					name = aws.ToString(ci.Label)
				}
				r.cols = append(r.cols, name)
				r.types = append(r.types, strings.ToLower(aws.ToString(ci.Type)))
			}
		}
	}
	next := out.NextToken
	if next != nil && (*next == "" || (r.token != nil && *next == *r.token)) {
		if *next != "" {
			return fmt.Errorf("athena: get query results %s: the same NextToken came back twice", r.id)
		}
		next = nil
	}
	r.token, r.page, r.pos = next, out.ResultSet.Rows, 0
	if first && len(r.page) > 0 && (r.header || isHeader(r.page[0], r.cols)) {
		r.pos = 1
	}
	return nil
}

// isHeader reports whether row repeats the column names: how to tell the
// header row when the statement type is unknown.
func isHeader(row types.Row, cols []string) bool {
	if len(row.Data) != len(cols) || len(cols) == 0 {
		return false
	}
	for i, d := range row.Data {
		if aws.ToString(d.VarCharValue) != cols[i] {
			return false
		}
	}
	return true
}

func (r *rows) Columns() []string { return r.cols }

func (r *rows) Next() bool {
	if r.closed || r.err != nil {
		return false
	}
	for r.pos >= len(r.page) {
		if r.token == nil {
			r.cur = nil
			return false
		}
		if err := r.fetch(); err != nil {
			r.err = err
			r.cur = nil
			return false
		}
	}
	row := r.page[r.pos]
	r.pos++
	if len(row.Data) > len(r.cols) {
		r.err = fmt.Errorf("athena: query %s: a row has %d values for %d columns", r.id, len(row.Data), len(r.cols))
		return false
	}
	r.cur = make([]any, len(r.cols))
	for i, d := range row.Data {
		r.cur[i] = convert(r.types[i], d.VarCharValue)
	}
	return true
}

func (r *rows) Row() []any { return r.cur }
func (r *rows) Err() error { return r.err }

// Close stops the reading. Athena keeps the results in the output
// location; there is nothing to release.
func (r *rows) Close() error {
	r.closed, r.page, r.cur = true, nil, nil
	return nil
}

// Layouts of Athena's text for dates and times (engine version 3 writes
// milliseconds: 2024-03-01 12:34:56.789).
const (
	dateLayout      = "2006-01-02"
	timestampLayout = "2006-01-02 15:04:05.999999999"
)

// convert types one value by its column type. A value that does not parse
// as its type stays the string Athena sent, so no result is lost to a
// format this code does not know.
func convert(typ string, v *string) any {
	if v == nil {
		return nil
	}
	s := *v
	switch baseType(typ) {
	case "boolean":
		if b, err := strconv.ParseBool(s); err == nil {
			return b
		}
	case "tinyint", "smallint", "integer", "int", "bigint":
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
	case "real", "float", "double":
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f
		}
	case "date":
		if t, err := time.Parse(dateLayout, s); err == nil {
			return t
		}
	case "timestamp":
		if t, err := time.Parse(timestampLayout, s); err == nil {
			return t
		}
	case "timestamp with time zone":
		if t, ok := parseZoned(s); ok {
			return t
		}
	case "json":
		if json.Valid([]byte(s)) {
			return query.JSON(s)
		}
	}
	return s
}

// baseType drops the parameters of a type: decimal(10,2) is decimal,
// timestamp(3) with time zone is timestamp with time zone.
func baseType(typ string) string {
	for {
		i := strings.IndexByte(typ, '(')
		j := strings.IndexByte(typ, ')')
		if i < 0 || j < i {
			return strings.TrimSpace(typ)
		}
		typ = typ[:i] + typ[j+1:]
	}
}

// parseZoned reads Athena's timestamp with time zone: the timestamp, a
// space and a zone, either a name (UTC, Europe/Paris) or an offset
// (+01:00).
func parseZoned(s string) (time.Time, bool) {
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return time.Time{}, false
	}
	zone := s[i+1:]
	var loc *time.Location
	switch {
	case zone == "UTC" || zone == "Z":
		loc = time.UTC
	case strings.HasPrefix(zone, "+") || strings.HasPrefix(zone, "-"):
		t, err := time.Parse(timestampLayout+" -07:00", s)
		return t, err == nil
	default:
		l, err := time.LoadLocation(zone)
		if err != nil {
			return time.Time{}, false
		}
		loc = l
	}
	t, err := time.ParseInLocation(timestampLayout, s[:i], loc)
	return t, err == nil
}
