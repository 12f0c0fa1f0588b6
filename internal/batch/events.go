package batch

import (
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/trailwarden/trailwarden/internal/record"
)

// Events holds the records of whole log files as columns in the events
// table's shape, ready to be inserted in one statement. A parser appends
// a file's records, then either keeps them (Commit) or cuts them off
// (Abort) if the file turns out bad or fails verification. An Events is
// used by one goroutine at a time.
type Events struct {
	files []FileRows
	open  *FileRows // the file being appended, between Begin and Commit/Abort
	rows  int

	text      [len(textColumns)]texts
	eventTime fixed[int64]
	readOnly  flags
	mgmt      flags
	id        identityColumns
	eventDate fixed[int32]
	file      fixed[int32] // index into files: account, region and source_key
	row       fixed[int32] // the row's index, to name duplicates
	keep      bitmap       // unset for duplicates, which are not inserted
}

// File is a log file whose records a batch holds. Account, Region and
// Day come from its key (layout.Parse); Day is the delivery date folder,
// the event date of records without a usable eventTime.
type File struct {
	Key, Account, Region string
	Day                  time.Time
	// Verified says whether a digest vouched for the file's bytes.
	Verified bool
}

// FileRows is a file of the batch and its rows [First, First+Rows).
// Partial marks a part of a file too large for one batch: more of its
// rows follow in later batches, and it is recorded as ingested only with
// its last part.
type FileRows struct {
	File
	First, Rows int
	Partial     bool
	// Duplicates counts the file's records dropped (Drop); Compact leaves
	// only the others in Rows.
	Duplicates int
	// RepeatedKeys counts the file's records that repeat a top-level key
	// (record.Event.DuplicateKey); the first MaxRepeatedKeys of them are
	// named in Repeats.
	RepeatedKeys int
	Repeats      []RepeatedKey
}

// RepeatedKey names a record that repeats a top-level key, by its ordinal
// in its file (from 1), and the key.
type RepeatedKey struct {
	Record int    `json:"record"`
	Key    string `json:"field"`
}

// MaxRepeatedKeys is how many records repeating a key a FileRows names.
const MaxRepeatedKeys = 3

// Repeated notes that record n of the open file (its ordinal in the file,
// from 1) repeats key.
func (b *Events) Repeated(n int, key []byte) {
	f := b.open
	f.RepeatedKeys++
	if len(f.Repeats) < MaxRepeatedKeys {
		f.Repeats = append(f.Repeats, RepeatedKey{Record: n, Key: string(key)})
	}
}

// textColumns are the VARCHAR columns, then the JSON ones, in the order of
// Events.text and of the Arrow schema.
var textColumns = [...]string{
	"event_id", "event_version", "event_source", "event_name", "aws_region", "source_ip_address", "user_agent",
	"error_code", "error_message", "request_id", "event_type", "event_category", "recipient_account_id",
	"shared_event_id", "vpc_endpoint_id", "session_credential_from_console",
	"request_parameters", "response_elements", "additional_event_data", "resources", "service_event_details",
	"tls_details", "addendum", "edge_device_details", "insight_details", "extra",
}

// firstJSON is the index of the first JSON column in textColumns.
const firstJSON = 16

type identityColumns struct {
	valid                                                   bitmap
	typ, principalID, arn, accountID, accessKeyID, userName texts
	invokedBy, identityProvider                             texts
	session                                                 bitmap
	attributes                                              bitmap
	created                                                 fixed[int64]
	mfa                                                     flags
	issuer                                                  bitmap
	issuerType, issuerPrincipal, issuerARN, issuerAccount   texts
	issuerUser                                              texts
	sourceIdentity                                          texts
}

// Rows is the number of records in committed files.
func (b *Events) Rows() int { return b.rows }

// Files lists the committed files and their rows.
func (b *Events) Files() []FileRows { return b.files }

// Bytes is about how much memory the batch's columns hold.
func (b *Events) Bytes() int {
	n := 0
	for i := range b.text {
		n += b.text[i].bytes()
	}
	return n + b.rows*64
}

// Begin starts appending the records of f.
func (b *Events) Begin(f File) {
	b.Abort()
	b.open = &FileRows{File: f, First: b.rows}
}

// Add appends one record of the open file.
func (b *Events) Add(e *record.Event) {
	f := b.open
	n := f.First + f.Rows
	f.Rows++
	fields := [len(textColumns)][]byte{
		e.EventID, e.EventVersion, e.EventSource, e.EventName, e.AWSRegion, e.SourceIPAddress, e.UserAgent,
		e.ErrorCode, e.ErrorMessage, e.RequestID, e.EventType, e.EventCategory, e.RecipientAccountID,
		e.SharedEventID, e.VPCEndpointID, e.SessionCredentialFromConsole,
		e.RequestParameters, e.ResponseElements, e.AdditionalEventData, e.Resources, e.ServiceEventDetails,
		e.TLSDetails, e.Addendum, e.EdgeDeviceDetails, e.InsightDetails, e.Extra,
	}
	for i, v := range fields {
		b.text[i].add(v, v != nil)
	}
	b.eventTime.add(e.Time, e.TimeOK)
	b.readOnly.add(e.ReadOnly == record.True, e.ReadOnly != record.Unset)
	b.mgmt.add(e.ManagementEvent == record.True, e.ManagementEvent != record.Unset)
	b.id.add(&e.Identity)
	day := f.Day
	if e.TimeOK {
		day = time.UnixMicro(e.Time).UTC()
	}
	b.eventDate.add(int32(day.Unix()/86400), true) //nolint:gosec // days since 1970 fit in int32
	b.file.add(int32(len(b.files)), true)          //nolint:gosec // a batch holds few files
	b.row.add(int32(n), true)                      //nolint:gosec // a batch holds far fewer than 2^31 rows
	b.keep.add(true)
}

func (c *identityColumns) add(id *record.Identity) {
	c.valid.add(id.Present)
	for _, x := range []struct {
		col *texts
		v   record.Field
	}{{&c.typ, id.Type}, {&c.principalID, id.PrincipalID}, {&c.arn, id.ARN}, {&c.accountID, id.AccountID},
		{&c.accessKeyID, id.AccessKeyID}, {&c.userName, id.UserName}, {&c.invokedBy, id.InvokedBy},
		{&c.identityProvider, id.IdentityProvider}, {&c.issuerType, id.IssuerType},
		{&c.issuerPrincipal, id.IssuerPrincipalID}, {&c.issuerARN, id.IssuerARN},
		{&c.issuerAccount, id.IssuerAccountID}, {&c.issuerUser, id.IssuerUserName},
		{&c.sourceIdentity, id.SourceIdentity}} {
		x.col.add(x.v, x.v != nil)
	}
	c.session.add(id.Session)
	c.attributes.add(id.Session)
	c.created.add(id.Created, id.CreatedOK)
	c.mfa.add(id.MFAAuthenticated == record.True, id.MFAAuthenticated != record.Unset)
	c.issuer.add(id.Issuer)
}

// Commit keeps the open file's records.
func (b *Events) Commit() {
	if b.open == nil {
		return
	}
	b.files = append(b.files, *b.open)
	b.rows += b.open.Rows
	b.open = nil
}

// CommitPart keeps the open file's records so far as a part of it: the
// batch can be loaded, and the file continues in the next batch with
// Begin.
func (b *Events) CommitPart() {
	if b.open == nil {
		return
	}
	b.open.Partial = true
	b.Commit()
}

// Abort cuts off the open file's records.
func (b *Events) Abort() {
	if b.open == nil {
		return
	}
	b.truncate(b.open.First)
	b.open = nil
}

func (b *Events) truncate(n int) {
	for i := range b.text {
		b.text[i].truncate(n)
	}
	b.eventTime.truncate(n)
	b.readOnly.truncate(n)
	b.mgmt.truncate(n)
	b.eventDate.truncate(n)
	b.file.truncate(n)
	b.row.truncate(n)
	b.keep.truncate(n)
	c := &b.id
	c.valid.truncate(n)
	for _, t := range c.texts() {
		t.truncate(n)
	}
	c.session.truncate(n)
	c.attributes.truncate(n)
	c.created.truncate(n)
	c.mfa.truncate(n)
	c.issuer.truncate(n)
}

func (c *identityColumns) texts() []*texts {
	return []*texts{&c.typ, &c.principalID, &c.arn, &c.accountID, &c.accessKeyID, &c.userName, &c.invokedBy,
		&c.identityProvider, &c.issuerType, &c.issuerPrincipal, &c.issuerARN, &c.issuerAccount, &c.issuerUser,
		&c.sourceIdentity}
}

// Reset empties the batch for reuse, keeping its buffers.
func (b *Events) Reset() {
	b.truncate(0)
	b.files, b.open, b.rows = b.files[:0], nil, 0
}

var (
	jsonMeta = arrow.NewMetadata([]string{"ARROW:extension:name", "ARROW:extension:metadata"}, []string{"arrow.json", ""})
	tsType   = &arrow.TimestampType{Unit: arrow.Microsecond}
	dictType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	str      = arrow.BinaryTypes.String

	issuerType = arrow.StructOf(
		arrow.Field{Name: "type", Type: str, Nullable: true}, arrow.Field{Name: "principal_id", Type: str, Nullable: true},
		arrow.Field{Name: "arn", Type: str, Nullable: true}, arrow.Field{Name: "account_id", Type: str, Nullable: true},
		arrow.Field{Name: "user_name", Type: str, Nullable: true})
	attributesType = arrow.StructOf(arrow.Field{Name: "creation_date", Type: tsType, Nullable: true},
		arrow.Field{Name: "mfa_authenticated", Type: arrow.FixedWidthTypes.Boolean, Nullable: true})
	sessionType = arrow.StructOf(arrow.Field{Name: "attributes", Type: attributesType, Nullable: true},
		arrow.Field{Name: "session_issuer", Type: issuerType, Nullable: true},
		arrow.Field{Name: "source_identity", Type: str, Nullable: true})
	identityType = arrow.StructOf(
		arrow.Field{Name: "type", Type: str, Nullable: true}, arrow.Field{Name: "principal_id", Type: str, Nullable: true},
		arrow.Field{Name: "arn", Type: str, Nullable: true}, arrow.Field{Name: "account_id", Type: str, Nullable: true},
		arrow.Field{Name: "access_key_id", Type: str, Nullable: true}, arrow.Field{Name: "user_name", Type: str, Nullable: true},
		arrow.Field{Name: "invoked_by", Type: str, Nullable: true}, arrow.Field{Name: "identity_provider", Type: str, Nullable: true},
		arrow.Field{Name: "session_context", Type: sessionType, Nullable: true})

	batchSchema = func() *arrow.Schema {
		var fs []arrow.Field
		for i, name := range textColumns {
			f := arrow.Field{Name: name, Type: str, Nullable: true}
			if i >= firstJSON {
				f.Metadata = jsonMeta
			}
			fs = append(fs, f)
		}
		fs = append(fs,
			arrow.Field{Name: "event_time", Type: tsType, Nullable: true},
			arrow.Field{Name: "read_only", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			arrow.Field{Name: "management_event", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
			arrow.Field{Name: "user_identity", Type: identityType, Nullable: true},
			arrow.Field{Name: "event_date", Type: arrow.FixedWidthTypes.Date32},
			arrow.Field{Name: "account", Type: dictType},
			arrow.Field{Name: "region", Type: dictType},
			arrow.Field{Name: "source_key", Type: dictType})
		return arrow.NewSchema(fs, nil)
	}()

	keySchema = arrow.NewSchema([]arrow.Field{{Name: "row", Type: arrow.PrimitiveTypes.Int32},
		{Name: "event_id", Type: str, Nullable: true}, {Name: "recipient_account_id", Type: str, Nullable: true}}, nil)
)

// Arrow returns the committed rows as one Arrow record batch over the
// batch's own buffers, with the columns Columns names: the batch must not
// change until DuckDB is done with it. See KeyArrow on how DuckDB must
// read it.
func (b *Events) Arrow() arrow.RecordBatch {
	b.Abort()
	n := b.rows
	cols := make([]arrow.Array, 0, len(batchSchema.Fields()))
	for i := range b.text {
		cols = append(cols, array.MakeFromData(b.text[i].array(str)))
	}
	cols = append(cols, array.MakeFromData(b.eventTime.array(tsType)), array.MakeFromData(b.readOnly.array()),
		array.MakeFromData(b.mgmt.array()), array.MakeFromData(b.id.array()),
		array.MakeFromData(b.eventDate.array(arrow.FixedWidthTypes.Date32)))
	var account, region, key texts
	for _, f := range b.files {
		account.add([]byte(f.Account), true)
		region.add([]byte(f.Region), true)
		key.add([]byte(f.Key), true)
	}
	for _, d := range []*texts{&account, &region, &key} {
		idx := []*memory.Buffer{nil, memory.NewBufferBytes(int32Bytes(b.file.v))}
		cols = append(cols, array.MakeFromData(array.NewDataWithDictionary(dictType, n, idx, 0, 0, d.array(str).(*array.Data))))
	}
	return array.NewRecordBatch(batchSchema, cols, int64(n))
}

// Columns names the columns of Arrow's records, in order.
func Columns() []string {
	var out []string
	for _, f := range batchSchema.Fields() {
		out = append(out, f.Name)
	}
	return out
}

// KeyArrow returns the deduplication keys of the rows (row, event_id,
// recipient_account_id) as an Arrow record batch over the batch's buffers.
//
// DuckDB's scan of an Arrow stream from its C API pushes column
// projections and filters down to the stream and trusts it to apply them,
// which duckdb-go's stream does not: a query naming some columns reads
// the first ones instead, and a WHERE on the scan is ignored or misread.
// So every record handed to DuckDB holds exactly the columns wanted, in
// order, and is read whole with SELECT * and no filter.
func (b *Events) KeyArrow() arrow.RecordBatch {
	b.Abort()
	cols := []arrow.Array{array.MakeFromData(b.row.array(arrow.PrimitiveTypes.Int32)),
		array.MakeFromData(b.text[eventIDColumn].array(str)), array.MakeFromData(b.text[recipientColumn].array(str))}
	return array.NewRecordBatch(keySchema, cols, int64(b.rows))
}

func (c *identityColumns) array() arrow.ArrayData {
	n := c.valid.n
	child := func(t *texts) arrow.ArrayData { return t.array(str) }
	issuer := array.NewData(issuerType, n, []*memory.Buffer{c.issuer.buffer()}, []arrow.ArrayData{
		child(&c.issuerType), child(&c.issuerPrincipal), child(&c.issuerARN), child(&c.issuerAccount), child(&c.issuerUser)},
		c.issuer.nulls(), 0)
	attrs := array.NewData(attributesType, n, []*memory.Buffer{c.attributes.buffer()}, []arrow.ArrayData{
		c.created.array(tsType), c.mfa.array()}, c.attributes.nulls(), 0)
	session := array.NewData(sessionType, n, []*memory.Buffer{c.session.buffer()}, []arrow.ArrayData{
		attrs, issuer, child(&c.sourceIdentity)}, c.session.nulls(), 0)
	return array.NewData(identityType, n, []*memory.Buffer{c.valid.buffer()}, []arrow.ArrayData{
		child(&c.typ), child(&c.principalID), child(&c.arn), child(&c.accountID), child(&c.accessKeyID),
		child(&c.userName), child(&c.invokedBy), child(&c.identityProvider), session}, c.valid.nulls(), 0)
}
