package record_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/internal/record"
)

// kind says how Scan holds a member of a record.
type kind int

const (
	kindString kind = iota // a Field, held when the value is a JSON string
	kindTime               // a Field also read by ParseTime; in Extra too when not in CloudTrail's format
	kindBool               // a Bool, held when the value is a JSON boolean
	kindQuoted             // a Bool, held when the value is the string "true" or "false"
	kindRaw                // JSON text, whatever the value
	kindObject             // an object whose members are held one by one
)

// column is a member of a record that Event has a typed place for. The
// schema below is the single description of Event the tests share: the
// table tests render an Event through it and the differential check walks
// encoding/json's reading of a record with it.
type column struct {
	kind    kind
	field   func(*record.Event) record.Field
	time    func(*record.Event) (int64, bool)
	parsed  string // the view's name for the parsed time
	flag    func(*record.Event) record.Bool
	raw     func(*record.Event) []byte
	present func(*record.Event) bool // kindObject; nil when no field says the object is there
	members map[string]*column       // kindObject
}

func str(f func(*record.Event) record.Field) *column {
	return &column{kind: kindString, field: f}
}

func flag(f func(*record.Event) record.Bool) *column { return &column{kind: kindBool, flag: f} }

func raw(f func(*record.Event) []byte) *column { return &column{kind: kindRaw, raw: f} }

func object(present func(*record.Event) bool, members map[string]*column) *column {
	return &column{kind: kindObject, present: present, members: members}
}

var schema = object(nil, map[string]*column{
	"eventID":      str(func(e *record.Event) record.Field { return e.EventID }),
	"eventVersion": str(func(e *record.Event) record.Field { return e.EventVersion }),
	"eventTime": {
		kind:   kindTime,
		field:  func(e *record.Event) record.Field { return e.EventTime },
		time:   func(e *record.Event) (int64, bool) { return e.Time, e.TimeOK },
		parsed: "Time",
	},
	"eventSource":                  str(func(e *record.Event) record.Field { return e.EventSource }),
	"eventName":                    str(func(e *record.Event) record.Field { return e.EventName }),
	"awsRegion":                    str(func(e *record.Event) record.Field { return e.AWSRegion }),
	"sourceIPAddress":              str(func(e *record.Event) record.Field { return e.SourceIPAddress }),
	"userAgent":                    str(func(e *record.Event) record.Field { return e.UserAgent }),
	"errorCode":                    str(func(e *record.Event) record.Field { return e.ErrorCode }),
	"errorMessage":                 str(func(e *record.Event) record.Field { return e.ErrorMessage }),
	"requestID":                    str(func(e *record.Event) record.Field { return e.RequestID }),
	"eventType":                    str(func(e *record.Event) record.Field { return e.EventType }),
	"eventCategory":                str(func(e *record.Event) record.Field { return e.EventCategory }),
	"recipientAccountId":           str(func(e *record.Event) record.Field { return e.RecipientAccountID }),
	"sharedEventID":                str(func(e *record.Event) record.Field { return e.SharedEventID }),
	"vpcEndpointId":                str(func(e *record.Event) record.Field { return e.VPCEndpointID }),
	"sessionCredentialFromConsole": str(func(e *record.Event) record.Field { return e.SessionCredentialFromConsole }),
	"readOnly":                     flag(func(e *record.Event) record.Bool { return e.ReadOnly }),
	"managementEvent":              flag(func(e *record.Event) record.Bool { return e.ManagementEvent }),
	"requestParameters":            raw(func(e *record.Event) []byte { return e.RequestParameters }),
	"responseElements":             raw(func(e *record.Event) []byte { return e.ResponseElements }),
	"additionalEventData":          raw(func(e *record.Event) []byte { return e.AdditionalEventData }),
	"resources":                    raw(func(e *record.Event) []byte { return e.Resources }),
	"serviceEventDetails":          raw(func(e *record.Event) []byte { return e.ServiceEventDetails }),
	"tlsDetails":                   raw(func(e *record.Event) []byte { return e.TLSDetails }),
	"addendum":                     raw(func(e *record.Event) []byte { return e.Addendum }),
	"edgeDeviceDetails":            raw(func(e *record.Event) []byte { return e.EdgeDeviceDetails }),
	"insightDetails":               raw(func(e *record.Event) []byte { return e.InsightDetails }),
	"userIdentity": object(func(e *record.Event) bool { return e.Identity.Present }, map[string]*column{
		"type":             str(func(e *record.Event) record.Field { return e.Identity.Type }),
		"principalId":      str(func(e *record.Event) record.Field { return e.Identity.PrincipalID }),
		"arn":              str(func(e *record.Event) record.Field { return e.Identity.ARN }),
		"accountId":        str(func(e *record.Event) record.Field { return e.Identity.AccountID }),
		"accessKeyId":      str(func(e *record.Event) record.Field { return e.Identity.AccessKeyID }),
		"userName":         str(func(e *record.Event) record.Field { return e.Identity.UserName }),
		"invokedBy":        str(func(e *record.Event) record.Field { return e.Identity.InvokedBy }),
		"identityProvider": str(func(e *record.Event) record.Field { return e.Identity.IdentityProvider }),
		"sessionContext": object(func(e *record.Event) bool { return e.Identity.Session }, map[string]*column{
			"sourceIdentity": str(func(e *record.Event) record.Field { return e.Identity.SourceIdentity }),
			"attributes": object(nil, map[string]*column{
				"creationDate": {
					kind:   kindTime,
					field:  func(e *record.Event) record.Field { return e.Identity.CreationDate },
					time:   func(e *record.Event) (int64, bool) { return e.Identity.Created, e.Identity.CreatedOK },
					parsed: "Identity.Created",
				},
				"mfaAuthenticated": {kind: kindQuoted, flag: func(e *record.Event) record.Bool { return e.Identity.MFAAuthenticated }},
			}),
			"sessionIssuer": object(func(e *record.Event) bool { return e.Identity.Issuer }, map[string]*column{
				"type":        str(func(e *record.Event) record.Field { return e.Identity.IssuerType }),
				"principalId": str(func(e *record.Event) record.Field { return e.Identity.IssuerPrincipalID }),
				"arn":         str(func(e *record.Event) record.Field { return e.Identity.IssuerARN }),
				"accountId":   str(func(e *record.Event) record.Field { return e.Identity.IssuerAccountID }),
				"userName":    str(func(e *record.Event) record.Field { return e.Identity.IssuerUserName }),
			}),
		}),
	}),
})

// view renders everything an Event holds as dotted JSON paths and their
// values: strings as they are, booleans as true and false, JSON text as
// it is, parsed times in RFC 3339, objects that are present as "{}", and
// Extra under "Extra". Unset members are left out.
func view(e *record.Event) map[string]string {
	v := map[string]string{}
	viewObject(v, e, schema, "")
	if e.Extra != nil {
		v["Extra"] = string(e.Extra)
	}
	if e.DuplicateKey != nil {
		v["DuplicateKey"] = string(e.DuplicateKey)
	}
	return v
}

func viewObject(v map[string]string, e *record.Event, col *column, prefix string) {
	for name, c := range col.members {
		path := prefix + name
		switch c.kind {
		case kindString, kindTime:
			if f := c.field(e); f.Set() {
				v[path] = string(f)
			}
			if c.kind == kindTime {
				if us, ok := c.time(e); ok {
					v[c.parsed] = time.UnixMicro(us).UTC().Format(time.RFC3339Nano)
				}
			}
		case kindBool, kindQuoted:
			switch c.flag(e) {
			case record.True:
				v[path] = "true"
			case record.False:
				v[path] = "false"
			}
		case kindRaw:
			if r := c.raw(e); r != nil {
				v[path] = string(r)
			}
		case kindObject:
			if c.present != nil && c.present(e) {
				v[path] = "{}"
			}
			viewObject(v, e, c, path+".")
		}
	}
}

// checkFile scans data and checks each record Scan reports against
// encoding/json's reading of the same bytes (checkRecord). It fails t
// when the two disagree on whether data is a log file, and returns Scan's
// error.
func checkFile(t testing.TB, data []byte) error {
	t.Helper()
	want, jerr := jsonRecords(data)
	n := 0
	err := record.Scan(data, func(i int, e *record.Event) error {
		n++
		if i != n {
			t.Fatalf("record ordinal %d, want %d", i, n)
		}
		if jerr == nil {
			if n > len(want) {
				t.Fatalf("Scan reports record %d of %d", n, len(want))
			}
			checkRecord(t, n, want[n-1], e)
		}
		return nil
	})
	if err != nil {
		checkSyntaxError(t, err, data)
		if jerr == nil && depth(data) <= record.MaxDepth {
			t.Fatalf("Scan refuses a log file encoding/json reads: %v", err)
		}
		return err
	}
	if !json.Valid(data) {
		t.Fatalf("Scan accepts invalid JSON")
	}
	if jerr != nil {
		t.Fatalf("Scan accepts a file encoding/json reads as no log file: %v", jerr)
	}
	if n != len(want) {
		t.Fatalf("Scan reports %d records, encoding/json %d", n, len(want))
	}
	return nil
}

// checkSyntaxError checks the shape every error of Scan over bad input
// has: a *SyntaxError matching ErrNotLogFile, inside the input.
func checkSyntaxError(t testing.TB, err error, data []byte) {
	t.Helper()
	var se *record.SyntaxError
	if !errors.As(err, &se) || !errors.Is(err, record.ErrNotLogFile) {
		t.Fatalf("error %v (%T) is not a *SyntaxError matching ErrNotLogFile", err, err)
	}
	if se.Offset < 0 || se.Offset > int64(len(data)) || se.Msg == "" {
		t.Fatalf("error %q: offset %d outside the %d-byte input, or no message", err, se.Offset, len(data))
	}
}

// jsonRecords reads a log file with encoding/json: an object with one
// Records member, an array of objects.
func jsonRecords(data []byte) ([]json.RawMessage, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	count := 0
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if key == "Records" {
			count++
		}
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	if count != 1 {
		return nil, fmt.Errorf("%d Records members", count)
	}
	recs := top["Records"]
	if !bytes.HasPrefix(recs, []byte("[")) {
		return nil, errors.New("Records is not an array")
	}
	var out []json.RawMessage
	if err := json.Unmarshal(recs, &out); err != nil {
		return nil, err
	}
	for i, r := range out {
		if !bytes.HasPrefix(bytes.TrimSpace(r), []byte("{")) {
			return nil, fmt.Errorf("record %d is not an object", i+1)
		}
	}
	return out, nil
}

// decode reads one JSON value the way the differential check compares
// values: numbers as their text, so any number compares and none rounds.
func decode(t testing.TB, data []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("encoding/json: %v\n%q", err, data)
	}
	return v
}

// checker walks encoding/json's reading of one record alongside the
// Event Scan made of it.
type checker struct {
	t      testing.TB
	n      int
	e      *record.Event
	extra  map[string][]any // Extra's members, repeated keys kept
	claims map[string][]any // the members the walk expects in Extra
}

// checkRecord checks the differential property for one record:
//   - every typed Field equals the member's string value, and is unset
//     when the member is absent or not a string (the same for Bool and
//     times);
//   - every JSON text field reads as the member's value;
//   - every member is held exactly by a typed field, or is in Extra under
//     its dotted path with an equal value;
//   - Extra holds nothing else, unless the record repeats a key (Extra
//     then also keeps the values encoding/json overwrote).
func checkRecord(t testing.TB, n int, raw []byte, e *record.Event) {
	t.Helper()
	m, ok := decode(t, raw).(map[string]any)
	if !ok {
		t.Fatalf("record %d is not an object: %s", n, raw)
	}
	c := &checker{t: t, n: n, e: e, extra: extraMembers(t, e.Extra), claims: map[string][]any{}}
	c.object(schema, "", m)
	for key, vs := range c.claims {
		for _, v := range vs {
			if !contains(c.extra[key], v) {
				t.Fatalf("record %d: %q = %s is neither held by a field nor in Extra %s", n, key, show(v), e.Extra)
			}
		}
	}
	if _, dup := shape(raw); !dup {
		for key, vs := range c.extra {
			if len(vs) != len(c.claims[key]) {
				t.Fatalf("record %d: Extra has %d members %q, want %d: %s", n, len(vs), key, len(c.claims[key]), e.Extra)
			}
		}
	}
}

func (c *checker) fail(path, format string, args ...any) {
	c.t.Helper()
	c.t.Fatalf("record %d: %s: %s", c.n, path, fmt.Sprintf(format, args...))
}

func (c *checker) claim(path string, v any) { c.claims[path] = append(c.claims[path], v) }

func (c *checker) object(col *column, prefix string, m map[string]any) {
	c.t.Helper()
	for name, v := range m {
		if mc := col.members[name]; mc != nil {
			c.member(mc, prefix+name, v)
		} else {
			c.claim(prefix+name, v)
		}
	}
	for name, mc := range col.members {
		if _, ok := m[name]; !ok {
			c.unset(mc, prefix+name)
		}
	}
}

func (c *checker) member(col *column, path string, v any) {
	c.t.Helper()
	e := c.e
	switch col.kind {
	case kindString, kindTime:
		f := col.field(e)
		s, isStr := v.(string)
		switch {
		case isStr && (!f.Set() || string(f) != s):
			c.fail(path, "field %q (set %t), want %q", f, f.Set(), s)
		case !isStr && f.Set():
			c.fail(path, "field %q set from %s", f, show(v))
		case !isStr:
			c.claim(path, v)
		}
		if col.kind == kindTime {
			got, ok := col.time(e)
			var want int64
			var wantOK bool
			if isStr {
				want, wantOK = record.ParseTime([]byte(s))
			}
			if ok != wantOK || got != want {
				c.fail(path, "time %d (ok %t), want %d (ok %t)", got, ok, want, wantOK)
			}
			if isStr && !wantOK {
				c.claim(path, v)
			}
		}
	case kindBool:
		b, isBool := v.(bool)
		switch got := col.flag(e); {
		case isBool && got != boolOf(b):
			c.fail(path, "Bool %d, want %t", got, b)
		case !isBool && got != record.Unset:
			c.fail(path, "Bool %d set from %s", got, show(v))
		case !isBool:
			c.claim(path, v)
		}
	case kindQuoted:
		switch got := col.flag(e); {
		case got == record.Unset:
			c.claim(path, v)
		case got == record.True && v != "true", got == record.False && v != "false", got > record.True:
			c.fail(path, "Bool %d set from %s", got, show(v))
		}
	case kindRaw:
		r := col.raw(e)
		switch {
		case r == nil:
			c.fail(path, "no JSON text for %s", show(v))
		case !json.Valid(r) || !utf8.Valid(r) || loneSurrogateEscape(r):
			c.fail(path, "JSON text %q is not valid UTF-8 JSON without lone surrogates", r)
		case !reflect.DeepEqual(decode(c.t, r), v):
			c.fail(path, "JSON text %s reads as %s, want %s", r, show(decode(c.t, r)), show(v))
		}
	case kindObject:
		obj, isObj := v.(map[string]any)
		if col.present != nil && col.present(e) != isObj {
			c.fail(path, "present %t for %s", col.present(e), show(v))
		}
		if !isObj {
			c.claim(path, v)
			for name, mc := range col.members {
				c.unset(mc, path+"."+name)
			}
			return
		}
		if col.present == nil && len(obj) == 0 {
			// Nothing typed says an empty object was there.
			c.claim(path, v)
		}
		c.object(col, path+".", obj)
	}
}

// unset checks that nothing holds a member the record does not have.
func (c *checker) unset(col *column, path string) {
	c.t.Helper()
	e := c.e
	switch col.kind {
	case kindString, kindTime:
		if f := col.field(e); f.Set() {
			c.fail(path, "field %q set for an absent member", f)
		}
		if col.kind == kindTime {
			if got, ok := col.time(e); ok || got != 0 {
				c.fail(path, "time %d (ok %t) for an absent member", got, ok)
			}
		}
	case kindBool, kindQuoted:
		if got := col.flag(e); got != record.Unset {
			c.fail(path, "Bool %d for an absent member", got)
		}
	case kindRaw:
		if r := col.raw(e); r != nil {
			c.fail(path, "JSON text %q for an absent member", r)
		}
	case kindObject:
		if col.present != nil && col.present(e) {
			c.fail(path, "present for an absent member")
		}
		for name, mc := range col.members {
			c.unset(mc, path+"."+name)
		}
	}
}

// extraMembers reads Extra, which must be nil or a non-empty JSON object
// in valid UTF-8, keeping every member of a repeated key.
func extraMembers(t testing.TB, extra []byte) map[string][]any {
	t.Helper()
	if extra == nil {
		return nil
	}
	if !json.Valid(extra) || !utf8.Valid(extra) || loneSurrogateEscape(extra) {
		t.Fatalf("Extra is not valid UTF-8 JSON without lone surrogates: %q", extra)
	}
	dec := json.NewDecoder(bytes.NewReader(extra))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("Extra is not an object: %s", extra)
	}
	out := map[string][]any{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("Extra %s: %v", extra, err)
		}
		key, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("Extra %s: %v", extra, err)
		}
		out[key] = append(out[key], v)
	}
	if len(out) == 0 {
		t.Fatalf("Extra is an empty object, want nil")
	}
	return out
}

// shape returns the deepest nesting of the JSON value data (1 for a flat
// object) and whether an object in it repeats a key.
func shape(data []byte) (depth int, dup bool) {
	type frame struct {
		keys      map[string]bool // nil for an array
		expectKey bool
	}
	var stack []*frame
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		tok, err := dec.Token()
		if err != nil {
			return depth, dup
		}
		if n := len(stack); n > 0 && stack[n-1].keys != nil {
			f := stack[n-1]
			if tok == json.Delim('}') {
				stack = stack[:n-1]
				continue
			}
			if f.expectKey {
				key, _ := tok.(string)
				dup = dup || f.keys[key]
				f.keys[key] = true
				f.expectKey = false
				continue
			}
			f.expectKey = true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{keys: map[string]bool{}, expectKey: true})
		case json.Delim('['):
			stack = append(stack, &frame{})
		case json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		depth = max(depth, len(stack))
	}
}

// escapes matches the escapes of valid JSON text, in order.
var escapes = regexp.MustCompile(`\\(u[0-9a-fA-F]{4}|[^u])`)

// loneSurrogateEscape says whether the valid JSON text has a \u escape of
// a surrogate that is not half of a pair. DuckDB refuses such text as
// JSON, so Scan's JSON text must not have one.
func loneSurrogateEscape(text []byte) bool {
	ms := escapes.FindAllIndex(text, -1)
	code := func(m []int) rune {
		if m[1]-m[0] != 6 {
			return -1
		}
		v, err := strconv.ParseUint(string(text[m[0]+2:m[1]]), 16, 32)
		if err != nil {
			return -1
		}
		return rune(v)
	}
	for i := 0; i < len(ms); i++ {
		r := code(ms[i])
		switch {
		case r < 0xd800 || r > 0xdfff:
		case r <= 0xdbff && i+1 < len(ms) && ms[i+1][0] == ms[i][1] && code(ms[i+1]) >= 0xdc00 && code(ms[i+1]) <= 0xdfff:
			i++ // a pair
		default:
			return true
		}
	}
	return false
}

func depth(data []byte) int {
	d, _ := shape(data)
	return d
}

func contains(vs []any, v any) bool {
	for _, w := range vs {
		if reflect.DeepEqual(w, v) {
			return true
		}
	}
	return false
}

func boolOf(b bool) record.Bool {
	if b {
		return record.True
	}
	return record.False
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// corpus returns the log files under testdata, by name.
func corpus(tb testing.TB) map[string][]byte {
	tb.Helper()
	names, err := filepath.Glob("testdata/*.json")
	if err != nil || len(names) == 0 {
		tb.Fatalf("no testdata/*.json: %v", err)
	}
	files := map[string][]byte{}
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			tb.Fatal(err)
		}
		files[strings.TrimSuffix(filepath.Base(name), ".json")] = data
	}
	return files
}

func TestScan_MatchesEncodingJSON(t *testing.T) {
	for name, data := range corpus(t) {
		t.Run(name, func(t *testing.T) {
			if err := checkFile(t, data); err != nil {
				t.Fatalf("Scan: %v", err)
			}
		})
	}
}

// paths lists the dotted path of every column, parents first.
func paths(col *column, prefix string) []string {
	var out []string
	for name, c := range col.members {
		out = append(out, prefix+name)
		if c.kind == kindObject {
			out = append(out, paths(c, prefix+name+".")...)
		}
	}
	return out
}

// nest writes members as the innermost object at the dotted path, inside
// a record: nest("a.b", `"x":1`) is {"a":{"x":1}}.
func nest(path, members string) string {
	parts := strings.Split(path, ".")
	parts = parts[:len(parts)-1]
	var b strings.Builder
	for _, p := range parts {
		fmt.Fprintf(&b, `{%q:`, p)
	}
	b.WriteString("{" + members + "}")
	b.WriteString(strings.Repeat("}", len(parts)))
	return b.String()
}

// TestScan_EveryMemberEveryType puts every value shape at every typed
// path, alone, next to an unknown member, and twice (a repeated key, which
// encoding/json reads as its last value), and checks each record against
// encoding/json.
func TestScan_EveryMemberEveryType(t *testing.T) {
	values := []string{
		`"s"`, `""`, `"true"`, `"false"`, `"tru\u0065"`, `"2024-01-02T03:04:05Z"`, `"2024-01-02T03:04:05.123456Z"`,
		`"2024-13-01T00:00:00Z"`, `"caf\u00e9 \ud83d\ude80 \ud800"`, "\"bad \xff utf-8\"", `null`, `true`, `false`,
		`0`, `-1.5e3`, `{}`, `{"x":1}`, `{"type":"Role","arn":"a"}`, `[]`, `[1,"2",null]`,
	}
	for _, path := range paths(schema, "") {
		name := path[strings.LastIndex(path, ".")+1:]
		for _, v := range values {
			recs := []string{
				nest(path, fmt.Sprintf("%q:%s", name, v)),
				nest(path, fmt.Sprintf("%q:%s,%q:5", name, v, "zzFuture")),
			}
			for _, w := range values {
				recs = append(recs, nest(path, fmt.Sprintf("%q:%s,%q:%s", name, v, name, w)))
			}
			data := []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
			t.Run(path+"="+v, func(t *testing.T) {
				if err := checkFile(t, data); err != nil {
					t.Fatalf("Scan: %v\n%s", err, data)
				}
			})
		}
	}
}
