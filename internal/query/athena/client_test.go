package athena

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	_ "time/tzdata" // Europe/Paris without the system's zone files

	"github.com/aws/aws-sdk-go-v2/service/athena/types"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/internal/query"
)

var startOK = ok(`{"QueryExecutionId":"` + queryID + `"}`)

var resultColumns = []string{
	column("event_name", "varchar", 2147483647),
	column("calls", "bigint", 19),
	column("read_only", "boolean", 0),
	column("ratio", "double", 17),
	column("first_seen", "timestamp", 3),
	column("day", "date", 0),
}

// collect reads all rows.
func collect(t *testing.T, r query.Rows) [][]any {
	t.Helper()
	var out [][]any
	for r.Next() {
		out = append(out, r.Row())
	}
	if err := r.Err(); err != nil {
		t.Fatalf("rows: %v", err)
	}
	return out
}

func TestQueryTwoPages(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "GetQueryExecution":
			return execution([]string{"QUEUED", "RUNNING", "SUCCEEDED"}[min(n, 2)], "DML", "")
		case "GetQueryResults":
			if n == 0 {
				return results(resultColumns, []string{
					row(s("event_name"), s("calls"), s("read_only"), s("ratio"), s("first_seen"), s("day")),
					row(s("AssumeRole"), s("1520"), s("true"), s("0.25"), s("2024-03-01 00:00:01.250"), s("2024-03-01")),
					row(s("ConsoleLogin"), s("7"), s("false"), s("NaN"), s("2024-03-02 09:15:00.000"), s("2024-03-02")),
				}, "AUvO2GxnRh2vZ3Yx1DfRpP0x8pQ==")
			}
			return results(resultColumns, []string{
				row(s("StopLogging"), s("1"), nil, nil, nil, nil),
				row(s(""), s("-2"), s("false"), s("1.5E10"), s("2024-03-03 23:59:59.999"), s("2024-03-03")),
			}, "")
		}
		return apiError("InternalServerException", "unexpected "+r.Op)
	})
	c := newTestClient(t, f, Options{Database: "trailwarden", Catalog: "AwsDataCatalog", Workgroup: "security",
		OutputLocation: "s3://acme-athena-results/trailwarden/"})
	if c.Name() != "athena" {
		t.Errorf("Name() = %q", c.Name())
	}
	sql := "SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY 1"
	rows, err := c.Query(context.Background(), sql)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	if got := f.requests("GetQueryResults"); len(got) != 1 {
		t.Errorf("%d result pages read before the first row was asked for, want 1", len(got))
	}
	wantCols := []string{"event_name", "calls", "read_only", "ratio", "first_seen", "day"}
	if !reflect.DeepEqual(rows.Columns(), wantCols) {
		t.Errorf("columns %v, want %v", rows.Columns(), wantCols)
	}
	got := collect(t, rows)
	day := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	want := [][]any{
		{"AssumeRole", int64(1520), true, 0.25, day(1).Add(1250 * time.Millisecond), day(1)},
		{"ConsoleLogin", int64(7), false, math.NaN(), day(2).Add(9*time.Hour + 15*time.Minute), day(2)},
		{"StopLogging", int64(1), nil, nil, nil, nil},
		{"", int64(-2), false, 1.5e10, day(4).Add(-time.Millisecond), day(3)},
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d (the header row must be skipped): %v", len(got), len(want), got)
	}
	for i := range want {
		for j := range want[i] {
			g, w := got[i][j], want[i][j]
			if wf, isF := w.(float64); isF && math.IsNaN(wf) {
				if gf, _ := g.(float64); !math.IsNaN(gf) {
					t.Errorf("row %d col %d = %#v, want NaN", i, j, g)
				}
				continue
			}
			if wt, isT := w.(time.Time); isT {
				if gt, _ := g.(time.Time); !gt.Equal(wt) {
					t.Errorf("row %d col %d = %#v, want %s", i, j, g, wt)
				}
				continue
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("row %d col %d = %#v, want %#v", i, j, g, w)
			}
		}
	}

	// The wire: one start with the whole context, three polls, two pages.
	starts := f.requests("StartQueryExecution")
	if len(starts) != 1 {
		t.Fatalf("%d starts", len(starts))
	}
	st := starts[0]
	if st.Region != "eu-west-1" || st.str("QueryString") != sql || st.str("WorkGroup") != "security" ||
		st.str("ClientRequestToken") == "" {
		t.Errorf("start request %+v", st)
	}
	if ctxm, _ := st.Body["QueryExecutionContext"].(map[string]any); ctxm["Database"] != "trailwarden" || ctxm["Catalog"] != "AwsDataCatalog" {
		t.Errorf("QueryExecutionContext %v", st.Body["QueryExecutionContext"])
	}
	if rc, _ := st.Body["ResultConfiguration"].(map[string]any); rc["OutputLocation"] != "s3://acme-athena-results/trailwarden/" || len(rc) != 1 {
		t.Errorf("ResultConfiguration %v", st.Body["ResultConfiguration"])
	}
	if polls := f.requests("GetQueryExecution"); len(polls) != 3 || polls[0].str("QueryExecutionId") != queryID {
		t.Errorf("%d polls, want 3 (QUEUED, RUNNING, SUCCEEDED)", len(polls))
	}
	pages := f.requests("GetQueryResults")
	if len(pages) != 2 {
		t.Fatalf("%d pages", len(pages))
	}
	if _, has := pages[0].Body["NextToken"]; has || pages[1].str("NextToken") != "AUvO2GxnRh2vZ3Yx1DfRpP0x8pQ==" {
		t.Errorf("NextTokens: %v, then %v", pages[0].Body["NextToken"], pages[1].Body["NextToken"])
	}
	for _, p := range pages {
		if p.Body["MaxResults"] != json.Number("1000") || p.str("QueryExecutionId") != queryID {
			t.Errorf("page request %v", p.Body)
		}
	}
	if n := len(f.requests("StopQueryExecution")); n != 0 {
		t.Errorf("%d stops for a query that succeeded", n)
	}
}

// TestQueryMinimalRequest: without database, catalog, workgroup and output
// location the start request carries only the query and the token.
func TestQueryMinimalRequest(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "GetQueryExecution":
			return execution("SUCCEEDED", "DML", "")
		}
		return results([]string{column("one", "integer", 10)}, []string{row(s("one"))}, "")
	})
	rows, err := newTestClient(t, f, Options{}).Query(context.Background(), "SELECT 1 AS one WHERE false")
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, rows); len(got) != 0 || !reflect.DeepEqual(rows.Columns(), []string{"one"}) {
		t.Errorf("rows %v, columns %v; want none, [one]", got, rows.Columns())
	}
	body := f.requests("StartQueryExecution")[0].Body
	if len(body) != 2 || body["QueryString"] == nil || body["ClientRequestToken"] == nil {
		t.Errorf("start body %v, want only QueryString and ClientRequestToken", body)
	}
}

func TestQueryFailed(t *testing.T) {
	isolate(t)
	reason := "SYNTAX_ERROR: line 1:8: Column 'x' cannot be resolved"
	f := newFake(t, func(n int, r request) reply {
		if r.Op == "StartQueryExecution" {
			return startOK
		}
		if r.Op == "GetQueryExecution" && n == 0 {
			return execution("RUNNING", "DML", "")
		}
		return execution("FAILED", "DML", `,"StateChangeReason":"`+reason+`",`+
			`"AthenaError":{"ErrorCategory":2,"ErrorType":1006,"Retryable":false,"ErrorMessage":"`+reason+`"}`)
	})
	_, err := newTestClient(t, f, Options{}).Query(context.Background(), "SELECT x FROM cloudtrail_logs")
	if err == nil {
		t.Fatal("no error")
	}
	if want := "athena: query failed: " + reason; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	var qe *QueryError
	if !errors.As(err, &qe) || qe.ID != queryID || qe.State != "FAILED" || qe.Category != 2 || qe.Type != 1006 || qe.Retryable {
		t.Errorf("QueryError %+v", qe)
	}
	if n := len(f.requests("GetQueryResults")) + len(f.requests("StopQueryExecution")); n != 0 {
		t.Errorf("%d results or stop requests after a failure", n)
	}
}

func TestQueryCancelledElsewhere(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		if r.Op == "StartQueryExecution" {
			return startOK
		}
		return execution("CANCELLED", "DML", `,"StateChangeReason":"Query cancelled by user"`)
	})
	_, err := newTestClient(t, f, Options{}).Query(context.Background(), "SELECT 1")
	if err == nil || err.Error() != "athena: query cancelled: Query cancelled by user" {
		t.Errorf("error %v", err)
	}
}

// TestQueryThrottled: the API's throttling and Athena's concurrent-query
// limit are both retried by the SDK, and a retried start reuses its
// ClientRequestToken, so it cannot start the query twice.
func TestQueryThrottled(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch {
		case r.Op == "StartQueryExecution" && n == 0:
			return reply{http.StatusBadRequest, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
		case r.Op == "StartQueryExecution" && n == 1:
			return reply{http.StatusBadRequest, `{"__type":"TooManyRequestsException","Message":"You have exceeded the limit for the number of queries you can run concurrently. Reduce the number of concurrent queries submitted by this account. Contact customer support to request a concurrent query limit increase.","Reason":"CONCURRENT_QUERY_LIMIT_EXCEEDED"}`}
		case r.Op == "StartQueryExecution":
			return startOK
		case r.Op == "GetQueryExecution" && n == 0:
			return reply{http.StatusBadRequest, `{"__type":"ThrottlingException","message":"Rate exceeded"}`}
		case r.Op == "GetQueryExecution":
			return execution("SUCCEEDED", "DML", "")
		}
		return results([]string{column("n", "bigint", 19)}, []string{row(s("n")), row(s("42"))}, "")
	})
	rows, err := newTestClient(t, f, Options{}).Query(context.Background(), "SELECT 42 AS n")
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, rows); !reflect.DeepEqual(got, [][]any{{int64(42)}}) {
		t.Errorf("rows %v", got)
	}
	starts := f.requests("StartQueryExecution")
	if len(starts) != 3 {
		t.Fatalf("%d starts, want 3 (two throttled)", len(starts))
	}
	if tok := starts[0].str("ClientRequestToken"); tok == "" || starts[1].str("ClientRequestToken") != tok || starts[2].str("ClientRequestToken") != tok {
		t.Errorf("ClientRequestTokens differ across retries: %q %q %q", tok, starts[1].str("ClientRequestToken"), starts[2].str("ClientRequestToken"))
	}
	if n := len(f.requests("GetQueryExecution")); n != 2 {
		t.Errorf("%d polls, want 2 (one throttled)", n)
	}
}

func TestQueryInvalidRequest(t *testing.T) {
	isolate(t)
	msg := "No output location provided. An output location is required either through the Workgroup result configuration setting or as an API input."
	f := newFake(t, func(n int, r request) reply {
		return reply{http.StatusBadRequest, `{"__type":"InvalidRequestException","AthenaErrorCode":"INVALID_INPUT","Message":"` + msg + `"}`}
	})
	_, err := newTestClient(t, f, Options{}).Query(context.Background(), "SELECT 1")
	if err == nil {
		t.Fatal("no error")
	}
	want := "athena: start query: InvalidRequestException INVALID_INPUT: " + msg +
		" (give an s3:// output location for query results, or use a workgroup that has one)"
	if err.Error() != want {
		t.Errorf("error\n %q\nwant\n %q", err, want)
	}
	var inv *types.InvalidRequestException
	var api smithy.APIError
	if !errors.As(err, &inv) || !errors.As(err, &api) || api.ErrorCode() != "InvalidRequestException" {
		t.Errorf("error %v does not wrap the SDK's InvalidRequestException", err)
	}
	if n := len(f.requests("")); n != 1 {
		t.Errorf("%d requests, want 1: an invalid request is not retried", n)
	}
}

func TestQueryAccessDenied(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		return reply{http.StatusBadRequest, `{"__type":"AccessDeniedException","Message":"User: arn:aws:iam::123456789012:user/x is not authorized to perform: athena:StartQueryExecution on resource: arn:aws:athena:eu-west-1:123456789012:workgroup/primary because no identity-based policy allows the athena:StartQueryExecution action"}`}
	})
	_, err := newTestClient(t, f, Options{}).Query(context.Background(), "SELECT 1")
	if err == nil || !strings.HasPrefix(err.Error(), "athena: start query: AccessDeniedException: User: ") ||
		!strings.Contains(err.Error(), "(the credentials need athena:StartQueryExecution") {
		t.Errorf("error %v", err)
	}
}

// TestQueryContextCancelled: a caller giving up on a running query stops
// it, so it does not keep scanning.
func TestQueryContextCancelled(t *testing.T) {
	isolate(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "GetQueryExecution":
			if n == 2 {
				once.Do(cancel)
			}
			return execution("RUNNING", "DML", "")
		case "StopQueryExecution":
			return ok(`{}`)
		}
		return apiError("InternalServerException", "unexpected "+r.Op)
	})
	_, err := newTestClient(t, f, Options{}).Query(ctx, "SELECT * FROM cloudtrail_logs")
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v, want context.Canceled", err)
	}
	if !strings.Contains(err.Error(), queryID) {
		t.Errorf("error %q does not name the query", err)
	}
	stops := f.requests("StopQueryExecution")
	if len(stops) != 1 || stops[0].str("QueryExecutionId") != queryID || stops[0].Region != "eu-west-1" {
		t.Errorf("stop requests %+v, want one for %s", stops, queryID)
	}
	if n := len(f.requests("GetQueryResults")); n != 0 {
		t.Errorf("%d result reads", n)
	}
}

// TestQueryDeadline: a deadline that passes while polling stops the query
// too, and a failing stop is reported next to the cause.
func TestQueryDeadline(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "StopQueryExecution":
			return apiError("InvalidRequestException", "Query has already finished")
		}
		return execution("RUNNING", "DML", "")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := newTestClient(t, f, Options{}).Query(ctx, "SELECT 1")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "the query may still be running") {
		t.Errorf("error %v", err)
	}
	if n := len(f.requests("StopQueryExecution")); n != 1 {
		t.Errorf("%d stops, want 1 (not retried: invalid request)", n)
	}
}

// TestRowsContextCancelledWhilePaging: the rows read later pages with the
// query's context and report its end.
func TestRowsContextCancelledWhilePaging(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "GetQueryExecution":
			return execution("SUCCEEDED", "DML", "")
		}
		return results([]string{column("n", "bigint", 19)}, []string{row(s("n")), row(s("1"))}, "page-2")
	})
	ctx, cancel := context.WithCancel(context.Background())
	rows, err := newTestClient(t, f, Options{}).Query(ctx, "SELECT n FROM t")
	if err != nil {
		t.Fatal(err)
	}
	if !rows.Next() || rows.Row()[0] != int64(1) {
		t.Fatalf("first row %v, %v", rows.Row(), rows.Err())
	}
	cancel()
	if rows.Next() {
		t.Error("Next after cancel")
	}
	if !errors.Is(rows.Err(), context.Canceled) {
		t.Errorf("Err %v, want context.Canceled", rows.Err())
	}
	if err := rows.Close(); err != nil || rows.Next() {
		t.Errorf("Close %v", err)
	}
}

// TestRowsRepeatedToken: a server handing back the token it was given
// would loop forever.
func TestRowsRepeatedToken(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "GetQueryExecution":
			return execution("SUCCEEDED", "DML", "")
		}
		return results([]string{column("n", "bigint", 19)}, []string{row(s("n")), row(s("1"))}, "same")
	})
	rows, err := newTestClient(t, f, Options{}).Query(context.Background(), "SELECT n FROM t")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	if rows.Err() == nil || !strings.Contains(rows.Err().Error(), "same NextToken came back twice") || n != 1 {
		t.Errorf("%d rows, error %v", n, rows.Err())
	}
}

// TestUtilityStatementHasNoHeader: only DML results start with a header
// row; SHOW and DESCRIBE results do not.
func TestUtilityStatementHasNoHeader(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "GetQueryExecution":
			return execution("SUCCEEDED", "UTILITY", "")
		}
		return results([]string{column("database_name", "varchar", 0)}, []string{row(s("default")), row(s("trailwarden"))}, "")
	})
	rows, err := newTestClient(t, f, Options{}).Query(context.Background(), "SHOW DATABASES")
	if err != nil {
		t.Fatal(err)
	}
	if got := collect(t, rows); !reflect.DeepEqual(got, [][]any{{"default"}, {"trailwarden"}}) {
		t.Errorf("rows %v", got)
	}
}

func TestSetup(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		switch r.Op {
		case "StartQueryExecution":
			return startOK
		case "GetQueryExecution":
			return execution("SUCCEEDED", "DDL", "")
		}
		return apiError("InternalServerException", "unexpected "+r.Op)
	})
	c := newTestClient(t, f, Options{Workgroup: "security", OutputLocation: "s3://acme-athena-results/"})
	ddl := "CREATE EXTERNAL TABLE IF NOT EXISTS `audit`.`cloudtrail_logs` (eventversion STRING)"
	if err := c.Setup(context.Background(), ddl, "audit"); err != nil {
		t.Fatal(err)
	}
	starts := f.requests("StartQueryExecution")
	if len(starts) != 2 {
		t.Fatalf("%d statements, want 2", len(starts))
	}
	if starts[0].str("QueryString") != "CREATE DATABASE IF NOT EXISTS `audit`" || starts[0].Body["QueryExecutionContext"] != nil {
		t.Errorf("first statement %v", starts[0].Body)
	}
	if starts[1].str("QueryString") != ddl {
		t.Errorf("second statement %q", starts[1].str("QueryString"))
	}
	if ctxm, _ := starts[1].Body["QueryExecutionContext"].(map[string]any); ctxm["Database"] != "audit" {
		t.Errorf("DDL context %v", starts[1].Body["QueryExecutionContext"])
	}
	for _, st := range starts {
		if st.str("WorkGroup") != "security" {
			t.Errorf("statement without the workgroup: %v", st.Body)
		}
	}
	if n := len(f.requests("GetQueryResults")); n != 0 {
		t.Errorf("%d result reads for DDL", n)
	}

	if err := c.Setup(context.Background(), ddl, "Audit-DB"); err == nil || !strings.Contains(err.Error(), `database name "Audit-DB" is not valid`) {
		t.Errorf("bad database: %v", err)
	}
}

func TestSetupFails(t *testing.T) {
	isolate(t)
	reason := "FAILED: SemanticException [Error 10072]: Database does not exist: nope"
	f := newFake(t, func(n int, r request) reply {
		switch {
		case r.Op == "StartQueryExecution":
			return startOK
		case r.Op == "GetQueryExecution" && n == 0:
			return execution("SUCCEEDED", "DDL", "")
		}
		return execution("FAILED", "DDL", `,"StateChangeReason":"`+reason+`"`)
	})
	err := newTestClient(t, f, Options{}).Setup(context.Background(), "CREATE EXTERNAL TABLE x (a STRING)", "audit")
	if err == nil || err.Error() != "athena: create table in audit: query failed: "+reason {
		t.Errorf("error %v", err)
	}
	var qe *QueryError
	if !errors.As(err, &qe) {
		t.Errorf("error %v does not wrap the QueryError", err)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	isolate(t)
	for _, tc := range []struct {
		o    Options
		want string
	}{
		{Options{Region: "eu-west-1", OutputLocation: "acme-results/"}, "is not an S3 URI"},
		{Options{Region: "eu-west-1", Database: "Trail-Warden"}, `database name "Trail-Warden" is not valid`},
		{Options{Region: "eu-west-1", PollInterval: -time.Second}, "negative poll interval"},
		{Options{Region: "eu-west-1", Endpoint: "ftp://127.0.0.1"}, "scheme must be http or https"},
		{Options{Region: "eu-west-1", Endpoint: "http://user:secret@127.0.0.1"}, "must not contain credentials"},
		{Options{Region: "eu-west-1", RoleARN: "my-role"}, "is not an ARN"},
		{Options{}, "athena: no region"},
	} {
		_, err := New(context.Background(), tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "secret") {
			t.Errorf("New(%+v) = %v, want %q", tc.o, err, tc.want)
		}
	}
}

func TestQueryEmptySQL(t *testing.T) {
	isolate(t)
	f := newFake(t, func(int, request) reply { return startOK })
	if _, err := newTestClient(t, f, Options{}).Query(context.Background(), "  "); err == nil {
		t.Error("empty SQL accepted")
	}
	if n := len(f.requests("")); n != 0 {
		t.Errorf("%d requests for empty SQL", n)
	}
}

// TestPollBackoff: waits double from PollInterval up to the cap.
func TestPollBackoff(t *testing.T) {
	isolate(t)
	f := newFake(t, func(n int, r request) reply {
		if r.Op == "StartQueryExecution" {
			return startOK
		}
		if n < 7 {
			return execution("RUNNING", "DML", "")
		}
		return execution("FAILED", "DML", `,"StateChangeReason":"x"`)
	})
	c := newTestClient(t, f, Options{PollInterval: time.Second})
	var waits []time.Duration
	c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	_, _ = c.Query(context.Background(), "SELECT 1")
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second, 5 * time.Second}
	if !reflect.DeepEqual(waits, want) {
		t.Errorf("waits %v, want %v", waits, want)
	}
}

func TestConvert(t *testing.T) {
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ, in string
		want    any
	}{
		{"boolean", "true", true},
		{"boolean", "false", false},
		{"tinyint", "-8", int64(-8)},
		{"smallint", "300", int64(300)},
		{"integer", "70000", int64(70000)},
		{"bigint", "9223372036854775807", int64(math.MaxInt64)},
		{"double", "1.0E-5", 1e-5},
		{"real", "2.5", 2.5},
		{"float", "Infinity", math.Inf(1)},
		{"decimal(38,2)", "12345678901234567890.12", "12345678901234567890.12"},
		{"varchar", "AssumeRole", "AssumeRole"},
		{"char", "x", "x"},
		{"json", `{"a":1}`, query.JSON(`{"a":1}`)},
		{"json", `null`, query.JSON(`null`)},
		{"json", `{"a":`, `{"a":`}, // not JSON: stays the text Athena sent
		{"array", "[a, b]", "[a, b]"},
		{"map", "{k=v}", "{k=v}"},
		{"row", "{type=Root}", "{type=Root}"},
		{"date", "2024-03-01", utc("2024-03-01T00:00:00Z")},
		{"timestamp", "2024-03-01 12:34:56.789", utc("2024-03-01T12:34:56.789Z")},
		{"timestamp", "2024-03-01 12:34:56", utc("2024-03-01T12:34:56Z")},
		{"timestamp(6)", "2024-03-01 12:34:56.123456", utc("2024-03-01T12:34:56.123456Z")},
		{"timestamp with time zone", "2024-03-01 12:34:56.789 UTC", utc("2024-03-01T12:34:56.789Z")},
		{"timestamp(3) with time zone", "2024-03-01 12:34:56.000 +01:00", utc("2024-03-01T11:34:56Z")},
		{"timestamp with time zone", "2024-07-01 12:00:00.000 Europe/Paris", time.Date(2024, 7, 1, 12, 0, 0, 0, paris)},
		// Unparsable values of a known type stay strings.
		{"bigint", "12x", "12x"},
		{"timestamp", "yesterday", "yesterday"},
		{"timestamp with time zone", "2024-03-01 12:00:00.000 Mars/Olympus", "2024-03-01 12:00:00.000 Mars/Olympus"},
	} {
		got := convert(tc.typ, &tc.in)
		if wt, isT := tc.want.(time.Time); isT {
			if gt, _ := got.(time.Time); !gt.Equal(wt) {
				t.Errorf("convert(%s, %q) = %#v, want %s", tc.typ, tc.in, got, wt)
			}
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("convert(%s, %q) = %#v, want %#v", tc.typ, tc.in, got, tc.want)
		}
	}
	if got := convert("varchar", nil); got != nil {
		t.Errorf("NULL = %#v", got)
	}
}

func TestTableAccounts(t *testing.T) {
	isolate(t)
	projected := map[string]string{"EXTERNAL": "TRUE", "projection.enabled": "true", "projection.account.type": "enum",
		"projection.account.values": "111111111111,222222222222", "projection.region.type": "enum", "projection.region.values": "eu-west-1",
		"storage.location.template": "s3://acme-org-cloudtrail/AWSLogs/o-a1b2c3d4e5/${account}/CloudTrail/${region}/${timestamp}"}
	injected := map[string]string{"projection.enabled": "true", "projection.account.type": "injected"}
	for _, tc := range []struct {
		name   string
		params map[string]string
		want   string
		ok     bool
	}{
		{"enum projection", projected, "111111111111,222222222222", true},
		{"injected accounts", injected, "", false},
		{"no projection", map[string]string{"EXTERNAL": "TRUE"}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, func(int, request) reply { return tableMetadata(tc.params) })
			c := newTestClient(t, f, Options{Workgroup: "analysts"})
			got, ok, err := c.TableAccounts(context.Background(), "trailwarden", "cloudtrail_logs")
			if err != nil || ok != tc.ok || strings.Join(got, ",") != tc.want {
				t.Fatalf("TableAccounts = %v, %v, %v", got, ok, err)
			}
			r := f.requests("GetTableMetadata")
			if len(r) != 1 || r[0].str("CatalogName") != "AwsDataCatalog" || r[0].str("DatabaseName") != "trailwarden" ||
				r[0].str("TableName") != "cloudtrail_logs" || r[0].str("WorkGroup") != "analysts" {
				t.Fatalf("requests %+v", r)
			}
		})
	}
	f := newFake(t, func(int, request) reply {
		return apiError("MetadataException", "Table cloudtrail_logs not found in database trailwarden")
	})
	if _, _, err := newTestClient(t, f, Options{}).TableAccounts(context.Background(), "trailwarden", "cloudtrail_logs"); err == nil ||
		!strings.Contains(err.Error(), "MetadataException") || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("missing table: %v", err)
	}
	if _, _, err := newTestClient(t, f, Options{}).TableAccounts(context.Background(), "trailwarden", "x; drop"); err == nil {
		t.Fatal("bad table name accepted")
	}
}
