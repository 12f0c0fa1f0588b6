package duckdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/batch"
	"github.com/trailwarden/trailwarden/internal/query"
)

func TestIngestDemoBatches(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	ctx := context.Background()
	var total Ingested
	for start := 0; start < len(d.files); start += 40 {
		got, err := ingest(ctx, s, d.files[start:min(start+40, len(d.files))]...)
		if err != nil {
			t.Fatal(err)
		}
		total.Events += got.Events
		total.Duplicates += got.Duplicates
	}
	m := d.manifest
	if want := int(m.Events - m.Duplicates); total.Events != want || total.Duplicates != int(m.Duplicates) {
		t.Fatalf("ingested %+v, want %d events and %d duplicates", total, want, m.Duplicates)
	}
	if m.Duplicates == 0 {
		t.Fatal("the demo should contain duplicates for this test to mean something")
	}
	st, err := s.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Events != m.Events-m.Duplicates || st.Files != m.LogFiles || st.Accounts != 3 || st.Regions != 2 ||
		st.Duplicates != m.Duplicates || st.UnverifiedFiles != 0 {
		t.Fatalf("stats %+v, manifest %+v", st, m)
	}
	if st.First.Before(m.Start.Add(-10*60e9)) || st.Last.After(m.End) {
		t.Fatalf("time span %v..%v outside the demo's %v..%v", st.First, st.Last, m.Start, m.End)
	}
	// Every row belongs to the partition its file names.
	if n := count(t, s, `SELECT count(*) FROM events WHERE source_key NOT LIKE '%/' || account || '/CloudTrail/' || region || '/%'`); n != 0 {
		t.Fatalf("%d events with account/region not from their key", n)
	}
	// Re-ingesting is a no-op.
	for _, f := range d.files[:5] {
		if ok, err := s.Has(ctx, f.Key); err != nil || !ok {
			t.Fatalf("Has(%s) = %v, %v", f.Key, ok, err)
		}
	}
	again, err := ingest(ctx, s, d.files...)
	if err != nil || again != (Ingested{}) {
		t.Fatalf("re-ingest = %+v, %v; want nothing", again, err)
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != m.Events-m.Duplicates {
		t.Fatalf("re-ingest changed the table: %d events", n)
	}
	if n := count(t, s, `SELECT count(*) FROM ingested_files`); n != m.LogFiles {
		t.Fatalf("re-ingest changed ingested_files: %d", n)
	}
	acct := d.manifest.Org.Accounts[2]
	keys, err := s.IngestedKeys(ctx, "AWSLogs/"+d.manifest.Org.ID+"/"+acct+"/")
	if err != nil {
		t.Fatal(err)
	}
	want := 0
	for _, f := range d.files {
		if f.Account == acct {
			want++
			if !keys[f.Key] {
				t.Fatalf("IngestedKeys misses %s", f.Key)
			}
		}
	}
	if len(keys) != want {
		t.Fatalf("IngestedKeys(%s) = %d keys, want %d", acct, len(keys), want)
	}
	if all, _ := s.IngestedKeys(ctx, ""); len(all) != len(d.files) {
		t.Fatalf("IngestedKeys(\"\") = %d keys, want %d", len(all), len(d.files))
	}
}

func TestIngestDemoFileByFile(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	ctx := context.Background()
	var total Ingested
	for _, f := range d.files {
		got, err := ingest(ctx, s, f)
		if err != nil {
			t.Fatal(err)
		}
		total.Events += got.Events
		total.Duplicates += got.Duplicates
		if again, err := ingest(ctx, s, f); err != nil || again != (Ingested{}) {
			t.Fatalf("second ingest(%s) = %+v, %v", f.Key, again, err)
		}
	}
	m := d.manifest
	if total.Events != int(m.Events-m.Duplicates) || total.Duplicates != int(m.Duplicates) {
		t.Fatalf("ingested %+v, manifest %d events %d duplicates", total, m.Events, m.Duplicates)
	}
	if n := count(t, s, `SELECT count(*) FROM (SELECT event_id, recipient_account_id FROM events GROUP BY ALL HAVING count(*) > 1)`); n != 0 {
		t.Fatalf("%d duplicated events stored", n)
	}
}

const twoEvents = `{"Records":[
 {"eventVersion":"1.08","eventID":"e1","recipientAccountId":"111122223333","eventTime":"2026-11-20T10:00:00Z","eventName":"A"},
 {"eventVersion":"1.08","eventID":"e1","recipientAccountId":"111122223333","eventTime":"2026-11-20T10:00:00Z","eventName":"A"},
 {"eventVersion":"1.08","eventID":"e1","recipientAccountId":"444455556666","eventTime":"2026-11-20T10:00:00Z","eventName":"A"},
 {"eventVersion":"1.08","eventID":"e2","recipientAccountId":"111122223333","eventTime":"2026-11-20T11:00:00Z","eventName":"B"}]}`

func TestIngestDeduplicates(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	// Within one file: e1 twice for the same recipient; the same id for
	// another recipient is another event.
	got, err := ingest(ctx, s, writeGz(t, "a.json.gz", []byte(twoEvents)))
	if err != nil || got != (Ingested{Events: 3, Duplicates: 1}) {
		t.Fatalf("ingest = %+v, %v; want 3 events, 1 duplicate", got, err)
	}
	// Against the table, and within a batch across files.
	b := writeGz(t, "b.json.gz", []byte(`{"Records":[
 {"eventID":"e2","recipientAccountId":"111122223333","eventTime":"2026-11-20T11:00:00Z"},
 {"eventID":"e3","recipientAccountId":"111122223333","eventTime":"2026-11-20T12:00:00Z"}]}`))
	c := writeGz(t, "c.json.gz", []byte(`{"Records":[
 {"eventID":"e3","recipientAccountId":"111122223333","eventTime":"2026-11-20T12:00:00Z"}]}`))
	got, err = ingest(ctx, s, b, c)
	if err != nil || got != (Ingested{Events: 1, Duplicates: 2}) {
		t.Fatalf("ingest = %+v, %v; want 1 event, 2 duplicates", got, err)
	}
	if n := count(t, s, `SELECT count(*) FROM events`); n != 4 {
		t.Fatalf("%d events stored, want 4", n)
	}
	if n := count(t, s, `SELECT duplicates FROM ingested_files WHERE key LIKE '%c.json.gz'`); n != 1 {
		t.Fatalf("c.json.gz recorded %d duplicates, want 1", n)
	}
	// The first copy is the one kept: e3 comes from b.
	if n := count(t, s, `SELECT count(*) FROM events WHERE event_id = 'e3' AND source_key LIKE '%b.json.gz'`); n != 1 {
		t.Fatal("e3 not kept from the first file of the batch")
	}
}

func TestIngestBadFiles(t *testing.T) {
	d := sharedDemo(t)
	good, err := os.ReadFile(d.files[0].Path)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]File{
		"truncated gzip":   writeRaw(t, "trunc.json.gz", good[:len(good)/2]),
		"not gzip":         writeRaw(t, "plain.json.gz", []byte(`{"Records":[]}`)),
		"not JSON":         writeGz(t, "text.json.gz", []byte("this is not json\n")),
		"empty":            writeGz(t, "empty.json.gz", nil),
		"digest":           d.digests[0],
		"no Records":       writeGz(t, "norec.json.gz", []byte(`{"logFiles":[]}`)),
		"records not objs": writeGz(t, "nums.json.gz", []byte(`{"Records":[{"eventID":"x"},1]}`)),
		"top-level array":  writeGz(t, "array.json.gz", []byte(`[{"eventID":"x"}]`)),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			s := openStore(t)
			ctx := context.Background()
			for _, batch := range [][]File{{bad}, {d.files[1], bad, d.files[2]}} {
				_, err := ingest(ctx, s, batch...)
				var be *badFileError
				if !errors.As(err, &be) || be.Key != bad.Key {
					t.Fatalf("err = %v; want a bad file error for %s", err, bad.Key)
				}
			}
			// Streamed the way large files are, it fails the same way.
			if _, err := ingestWith(ctx, s, 0, bad); !batch.BadContent(err) {
				t.Fatalf("streamed: err = %v; want a bad file", err)
			}
			if n := count(t, s, `SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM ingested_files)`); n != 0 {
				t.Fatalf("a batch with a bad file left %d rows", n)
			}
			if ok, _ := s.Has(ctx, d.files[1].Key); ok {
				t.Fatal("a good file of a failed batch was recorded")
			}
		})
	}
}

func TestIngestEmptyRecordsIsRecorded(t *testing.T) {
	s := openStore(t)
	f := writeGz(t, "none.json.gz", []byte(`{"Records":[]}`))
	got, err := ingest(context.Background(), s, f)
	if err != nil || got != (Ingested{}) {
		t.Fatalf("ingest = %+v, %v", got, err)
	}
	if ok, _ := s.Has(context.Background(), f.Key); !ok {
		t.Fatal("an empty log file should be recorded as ingested")
	}
}

func TestIngestKeepsUnknownFieldsAndToleratesMissing(t *testing.T) {
	s := openStore(t)
	f := writeGz(t, "future.json.gz", []byte(`{"Records":[
 {"eventVersion":"1.99","eventID":"f1","eventTime":"2026-11-20T10:00:00Z","recipientAccountId":"111122223333",
  "futureField":{"a":[1,2,{"b":"c"}]},"bigNumber":12345678901234567890,"readOnly":true,
  "userIdentity":{"type":"IAMUser","newThing":"kept"}},
 {"eventID":"f2"},
 {"eventTime":"not a time","readOnly":"maybe","userIdentity":"odd"}]}`))
	if got, err := ingest(context.Background(), s, f); err != nil || got.Events != 3 {
		t.Fatalf("ingest = %+v, %v", got, err)
	}
	// Fields without a column are kept in extra, nested ones under their
	// dotted path.
	_, rows := queryAll(t, s, `SELECT extra->'$.futureField.a[2].b', extra->>'$."userIdentity.newThing"',
  CAST(extra->'$.bigNumber' AS VARCHAR), event_version, read_only, user_identity.type
FROM events WHERE event_id = 'f1'`)
	want := []any{query.JSON(`"c"`), "kept", "12345678901234567890", "1.99", true, "IAMUser"}
	for i, w := range want {
		if rows[0][i] != w {
			t.Fatalf("column %d = %#v, want %#v (row %v)", i, rows[0][i], w, rows[0])
		}
	}
	// Missing and malformed fields load as NULL, malformed ones kept as
	// they were in extra; event_date falls back to the file's day.
	_, rows = queryAll(t, s, `SELECT event_time, read_only, user_identity.type, event_date::VARCHAR, extra::VARCHAR
FROM events WHERE event_id IS NULL OR event_id = 'f2' ORDER BY event_id NULLS LAST`)
	wantExtra := []any{nil, `{"eventTime":"not a time","readOnly":"maybe","userIdentity":"odd"}`}
	for i, r := range rows {
		if r[0] != nil || r[1] != nil || r[2] != nil || r[3] != "2026-11-20" || r[4] != wantExtra[i] {
			t.Fatalf("row %v: want NULLs, the file's day and extra %v", r, wantExtra[i])
		}
	}
}

func TestIngestInterruptedBatchLeavesNothing(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	s.afterEvents = func() {
		// The events are inserted but not committed, nor the files recorded.
		cancel()
	}
	if _, err := ingest(ctx, s, d.files...); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n := count(t, s, `SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM ingested_files)`); n != 0 {
		t.Fatalf("an interrupted batch left %d rows", n)
	}
	// And it can simply be run again.
	s.afterEvents = nil
	got, err := ingest(context.Background(), s, d.files...)
	if err != nil || got.Events != int(d.manifest.Events-d.manifest.Duplicates) {
		t.Fatalf("retry = %+v, %v", got, err)
	}
}

func TestIngestCancelledMidRead(t *testing.T) {
	d := sharedDemo(t)
	s := openStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ingest(ctx, s, d.files...); err == nil {
		t.Fatal("a cancelled context should fail the batch")
	}
	if n := count(t, s, `SELECT (SELECT count(*) FROM events) + (SELECT count(*) FROM ingested_files)`); n != 0 {
		t.Fatalf("a cancelled batch left %d rows", n)
	}
}

func TestIngestLargeFilesStreamed(t *testing.T) {
	d := sharedDemo(t)
	direct, streamed := openStore(t), openStore(t)
	ctx := context.Background()
	a, err := ingest(ctx, direct, d.files...)
	if err != nil {
		t.Fatal(err)
	}
	// Most demo files are larger than 4 KB: they take the streaming path.
	b, err := ingestWith(ctx, streamed, 4<<10, d.files...)
	if err != nil || a != b {
		t.Fatalf("streamed %+v, %v; direct %+v", b, err, a)
	}
	// The same records, every column.
	sum := `SELECT (sum(hash(e::VARCHAR)) % 1000000007)::BIGINT FROM events e`
	if x, y := count(t, direct, sum), count(t, streamed, sum); x != y {
		t.Fatalf("streamed records differ from direct ones")
	}
}

// bigLog is a log file of n demo-like records of about 1 KB each.
func bigLog(n int, seed string) []byte {
	var b strings.Builder
	b.WriteString(`{"Records":[`)
	pad := strings.Repeat("x", 800)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"eventVersion":"1.11","eventID":"%s-%d","recipientAccountId":"111122223333",`+
			`"eventTime":"2026-11-20T%02d:%02d:00Z","eventName":"GetObject","userIdentity":{"type":"IAMUser"},`+
			`"requestParameters":{"key":"%s"}}`, seed, i, i/60%24, i%60, pad)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// A file above bigFile is streamed in parts, loaded beside whole files of
// the same call; the counts are the same as for files read whole.
func TestIngestStreamsLargeFilesInParts(t *testing.T) {
	ctx := context.Background()
	s, err := OpenWith(ctx, filepath.Join(t.TempDir(), "trail.duckdb"), Options{MemoryLimit: "128MB"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	near := bigLog(2000, "near")
	var files []File
	for i := range 4 {
		files = append(files, writeGz(t, fmt.Sprintf("near%d.json.gz", i), near))
	}
	// 100,000 records of about 1 KB: 100 MB of JSON, loaded in parts of
	// 64 MB by the streaming path.
	files = append(files, writeGz(t, "big.json.gz", bigLog(100000, "big")))
	st, err := os.Stat(files[4].Path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ingestWith(ctx, s, st.Size()-1, files...)
	if err != nil {
		t.Fatal(err)
	}
	if got != (Ingested{Events: 2000 + 100000, Duplicates: 3 * 2000}) {
		t.Fatalf("ingested %+v", got)
	}
	if n := count(t, s, `SELECT events FROM ingested_files WHERE key LIKE '%/big.json.gz'`); n != 100000 {
		t.Fatalf("the streamed file is recorded with %d events, want all 100000", n)
	}
	if n := count(t, s, `SELECT count(*) FROM ingested_files`); n != 5 {
		t.Fatalf("%d files recorded, want 5 (a file loaded in parts is recorded once)", n)
	}
}

func TestIngestLargeBatchWithinMemoryLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 165 MB of JSON")
	}
	ctx := context.Background()
	s := openStore(t) // the defaults: 256MB, up to 2 threads
	var batch []File
	for i := range 50 {
		batch = append(batch, writeGz(t, fmt.Sprintf("f%02d.json.gz", i), bigLog(3000, fmt.Sprint(i))))
	}
	got, err := ingest(ctx, s, batch...)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != 50*3000 {
		t.Fatalf("ingested %+v", got)
	}
}

// Duplicates are found against the table whatever the recipients: one
// recipient, several, or none (a record without recipientAccountId).
func TestIngestDeduplicatesAcrossRecipients(t *testing.T) {
	s := openStore(t)
	ctx := context.Background()
	first := writeGz(t, "first.json.gz", []byte(`{"Records":[
 {"eventID":"a","recipientAccountId":"111122223333","eventTime":"2026-11-20T10:00:00Z"},
 {"eventID":"b","recipientAccountId":"444455556666","eventTime":"2026-11-20T10:00:00Z"},
 {"eventID":"c","eventTime":"2026-11-20T10:00:00Z"}]}`))
	if _, err := ingest(ctx, s, first); err != nil {
		t.Fatal(err)
	}
	again := writeGz(t, "again.json.gz", []byte(`{"Records":[
 {"eventID":"a","recipientAccountId":"111122223333","eventTime":"2026-11-20T10:00:00Z"},
 {"eventID":"b","recipientAccountId":"111122223333","eventTime":"2026-11-20T10:00:00Z"}]}`))
	got, err := ingest(ctx, s, again)
	if err != nil || got != (Ingested{Events: 1, Duplicates: 1}) {
		t.Fatalf("one recipient: %+v, %v; want a as duplicate, b (another recipient) as new", got, err)
	}
	none := writeGz(t, "none.json.gz", []byte(`{"Records":[
 {"eventID":"c","eventTime":"2026-11-20T10:00:00Z"},
 {"eventID":"b","recipientAccountId":"444455556666","eventTime":"2026-11-20T10:00:00Z"}]}`))
	got, err = ingest(ctx, s, none)
	if err != nil || got != (Ingested{Events: 0, Duplicates: 2}) {
		t.Fatalf("no recipient: %+v, %v; want both as duplicates", got, err)
	}
}
