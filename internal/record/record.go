// Package record reads CloudTrail log files ({"Records":[...]}) in one
// pass, without building a tree: each record's fields are sliced out of
// the file's bytes, typed where the store has a column for them and kept
// as JSON text otherwise, so a record is never decoded twice and no field
// is dropped.
package record

// Field is a string value of a record: the JSON string's contents, already
// unescaped, or nothing when the field is absent, null or not a string
// (Scan then keeps the original in Event.Extra).
type Field []byte

// Set says whether the field had a string value.
func (f Field) Set() bool { return f != nil }

// Bool is a tri-state boolean: CloudTrail writes some flags as JSON
// booleans and others as the strings "true" and "false".
type Bool uint8

// Bool values.
const (
	Unset Bool = iota
	False
	True
)

// Identity is userIdentity's typed part. Present is false when the record
// has no userIdentity object.
type Identity struct {
	Present                                                   bool
	Type, PrincipalID, ARN, AccountID, AccessKeyID, UserName  Field
	InvokedBy, IdentityProvider                               Field
	Session                                                   bool // sessionContext is an object
	CreationDate                                              Field
	Created                                                   int64 // CreationDate in microseconds
	CreatedOK                                                 bool
	MFAAuthenticated                                          Bool
	Issuer                                                    bool // sessionContext.sessionIssuer is an object
	IssuerType, IssuerPrincipalID, IssuerARN, IssuerAccountID Field
	IssuerUserName                                            Field
	SourceIdentity                                            Field
}

// Event is one record. Its slices point into the file's bytes or into the
// scanner's scratch space: they are valid only during the callback.
type Event struct {
	EventID, EventTime, EventVersion, EventSource, EventName, AWSRegion Field
	SourceIPAddress, UserAgent, ErrorCode, ErrorMessage, RequestID      Field
	EventType, EventCategory, RecipientAccountID, SharedEventID         Field
	VPCEndpointID, SessionCredentialFromConsole                         Field
	ReadOnly, ManagementEvent                                           Bool

	// Time is EventTime in microseconds since the epoch; TimeOK is false
	// when the record has no eventTime in CloudTrail's format.
	Time   int64
	TimeOK bool

	Identity Identity

	// JSON values kept as text, as the file has them except that invalid
	// UTF-8 and \u escapes of lone surrogates become U+FFFD (as
	// encoding/json reads them; DuckDB refuses them); nil when absent
	// (null is kept as the text null).
	RequestParameters, ResponseElements, AdditionalEventData, Resources []byte
	ServiceEventDetails, TLSDetails, Addendum, EdgeDeviceDetails        []byte
	InsightDetails                                                      []byte

	// Extra is a JSON object of everything the fields above do not hold
	// exactly: fields trailwarden has no column for (future ones included)
	// and fields whose value did not fit their column (a number where a
	// string belongs, a time in another format). nil when there is none.
	// A key a record repeats counts as its last value, as in
	// encoding/json; Extra also keeps the earlier values no field holds
	// (those of a repeated userIdentity excepted).
	Extra []byte

	// Size is the record's length in the file, in bytes.
	Size int

	// DuplicateKey is the first top-level key the record repeats ("eventID"
	// in {"eventID":"a",...,"eventID":"b"}), nil when it repeats none. A
	// repeated key is ambiguous: readers disagree on which value counts.
	DuplicateKey Field
}

// Largest names the record's largest value and its length in bytes (as
// held: unescaped for a string field, JSON text otherwise); "extra" for
// the fields without a column of their own, which Extra holds together.
func (e *Event) Largest() (string, int) {
	name, size := "", -1
	for _, f := range []struct {
		name string
		v    []byte
	}{
		{"eventID", e.EventID}, {"eventTime", e.EventTime}, {"eventVersion", e.EventVersion}, {"eventSource", e.EventSource},
		{"eventName", e.EventName}, {"awsRegion", e.AWSRegion}, {"sourceIPAddress", e.SourceIPAddress}, {"userAgent", e.UserAgent},
		{"errorCode", e.ErrorCode}, {"errorMessage", e.ErrorMessage}, {"requestID", e.RequestID}, {"eventType", e.EventType},
		{"eventCategory", e.EventCategory}, {"recipientAccountId", e.RecipientAccountID}, {"sharedEventID", e.SharedEventID},
		{"vpcEndpointId", e.VPCEndpointID}, {"sessionCredentialFromConsole", e.SessionCredentialFromConsole},
		{"requestParameters", e.RequestParameters}, {"responseElements", e.ResponseElements},
		{"additionalEventData", e.AdditionalEventData}, {"resources", e.Resources}, {"serviceEventDetails", e.ServiceEventDetails},
		{"tlsDetails", e.TLSDetails}, {"addendum", e.Addendum}, {"edgeDeviceDetails", e.EdgeDeviceDetails},
		{"insightDetails", e.InsightDetails}, {"extra", e.Extra},
		{"userIdentity.type", e.Identity.Type}, {"userIdentity.principalId", e.Identity.PrincipalID},
		{"userIdentity.arn", e.Identity.ARN}, {"userIdentity.accountId", e.Identity.AccountID},
		{"userIdentity.accessKeyId", e.Identity.AccessKeyID}, {"userIdentity.userName", e.Identity.UserName},
		{"userIdentity.invokedBy", e.Identity.InvokedBy}, {"userIdentity.identityProvider", e.Identity.IdentityProvider},
		{"userIdentity.sessionContext.sessionIssuer.arn", e.Identity.IssuerARN},
		{"userIdentity.sessionContext.sessionIssuer.userName", e.Identity.IssuerUserName},
		{"userIdentity.sessionContext.sessionIssuer.principalId", e.Identity.IssuerPrincipalID},
		{"userIdentity.sessionContext.sourceIdentity", e.Identity.SourceIdentity},
	} {
		if len(f.v) > size {
			name, size = f.name, len(f.v)
		}
	}
	return name, size
}
