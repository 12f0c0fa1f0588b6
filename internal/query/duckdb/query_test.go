package duckdb

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
	text, _ := rows[0][0].(query.JSON)
	if !strings.HasPrefix(string(text), `{"type":"IAMUser","principal_id":`) || !json.Valid([]byte(text)) {
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
		query.JSON(`{"z":1,"a":12345678901234567890}`), query.JSON(`{"k":1,"b":[1,2]}`), query.JSON(`[1,2,3]`), query.JSON(`{"m":1}`),
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
	if len(rows) != 2 || rows[0][0] != query.JSON(`{"a":1}`) || rows[1][0] != query.JSON(`{"a":2}`) {
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

// TestQueryJSONOutputKeepsTypes: through Render's json format, every type
// of the events table comes back as what it means: STRUCT, LIST, MAP and
// JSON columns as JSON objects and arrays (whatever JSON they hold: null,
// nested objects, a string that looks like JSON), SQL NULL as null,
// numbers as numbers, timestamps and dates as RFC 3339 strings, at the
// top level and inside STRUCTs, LISTs and MAPs alike.
func TestQueryJSONOutputKeepsTypes(t *testing.T) {
	s := openStore(t)
	sqlText := `CREATE TEMP TABLE t AS SELECT * FROM events LIMIT 0;
INSERT INTO t (event_id, event_time, user_identity, read_only, request_parameters, response_elements,
  additional_event_data, resources, tls_details, account, region, event_date, source_key)
VALUES ('e1', TIMESTAMP '2026-11-20 10:00:00.5',
  {'type': 'AssumedRole', 'principal_id': 'P', 'arn': NULL, 'account_id': '111111111111', 'access_key_id': NULL,
   'user_name': NULL, 'invoked_by': NULL, 'identity_provider': NULL,
   'session_context': {'attributes': {'creation_date': TIMESTAMP '2026-11-20 09:00:00', 'mfa_authenticated': true},
     'session_issuer': NULL, 'source_identity': NULL}},
  true, '{"bucketName":"b","nested":{"list":[1,2.5,{"deep":null}]}}', 'null',
  '"{\"looks\":\"like json\"}"', '[{"ARN":"arn:aws:s3:::b"}]', NULL,
  '111111111111', 'us-east-1', DATE '2026-11-20', 'k');
SELECT event_id, event_time, user_identity, read_only, request_parameters, response_elements,
  additional_event_data, resources, tls_details, event_date, [1, 2] AS list, MAP {'m': [true]} AS map,
  42::BIGINT AS n, 2.5 AS f, '{"a":1}' AS lookalike_varchar,
  [TIMESTAMP '2026-11-20 10:00:00.25', NULL] AS times, MAP {'d': DATE '2026-11-21'} AS dates,
  {'at': TIMESTAMPTZ '2026-11-20 10:00:00+02', 'label': '2026-11-20 10:00:00'} AS zoned
FROM t`
	rows, err := s.Query(context.Background(), sqlText)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if _, err := query.Render(&b, rows, "json"); err != nil {
		t.Fatal(err)
	}
	_ = rows.Close()
	var got []map[string]any
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil || len(got) != 1 {
		t.Fatalf("not one JSON object: %v\n%s", err, b.String())
	}
	r := got[0]
	want := map[string]any{
		"event_id":   "e1",
		"event_time": "2026-11-20T10:00:00.5Z",
		"user_identity": map[string]any{"type": "AssumedRole", "principal_id": "P", "arn": nil, "account_id": "111111111111",
			"access_key_id": nil, "user_name": nil, "invoked_by": nil, "identity_provider": nil,
			"session_context": map[string]any{
				"attributes":      map[string]any{"creation_date": "2026-11-20T09:00:00Z", "mfa_authenticated": true},
				"session_issuer":  nil,
				"source_identity": nil,
			}},
		"read_only":             true,
		"request_parameters":    map[string]any{"bucketName": "b", "nested": map[string]any{"list": []any{1.0, 2.5, map[string]any{"deep": nil}}}},
		"response_elements":     nil,
		"additional_event_data": `{"looks":"like json"}`,
		"resources":             []any{map[string]any{"ARN": "arn:aws:s3:::b"}},
		"tls_details":           nil,
		"event_date":            "2026-11-20T00:00:00Z",
		"list":                  []any{1.0, 2.0},
		"map":                   map[string]any{"m": []any{true}},
		"n":                     42.0,
		"f":                     2.5,
		"lookalike_varchar":     `{"a":1}`,
		"times":                 []any{"2026-11-20T10:00:00.25Z", nil},
		"dates":                 map[string]any{"d": "2026-11-21T00:00:00Z"},
		// A VARCHAR that reads as a time stays as it is.
		"zoned": map[string]any{"at": "2026-11-20T08:00:00Z", "label": "2026-11-20 10:00:00"},
	}
	for k, w := range want {
		if !reflect.DeepEqual(r[k], w) {
			t.Errorf("%s = %#v, want %#v", k, r[k], w)
		}
	}
	if len(r) != len(want) {
		t.Errorf("%d keys, want %d: %v", len(r), len(want), r)
	}
	if !strings.Contains(b.String(), `"response_elements":null`) || strings.Contains(b.String(), `"null"`) {
		t.Errorf("a JSON null is not written as null:\n%s", b.String())
	}
}

func TestParseType(t *testing.T) {
	n := parseType(`STRUCT("type" VARCHAR, "we""ird" TIMESTAMP, d DECIMAL(18,3), s STRUCT(at TIMESTAMP WITH TIME ZONE, x INTEGER)[], m MAP(VARCHAR, DATE[2]))`)
	if n.fields == nil || n.fields["type"].time || !n.fields[`we"ird`].time || n.fields["d"].time ||
		!n.fields["s"].elem.fields["at"].time || n.fields["s"].elem.fields["x"].time || !n.fields["m"].elem.elem.time || !n.hasTime() {
		t.Fatalf("parsed %+v", n)
	}
	if parseType("INTEGER[]").hasTime() || !parseType("TIMESTAMP_NS[]").hasTime() {
		t.Fatal("lists")
	}
	if got := rfc3339Times(`{"b":1,"a":["2026-11-20 10:00:00",null]}`, &typeNode{fields: map[string]*typeNode{"a": {elem: &typeNode{time: true}}}}); got != `{"b":1,"a":["2026-11-20T10:00:00Z",null]}` {
		t.Fatalf("rewrite: %s", got)
	}
}
