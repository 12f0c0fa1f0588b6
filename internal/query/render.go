package query

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/texttable"
)

// Formats are the output formats Render accepts.
var Formats = []string{"table", "csv", "jsonl", "json"}

// ChunkRows is how many rows Render holds at a time: the table format
// sizes its columns on each chunk, and every format flushes its output
// after each chunk, so memory stays bounded however long the result.
const ChunkRows = 200

// Render writes rows to w in format ("table", "csv", "jsonl" or "json")
// and returns how many rows it wrote. It reads rows to the end (or the
// first error) but does not close them: the caller does.
//
//   - table: aligned columns for people, every value in full (RenderWidth
//     fits a terminal). Column widths come from the header and each chunk
//     of ChunkRows rows; when a chunk needs wider columns the header is
//     printed again above it. Control characters (which a logged user agent
//     could use to drive the terminal) become spaces, numbers are
//     right-aligned, NULL is an empty cell.
//   - csv: RFC 4180 with a header row; NULL is an empty field.
//   - jsonl: one JSON object per row, keys are the column names in column
//     order (a repeated name gets a suffix: name_2, name_3); NULL is null,
//     numbers are numbers, and nested values (JSON) are the objects and
//     arrays they hold, not strings.
//   - json: the same objects in one JSON array.
//
// Times are RFC 3339 in UTC (with fractional seconds in CSV and JSON when
// they have any). Floats that JSON cannot hold (NaN, ±Inf) are written as
// the strings "NaN", "+Inf" and "-Inf".
func Render(w io.Writer, rows Rows, format string) (int, error) {
	return RenderWidth(w, rows, format, 0)
}

// RenderWidth is Render with the table fitted to width columns (0: every
// value in full): the widest text cells are shortened with "…", and when
// even that does not fit, the last columns are left out and named on a
// line after the table. CSV and JSON are never shortened.
func RenderWidth(w io.Writer, rows Rows, format string, width int) (int, error) {
	var r renderer
	switch format {
	case "table":
		r = &tableRenderer{limit: width}
	case "csv":
		r = &csvRenderer{}
	case "jsonl":
		r = &jsonRenderer{}
	case "json":
		r = &jsonRenderer{array: true}
	default:
		return 0, fmt.Errorf("unknown output format %q; choose one of %s", format, strings.Join(Formats, ", "))
	}
	cols := rows.Columns()
	// Each chunk is formatted into buf, then written to w in one call.
	var buf bytes.Buffer
	emit := func() error {
		if buf.Len() == 0 {
			return nil
		}
		_, err := w.Write(buf.Bytes())
		buf.Reset()
		return err
	}
	if err := r.begin(&buf, cols); err != nil {
		return 0, err
	}
	n := 0
	chunk := make([][]any, 0, ChunkRows)
	flush := func() error {
		if err := r.chunk(&buf, chunk); err != nil {
			return err
		}
		if err := emit(); err != nil {
			return err
		}
		n += len(chunk)
		chunk = chunk[:0]
		return nil
	}
	for rows.Next() {
		row := rows.Row()
		if len(row) != len(cols) {
			return n, fmt.Errorf("row %d has %d values for %d columns", n+len(chunk)+1, len(row), len(cols))
		}
		// Rows may reuse the slice it returns; the chunk keeps a copy.
		chunk = append(chunk, append([]any(nil), row...))
		if len(chunk) == ChunkRows {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	if err := rows.Err(); err != nil {
		// What was read is written, so a long result that fails late still
		// shows its rows; the error follows them.
		if ferr := flush(); ferr != nil {
			return n, ferr
		}
		return n, err
	}
	if err := flush(); err != nil {
		return n, err
	}
	if err := r.end(&buf); err != nil {
		return n, err
	}
	return n, emit()
}

// A renderer formats into a buffer that Render empties after each call.
type renderer interface {
	begin(w *bytes.Buffer, cols []string) error
	chunk(w *bytes.Buffer, rows [][]any) error
	end(w *bytes.Buffer) error
}

// text is a value as a string for the table and CSV, and whether it is a
// number (which the table right-aligns).
func text(v any, precise bool) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "", false
	case string:
		return x, false
	case JSON:
		return string(x), false
	case bool:
		return strconv.FormatBool(x), false
	case int64:
		return strconv.FormatInt(x, 10), true
	case int:
		return strconv.Itoa(x), true
	case int32:
		return strconv.FormatInt(int64(x), 10), true
	case float64:
		return formatFloat(x), true
	case float32:
		return formatFloat(float64(x)), true
	case time.Time:
		if precise {
			return x.UTC().Format(time.RFC3339Nano), false
		}
		return x.UTC().Format(time.RFC3339), false
	case []byte:
		return string(x), false
	}
	return fmt.Sprint(v), false
}

// formatFloat writes a float without exponent for the usual magnitudes.
func formatFloat(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "+Inf"
	case math.IsInf(f, -1):
		return "-Inf"
	}
	if a := math.Abs(f); a != 0 && (a >= 1e21 || a < 1e-6) {
		return strconv.FormatFloat(f, 'g', -1, 64)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// ---- table ----

// tableRenderer lays each chunk out with internal/texttable, the CLI's one
// table layout: a limit (the terminal's width) shortens the widest text
// columns with "…" and, when even that does not fit, leaves the last
// columns out and names them. Times and numbers are never shortened.
type tableRenderer struct {
	limit   int
	cols    []string
	natural []int // the widest value seen so far in each column
	fixed   []bool
	widths  []int // of the header printed last; nil before the first
	hidden  bool
}

func (t *tableRenderer) begin(_ *bytes.Buffer, cols []string) error {
	t.cols = make([]string, len(cols))
	t.natural = make([]int, len(cols))
	t.fixed = make([]bool, len(cols))
	for i, c := range cols {
		t.cols[i] = texttable.Clean(c)
		t.natural[i] = texttable.StringWidth(t.cols[i])
	}
	return nil
}

func (t *tableRenderer) chunk(w *bytes.Buffer, rows [][]any) error {
	if len(rows) == 0 && t.widths != nil {
		return nil
	}
	cells := make([][]string, len(rows))
	right := make([]bool, len(t.cols))
	for r, row := range rows {
		cells[r] = make([]string, len(row))
		for i, v := range row {
			s, num := text(v, false)
			s = texttable.Clean(s)
			cells[r][i] = s
			if num {
				right[i] = true
			}
			if _, ok := v.(time.Time); ok || num {
				t.fixed[i] = true
			}
			t.natural[i] = max(t.natural[i], texttable.StringWidth(s))
		}
	}
	floors := make([]int, len(t.cols))
	for i := range floors {
		floors[i] = texttable.DefaultMin
		if t.fixed[i] {
			floors[i] = t.natural[i]
		}
	}
	widths, shown := texttable.Fit(t.natural, floors, 0, t.limit)
	if t.widths == nil || !slices.Equal(widths, t.widths) {
		if t.widths != nil {
			w.WriteByte('\n')
		}
		t.widths = widths
		w.WriteString(texttable.Line("", t.cols, widths, nil))
		w.WriteString(texttable.RuleLine("", widths))
	}
	t.hidden = shown < len(t.cols)
	for _, row := range cells {
		w.WriteString(texttable.Line("", row, widths, right))
	}
	return nil
}

func (t *tableRenderer) end(w *bytes.Buffer) error {
	if t.hidden {
		w.WriteString(texttable.HiddenNote("", t.cols[len(t.widths):], t.limit))
	}
	return nil
}

// ---- csv ----

type csvRenderer struct {
	cw  *csv.Writer
	rec []string
}

func (c *csvRenderer) begin(w *bytes.Buffer, cols []string) error {
	c.cw = csv.NewWriter(w)
	c.rec = make([]string, len(cols))
	if err := c.cw.Write(cols); err != nil {
		return err
	}
	c.cw.Flush()
	return c.cw.Error()
}

func (c *csvRenderer) chunk(_ *bytes.Buffer, rows [][]any) error {
	for _, row := range rows {
		for i, v := range row {
			c.rec[i], _ = text(v, true)
		}
		if err := c.cw.Write(c.rec); err != nil {
			return err
		}
	}
	c.cw.Flush()
	return c.cw.Error()
}

func (c *csvRenderer) end(*bytes.Buffer) error { return nil }

// ---- json, jsonl ----

type jsonRenderer struct {
	array bool
	keys  [][]byte // each column's quoted key and colon
	n     int
	buf   bytes.Buffer
	enc   *json.Encoder
}

func (j *jsonRenderer) begin(w *bytes.Buffer, cols []string) error {
	j.enc = json.NewEncoder(&j.buf)
	j.enc.SetEscapeHTML(false)
	seen := map[string]int{}
	taken := map[string]bool{}
	for _, c := range cols {
		taken[c] = true
	}
	for _, c := range cols {
		seen[c]++
		name := c
		for k := seen[c]; k > 1 && (name == c || taken[name]); k++ {
			name = c + "_" + strconv.Itoa(k)
		}
		taken[name] = true
		q, err := j.marshal(name)
		if err != nil {
			return err
		}
		j.keys = append(j.keys, append(q, ':'))
	}
	if j.array {
		w.WriteByte('[')
	}
	return nil
}

// marshal encodes one value without HTML escaping.
func (j *jsonRenderer) marshal(v any) ([]byte, error) {
	j.buf.Reset()
	if err := j.enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(append([]byte(nil), j.buf.Bytes()...), []byte("\n")), nil
}

func (j *jsonRenderer) chunk(w *bytes.Buffer, rows [][]any) error {
	for _, row := range rows {
		if j.array {
			if j.n > 0 {
				w.WriteByte(',')
			}
			w.WriteString("\n  ")
		}
		w.WriteByte('{')
		for i, v := range row {
			if i > 0 {
				w.WriteByte(',')
			}
			w.Write(j.keys[i])
			b, err := j.marshal(jsonValue(v))
			if err != nil {
				return fmt.Errorf("row %d, column %s: %w", j.n+1, j.keys[i][:len(j.keys[i])-1], err)
			}
			w.Write(b)
		}
		w.WriteByte('}')
		if !j.array {
			w.WriteByte('\n')
		}
		j.n++
	}
	return nil
}

func (j *jsonRenderer) end(w *bytes.Buffer) error {
	if j.array {
		if j.n > 0 {
			w.WriteByte('\n')
		}
		w.WriteString("]\n")
	}
	return nil
}

// jsonValue maps a row value to what encoding/json should write.
func jsonValue(v any) any {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return formatFloat(x)
		}
	case float32:
		return jsonValue(float64(x))
	case []byte:
		return string(x)
	case JSON:
		if json.Valid([]byte(x)) {
			return json.RawMessage(x)
		}
		// Not JSON after all (an engine's text for a nested value it
		// could not render): keep it, as a string.
		return string(x)
	}
	return v
}
