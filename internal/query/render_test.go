package query

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeRows serves rows from a slice, or n generated rows, and fails after
// failAfter rows when failAfter > 0.
type fakeRows struct {
	cols      []string
	rows      [][]any
	gen       func(i int) []any
	n         int
	failAfter int

	i      int
	cur    []any
	err    error
	closed bool
}

func (f *fakeRows) Columns() []string { return f.cols }
func (f *fakeRows) Next() bool {
	if f.failAfter > 0 && f.i == f.failAfter {
		f.err = errors.New("connection reset")
		return false
	}
	total := len(f.rows)
	if f.gen != nil {
		total = f.n
	}
	if f.i >= total {
		return false
	}
	if f.gen != nil {
		// Reuse one slice, as a driver may: Render must copy.
		if f.cur == nil {
			f.cur = make([]any, len(f.cols))
		}
		copy(f.cur, f.gen(f.i))
	} else {
		f.cur = f.rows[f.i]
	}
	f.i++
	return true
}
func (f *fakeRows) Row() []any   { return f.cur }
func (f *fakeRows) Err() error   { return f.err }
func (f *fakeRows) Close() error { f.closed = true; return nil }

var t0 = time.Date(2024, 3, 1, 12, 34, 56, 0, time.UTC)

func sample() *fakeRows {
	return &fakeRows{
		cols: []string{"event_time", "event_name", "calls", "ratio", "read_only", "error_code"},
		rows: [][]any{
			{t0, "ConsoleLogin", int64(3), 0.5, true, nil},
			{t0.Add(1500 * time.Millisecond), `Put"Bucket,Policy`, int64(12345), 1e-9, false, "AccessDenied"},
			{time.Date(2024, 3, 1, 13, 0, 0, 0, time.FixedZone("CET", 3600)), "line\nbreak", int64(-7), math.NaN(), nil, ""},
		},
	}
}

func render(t *testing.T, rows Rows, format string) (string, int) {
	t.Helper()
	var b bytes.Buffer
	n, err := Render(&b, rows, format)
	if err != nil {
		t.Fatalf("Render %s: %v", format, err)
	}
	return b.String(), n
}

func TestRenderTable(t *testing.T) {
	got, n := render(t, sample(), "table")
	want := `event_time            event_name         calls  ratio  read_only  error_code
--------------------  -----------------  -----  -----  ---------  ------------
2024-03-01T12:34:56Z  ConsoleLogin           3    0.5  true
2024-03-01T12:34:57Z  Put"Bucket,Policy  12345  1e-09  false      AccessDenied
2024-03-01T12:00:00Z  line break            -7    NaN
`
	if got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if n != 3 {
		t.Errorf("n = %d, want 3", n)
	}
}

func TestRenderTableEmpty(t *testing.T) {
	got, n := render(t, &fakeRows{cols: []string{"a", "bb"}}, "table")
	if want := "a  bb\n-  --\n"; got != want || n != 0 {
		t.Errorf("got %q (%d rows), want %q", got, n, want)
	}
}

func TestRenderTableTruncatesAndSanitizes(t *testing.T) {
	long := strings.Repeat("x", 100)
	rows := func() *fakeRows {
		return &fakeRows{cols: []string{"ua"}, rows: [][]any{
			{long},
			{"evil\x1b]0;pwned\x07\u202eagent"},
		}}
	}
	for _, width := range []int{0, 80} {
		var b bytes.Buffer
		if _, err := RenderWidth(&b, rows(), "table", width); err != nil {
			t.Fatal(err)
		}
		got := b.String()
		lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
		if len(lines) != 4 {
			t.Fatalf("lines %q", lines)
		}
		want, rule := long, 100
		if width == 80 {
			want, rule = strings.Repeat("x", 79)+"…", 80
		}
		if lines[2] != want {
			t.Errorf("width %d: long cell %q, want %q", width, lines[2], want)
		}
		if strings.ContainsAny(got, "\x1b\x07\u202e") {
			t.Errorf("control characters reach the terminal: %q", got)
		}
		if lines[3] != "evil ]0;pwned  agent" {
			t.Errorf("sanitized cell %q", lines[3])
		}
		if w := len([]rune(lines[1])); w != rule {
			t.Errorf("width %d: rule is %d wide, want %d", width, w, rule)
		}
	}
}

// TestRenderTableFitsWidth: a wide result fits 80 columns; times and
// numbers stay whole, text gives way, and columns that cannot fit are
// named, not silently dropped.
func TestRenderTableFitsWidth(t *testing.T) {
	cols := []string{"event_time", "account", "user_agent", "n", "a", "b", "c", "d", "e", "f"}
	row := []any{t0, "111111111111", strings.Repeat("aws-cli/2.17.0 ", 6), int64(123456), "x", "y", "z", "w", "v", "last-column-value"}
	var b bytes.Buffer
	if _, err := RenderWidth(&b, &fakeRows{cols: cols, rows: [][]any{row}}, "table", 40); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if n := len([]rune(l)); n > 40 {
			t.Errorf("line is %d wide: %q", n, l)
		}
	}
	if !strings.Contains(out, "2024-03-01T12:34:56Z") || !strings.Contains(out, "111111111111") {
		t.Errorf("the time or account was cut:\n%s", out)
	}
	if !strings.Contains(out, "(not shown, to fit 40 columns:") || !strings.Contains(out, "f)") {
		t.Errorf("left-out columns are not named:\n%s", out)
	}
}

// TestRenderTableChunks: columns are sized per chunk; when a later chunk
// needs more room the header is printed again so every line stays aligned.
func TestRenderTableChunks(t *testing.T) {
	rows := &fakeRows{cols: []string{"i", "name"}, n: ChunkRows + 1, gen: func(i int) []any {
		name := "short"
		if i == ChunkRows {
			name = "a much longer name"
		}
		return []any{int64(i), name}
	}}
	got, n := render(t, rows, "table")
	if n != ChunkRows+1 {
		t.Errorf("n = %d", n)
	}
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	// header, rule, 200 rows, blank, header, rule, 1 row
	if len(lines) != 2+ChunkRows+1+2+1 {
		t.Fatalf("%d lines", len(lines))
	}
	if lines[0] != "i    name" || lines[2] != "  0  short" || lines[ChunkRows+1] != "199  short" {
		t.Errorf("first chunk: %q %q %q", lines[0], lines[2], lines[ChunkRows+1])
	}
	if lines[ChunkRows+2] != "" || lines[ChunkRows+3] != "i    name" ||
		lines[ChunkRows+4] != "---  ------------------" || lines[ChunkRows+5] != "200  a much longer name" {
		t.Errorf("second chunk: %q", lines[ChunkRows+2:])
	}
}

// TestRenderTableStableWidths: chunks that fit the widths already printed
// get no new header.
func TestRenderTableStableWidths(t *testing.T) {
	rows := &fakeRows{cols: []string{"n"}, n: 3*ChunkRows + 5, gen: func(i int) []any { return []any{int64(i % 10)} }}
	got, n := render(t, rows, "table")
	if n != 3*ChunkRows+5 || strings.Count(got, "\n") != 2+n {
		t.Errorf("n = %d, %d lines", n, strings.Count(got, "\n"))
	}
}

// chunkWriter records the size of every write, to show output is flushed
// chunk by chunk rather than held until the end.
type chunkWriter struct{ writes []int }

func (c *chunkWriter) Write(p []byte) (int, error) {
	c.writes = append(c.writes, len(p))
	return len(p), nil
}

func TestRenderStreams(t *testing.T) {
	for _, format := range Formats {
		rows := &fakeRows{cols: []string{"i"}, n: 5*ChunkRows + 1, gen: func(i int) []any { return []any{int64(i)} }}
		var w chunkWriter
		n, err := Render(&w, rows, format)
		if err != nil || n != 5*ChunkRows+1 {
			t.Fatalf("%s: %d, %v", format, n, err)
		}
		if len(w.writes) < 6 {
			t.Errorf("%s: %d writes, want one per chunk at least", format, len(w.writes))
		}
	}
}

func TestRenderCSV(t *testing.T) {
	got, n := render(t, sample(), "csv")
	want := "event_time,event_name,calls,ratio,read_only,error_code\n" +
		"2024-03-01T12:34:56Z,ConsoleLogin,3,0.5,true,\n" +
		"2024-03-01T12:34:57.5Z,\"Put\"\"Bucket,Policy\",12345,1e-09,false,AccessDenied\n" +
		"2024-03-01T12:00:00Z,\"line\nbreak\",-7,NaN,,\n"
	if got != want || n != 3 {
		t.Errorf("csv (%d rows):\n%q\nwant:\n%q", n, got, want)
	}
	recs, err := csv.NewReader(strings.NewReader(got)).ReadAll()
	if err != nil || len(recs) != 4 || recs[2][1] != `Put"Bucket,Policy` || recs[3][1] != "line\nbreak" {
		t.Errorf("csv does not read back: %q, %v", recs, err)
	}
}

func TestRenderJSONL(t *testing.T) {
	got, n := render(t, sample(), "jsonl")
	want := `{"event_time":"2024-03-01T12:34:56Z","event_name":"ConsoleLogin","calls":3,"ratio":0.5,"read_only":true,"error_code":null}
{"event_time":"2024-03-01T12:34:57.5Z","event_name":"Put\"Bucket,Policy","calls":12345,"ratio":1e-9,"read_only":false,"error_code":"AccessDenied"}
{"event_time":"2024-03-01T12:00:00Z","event_name":"line\nbreak","calls":-7,"ratio":"NaN","read_only":null,"error_code":""}
`
	if got != want || n != 3 {
		t.Errorf("jsonl (%d rows):\n%s\nwant:\n%s", n, got, want)
	}
	for i, line := range strings.Split(strings.TrimSpace(got), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || len(m) != 6 {
			t.Errorf("line %d: %v %v", i, m, err)
		}
	}
}

func TestRenderJSON(t *testing.T) {
	got, n := render(t, sample(), "json")
	var arr []map[string]any
	if err := json.Unmarshal([]byte(got), &arr); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, got)
	}
	if n != 3 || len(arr) != 3 || arr[1]["event_name"] != `Put"Bucket,Policy` || arr[0]["calls"] != 3.0 ||
		arr[0]["event_time"] != "2024-03-01T12:34:56Z" {
		t.Errorf("got %v", arr)
	}
	if !strings.HasPrefix(got, "[\n  {\"event_time\"") || !strings.HasSuffix(got, "}\n]\n") {
		t.Errorf("layout %q", got)
	}
	empty, n := render(t, &fakeRows{cols: []string{"a"}}, "json")
	if empty != "[]\n" || n != 0 {
		t.Errorf("empty: %q", empty)
	}
}

func TestRenderJSONNoHTMLEscapeAndDuplicateKeys(t *testing.T) {
	rows := &fakeRows{cols: []string{"x", "x", "x_2"}, rows: [][]any{{"<a&b>", int64(1), int64(2)}}}
	got, _ := render(t, rows, "jsonl")
	if want := `{"x":"<a&b>","x_3":1,"x_2":2}` + "\n"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render(io.Discard, sample(), "xml"); err == nil || !strings.Contains(err.Error(), `unknown output format "xml"`) {
		t.Errorf("unknown format: %v", err)
	}
	bad := &fakeRows{cols: []string{"a", "b"}, rows: [][]any{{1}}}
	if _, err := Render(io.Discard, bad, "csv"); err == nil || !strings.Contains(err.Error(), "row 1 has 1 values for 2 columns") {
		t.Errorf("short row: %v", err)
	}
	for _, format := range Formats {
		rows := &fakeRows{cols: []string{"i"}, n: 10, failAfter: 4, gen: func(i int) []any { return []any{int64(i)} }}
		var b bytes.Buffer
		n, err := Render(&b, rows, format)
		if err == nil || err.Error() != "connection reset" {
			t.Errorf("%s: error %v, want the rows' error", format, err)
		}
		if n != 4 || !strings.Contains(b.String(), "3") {
			t.Errorf("%s: %d rows written before the error, want 4: %q", format, n, b.String())
		}
		if rows.closed {
			t.Errorf("%s: Render closed the rows; the caller owns them", format)
		}
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderWriteError(t *testing.T) {
	for _, format := range Formats {
		rows := &fakeRows{cols: []string{"i"}, n: 3 * ChunkRows, gen: func(i int) []any { return []any{int64(i)} }}
		if _, err := Render(failWriter{}, rows, format); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("%s: %v", format, err)
		}
		if rows.i > ChunkRows+1 {
			t.Errorf("%s: read %d rows after the writer failed", format, rows.i)
		}
	}
}

func TestFormatFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0", 1: "1", -2.5: "-2.5", 1e20: "100000000000000000000", 1e21: "1e+21",
		1e-6: "0.000001", 1e-7: "1e-07", math.Inf(1): "+Inf", math.Inf(-1): "-Inf",
	} {
		if got := formatFloat(f); got != want {
			t.Errorf("formatFloat(%g) = %q, want %q", f, got, want)
		}
	}
}

func ExampleRender() {
	rows := &fakeRows{cols: []string{"event_name", "events"}, rows: [][]any{
		{"AssumeRole", int64(1520)}, {"ConsoleLogin", int64(7)},
	}}
	n, _ := Render(os.Stdout, rows, "table")
	fmt.Println(n, "rows")
	// Output:
	// event_name    events
	// ------------  ------
	// AssumeRole      1520
	// ConsoleLogin       7
	// 2 rows
}

// TestRenderJSONValues: a JSON value is written as the JSON it holds in
// the JSON formats (objects, arrays, numbers, null) and as its text in the
// table and CSV; a string that looks like JSON stays a string.
func TestRenderJSONValues(t *testing.T) {
	rows := func() *fakeRows {
		return &fakeRows{cols: []string{"obj", "arr", "jnull", "sqlnull", "lookalike", "broken"}, rows: [][]any{{
			JSON(`{"b": {"c": [1, 2.5, "x"]}, "a": null}`), JSON(`[{"k":"v"}, []]`), JSON(`null`), nil, `{"a":1}`, JSON(`[1, 2`),
		}}}
	}
	got, _ := render(t, rows(), "jsonl")
	want := `{"obj":{"b":{"c":[1,2.5,"x"]},"a":null},"arr":[{"k":"v"},[]],"jnull":null,"sqlnull":null,"lookalike":"{\"a\":1}","broken":"[1, 2"}` + "\n"
	if got != want {
		t.Errorf("jsonl:\n%s\nwant:\n%s", got, want)
	}
	var arr []map[string]any
	got, _ = render(t, rows(), "json")
	if err := json.Unmarshal([]byte(got), &arr); err != nil || len(arr) != 1 {
		t.Fatalf("json: %v\n%s", err, got)
	}
	if _, ok := arr[0]["obj"].(map[string]any); !ok {
		t.Errorf("obj is %T, want an object", arr[0]["obj"])
	}
	if _, ok := arr[0]["arr"].([]any); !ok {
		t.Errorf("arr is %T, want an array", arr[0]["arr"])
	}
	if v, ok := arr[0]["jnull"]; !ok || v != nil {
		t.Errorf("jnull = %#v, want null", v)
	}
	csvOut, _ := render(t, rows(), "csv")
	recs, err := csv.NewReader(strings.NewReader(csvOut)).ReadAll()
	if err != nil || len(recs) != 2 || recs[1][0] != `{"b": {"c": [1, 2.5, "x"]}, "a": null}` || recs[1][2] != "null" || recs[1][3] != "" {
		t.Errorf("csv: %q %v", recs, err)
	}
	table, _ := render(t, rows(), "table")
	if !strings.Contains(table, `[{"k":"v"}, []]`) {
		t.Errorf("table:\n%s", table)
	}
}
