package store

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/query"
)

func TestQueryUserIdentity(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	if _, err := ingest(context.Background(), s, d.files...); err != nil {
		t.Fatal(err)
	}
	cols, rows := queryAll(t, s, `select user_identity.type, count(*) from events group by 1 order by 1`)
	if len(cols) != 2 || cols[0] != "type" {
		t.Fatalf("columns %v", cols)
	}
	types := map[any]int64{}
	var total int64
	for _, r := range rows {
		n, ok := r[1].(int64)
		if !ok {
			t.Fatalf("count is %T, want int64", r[1])
		}
		types[r[0]] = n
		total += n
	}
	if total != d.manifest.Events-d.manifest.Duplicates {
		t.Fatalf("identity types cover %d events", total)
	}
	for _, want := range []string{"IAMUser", "AssumedRole", "AWSService", "Root"} {
		if types[want] == 0 {
			t.Fatalf("no %s events in %v", want, types)
		}
	}
	// Nested fields, typed.
	_, rows = queryAll(t, s, `select user_identity.session_context.attributes.creation_date,
  user_identity.session_context.attributes.mfa_authenticated, user_identity.session_context.session_issuer.arn
from events where user_identity.type = 'AssumedRole' limit 1`)
	if _, ok := rows[0][0].(time.Time); !ok {
		t.Fatalf("creation_date is %T, want time.Time", rows[0][0])
	}
	if _, ok := rows[0][1].(bool); !ok {
		t.Fatalf("mfa_authenticated is %T, want bool", rows[0][1])
	}
	if arn, _ := rows[0][2].(string); !strings.HasPrefix(arn, "arn:aws:iam::") {
		t.Fatalf("session issuer arn %v", rows[0][2])
	}
	// A whole struct comes back as JSON text in field order.
	_, rows = queryAll(t, s, `select user_identity from events where user_identity.type = 'IAMUser' limit 1`)
	text, _ := rows[0][0].(string)
	if !strings.HasPrefix(text, `{"type":"IAMUser","principal_id":`) || !json.Valid([]byte(text)) {
		t.Fatalf("user_identity rendered as %q", text)
	}
}

func TestQueryValues(t *testing.T) {
	s := openStore(t)
	cols, rows := queryAll(t, s, `SELECT 1 AS a, 2::TINYINT AS a, 2.5::DOUBLE, 1.50::DECIMAL(4,2), 170141183460469231731687303715884105727::HUGEINT,
  'x', true, NULL, TIMESTAMP '2026-11-20 10:00:00', DATE '2026-11-20',
  '{"z":1,"a":12345678901234567890}'::JSON, {'k': 1, 'b': [1,2]}, [1,2,3], MAP {'m': 1},
  '5f1e1c1a-7d2b-4c3e-9a8b-1c2d3e4f5a6b'::UUID, INTERVAL 1 DAY; -- trailing comment`)
	want := []any{int64(1), int64(2), 2.5, 1.5, "170141183460469231731687303715884105727",
		"x", true, nil, time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC),
		`{"z":1,"a":12345678901234567890}`, `{"k":1,"b":[1,2]}`, `[1,2,3]`, `{"m":1}`,
		"5f1e1c1a-7d2b-4c3e-9a8b-1c2d3e4f5a6b", "1 day"}
	if len(cols) != len(want) || cols[0] != "a" || cols[1] != "a" {
		t.Fatalf("columns %v", cols)
	}
	if !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("row\n got %#v\nwant %#v", rows[0], want)
	}
}

func TestQueryStatementsThatCannotBeWrapped(t *testing.T) {
	s := openStore(t)
	// Several statements run once each, the last one's rows are returned.
	_, rows := queryAll(t, s, `CREATE TEMP TABLE t AS SELECT {'a': 1} AS s; INSERT INTO t VALUES ({'a': 2}); SELECT s FROM t ORDER BY s.a`)
	if len(rows) != 2 || rows[0][0] != `{"a":1}` || rows[1][0] != `{"a":2}` {
		t.Fatalf("rows %v", rows)
	}
	_, rows = queryAll(t, s, `SHOW TABLES`)
	if len(rows) == 0 {
		t.Fatal("SHOW TABLES returned nothing")
	}
	_, rows = queryAll(t, s, `PRAGMA version`)
	if len(rows) != 1 {
		t.Fatalf("PRAGMA version: %v", rows)
	}
	if _, err := s.Query(context.Background(), `SELEC 1`); err == nil || !strings.HasPrefix(err.Error(), "store: query: ") {
		t.Fatalf("syntax error: %v", err)
	}
	// A query that fails while running reports the user's error.
	if _, err := s.Query(context.Background(), `SELECT '{"a":1}'::JSON, error('boom')`); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf("runtime error: %v", err)
	}
}

func TestTrimStatement(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1; -- c`:              `SELECT 1`,
		"SELECT 1;\n -- c\n /* x */ ": `SELECT 1`,
		`SELECT ';' -- ;`:             `SELECT ';' -- ;`,
		`SELECT 'it''s;'; `:           `SELECT 'it''s;'`,
		`SELECT "a;b" FROM t`:         `SELECT "a;b" FROM t`,
		`SELECT 1 /* ; */`:            `SELECT 1 /* ; */`,
		`SELECT 1; SELECT 2`:          `SELECT 1; SELECT 2`,
		`SELECT 1`:                    `SELECT 1`,
		`SELECT 1; 'x'`:               `SELECT 1; 'x'`,
	} {
		if got := trimStatement(in); got != want {
			t.Errorf("trimStatement(%q) = %q, want %q", in, got, want)
		}
	}
}

// The named queries of package query are written against this schema:
// each must run on a demo store.
func TestNamedQueriesRun(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	if _, err := ingest(context.Background(), s, d.files...); err != nil {
		t.Fatal(err)
	}
	for _, n := range query.NamedQueries() {
		sql, ok := n.SQL[s.Name()]
		if !ok {
			continue
		}
		if cols, _ := queryAll(t, s, sql); len(cols) == 0 {
			t.Errorf("%s: no columns", n.Name)
		}
	}
}
