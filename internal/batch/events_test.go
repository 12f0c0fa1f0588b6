package batch

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/trailwarden/trailwarden/internal/record"
)

var day = time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)

func file(key string) File {
	return File{Key: key, Account: "111122223333", Region: "us-east-1", Day: day, Verified: true}
}

// add appends a record parsed from JSON, as Parser does.
func add(t *testing.T, b *Events, records ...string) {
	t.Helper()
	for _, r := range records {
		err := record.Scan([]byte(`{"Records":[`+r+`]}`), func(_ int, e *record.Event) error {
			b.Add(e)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func ev(id, recipient, at string) string {
	return fmt.Sprintf(`{"eventID":%q,"recipientAccountId":%q,"eventTime":%q,"eventName":"Get%s",`+
		`"userIdentity":{"type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"true"}}},"readOnly":true}`,
		id, recipient, at, id)
}

// column returns a column of the record as strings ("" for NULL).
func column(t *testing.T, rec arrow.RecordBatch, name string) []string {
	t.Helper()
	idx := rec.Schema().FieldIndices(name)
	if len(idx) != 1 {
		t.Fatalf("no column %s", name)
	}
	col := rec.Column(idx[0])
	out := make([]string, col.Len())
	for i := range out {
		if col.IsValid(i) {
			out[i] = col.ValueStr(i)
		}
	}
	return out
}

func TestAbortCutsOffTheOpenFile(t *testing.T) {
	var b Events
	b.Begin(file("a"))
	add(t, &b, ev("1", "1", "2026-11-20T10:00:00Z"), ev("2", "1", "2026-11-20T10:00:01Z"))
	b.Commit()
	b.Begin(file("bad"))
	add(t, &b, ev("3", "1", "2026-11-20T10:00:02Z"), ev("4", "1", "2026-11-20T10:00:03Z"), ev("5", "1", "2026-11-20T10:00:04Z"))
	b.Abort()
	b.Begin(file("c"))
	add(t, &b, ev("6", "1", "2026-11-20T10:00:05Z"))
	b.Commit()
	rec := b.Arrow()
	if got := column(t, rec, "event_id"); !slices.Equal(got, []string{"1", "2", "6"}) {
		t.Fatalf("event_id = %v", got)
	}
	if got := column(t, rec, "source_key"); !slices.Equal(got, []string{"a", "a", "c"}) {
		t.Fatalf("source_key = %v", got)
	}
	if got := column(t, rec, "read_only"); !slices.Equal(got, []string{"true", "true", "true"}) {
		t.Fatalf("read_only = %v", got)
	}
	if n := len(b.Files()); n != 2 || b.Rows() != 3 {
		t.Fatalf("%d files, %d rows", n, b.Rows())
	}
	readAll(rec)
}

func TestArrowHoldsEveryColumn(t *testing.T) {
	var b Events
	b.Begin(file("k"))
	add(t, &b, `{"eventID":"x","eventTime":"2026-11-20T10:00:00.5Z","requestParameters":{"a":[1,2]},"futureField":7,
 "userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:assumed-role/r/s","sessionContext":{
  "attributes":{"creationDate":"2026-11-20T09:00:00Z","mfaAuthenticated":"false"},
  "sessionIssuer":{"type":"Role","userName":"r"}}},"managementEvent":false}`, `{}`)
	b.Commit()
	rec := b.Arrow()
	if got := Columns(); len(got) != int(rec.NumCols()) || got[0] != "event_id" || got[len(got)-1] != "source_key" {
		t.Fatalf("Columns() = %v", got)
	}
	for i, want := range map[string][]string{
		"event_time":         {"2026-11-20T10:00:00.5Z", ""},
		"request_parameters": {`{"a":[1,2]}`, ""},
		"extra":              {`{"futureField":7}`, ""},
		"management_event":   {"false", ""},
		"event_date":         {"2026-11-20", "2026-11-20"},
		"account":            {"111122223333", "111122223333"},
	} {
		if got := column(t, rec, i); !slices.Equal(got, want) {
			t.Errorf("%s = %q, want %q", i, got, want)
		}
	}
	id := rec.Column(rec.Schema().FieldIndices("user_identity")[0]).(*array.Struct)
	if id.IsValid(1) || !id.IsValid(0) {
		t.Fatal("user_identity should be set for the first record only")
	}
	got := id.ValueStr(0)
	for _, want := range []string{`"type":"AssumedRole"`, `"mfa_authenticated":false`, `"user_name":"r"`} {
		if !contains(got, want) {
			t.Errorf("user_identity %s lacks %s", got, want)
		}
	}
	readAll(rec)
}

func contains(s, sub string) bool {
	return len(s) >= len(sub) && slices.ContainsFunc(windows(s, len(sub)), func(w string) bool { return w == sub })
}

func windows(s string, n int) []string {
	var out []string
	for i := 0; i+n <= len(s); i++ {
		out = append(out, s[i:i+n])
	}
	return out
}

func TestDropSeenKeysAndCompact(t *testing.T) {
	var b Events
	b.Begin(file("a"))
	add(t, &b, ev("e1", "1", "2026-11-20T10:00:00Z"), ev("e1", "1", "2026-11-20T10:00:00Z"), ev("e1", "2", "2026-11-20T10:00:00Z"))
	b.Commit()
	b.Begin(file("b"))
	add(t, &b, ev("e2", "1", "2026-11-20T12:00:00Z"), `{"eventName":"NoID"}`, ev("e1", "2", "2026-11-20T10:00:00Z"))
	b.Commit()
	seen := &Seen{}
	if got := b.DropSeen(seen, 1); !slices.Equal(got, []int32{1, 5}) || seen.Len() != 3 {
		t.Fatalf("DropSeen = %v (%d keys), want rows 1 and 5 (3 keys)", got, seen.Len())
	}
	k := b.Keys()
	if k.Rows != 3 || !k.Timed || !slices.Equal(k.Recipients, []string{"1", "2"}) ||
		time.UnixMicro(k.First).UTC().Hour() != 10 || time.UnixMicro(k.Last).UTC().Hour() != 12 {
		t.Fatalf("Keys = %+v", k)
	}
	b.Drop([]int32{3}) // e2, as if found in the table
	b.Compact()
	rec := b.Arrow()
	if got := column(t, rec, "event_id"); !slices.Equal(got, []string{"e1", "e1", ""}) {
		t.Fatalf("after Compact: event_id = %v", got)
	}
	if got := column(t, rec, "event_name"); !slices.Equal(got, []string{"Gete1", "Gete1", "NoID"}) {
		t.Fatalf("after Compact: event_name = %v", got)
	}
	if got := column(t, rec, "source_key"); !slices.Equal(got, []string{"a", "a", "b"}) {
		t.Fatalf("after Compact: source_key = %v", got)
	}
	f := b.Files()
	if f[0].First != 0 || f[0].Rows != 2 || f[0].Duplicates != 1 || f[1].First != 2 || f[1].Rows != 1 ||
		f[1].Duplicates != 2 || b.Rows() != 3 {
		t.Fatalf("files after Compact: %+v", f)
	}
	keys := b.KeyArrow()
	if got := column(t, keys, "row"); !slices.Equal(got, []string{"0", "1", "2"}) {
		t.Fatalf("rows renumbered: %v", got)
	}
	readAll(rec)
	// The same keys in a later batch are dropped until forgotten.
	var again Events
	again.Begin(file("d"))
	add(t, &again, ev("e1", "1", "2026-11-20T10:00:00Z"), ev("e9", "1", "2026-11-20T10:00:00Z"))
	again.Commit()
	if got := again.DropSeen(seen, 2); !slices.Equal(got, []int32{0}) {
		t.Fatalf("second batch: DropSeen = %v, want row 0", got)
	}
	seen.Forget(map[uint64]bool{2: true})
	if seen.Len() != 3 {
		t.Fatalf("%d keys after forgetting generation 2, want generation 1's three", seen.Len())
	}
	seen.Forget(map[uint64]bool{1: true})
	if seen.Len() != 0 {
		t.Fatalf("%d keys after forgetting generation 1 too, want none", seen.Len())
	}
	// A record without a recipient: the table must be searched for every
	// account.
	var c Events
	c.Begin(file("c"))
	add(t, &c, `{"eventID":"x","eventTime":"2026-11-20T10:00:00Z"}`, `{"eventID":"y"}`)
	c.Commit()
	if k := c.Keys(); k.Recipients != nil || k.Timed {
		t.Fatalf("Keys = %+v, want no recipient filter and no time window", k)
	}
}

func TestPartsAndReset(t *testing.T) {
	var b Events
	b.Begin(file("big"))
	add(t, &b, ev("1", "1", "2026-11-20T10:00:00Z"))
	b.CommitPart()
	if f := b.Files(); len(f) != 1 || !f[0].Partial {
		t.Fatalf("files %+v, want one partial", f)
	}
	b.Reset()
	b.Begin(file("big"))
	add(t, &b, ev("2", "1", "2026-11-20T10:00:00Z"))
	b.Commit()
	if f := b.Files(); len(f) != 1 || f[0].Partial || f[0].Rows != 1 || f[0].First != 0 {
		t.Fatalf("files %+v, want the last part, whole", f)
	}
	if got := column(t, b.Arrow(), "event_id"); !slices.Equal(got, []string{"2"}) {
		t.Fatalf("event_id after Reset = %v", got)
	}
}

// readAll reads every value of every column: bad offsets or short buffers
// panic here instead of inside DuckDB.
func readAll(rec arrow.RecordBatch) {
	for _, col := range rec.Columns() {
		for i := range col.Len() {
			if col.IsValid(i) {
				_ = col.ValueStr(i)
			}
		}
	}
}
