package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/trailwarden/trailwarden/internal/query"
)

var _ query.Engine = (*Store)(nil)

// Query runs sql and streams its rows. Values are nil, bool, int64,
// float64, string or time.Time; nested values (STRUCT, LIST, MAP, UNION)
// and JSON columns are query.JSON, the JSON text DuckDB renders for them
// (SQL NULL stays nil); UUID, BLOB, INTERVAL and TIME are text as DuckDB
// renders them.
//
// sql may hold several statements: each is checked (see check) and run in
// order, and the last one's rows are returned. A statement that would
// write, change settings or hide what it runs is refused with a
// *RefusedError (errors.Is ErrRefused), the statements before it having
// run; SQL that DuckDB cannot prepare fails with ErrBadSQL. A store opened
// read-only is also sealed by DuckDB's own settings (see the package
// comment); one opened for export runs no query.
//
// duckdb-go hands JSON columns over already decoded into Go maps, which
// loses key order and the precision of large numbers, and decodes STRUCTs
// into maps. So a final SELECT is described first (DESCRIBE binds it
// without running it) and, if it has such columns, run wrapped in a
// projection that makes DuckDB cast them to text itself. Anything else
// (PRAGMA, SHOW, a query DESCRIBE cannot bind) runs as given and its
// values are converted in Go.
func (s *Store) Query(ctx context.Context, sqlText string) (query.Rows, error) {
	if s.opt.Export {
		return nil, fmt.Errorf("store: query: %s is opened for export, where SQL can write files: open it read-only for queries", s.path)
	}
	stmts := splitStatements(sqlText)
	if len(stmts) == 0 {
		return nil, &badSQL{err: errors.New("no statement")}
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("store: query: %w", err)
	}
	fail := func(err error) (query.Rows, error) {
		_ = conn.Close()
		return nil, err
	}
	last := stmts[len(stmts)-1]
	for _, st := range stmts[:len(stmts)-1] {
		if err := check(ctx, conn, st, true); err != nil {
			return fail(err)
		}
	}
	if err := check(ctx, conn, last, false); err != nil {
		return fail(err)
	}
	names, types, single := describe(ctx, conn, last)
	run := last
	if single {
		// The wrapper is checked like the statement it wraps.
		if wrapped, ok := wrap(last, types); ok && check(ctx, conn, wrapped, false) == nil {
			run = wrapped
		}
	}
	rows, err := conn.QueryContext(ctx, run)
	if err != nil && run != last {
		// The wrapper is an optimization; the user's own error is the
		// one to report.
		rows, err = conn.QueryContext(ctx, last)
		run = last
		names = nil
	}
	if err != nil {
		return fail(classify(last, err))
	}
	cts, err := rows.ColumnTypes()
	if err != nil {
		_ = rows.Close()
		return fail(fmt.Errorf("store: query: %w", err))
	}
	if names == nil || len(names) != len(cts) {
		names = make([]string, len(cts))
		for i, c := range cts {
			names[i] = c.Name()
		}
	}
	kinds := make([]string, len(cts))
	for i, c := range cts {
		kinds[i] = c.DatabaseTypeName()
	}
	// A wrapped query hands nested and JSON columns over as DuckDB's JSON
	// text: those values are query.JSON as they come.
	// Their times are rewritten as RFC 3339 (see rfc3339Times).
	var asText []bool
	var times []*typeNode
	if run != last && len(types) == len(cts) {
		asText = make([]bool, len(cts))
		times = make([]*typeNode, len(cts))
		for i, t := range types {
			asText[i] = nestedType(t)
			if n := parseType(t); asText[i] && t != "JSON" && n.hasTime() {
				times[i] = n
			}
		}
	}
	return &rowsOf{conn: conn, rows: rows, cols: names, kinds: kinds, jsonText: asText, times: times}, nil
}

// describe returns the column names and types of sqlText when it is one
// statement that DESCRIBE can bind. DESCRIBE of several statements would
// run all but the first, so the statement count is checked first with the
// driver's Prepare, which refuses several statements without running any.
func describe(ctx context.Context, conn *sql.Conn, sqlText string) (names, types []string, ok bool) {
	single := false
	err := conn.Raw(func(dc any) error {
		c, isDuck := dc.(*duckdb.Conn)
		if !isDuck {
			return errors.New("not a duckdb connection")
		}
		st, err := c.Prepare(sqlText)
		if err != nil {
			return err
		}
		defer func() { _ = st.Close() }()
		t, err := st.(*duckdb.Stmt).StatementType()
		single = err == nil && t == duckdb.STATEMENT_TYPE_SELECT
		return err
	})
	if err != nil || !single {
		return nil, nil, false
	}
	rows, err := conn.QueryContext(ctx, "DESCRIBE "+sqlText)
	if err != nil {
		return nil, nil, false
	}
	defer func() { _ = rows.Close() }()
	cols, err := rows.Columns()
	if err != nil || len(cols) < 2 {
		return nil, nil, false
	}
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, nil, false
		}
		name, _ := vals[0].(string)
		typ, _ := vals[1].(string)
		names, types = append(names, name), append(types, typ)
	}
	return names, types, rows.Err() == nil
}

// wrap renders the columns Go cannot represent faithfully as text inside
// DuckDB. The subquery's columns are renamed by position, which also
// copes with duplicate names; the caller reports the original names. The
// newline before ")" ends a trailing -- comment.
func wrap(sqlText string, types []string) (string, bool) {
	exprs := make([]string, len(types))
	aliases := make([]string, len(types))
	need := false
	for i, t := range types {
		c := "c" + strconv.Itoa(i)
		aliases[i] = c
		switch e := textExpr(c, t); {
		case e != "":
			exprs[i], need = e, true
		default:
			exprs[i] = c
		}
	}
	if !need {
		return "", false
	}
	body := trimStatement(sqlText)
	return "SELECT " + strings.Join(exprs, ", ") + " FROM (" + body + "\n) AS _q(" + strings.Join(aliases, ", ") + ")", true
}

// textExpr is the SQL rendering column c of DuckDB type t as text, or ""
// when the driver's value converts faithfully in Go.
func textExpr(c, t string) string {
	switch {
	case t == "JSON", t == "UUID", t == "BLOB", t == "INTERVAL", t == "BIT",
		t == "TIME", t == "TIME WITH TIME ZONE", t == "BIGNUM", t == "VARINT":
		return "CAST(" + c + " AS VARCHAR)"
	case strings.HasPrefix(t, "STRUCT"), strings.HasPrefix(t, "MAP"), strings.HasPrefix(t, "UNION"),
		strings.HasSuffix(t, "]"):
		return "CAST(to_json(" + c + ") AS VARCHAR)"
	}
	return ""
}

// rowsOf adapts sql.Rows to query.Rows and releases the connection.
type rowsOf struct {
	conn  *sql.Conn
	rows  *sql.Rows
	cols  []string
	kinds []string
	// jsonText marks the columns whose values are JSON text already
	// (nested and JSON columns of a wrapped query); nil when none are.
	jsonText []bool
	// times are the types of the jsonText columns that hold times, nil
	// for the others.
	times []*typeNode
	cur   []any
	err   error
}

func (r *rowsOf) Columns() []string { return r.cols }

func (r *rowsOf) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	vals := make([]any, len(r.cols))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		r.err = fmt.Errorf("store: query: %w", err)
		return false
	}
	for i, v := range vals {
		if s, ok := v.(string); ok && r.jsonText != nil && r.jsonText[i] {
			if r.times[i] != nil {
				s = rfc3339Times(s, r.times[i])
			}
			vals[i] = query.JSON(s)
			continue
		}
		vals[i] = convert(v, r.kinds[i])
	}
	r.cur = vals
	return true
}

func (r *rowsOf) Row() []any { return r.cur }

func (r *rowsOf) Err() error {
	if r.err != nil {
		return r.err
	}
	if err := r.rows.Err(); err != nil {
		return classify("", err)
	}
	return nil
}

func (r *rowsOf) Close() error {
	err := r.rows.Close()
	if cerr := r.conn.Close(); err == nil && !errors.Is(cerr, sql.ErrConnDone) {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("store: query: %w", err)
	}
	return nil
}

// trimStatement drops a statement's final semicolon and anything after it
// (comments, blanks), which cannot stand inside a subquery. It skips
// quoted strings, quoted names and comments to find that semicolon.
func trimStatement(q string) string {
	last := -1
	for i := 0; i < len(q); i++ {
		switch {
		case q[i] == '\'' || q[i] == '"':
			last = -1
			end := strings.IndexByte(q[i+1:], q[i])
			if end < 0 {
				return q
			}
			i += end + 1 // a doubled quote re-enters here as a new string
		case strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				i = len(q)
			} else {
				i += end
			}
		case strings.HasPrefix(q[i:], "/*"):
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return q
			}
			i += end + 3
		case q[i] == ';':
			last = i
		case q[i] > ' ':
			last = -1 // text after the semicolon: not the end
		}
	}
	if last < 0 {
		return q
	}
	return q[:last]
}
