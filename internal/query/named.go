package query

import (
	"maps"
	"strconv"
	"strings"
)

// AthenaTable is the table the Athena SQL of the named queries reads: the
// default table name of the DDL that internal/query/athena generates. The query
// runs with the table's database as its QueryExecutionContext.
const AthenaTable = "cloudtrail_logs"

// AthenaWindowDays is how many days of partitions the Athena SQL of the
// named queries reads. Athena bills by the bytes it scans, so every named
// query prunes on the projected `timestamp` partition (the delivery date,
// yyyy/MM/dd); the DuckDB SQL reads whatever was pulled into the store.
const AthenaWindowDays = 30

// The SQL of both dialects returns the same column names, so a result reads
// the same whichever engine ran it. Rules shared by the queries:
//
//   - principal: the role behind an assumed-role session (the session
//     issuer's ARN), else the identity's ARN, else the AWS service that made
//     the call, else the identity type. Grouping by role rather than by
//     session keeps one row per role instead of one per session name.
//   - Lists of rows are ordered, newest first, and limited; aggregates are
//     ordered by their count and limited.

// athenaWindow is the partition filter every Athena query starts with.
var athenaWindow = `"timestamp" >= date_format(current_date - interval '` + strconv.Itoa(AthenaWindowDays) + `' day, '%Y/%m/%d')`

const (
	duckPrincipal = `coalesce(user_identity.session_context.session_issuer.arn, user_identity.arn, ` +
		`user_identity.invoked_by, user_identity.type)`
	athenaPrincipal = `coalesce(useridentity.sessioncontext.sessionissuer.arn, useridentity.arn, ` +
		`useridentity.invokedby, useridentity.type)`
	athenaTime = `from_iso8601_timestamp(eventtime)`
)

// Private and special-purpose address patterns for
// calls-from-outside-expected-networks, as regular expressions on the
// lower-cased sourceIPAddress. IPv4: 10/8, 172.16/12, 192.168/16 (RFC 1918),
// 100.64/10 (RFC 6598 shared space), 127/8 loopback, 169.254/16 link-local.
// IPv6: ::1 loopback, fc00::/7 unique local, fe80::/10 link-local.
const (
	ipv4RE        = `^[0-9]{1,3}(\.[0-9]{1,3}){3}$`
	ipv6RE        = `^[0-9a-f:.]*:[0-9a-f:.]*$`
	privateIPv4RE = `^(10\.|192\.168\.|172\.(1[6-9]|2[0-9]|3[01])\.|100\.(6[4-9]|[7-9][0-9]|1[01][0-9]|12[0-7])\.|127\.|169\.254\.)`
	privateIPv6RE = `^(::1$|f[cd][0-9a-f]{2}:|fe[89ab][0-9a-f]:)`
)

// tamperEvents are the calls that stop, narrow or hide CloudTrail
// delivery whatever they act on: trails, event data stores and the
// organization. Calls on buckets and keys are tampering only on the log
// bucket and its key, which a named query cannot know: trailwarden detect
// reports those, for the pipeline the config describes.
var tamperEvents = []struct {
	source string
	names  []string
}{
	{"cloudtrail.amazonaws.com", []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors",
		"PutInsightSelectors", "DeleteEventDataStore", "StopEventDataStoreIngestion", "UpdateEventDataStore"}},
	{"organizations.amazonaws.com", []string{"LeaveOrganization", "RemoveAccountFromOrganization",
		"DisableAWSServiceAccess", "DeregisterDelegatedAdministrator"}},
}

// tamperFilter is the WHERE condition of pipeline-tampering, in either
// dialect (the column names are the only difference).
func tamperFilter(sourceCol, nameCol string) string {
	var b strings.Builder
	for i, g := range tamperEvents {
		if i > 0 {
			b.WriteString("\n     OR ")
		}
		b.WriteString("(" + sourceCol + " = '" + g.source + "' AND " + nameCol + " IN (")
		for j, n := range g.names {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("'" + n + "'")
		}
		b.WriteString("))")
	}
	return b.String()
}

// The request parameters naming what a tampering call acted on: the trail
// (name, trailName), the member account or service, the event data store.
var tamperTargets = []string{"name", "trailName", "accountId", "servicePrincipal", "eventDataStore"}

func tamperTarget(extract func(path string) string) string {
	parts := make([]string, len(tamperTargets))
	for i, k := range tamperTargets {
		parts[i] = extract("$." + k)
	}
	return "coalesce(" + strings.Join(parts, ", ") + ")"
}

var named = []Named{
	{
		Name:  "root-activity",
		Title: "Root user activity",
		Description: "Calls made with the account root user's credentials, newest first (at most 1000). " +
			"Calls AWS services made on the root user's behalf (invokedBy set) and service events are left out. " +
			"The root user should be used almost never; every row deserves a look.",
		SQL: map[string]string{
			"duckdb": `SELECT event_time, account, aws_region AS region, event_source, event_name,
       source_ip_address AS source_ip, user_agent, error_code
FROM events
WHERE user_identity.type = 'Root'
  AND user_identity.invoked_by IS NULL
  AND coalesce(event_type, '') <> 'AwsServiceEvent'
ORDER BY event_time DESC
LIMIT 1000`,
			"athena": `SELECT ` + athenaTime + ` AS event_time, account, awsregion AS region,
       eventsource AS event_source, eventname AS event_name,
       sourceipaddress AS source_ip, useragent AS user_agent, errorcode AS error_code
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
  AND useridentity.type = 'Root'
  AND useridentity.invokedby IS NULL
  AND coalesce(eventtype, '') <> 'AwsServiceEvent'
ORDER BY event_time DESC
LIMIT 1000`,
		},
	},
	{
		Name:  "console-logins-without-mfa",
		Title: "Console sign-ins without MFA",
		Description: "Successful AWS Management Console sign-ins of IAM users and the root user that did not use MFA " +
			"(ConsoleLogin with additionalEventData.MFAUsed = No), newest first (at most 1000). " +
			"Federated and IAM Identity Center sign-ins are left out: their MFA happens at the identity provider, " +
			"so CloudTrail always records MFAUsed = No for them.",
		SQL: map[string]string{
			"duckdb": `SELECT event_time, account, user_identity.type AS principal_type,
       coalesce(user_identity.user_name, user_identity.arn) AS principal,
       source_ip_address AS source_ip, user_agent
FROM events
WHERE event_name = 'ConsoleLogin'
  AND user_identity.type IN ('IAMUser', 'Root')
  AND json_extract_string(additional_event_data, '$.MFAUsed') = 'No'
  AND json_extract_string(response_elements, '$.ConsoleLogin') = 'Success'
ORDER BY event_time DESC
LIMIT 1000`,
			"athena": `SELECT ` + athenaTime + ` AS event_time, account, useridentity.type AS principal_type,
       coalesce(useridentity.username, useridentity.arn) AS principal,
       sourceipaddress AS source_ip, useragent AS user_agent
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
  AND eventname = 'ConsoleLogin'
  AND useridentity.type IN ('IAMUser', 'Root')
  AND json_extract_scalar(additionaleventdata, '$.MFAUsed') = 'No'
  AND json_extract_scalar(responseelements, '$.ConsoleLogin') = 'Success'
ORDER BY event_time DESC
LIMIT 1000`,
		},
	},
	{
		Name:  "access-denied-by-principal",
		Title: "Access denied, by principal",
		Description: "Calls refused for lack of permission (error codes containing AccessDenied or UnauthorizedOperation), " +
			"counted per principal (an assumed role counts as its role), with the number of distinct calls refused " +
			"and the first and last refusal; the 100 principals refused most. " +
			"A burst from one principal often means enumeration with stolen credentials, or a broken deployment.",
		SQL: map[string]string{
			"duckdb": `SELECT ` + duckPrincipal + ` AS principal,
       user_identity.type AS principal_type,
       count(*) AS denied,
       count(DISTINCT event_source || ':' || event_name) AS distinct_calls,
       count(DISTINCT account) AS accounts,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen
FROM events
WHERE error_code LIKE '%AccessDenied%' OR error_code LIKE '%UnauthorizedOperation%'
GROUP BY 1, 2
ORDER BY denied DESC, principal
LIMIT 100`,
			"athena": `SELECT ` + athenaPrincipal + ` AS principal,
       useridentity.type AS principal_type,
       count(*) AS denied,
       count(DISTINCT eventsource || ':' || eventname) AS distinct_calls,
       count(DISTINCT account) AS accounts,
       min(` + athenaTime + `) AS first_seen,
       max(` + athenaTime + `) AS last_seen
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
  AND (errorcode LIKE '%AccessDenied%' OR errorcode LIKE '%UnauthorizedOperation%')
GROUP BY 1, 2
ORDER BY denied DESC, principal
LIMIT 100`,
		},
	},
	{
		Name:  "pipeline-tampering",
		Title: "Tampering with trails and the organization",
		Description: "Calls that stop, narrow or hide CloudTrail delivery on any trail or event data store, or take accounts " +
			"out of the organization, including refused attempts (see error_code), newest first (at most 1000): CloudTrail " +
			"StopLogging, DeleteTrail, UpdateTrail, PutEventSelectors, PutInsightSelectors and event data store changes; " +
			"Organizations LeaveOrganization, RemoveAccountFromOrganization, DisableAWSServiceAccess, " +
			"DeregisterDelegatedAdministrator. Changes to the log bucket and its KMS key (policy, lifecycle, encryption, " +
			"DisableKey, ScheduleKeyDeletion...) are not listed here: a query cannot tell the log bucket from the others. " +
			"trailwarden detect --config trailwarden.yaml reports them, and only them, for the pipeline the config describes.",
		SQL: map[string]string{
			"duckdb": `SELECT event_time, account, aws_region AS region, event_source, event_name,
       ` + tamperTarget(func(p string) string { return "json_extract_string(request_parameters, '" + p + "')" }) + ` AS target,
       ` + duckPrincipal + ` AS principal,
       source_ip_address AS source_ip, error_code
FROM events
WHERE ` + tamperFilter("event_source", "event_name") + `
ORDER BY event_time DESC
LIMIT 1000`,
			"athena": `SELECT ` + athenaTime + ` AS event_time, account, awsregion AS region,
       eventsource AS event_source, eventname AS event_name,
       ` + tamperTarget(func(p string) string { return "json_extract_scalar(requestparameters, '" + p + "')" }) + ` AS target,
       ` + athenaPrincipal + ` AS principal,
       sourceipaddress AS source_ip, errorcode AS error_code
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
  AND (` + tamperFilter("eventsource", "eventname") + `)
ORDER BY event_time DESC
LIMIT 1000`,
		},
	},
	{
		Name:  "new-access-keys",
		Title: "New IAM access keys",
		Description: "IAM access keys created (successful iam:CreateAccessKey), newest first (at most 1000): " +
			"who created a key, for which user, and the new key's id. Long-lived keys are a common way to keep access.",
		SQL: map[string]string{
			"duckdb": `SELECT event_time, account,
       ` + duckPrincipal + ` AS created_by,
       coalesce(json_extract_string(response_elements, '$.accessKey.userName'),
                json_extract_string(request_parameters, '$.userName')) AS user_name,
       json_extract_string(response_elements, '$.accessKey.accessKeyId') AS access_key_id,
       source_ip_address AS source_ip, user_agent
FROM events
WHERE event_source = 'iam.amazonaws.com'
  AND event_name = 'CreateAccessKey'
  AND error_code IS NULL
ORDER BY event_time DESC
LIMIT 1000`,
			"athena": `SELECT ` + athenaTime + ` AS event_time, account,
       ` + athenaPrincipal + ` AS created_by,
       coalesce(json_extract_scalar(responseelements, '$.accessKey.userName'),
                json_extract_scalar(requestparameters, '$.userName')) AS user_name,
       json_extract_scalar(responseelements, '$.accessKey.accessKeyId') AS access_key_id,
       sourceipaddress AS source_ip, useragent AS user_agent
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
  AND eventsource = 'iam.amazonaws.com'
  AND eventname = 'CreateAccessKey'
  AND errorcode IS NULL
ORDER BY event_time DESC
LIMIT 1000`,
		},
	},
	{
		Name:  "activity-by-principal",
		Title: "Activity per principal per day",
		Description: "Calls per principal (an assumed role counts as its role) per UTC day: all calls, " +
			"calls that change something (readOnly false), failed calls, distinct calls and source addresses; " +
			"newest day first, busiest principal first (at most 1000 rows).",
		SQL: map[string]string{
			"duckdb": `SELECT CAST(event_time AS DATE) AS day,
       ` + duckPrincipal + ` AS principal,
       user_identity.type AS principal_type,
       count(*) AS calls,
       count_if(read_only = false) AS writes,
       count(error_code) AS errors,
       count(DISTINCT event_source || ':' || event_name) AS distinct_calls,
       count(DISTINCT source_ip_address) AS source_ips
FROM events
GROUP BY 1, 2, 3
ORDER BY day DESC, calls DESC, principal
LIMIT 1000`,
			"athena": `SELECT date(` + athenaTime + `) AS day,
       ` + athenaPrincipal + ` AS principal,
       useridentity.type AS principal_type,
       count(*) AS calls,
       count_if(readonly = 'false') AS writes,
       count(errorcode) AS errors,
       count(DISTINCT eventsource || ':' || eventname) AS distinct_calls,
       count(DISTINCT sourceipaddress) AS source_ips
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
GROUP BY 1, 2, 3
ORDER BY day DESC, calls DESC, principal
LIMIT 1000`,
		},
	},
	{
		Name:  "calls-from-outside-expected-networks",
		Title: "Calls from outside the expected networks",
		Description: "Calls whose source address is a public IP address, counted per address and principal " +
			"(the 500 largest). The rule: sourceIPAddress must be an IPv4 or IPv6 literal (so AWS service names " +
			"such as ec2.amazonaws.com and \"AWS Internal\" are left out) and must not be private or special-purpose: " +
			"10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10, 127.0.0.0/8, 169.254.0.0/16, ::1, fc00::/7, " +
			"fe80::/10 (calls through VPC endpoints carry private addresses). " +
			"Add your offices' and VPNs' public egress ranges to the WHERE clause to leave them out too.",
		SQL: map[string]string{
			"duckdb": `SELECT source_ip_address AS source_ip,
       ` + duckPrincipal + ` AS principal,
       count(*) AS calls,
       count(DISTINCT event_source || ':' || event_name) AS distinct_calls,
       count(DISTINCT account) AS accounts,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen,
       min(user_agent) AS user_agent
FROM events
WHERE (regexp_matches(source_ip_address, '` + ipv4RE + `')
       OR regexp_matches(lower(source_ip_address), '` + ipv6RE + `'))
  AND NOT regexp_matches(lower(source_ip_address), '` + privateIPv4RE + `')
  AND NOT regexp_matches(lower(source_ip_address), '` + privateIPv6RE + `')
GROUP BY 1, 2
ORDER BY calls DESC, source_ip, principal
LIMIT 500`,
			"athena": `SELECT sourceipaddress AS source_ip,
       ` + athenaPrincipal + ` AS principal,
       count(*) AS calls,
       count(DISTINCT eventsource || ':' || eventname) AS distinct_calls,
       count(DISTINCT account) AS accounts,
       min(` + athenaTime + `) AS first_seen,
       max(` + athenaTime + `) AS last_seen,
       min(useragent) AS user_agent
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
  AND (regexp_like(sourceipaddress, '` + ipv4RE + `')
       OR regexp_like(lower(sourceipaddress), '` + ipv6RE + `'))
  AND NOT regexp_like(lower(sourceipaddress), '` + privateIPv4RE + `')
  AND NOT regexp_like(lower(sourceipaddress), '` + privateIPv6RE + `')
GROUP BY 1, 2
ORDER BY calls DESC, source_ip, principal
LIMIT 500`,
		},
	},
	{
		Name:  "events-by-name",
		Title: "Top event names",
		Description: "The 100 most frequent calls (event source and name) with their failed calls, " +
			"the accounts they came from and the first and last occurrence.",
		SQL: map[string]string{
			"duckdb": `SELECT event_source, event_name,
       count(*) AS events,
       count(error_code) AS errors,
       count(DISTINCT account) AS accounts,
       min(event_time) AS first_seen,
       max(event_time) AS last_seen
FROM events
GROUP BY 1, 2
ORDER BY events DESC, event_source, event_name
LIMIT 100`,
			"athena": `SELECT eventsource AS event_source, eventname AS event_name,
       count(*) AS events,
       count(errorcode) AS errors,
       count(DISTINCT account) AS accounts,
       min(` + athenaTime + `) AS first_seen,
       max(` + athenaTime + `) AS last_seen
FROM ` + AthenaTable + `
WHERE ` + athenaWindow + `
GROUP BY 1, 2
ORDER BY events DESC, event_source, event_name
LIMIT 100`,
		},
	},
}

// NamedQueries returns the named queries in a stable order. The result is
// a copy: callers may change it.
func NamedQueries() []Named {
	out := make([]Named, len(named))
	for i, n := range named {
		out[i] = clone(n)
	}
	return out
}

// Lookup returns the named query called name.
func Lookup(name string) (Named, bool) {
	for _, n := range named {
		if n.Name == name {
			return clone(n), true
		}
	}
	return Named{}, false
}

func clone(n Named) Named {
	n.SQL = maps.Clone(n.SQL)
	return n
}
