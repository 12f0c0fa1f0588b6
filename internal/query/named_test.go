package query

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

var required = []string{
	"root-activity", "console-logins-without-mfa", "access-denied-by-principal", "pipeline-tampering",
	"new-access-keys", "activity-by-principal", "calls-from-outside-expected-networks", "events-by-name",
}

func TestNamedQueries(t *testing.T) {
	qs := NamedQueries()
	seen := map[string]bool{}
	nameRE := regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	for _, q := range qs {
		if seen[q.Name] {
			t.Errorf("%s: listed twice", q.Name)
		}
		seen[q.Name] = true
		if !nameRE.MatchString(q.Name) || q.Title == "" || q.Description == "" {
			t.Errorf("%s: bad name, or no title or description", q.Name)
		}
		if len(q.SQL) != 2 || strings.TrimSpace(q.SQL["duckdb"]) == "" || strings.TrimSpace(q.SQL["athena"]) == "" {
			t.Errorf("%s: want SQL for duckdb and athena, have %d dialects", q.Name, len(q.SQL))
		}
		for dialect, sql := range q.SQL {
			if !strings.Contains(sql, "ORDER BY") || !regexp.MustCompile(`\nLIMIT [0-9]+$`).MatchString(sql) {
				t.Errorf("%s (%s): unbounded: want ORDER BY and a final LIMIT", q.Name, dialect)
			}
			if strings.Contains(sql, ";") {
				t.Errorf("%s (%s): contains ';'", q.Name, dialect)
			}
		}
		athena := q.SQL["athena"]
		if !strings.Contains(athena, "FROM "+AthenaTable+"\nWHERE "+athenaWindow+"\n") {
			t.Errorf("%s: the Athena SQL must read %s and prune on the timestamp partition first", q.Name, AthenaTable)
		}
		if !strings.Contains(q.SQL["duckdb"], "FROM events\n") {
			t.Errorf("%s: the DuckDB SQL must read the events table", q.Name)
		}
		// Each dialect's functions stay in their dialect.
		for _, f := range []string{"json_extract_string", "regexp_matches", "->>", "user_identity", "count_if(read_only"} {
			if strings.Contains(athena, f) {
				t.Errorf("%s: Athena SQL uses DuckDB's %s", q.Name, f)
			}
		}
		for _, f := range []string{"json_extract_scalar", "regexp_like", "from_iso8601", "useridentity", `"timestamp"`} {
			if strings.Contains(q.SQL["duckdb"], f) {
				t.Errorf("%s: DuckDB SQL uses Athena's %s", q.Name, f)
			}
		}
		if a, d := outputColumns(athena), outputColumns(q.SQL["duckdb"]); !slices.Equal(a, d) {
			t.Errorf("%s: the dialects return different columns:\n athena %v\n duckdb %v", q.Name, a, d)
		}
	}
	for _, name := range required {
		if !seen[name] {
			t.Errorf("named query %s is missing", name)
		}
	}
}

// outputColumns reads the result column names of a SELECT list: the alias
// after AS, else the bare column.
func outputColumns(sql string) []string {
	list := sql[len("SELECT "):strings.Index(sql, "\nFROM ")]
	var cols []string
	depth, start := 0, 0
	for i, r := range list + "," {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
		case ',':
			if depth == 0 {
				item := strings.TrimSpace(list[start:min(i, len(list))])
				if j := strings.LastIndex(item, " AS "); j >= 0 {
					item = item[j+4:]
				}
				cols = append(cols, item)
				start = i + 1
			}
		}
	}
	return cols
}

// duckColumns is the events table of internal/query/duckdb, with its struct
// fields as dotted paths.
var duckColumns = strings.Fields(`event_id event_time event_version event_source event_name aws_region
	source_ip_address user_agent error_code error_message request_id event_type event_category read_only
	management_event recipient_account_id user_identity user_identity.type user_identity.principal_id
	user_identity.arn user_identity.account_id user_identity.access_key_id user_identity.user_name
	user_identity.invoked_by user_identity.identity_provider user_identity.session_context
	user_identity.session_context.attributes user_identity.session_context.attributes.creation_date
	user_identity.session_context.attributes.mfa_authenticated user_identity.session_context.session_issuer
	user_identity.session_context.session_issuer.type user_identity.session_context.session_issuer.principal_id
	user_identity.session_context.session_issuer.arn user_identity.session_context.session_issuer.account_id
	user_identity.session_context.session_issuer.user_name user_identity.session_context.source_identity
	request_parameters response_elements additional_event_data resources tls_details extra
	account region event_date source_key`)

// TestDuckDBColumns checks every identifier of the DuckDB SQL is a column of
// the events table, an alias the query defines, or SQL.
func TestDuckDBColumns(t *testing.T) {
	sqlWords := strings.Fields(`select from where and or not in is null as order by desc asc limit group
		distinct like case when then else end true false cast date filter`)
	for _, q := range NamedQueries() {
		for _, id := range identifiers(q.SQL["duckdb"]) {
			if !slices.Contains(duckColumns, id) && !slices.Contains(sqlWords, strings.ToLower(id)) &&
				!slices.Contains(outputColumns(q.SQL["duckdb"]), id) && id != "events" {
				t.Errorf("%s: %q is not a column of events", q.Name, id)
			}
		}
	}
}

func TestLookup(t *testing.T) {
	q, ok := Lookup("pipeline-tampering")
	if !ok || q.Name != "pipeline-tampering" {
		t.Fatalf("Lookup = %v, %v", q, ok)
	}
	for _, want := range []string{"StopLogging", "DeleteTrail", "UpdateTrail", "PutEventSelectors", "LeaveOrganization"} {
		for dialect, sql := range q.SQL {
			if !strings.Contains(sql, "'"+want+"'") {
				t.Errorf("pipeline-tampering (%s) misses %s", dialect, want)
			}
		}
	}
	// Bucket and key calls are detect's, scoped to the config's pipeline:
	// listed here they were every bucket's and key's.
	for dialect, sql := range q.SQL {
		for _, not := range []string{"s3.amazonaws.com", "kms.amazonaws.com", "PutBucketPolicy", "DisableKey"} {
			if strings.Contains(sql, not) {
				t.Errorf("pipeline-tampering (%s) lists %s for every bucket and key", dialect, not)
			}
		}
	}
	q.SQL["duckdb"] = "changed"
	if again, _ := Lookup("pipeline-tampering"); again.SQL["duckdb"] == "changed" {
		t.Error("Lookup returned shared state")
	}
	all := NamedQueries()
	all[0].SQL["athena"] = "changed"
	if NamedQueries()[0].SQL["athena"] == "changed" {
		t.Error("NamedQueries returned shared state")
	}
	if _, ok := Lookup("no-such-query"); ok {
		t.Error("Lookup found a query that does not exist")
	}
}

// TestOutsideNetworkRule checks the address rule of
// calls-from-outside-expected-networks with Go's regexp, which accepts the
// same syntax as DuckDB (RE2) and Athena (Java) for these patterns.
func TestOutsideNetworkRule(t *testing.T) {
	v4, v6 := regexp.MustCompile(ipv4RE), regexp.MustCompile(ipv6RE)
	p4, p6 := regexp.MustCompile(privateIPv4RE), regexp.MustCompile(privateIPv6RE)
	outside := func(ip string) bool {
		l := strings.ToLower(ip)
		return (v4.MatchString(ip) || v6.MatchString(l)) && !p4.MatchString(l) && !p6.MatchString(l)
	}
	for ip, want := range map[string]bool{
		"203.0.113.7": true, "8.8.8.8": true, "172.32.0.1": true, "172.15.255.1": true, "100.128.0.1": true,
		"100.63.0.1": true, "11.0.0.1": true, "2001:DB8::1": true, "2600:1f18::5": true, "fc0::1": true,
		"10.0.0.1": false, "172.16.0.1": false, "172.31.255.255": false, "192.168.1.1": false,
		"100.64.0.1": false, "100.127.255.255": false, "127.0.0.1": false, "169.254.169.254": false,
		"::1": false, "fd00:ec2::254": false, "FC12:3456::1": false, "fe80::1": false, "febf:1::1": false,
		"ec2.amazonaws.com": false, "AWS Internal": false, "cloudtrail.amazonaws.com": false, "": false,
		"ab.cd": false, "1.2.3": false,
	} {
		if got := outside(ip); got != want {
			t.Errorf("outside(%q) = %v, want %v", ip, got, want)
		}
	}
}

var (
	literalRE = regexp.MustCompile(`'[^']*'`)
	quotedRE  = regexp.MustCompile(`"([^"]*)"`)
	identRE   = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\s*\(?`)
)

// identifiers returns the names a query uses, dotted paths whole: string
// literals are dropped, double-quoted identifiers unquoted, function names
// (followed by a parenthesis) left out.
func identifiers(sql string) []string {
	sql = literalRE.ReplaceAllString(sql, "''")
	sql = quotedRE.ReplaceAllString(sql, "$1")
	var out []string
	for _, m := range identRE.FindAllString(sql, -1) {
		if strings.HasSuffix(m, "(") {
			continue
		}
		out = append(out, strings.TrimSpace(m))
	}
	return out
}
