package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"github.com/duckdb/duckdb-go/v2"
)

// ErrRefused matches the errors of statements Query refuses to run (a
// *RefusedError).
var ErrRefused = errors.New("statement refused")

// ErrBadSQL matches the errors of SQL that DuckDB cannot prepare: a
// syntax error, an unknown table, column or function, a type that does
// not fit. It is the query's own fault, unlike a failure while it runs.
var ErrBadSQL = errors.New("invalid SQL")

// Refusal says why Query refused a statement.
type Refusal int

const (
	// Writes: the statement would change the store or write files (ATTACH,
	// COPY, EXPORT, or a change to one of the duckdb's tables).
	Writes Refusal = iota + 1
	// ReadsFiles: the statement reads a file or folder outside the store
	// that the store was not opened to read (Options.ReadFiles).
	ReadsFiles
	// Settings: the statement changes DuckDB's settings or extensions
	// (SET, RESET, USE, PRAGMA, INSTALL, LOAD).
	Settings
	// Unchecked: Query cannot see what the statement would run (PREPARE,
	// EXECUTE, EXPLAIN ANALYZE of anything but a SELECT, one statement that
	// DuckDB runs as several, or a kind of statement it does not know).
	Unchecked
)

// RefusedError is a statement Query did not run. The statements before
// it, if any, ran.
type RefusedError struct {
	// Statement is how the statement starts, e.g. "COPY" or "SET memory_limit".
	Statement string
	Why       Refusal
	// Detail is DuckDB's own message, when DuckDB refused it.
	Detail string
}

func (e *RefusedError) Error() string {
	var msg string
	switch e.Why {
	case Writes:
		msg = "the store is read-only: " + e.Statement + " is not allowed"
	case ReadsFiles:
		msg = "reading files outside the store is not allowed: " + e.Statement
	case Settings:
		msg = "DuckDB's settings and extensions are locked: " + e.Statement + " is not allowed"
	default:
		msg = e.Statement + " is not allowed: only statements whose effect can be checked run"
	}
	if e.Detail != "" {
		msg += " (" + e.Detail + ")"
	}
	return "store: query: " + msg
}

// Is makes errors.Is(err, ErrRefused) hold.
func (e *RefusedError) Is(target error) bool { return target == ErrRefused }

// badSQL marks DuckDB's error for SQL it could not prepare.
type badSQL struct{ err error }

func (e *badSQL) Error() string { return "store: query: " + e.err.Error() }
func (e *badSQL) Unwrap() error { return e.err }

// Is makes errors.Is(err, ErrBadSQL) hold.
func (e *badSQL) Is(target error) bool { return target == ErrBadSQL }

// allowed are the kinds of statement Query runs. The others write
// (COPY, EXPORT, ATTACH, DETACH, VACUUM), change settings or extensions
// (SET, PRAGMA, LOAD), or hide what they run (PREPARE, EXECUTE), or are
// kinds DuckDB adds later, refused until they are known. Changes to the
// duckdb's own tables are refused by DuckDB itself on a read-only store;
// they are allowed here for temporary tables.
var allowed = map[duckdb.StmtType]bool{
	duckdb.STATEMENT_TYPE_SELECT:       true,
	duckdb.STATEMENT_TYPE_EXPLAIN:      true, // of a SELECT only: see check
	duckdb.STATEMENT_TYPE_CALL:         true, // CALL f() is SELECT * FROM f()
	duckdb.STATEMENT_TYPE_CREATE:       true,
	duckdb.STATEMENT_TYPE_INSERT:       true,
	duckdb.STATEMENT_TYPE_UPDATE:       true,
	duckdb.STATEMENT_TYPE_DELETE:       true,
	duckdb.STATEMENT_TYPE_DROP:         true,
	duckdb.STATEMENT_TYPE_ALTER:        true,
	duckdb.STATEMENT_TYPE_TRANSACTION:  true,
	duckdb.STATEMENT_TYPE_VARIABLE_SET: true,
	duckdb.STATEMENT_TYPE_SET:          true, // SET VARIABLE only: see check
}

var refusedAs = map[duckdb.StmtType]Refusal{
	duckdb.STATEMENT_TYPE_COPY:    Writes,
	duckdb.STATEMENT_TYPE_EXPORT:  Writes,
	duckdb.STATEMENT_TYPE_ATTACH:  Writes,
	duckdb.STATEMENT_TYPE_DETACH:  Writes,
	duckdb.STATEMENT_TYPE_VACUUM:  Writes,
	duckdb.STATEMENT_TYPE_SET:     Settings,
	duckdb.STATEMENT_TYPE_PRAGMA:  Settings,
	duckdb.STATEMENT_TYPE_LOAD:    Settings,
	duckdb.STATEMENT_TYPE_PREPARE: Unchecked,
	duckdb.STATEMENT_TYPE_EXECUTE: Unchecked,
}

// check prepares stmt, one statement as split by splitStatements, on
// conn and says whether Query may run it. DuckDB parses it: a piece that
// is not exactly one statement to DuckDB is refused, so a mistake of
// splitStatements can refuse a query but never let a statement through
// unchecked. When run is set, the statement runs (with no result) once
// checked.
func check(ctx context.Context, conn *sql.Conn, stmt string, run bool) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*duckdb.Conn)
		if !ok {
			return errors.New("store: query: not a DuckDB connection")
		}
		// DuckDB refuses some statements while preparing them (COPY to a
		// file it may not write, say), before their type is known: the
		// first words say what they are, for the message. The type of
		// the prepared statement decides what runs.
		if re := leading(stmt); re != nil {
			return re
		}
		_, err := prepared(c, stmt, func(t duckdb.StmtType) error { return admit(c, stmt, t) }, func(st *duckdb.Stmt) error {
			if !run {
				return nil
			}
			_, err := st.ExecContext(ctx, nil)
			return err
		})
		if err != nil {
			return classify(stmt, err)
		}
		return nil
	})
}

// prepared prepares stmt alone, checks its type with ok and then calls
// fn with it.
func prepared(c *duckdb.Conn, stmt string, ok func(duckdb.StmtType) error, fn func(*duckdb.Stmt) error) (duckdb.StmtType, error) {
	st, err := c.Prepare(stmt)
	if err != nil {
		if strings.Contains(err.Error(), "multi-statement") {
			return duckdb.STATEMENT_TYPE_INVALID, &RefusedError{Statement: opening(stmt, 1), Why: Unchecked,
				Detail: "DuckDB runs it as several statements, as it does a PIVOT without IN (...)"}
		}
		return duckdb.STATEMENT_TYPE_INVALID, err
	}
	defer func() { _ = st.Close() }()
	ds, isDuck := st.(*duckdb.Stmt)
	if !isDuck {
		return duckdb.STATEMENT_TYPE_INVALID, errors.New("not a DuckDB statement")
	}
	t, err := ds.StatementType()
	if err != nil {
		return t, err
	}
	if err := ok(t); err != nil {
		return t, err
	}
	return t, fn(ds)
}

// admit decides on a prepared statement of type t.
func admit(c *duckdb.Conn, stmt string, t duckdb.StmtType) error {
	switch t {
	case duckdb.STATEMENT_TYPE_SET:
		// SET and RESET VARIABLE set a variable of the query's own;
		// the other SETs (and USE) change settings.
		if w := words(stmt, 2); len(w) == 2 && (w[0] == "SET" || w[0] == "RESET") && w[1] == "VARIABLE" {
			return nil
		}
		return &RefusedError{Statement: opening(stmt, 2), Why: Settings}
	case duckdb.STATEMENT_TYPE_EXPLAIN:
		// EXPLAIN ANALYZE runs the statement it explains: only a SELECT
		// may be explained.
		inner, ok := explained(stmt)
		if !ok {
			return &RefusedError{Statement: opening(stmt, 2), Why: Unchecked, Detail: "EXPLAIN is allowed for a SELECT only"}
		}
		it, err := prepared(c, inner, func(duckdb.StmtType) error { return nil }, func(*duckdb.Stmt) error { return nil })
		if err != nil || it != duckdb.STATEMENT_TYPE_SELECT {
			return &RefusedError{Statement: opening(stmt, 3), Why: Unchecked, Detail: "EXPLAIN is allowed for a SELECT only"}
		}
		return nil
	}
	if allowed[t] {
		return nil
	}
	why, known := refusedAs[t]
	if !known {
		why = Unchecked
	}
	n := 1
	if why == Settings {
		n = 2 // SET memory_limit, PRAGMA enable_profiling
	}
	return &RefusedError{Statement: opening(stmt, n), Why: why}
}

// refusedWords are statements refused by their first word.
var refusedWords = map[string]Refusal{
	"ATTACH": Writes, "DETACH": Writes, "COPY": Writes, "EXPORT": Writes, "VACUUM": Writes, "IMPORT": Writes,
	"PREPARE": Unchecked, "EXECUTE": Unchecked,
	"INSTALL": Settings, "LOAD": Settings, "USE": Settings,
}

// leading refuses a statement by its first words: see refusedWords, and
// an EXPLAIN of one of them.
func leading(stmt string) *RefusedError {
	w := words(stmt, 2)
	if len(w) == 0 {
		return nil
	}
	if w[0] == "FORCE" && len(w) == 2 && w[1] == "INSTALL" {
		return &RefusedError{Statement: opening(stmt, 3), Why: Settings}
	}
	if w[0] == "EXPLAIN" {
		if inner, ok := explained(stmt); ok && leading(inner) != nil {
			return &RefusedError{Statement: opening(stmt, 3), Why: Unchecked, Detail: "EXPLAIN is allowed for a SELECT only"}
		}
		return nil
	}
	why, ok := refusedWords[w[0]]
	if !ok {
		return nil
	}
	n := 1
	if why == Settings {
		n = 2
	}
	return &RefusedError{Statement: opening(stmt, n), Why: why}
}

// classify turns DuckDB's errors into the refusals they are, and marks
// those of SQL it could not prepare.
func classify(stmt string, err error) error {
	var re *RefusedError
	if errors.As(err, &re) {
		return re
	}
	var de *duckdb.Error
	if !errors.As(err, &de) {
		return fmt.Errorf("store: query: %w", err)
	}
	msg := de.Msg
	switch {
	case de.Type == duckdb.ErrorTypePermission && strings.Contains(msg, "Cannot access "):
		// Permission Error: Cannot access file "/etc/passwd" - file system operations are disabled by configuration
		what := firstLine(msg[strings.Index(msg, "Cannot access ")+len("Cannot access "):])
		what, _, _ = strings.Cut(what, " - ")
		return &RefusedError{Statement: what, Why: ReadsFiles}
	case de.Type == duckdb.ErrorTypePermission:
		return &RefusedError{Statement: opening(stmt, 2), Why: Settings, Detail: firstLine(msg)}
	case strings.Contains(msg, "the configuration has been locked"):
		return &RefusedError{Statement: opening(stmt, 2), Why: Settings}
	case strings.Contains(msg, "read-only mode"):
		return &RefusedError{Statement: opening(stmt, 1), Why: Writes, Detail: firstLine(msg)}
	}
	switch de.Type {
	case duckdb.ErrorTypeParser, duckdb.ErrorTypeSyntax, duckdb.ErrorTypeBinder, duckdb.ErrorTypeCatalog,
		duckdb.ErrorTypeNotImplemented, duckdb.ErrorTypeDependency:
		return &badSQL{err: err}
	}
	return fmt.Errorf("store: query: %w", err)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return strings.TrimSpace(s)
}

// explained is the statement an EXPLAIN statement explains: what follows
// EXPLAIN, an optional ANALYZE (or ANALYSE) and an optional list of
// options in parentheses.
func explained(stmt string) (string, bool) {
	rest := skipSpace(stmt)
	kw, rest := keyword(rest)
	if kw != "EXPLAIN" {
		return "", false
	}
	rest = skipSpace(rest)
	if kw, after := keyword(rest); kw == "ANALYZE" || kw == "ANALYSE" {
		rest = skipSpace(after)
	}
	if strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 0 || strings.ContainsAny(rest[:end], `'"`) {
			return "", false
		}
		rest = skipSpace(rest[end+1:])
	}
	return rest, rest != ""
}

// words are the first n words of stmt, upper-cased, after blanks and
// comments.
func words(stmt string, n int) []string {
	var out []string
	rest := stmt
	for len(out) < n {
		rest = skipSpace(rest)
		kw, after := keyword(rest)
		if kw == "" {
			break
		}
		out = append(out, kw)
		rest = after
	}
	return out
}

// opening is how a statement starts, for messages: its first n words as
// written, or fewer.
func opening(stmt string, n int) string {
	rest := skipSpace(stmt)
	start := rest
	used := 0
	for i := 0; i < n; i++ {
		rest = skipSpace(rest)
		_, after := keyword(rest)
		if after == rest {
			break
		}
		rest = after
		used = len(start) - len(rest)
	}
	if used == 0 {
		return strings.TrimSpace(firstLine(start))
	}
	f := strings.Fields(start[:used])
	f[0] = strings.ToUpper(f[0])
	for i := 1; i < len(f); i++ {
		// Keywords upper-cased, names as written: SET memory_limit,
		// FORCE INSTALL httpfs, EXPLAIN ANALYZE COPY.
		if f[0] == "EXPLAIN" || f[0] == "FORCE" && i == 1 {
			f[i] = strings.ToUpper(f[i])
		}
	}
	return strings.Join(f, " ")
}

// keyword reads an identifier-like word at the start of s, upper-cased.
func keyword(s string) (string, string) {
	i := 0
	for i < len(s) && (s[i] == '_' || s[i] < 0x80 && (unicode.IsLetter(rune(s[i])) || unicode.IsDigit(rune(s[i])))) {
		i++
	}
	return strings.ToUpper(s[:i]), s[i:]
}

// skipSpace skips blanks and comments.
func skipSpace(s string) string {
	for {
		t := strings.TrimLeftFunc(s, unicode.IsSpace)
		switch {
		case strings.HasPrefix(t, "--"):
			end := strings.IndexByte(t, '\n')
			if end < 0 {
				return ""
			}
			s = t[end+1:]
		case strings.HasPrefix(t, "/*"):
			end := blockCommentEnd(t)
			if end < 0 {
				return ""
			}
			s = t[end:]
		default:
			return t
		}
	}
}

// blockCommentEnd is the index just past the block comment s starts
// with (they nest, as in PostgreSQL), or -1.
func blockCommentEnd(s string) int {
	depth := 0
	for i := 0; i+1 < len(s); i++ {
		switch {
		case s[i] == '/' && s[i+1] == '*':
			depth++
			i++
		case s[i] == '*' && s[i+1] == '/':
			depth--
			i++
			if depth == 0 {
				return i + 1
			}
		}
	}
	return -1
}

// splitStatements cuts SQL text into its statements at the semicolons
// outside quotes and comments; pieces holding only blanks and comments
// are dropped. It knows DuckDB's quotes: 'strings' (with ” inside),
// E'strings' (with backslash escapes), "names" and $tag$dollar
// strings$tag$; and its comments: -- to the end of the line, and /* */,
// which nest. Each piece is then prepared alone (see check), so a
// mistake here makes DuckDB refuse a piece, never run two as one.
func splitStatements(q string) []string {
	var out []string
	start, real := 0, false
	cut := func(end int) {
		if real {
			out = append(out, strings.TrimSpace(q[start:end]))
		}
		start, real = end+1, false
	}
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == ';':
			cut(i)
			continue
		case c == '-' && strings.HasPrefix(q[i:], "--"):
			end := strings.IndexByte(q[i:], '\n')
			if end < 0 {
				i = len(q)
			} else {
				i += end
			}
			continue
		case c == '/' && strings.HasPrefix(q[i:], "/*"):
			end := blockCommentEnd(q[i:])
			if end < 0 {
				i = len(q)
			} else {
				i += end - 1
			}
			continue
		case unicode.IsSpace(rune(c)):
			continue
		}
		real = true
		switch {
		case c == '\'':
			escapes := i > 0 && (q[i-1] == 'e' || q[i-1] == 'E') && (i == 1 || !isWordByte(q[i-2]))
			i = quoteEnd(q, i, '\'', escapes)
		case c == '"':
			i = quoteEnd(q, i, '"', false)
		case c == '$':
			if tag, ok := dollarTag(q, i); ok {
				end := strings.Index(q[i+len(tag):], tag)
				if end < 0 {
					i = len(q)
				} else {
					i += len(tag) + end + len(tag) - 1
				}
			}
		case isWordByte(c):
			for i+1 < len(q) && isWordByte(q[i+1]) {
				i++
			}
		}
	}
	cut(len(q))
	return out
}

// quoteEnd is the index of the quote closing the one at i (a doubled
// quote stays inside), or the end of q.
func quoteEnd(q string, i int, quote byte, escapes bool) int {
	for j := i + 1; j < len(q); j++ {
		switch {
		case escapes && q[j] == '\\':
			j++
		case q[j] == quote:
			if j+1 < len(q) && q[j+1] == quote {
				j++
				continue
			}
			return j
		}
	}
	return len(q)
}

// dollarTag is the $tag$ (or $$) opening a dollar-quoted string at i. A
// $ before a digit is a parameter, not a quote.
func dollarTag(q string, i int) (string, bool) {
	if i > 0 && isWordByte(q[i-1]) {
		return "", false
	}
	j := i + 1
	for j < len(q) && isWordByte(q[j]) {
		j++
	}
	if j >= len(q) || q[j] != '$' || (j > i+1 && q[i+1] >= '0' && q[i+1] <= '9') {
		return "", false
	}
	return q[i : j+1], true
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}
