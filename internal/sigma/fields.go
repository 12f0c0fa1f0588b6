package sigma

import (
	"regexp"
	"strings"
)

// fieldRef is a CloudTrail field as a rule names it
// (userIdentity.sessionContext.sessionIssuer.arn): its path of JSON
// member names, case-sensitive as CloudTrail writes them.
type fieldRef struct {
	name string
	path []string
	// descendFrom is the first member of path inside a JSON value: from
	// there on, a member whose value is a list continues the path in each
	// of its elements (a path never descends into the typed columns).
	descendFrom int
}

// maxListDepth bounds the members of a JSON path that may be lists: the
// SQL tries every combination.
const maxListDepth = 4

var fieldRE = regexp.MustCompile(`^[A-Za-z0-9_\-:@$]+(\.[A-Za-z0-9_\-:@$]+)*$`)

func parseField(s string) (fieldRef, error) {
	if s == "" {
		return fieldRef{}, unsup("a value without a field (keyword search) is not supported")
	}
	if !fieldRE.MatchString(s) {
		return fieldRef{}, unsup("field name %q is not a dotted path of CloudTrail member names", s)
	}
	if identityObjects[s] {
		return fieldRef{}, unsup("field %s: matching the whole %s object is not supported; name one of its members", s, s)
	}
	if strings.HasPrefix(s, "resources.") {
		// resources is a list of {ARN, accountId, type}: the test holds
		// when one resource's member satisfies it.
		if _, ok := athenaStructMembers["resources"][strings.TrimPrefix(s, "resources.")]; !ok {
			return fieldRef{}, unsup("field %s: a resource has only ARN, accountId and type", s)
		}
		return fieldRef{name: s, path: strings.Split(s, "."), descendFrom: 0}, nil
	}
	f := fieldRef{name: s, path: strings.Split(s, ".")}
	f.descendFrom = len(f.path)
	if r := resolveDuck(f); r.json != "" {
		f.descendFrom = len(f.path) - len(r.sub)
		if len(r.sub)-1 > maxListDepth {
			return fieldRef{}, unsup("field %s: paths more than %d members deep into a JSON field are not supported", s, maxListDepth+1)
		}
	}
	return f, nil
}

// values are the values a field reaches in a record (descending into
// lists as descendFrom says), and whether it is present at all.
func (f fieldRef) values(rec map[string]any) (vals []any, present bool) {
	var walk func(cur any, i int)
	walk = func(cur any, i int) {
		m, ok := cur.(map[string]any)
		if !ok {
			return
		}
		v, ok := m[f.path[i]]
		if !ok {
			return
		}
		if i == len(f.path)-1 {
			vals = append(vals, v)
			present = true
			return
		}
		if l, ok := v.([]any); ok && i >= f.descendFrom {
			for _, e := range l {
				walk(e, i+1)
			}
			return
		}
		walk(v, i+1)
	}
	walk(rec, 0)
	return vals, present
}

// colKind is how a store column holds its field.
type colKind int

const (
	colString colKind = iota // VARCHAR, the string itself
	colBool                  // BOOLEAN; CloudTrail writes true/false
	colTime                  // TIMESTAMP; CloudTrail writes 2006-01-02T15:04:05Z
	colJSON                  // JSON text of a nested value
)

// column is where a CloudTrail field lives: in the DuckDB store (duck,
// empty when it has no column and lives in extra) and in the Athena
// CloudTrail table (athena, empty when the table has no column for it).
type column struct {
	duck   string
	athena string
	kind   colKind
	// athenaKind is how Athena holds it: colString (typed STRING), colJSON
	// (a STRING of JSON text) or structKind (a STRUCT, reached by
	// member) or arrayKind.
	athenaKind colKind
}

const (
	structKind colKind = 10 + iota
	arrayKind
)

// columns maps CloudTrail's field paths onto the store's columns
// (internal/query/duckdb/schema.go) and the Athena table's
// (internal/query/athena/ddl.go).
var columns = map[string]column{
	"eventID":                      {"event_id", "eventid", colString, colString},
	"eventVersion":                 {"event_version", "eventversion", colString, colString},
	"eventSource":                  {"event_source", "eventsource", colString, colString},
	"eventName":                    {"event_name", "eventname", colString, colString},
	"awsRegion":                    {"aws_region", "awsregion", colString, colString},
	"sourceIPAddress":              {"source_ip_address", "sourceipaddress", colString, colString},
	"userAgent":                    {"user_agent", "useragent", colString, colString},
	"errorCode":                    {"error_code", "errorcode", colString, colString},
	"errorMessage":                 {"error_message", "errormessage", colString, colString},
	"requestID":                    {"request_id", "requestid", colString, colString},
	"eventType":                    {"event_type", "eventtype", colString, colString},
	"eventCategory":                {"event_category", "eventcategory", colString, colString},
	"recipientAccountId":           {"recipient_account_id", "recipientaccountid", colString, colString},
	"sharedEventID":                {"shared_event_id", "sharedeventid", colString, colString},
	"vpcEndpointId":                {"vpc_endpoint_id", "vpcendpointid", colString, colString},
	"sessionCredentialFromConsole": {"session_credential_from_console", "sessioncredentialfromconsole", colString, colString},
	"readOnly":                     {"read_only", "readonly", colBool, colString},
	"managementEvent":              {"management_event", "", colBool, colString},
	"eventTime":                    {"event_time", "eventtime", colTime, colString},
	"apiVersion":                   {"", "apiversion", colString, colString},
	"vpcEndpointAccountId":         {"", "vpcendpointaccountid", colString, colString},

	"requestParameters":   {"request_parameters", "requestparameters", colJSON, colJSON},
	"responseElements":    {"response_elements", "responseelements", colJSON, colJSON},
	"additionalEventData": {"additional_event_data", "additionaleventdata", colJSON, colJSON},
	"serviceEventDetails": {"service_event_details", "serviceeventdetails", colJSON, colJSON},
	"edgeDeviceDetails":   {"edge_device_details", "edgedevicedetails", colJSON, colJSON},
	"insightDetails":      {"insight_details", "", colJSON, colJSON},
	"resources":           {"resources", "resources", colJSON, arrayKind},
	"tlsDetails":          {"tls_details", "tlsdetails", colJSON, structKind},
	"addendum":            {"addendum", "addendum", colJSON, structKind},

	"userIdentity.type":                          {"user_identity.type", "useridentity.type", colString, colString},
	"userIdentity.principalId":                   {"user_identity.principal_id", "useridentity.principalid", colString, colString},
	"userIdentity.arn":                           {"user_identity.arn", "useridentity.arn", colString, colString},
	"userIdentity.accountId":                     {"user_identity.account_id", "useridentity.accountid", colString, colString},
	"userIdentity.accessKeyId":                   {"user_identity.access_key_id", "useridentity.accesskeyid", colString, colString},
	"userIdentity.userName":                      {"user_identity.user_name", "useridentity.username", colString, colString},
	"userIdentity.invokedBy":                     {"user_identity.invoked_by", "useridentity.invokedby", colString, colString},
	"userIdentity.identityProvider":              {"user_identity.identity_provider", "", colString, colString},
	"userIdentity.sessionContext.sourceIdentity": {"user_identity.session_context.source_identity", "", colString, colString},
	"userIdentity.sessionContext.attributes.creationDate": {
		"user_identity.session_context.attributes.creation_date", "useridentity.sessioncontext.attributes.creationdate", colTime, colString},
	"userIdentity.sessionContext.attributes.mfaAuthenticated": {
		"user_identity.session_context.attributes.mfa_authenticated", "useridentity.sessioncontext.attributes.mfaauthenticated", colBool, colString},
	"userIdentity.sessionContext.sessionIssuer.type": {
		"user_identity.session_context.session_issuer.type", "useridentity.sessioncontext.sessionissuer.type", colString, colString},
	"userIdentity.sessionContext.sessionIssuer.principalId": {
		"user_identity.session_context.session_issuer.principal_id", "useridentity.sessioncontext.sessionissuer.principalid", colString, colString},
	"userIdentity.sessionContext.sessionIssuer.arn": {
		"user_identity.session_context.session_issuer.arn", "useridentity.sessioncontext.sessionissuer.arn", colString, colString},
	"userIdentity.sessionContext.sessionIssuer.accountId": {
		"user_identity.session_context.session_issuer.account_id", "useridentity.sessioncontext.sessionissuer.accountid", colString, colString},
	"userIdentity.sessionContext.sessionIssuer.userName": {
		"user_identity.session_context.session_issuer.user_name", "useridentity.sessioncontext.sessionissuer.username", colString, colString},
	// Athena-only members of userIdentity (the store keeps them in extra).
	"userIdentity.onBehalfOf.userId":              {"", "useridentity.onbehalfof.userid", colString, colString},
	"userIdentity.onBehalfOf.identityStoreArn":    {"", "useridentity.onbehalfof.identitystorearn", colString, colString},
	"userIdentity.sessionContext.ec2RoleDelivery": {"", "useridentity.sessioncontext.ec2roledelivery", colString, colString},
	"userIdentity.sessionContext.webIdFederationData.federatedProvider": {
		"", "useridentity.sessioncontext.webidfederationdata.federatedprovider", colString, colString},
}

// athenaStructMembers are the members of Athena's struct columns.
var athenaStructMembers = map[string]map[string]string{
	"tlsDetails": {"tlsVersion": "tlsversion", "cipherSuite": "ciphersuite", "clientProvidedHostHeader": "clientprovidedhostheader"},
	"addendum": {"reason": "reason", "updatedFields": "updatedfields", "originalRequestID": "originalrequestid",
		"originalEventID": "originaleventid"},
	"resources": {"ARN": "arn", "accountId": "accountid", "type": "type"},
}

// identityObjects are the objects of userIdentity whose members have
// columns: a member of one without a column is kept in the store's extra
// under its dotted path (record.Event.Extra).
var identityObjects = map[string]bool{
	"userIdentity": true, "userIdentity.sessionContext": true,
	"userIdentity.sessionContext.attributes": true, "userIdentity.sessionContext.sessionIssuer": true,
}

// resolved is where a field's value is in the store: a column, or a
// column and a JSON path into it.
type resolved struct {
	col  column
	json string   // the column holding JSON, when the field is inside it
	key  string   // the extra key, for the presence of a typed field
	sub  []string // the members below col (JSON path)
}

// resolveDuck finds a field in the DuckDB store.
func resolveDuck(f fieldRef) resolved {
	if c, ok := columns[f.name]; ok && c.duck != "" {
		return resolved{col: c, key: f.name}
	}
	// A JSON column and a path into it.
	for i := len(f.path) - 1; i >= 1; i-- {
		head := strings.Join(f.path[:i], ".")
		if c, ok := columns[head]; ok && c.kind == colJSON && c.duck != "" {
			return resolved{col: c, json: c.duck, sub: f.path[i:]}
		}
	}
	// Everything else is in extra: under the member's dotted path from
	// the record's top level for a member of userIdentity's objects, under
	// its name for a top-level field.
	for i := len(f.path) - 1; i >= 1; i-- {
		if identityObjects[strings.Join(f.path[:i], ".")] {
			return resolved{json: "extra", sub: append([]string{strings.Join(f.path[:i+1], ".")}, f.path[i+1:]...)}
		}
	}
	return resolved{json: "extra", sub: f.path}
}
