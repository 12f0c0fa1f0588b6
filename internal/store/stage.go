package store

import (
	"strconv"
	"strings"
)

// The shape json_transform extracts from each record in one parse. Every
// value is read as VARCHAR or JSON and cast afterwards with try_cast, so a
// record with an odd value (a number where a string belongs, a bad time)
// still loads, with NULL in that column and the original in record.
const recordShape = `{
 "eventVersion":"VARCHAR","eventTime":"VARCHAR","eventSource":"VARCHAR","eventName":"VARCHAR",
 "awsRegion":"VARCHAR","sourceIPAddress":"VARCHAR","userAgent":"VARCHAR",
 "errorCode":"VARCHAR","errorMessage":"VARCHAR",
 "requestParameters":"JSON","responseElements":"JSON","additionalEventData":"JSON",
 "requestID":"VARCHAR","eventID":"VARCHAR","eventType":"VARCHAR","eventCategory":"VARCHAR",
 "readOnly":"VARCHAR","managementEvent":"VARCHAR","recipientAccountId":"VARCHAR",
 "sharedEventID":"VARCHAR","vpcEndpointId":"VARCHAR","sessionCredentialFromConsole":"VARCHAR",
 "resources":"JSON","serviceEventDetails":"JSON","tlsDetails":"JSON","addendum":"JSON",
 "edgeDeviceDetails":"JSON","insightDetails":"JSON",
 "userIdentity":{"type":"VARCHAR","principalId":"VARCHAR","arn":"VARCHAR","accountId":"VARCHAR",
  "accessKeyId":"VARCHAR","userName":"VARCHAR","invokedBy":"VARCHAR","identityProvider":"VARCHAR",
  "sessionContext":{"attributes":{"creationDate":"VARCHAR","mfaAuthenticated":"VARCHAR"},
   "sessionIssuer":{"type":"VARCHAR","principalId":"VARCHAR","arn":"VARCHAR","accountId":"VARCHAR","userName":"VARCHAR"},
   "sourceIdentity":"VARCHAR"}}
}`

// eventColumns is the order of events' columns, shared by the staging
// table and the insert.
const eventColumns = `event_id, event_time, event_version, event_source, event_name, aws_region,
  source_ip_address, user_agent, user_identity, error_code, error_message, request_parameters,
  response_elements, additional_event_data, request_id, event_type, event_category, read_only,
  management_event, recipient_account_id, shared_event_id, vpc_endpoint_id,
  session_credential_from_console, resources, service_event_details, tls_details, addendum,
  edge_device_details, insight_details, record, account, region, event_date, source_key`

// typedColumns maps a staged record s, its transformed record j and its
// file f to eventColumns.
const typedColumns = `s.event_id, s.event_time,
  j.eventVersion AS event_version, j.eventSource AS event_source, j.eventName AS event_name,
  j.awsRegion AS aws_region, j.sourceIPAddress AS source_ip_address, j.userAgent AS user_agent,
  CASE WHEN j.userIdentity IS NOT NULL THEN {
    'type': j.userIdentity.type, 'principal_id': j.userIdentity.principalId, 'arn': j.userIdentity.arn,
    'account_id': j.userIdentity.accountId, 'access_key_id': j.userIdentity.accessKeyId,
    'user_name': j.userIdentity.userName, 'invoked_by': j.userIdentity.invokedBy,
    'identity_provider': j.userIdentity.identityProvider,
    'session_context': CASE WHEN j.userIdentity.sessionContext IS NOT NULL THEN {
      'attributes': {
        'creation_date': try_cast(j.userIdentity.sessionContext.attributes.creationDate AS TIMESTAMP),
        'mfa_authenticated': try_cast(j.userIdentity.sessionContext.attributes.mfaAuthenticated AS BOOLEAN)},
      'session_issuer': {
        'type': j.userIdentity.sessionContext.sessionIssuer.type,
        'principal_id': j.userIdentity.sessionContext.sessionIssuer.principalId,
        'arn': j.userIdentity.sessionContext.sessionIssuer.arn,
        'account_id': j.userIdentity.sessionContext.sessionIssuer.accountId,
        'user_name': j.userIdentity.sessionContext.sessionIssuer.userName},
      'source_identity': j.userIdentity.sessionContext.sourceIdentity} END} END AS user_identity,
  j.errorCode AS error_code, j.errorMessage AS error_message,
  j.requestParameters AS request_parameters, j.responseElements AS response_elements,
  j.additionalEventData AS additional_event_data, j.requestID AS request_id,
  j.eventType AS event_type, j.eventCategory AS event_category,
  try_cast(j.readOnly AS BOOLEAN) AS read_only, try_cast(j.managementEvent AS BOOLEAN) AS management_event,
  j.recipientAccountId AS recipient_account_id, j.sharedEventID AS shared_event_id,
  j.vpcEndpointId AS vpc_endpoint_id, j.sessionCredentialFromConsole AS session_credential_from_console,
  j.resources AS resources, j.serviceEventDetails AS service_event_details, j.tlsDetails AS tls_details,
  j.addendum AS addendum, j.edgeDeviceDetails AS edge_device_details, j.insightDetails AS insight_details,
  s.r AS record, f.account AS account, f.region AS region,
  coalesce(CAST(s.event_time AS DATE), f.day) AS event_date, f.key AS source_key`

// stageSQL builds the staging table of a chunk from the gzipped files read
// whole (direct) and the newline-delimited copies of large ones (split),
// given the largest object of each kind. Each row is one record: file
// index, ordinal in the file, n (records in the file; NULL when the file
// has no Records array, 0 for an empty one, with a single NULL record
// standing for the file so it is not lost), ok (the record is a JSON
// object), the record and the fields deduplication needs.
//
// The table is kept narrow on purpose: staging the ~55 typed columns
// instead made DuckDB run out of memory on a 3 MB file under 128 MB,
// while transforming at insert time stays within it.
func stageSQL(direct, split []string, directMax, splitMax int64) string {
	var src []string
	if len(direct) > 0 {
		// read_json_objects and a JSONPath beat read_json with a declared
		// Records column: 1.4 ms instead of 9.8 ms for one file, 113 ms
		// instead of 189 ms for 240 (DuckDB 1.4.5).
		src = append(src, `SELECT path, unnest(recs) AS r, unnest(range(1, len(recs) + 1)) AS ord, n FROM (
  SELECT path, n, CASE WHEN n > 0 THEN recs ELSE [NULL::JSON] END AS recs FROM (
    SELECT filename AS path, json_extract(json, '$.Records[*]') AS recs,
      CASE WHEN json_type(json, '$.Records') = 'ARRAY' THEN len(json_extract(json, '$.Records[*]')) END AS n
    FROM read_json_objects(`+sqlList(direct)+`, format = 'unstructured', compression = 'gzip',
      filename = true, maximum_object_size = `+objectLimit(directMax)+`)))`)
	}
	if len(split) > 0 {
		src = append(src, `SELECT filename AS path, r, o AS ord, 1 AS n
  FROM read_json(`+sqlList(split)+`, columns = {o: 'BIGINT', r: 'JSON'}, format = 'newline_delimited',
    compression = 'uncompressed', filename = true, maximum_object_size = `+objectLimit(splitMax)+`)`)
	}
	// DuckDB writes JSON values minified, so an object starts with "{".
	return `CREATE TEMP TABLE staged AS
WITH src AS (` + strings.Join(src, "\nUNION ALL\n") + `),
checked AS (SELECT *, coalesce(starts_with(r::VARCHAR, '{'), false) AS ok FROM src),
keyed AS (SELECT *, CASE WHEN ok THEN json_transform(r, '{"eventID":"VARCHAR","recipientAccountId":"VARCHAR","eventTime":"VARCHAR"}') END AS k FROM checked)
SELECT f.fidx, s.ord, s.n, s.ok, s.r, s.k.eventID AS event_id, s.k.recipientAccountId AS recipient_account_id,
  try_cast(s.k.eventTime AS TIMESTAMP) AS event_time
FROM keyed s JOIN batch_files f ON f.path = s.path`
}

// insertSQL moves a chunk's staged records, less duplicates, into events.
const insertSQL = `INSERT INTO events (` + eventColumns + `)
SELECT ` + typedColumns + `
FROM (SELECT *, json_transform(r, '` + recordShape + `') AS j FROM staged s
  WHERE ok AND NOT EXISTS (SELECT 1 FROM dup d WHERE d.fidx = s.fidx AND d.ord = s.ord)) s
JOIN batch_files f USING (fidx)`

// objectLimit is read_json's maximum_object_size for objects up to n
// bytes. DuckDB sizes its read buffers from it, so it is kept tight.
func objectLimit(n int64) string { return strconv.FormatInt(max(n+n/8, 1<<20), 10) }

// sqlList renders strings as a SQL list literal. Paths cannot be bound as
// parameters of a table function, so they are quoted here.
func sqlList(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = sqlString(x)
	}
	return "[" + strings.Join(q, ", ") + "]"
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
