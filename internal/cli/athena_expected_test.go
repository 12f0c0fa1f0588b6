package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const orgInput = "testdata/input/org.yaml" // an organization trail, source_accounts: []

// Issue 13 item 7: athena ddl for an organization trail with an empty
// source_accounts projected only the management and log-archive accounts.
// It now projects the organization's active accounts (live, or from a
// snapshot), and refuses when it cannot know them.
func TestAthenaDDL_ProjectsTheWholeOrganization(t *testing.T) {
	s := snapshotWorld(t)
	const want = "'projection.account.values'='111111111111,222222222222,333333333333,444444444444',"

	// Live: Organizations ListAccounts from the management account.
	stdout, stderr, code := run("athena", "ddl", "--config", orgInput, "--endpoint-url", s.URL)
	if code != ExitOK || !strings.Contains(stdout, want) {
		t.Fatalf("live: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "projecting 4 accounts: the active accounts of organization o-a1b2c3d4e5 (Organizations ListAccounts)") ||
		!strings.Contains(stderr, "left out 555555555555: status SUSPENDED") {
		t.Errorf("stderr does not say where the accounts came from:\n%s", stderr)
	}

	// From a snapshot, without AWS.
	s.Deny("organizations", "ListAccounts", "")
	s.ResetCalls()
	stdout, stderr, code = run("athena", "ddl", "--config", orgInput, "--snapshot", snapGolden, "--endpoint-url", s.URL)
	if code != ExitOK || !strings.Contains(stdout, want) {
		t.Fatalf("snapshot: exit %d\n%s%s", code, stdout, stderr)
	}
	if calls := s.Calls(); len(calls) != 0 {
		t.Errorf("with a snapshot, ddl called AWS: %+v", calls[0])
	}

	// Neither: exit 2, what to pass, and no DDL.
	stdout, stderr, code = run("athena", "ddl", "--config", orgInput, "--endpoint-url", s.URL)
	if code != ExitBadInput || stdout != "" || !strings.Contains(stderr, "organization trail of organization o-a1b2c3d4e5") ||
		!strings.Contains(stderr, "ListAccounts in 111111111111: AccessDenied") ||
		!strings.Contains(stderr, "--snapshot") || !strings.Contains(stderr, "--accounts") {
		t.Fatalf("unknown: exit %d\n%s%s", code, stdout, stderr)
	}

	// An explicit list needs no AWS.
	stdout, _, code = run("athena", "ddl", "--config", orgInput, "--accounts", "333333333333,111111111111", "--endpoint-url", s.URL)
	if code != ExitOK || !strings.Contains(stdout, "'projection.account.values'='111111111111,333333333333',") {
		t.Fatalf("explicit: exit %d\n%s", code, stdout)
	}
}

// setup refuses before it creates anything in Athena.
func TestAthenaSetup_RefusesWithoutTheAccounts(t *testing.T) {
	s := snapshotWorld(t)
	s.Deny("organizations", "ListAccounts", "")
	_, stderr, code := run("athena", "setup", "--config", orgInput, "--endpoint-url", s.URL, "--athena-results", "s3://acme-athena-results/tw/")
	if code != ExitBadInput || !strings.Contains(stderr, "organizations:ListAccounts") {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	for _, c := range s.Calls() {
		if c.Service == "athena" {
			t.Fatalf("setup called Athena %s after refusing", c.Operation)
		}
	}
}

// athenaTable is an Athena endpoint whose table projects accounts; it
// refuses to run queries, so a test sees whether one was started.
type athenaTable struct {
	accounts string
	mu       sync.Mutex
	ops      []string
}

func (f *athenaTable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonAthena.")
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.ops = append(f.ops, op)
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if op != "GetTableMetadata" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = io.WriteString(w, `{"__type":"InvalidRequestException","Message":"the test endpoint runs no query"}`)
		return
	}
	var in struct{ CatalogName, DatabaseName, TableName string }
	_ = json.Unmarshal(body, &in)
	if in.CatalogName != "AwsDataCatalog" || in.DatabaseName != "trailwarden" || in.TableName != "cloudtrail_logs" {
		w.WriteHeader(http.StatusBadRequest)
		_, _ = fmt.Fprintf(w, `{"__type":"MetadataException","Message":"no table %s.%s.%s"}`, in.CatalogName, in.DatabaseName, in.TableName)
		return
	}
	_, _ = fmt.Fprintf(w, `{"TableMetadata":{"Name":"cloudtrail_logs","CreateTime":1.709296495E9,"TableType":"EXTERNAL_TABLE",`+
		`"Columns":[{"Name":"eventversion","Type":"string"}],"PartitionKeys":[{"Name":"account","Type":"string"}],`+
		`"Parameters":{"EXTERNAL":"TRUE","projection.enabled":"true","projection.account.type":"enum","projection.account.values":%q}}}`, f.accounts)
}

// query --engine athena refuses a table that projects fewer accounts than
// should deliver (the table issue 13 item 7's DDL made), and runs over one
// that projects them all.
func TestQueryAthena_ChecksTheTableProjectsEveryAccount(t *testing.T) {
	snapshotWorld(t) // isolates the AWS environment
	f := &athenaTable{accounts: "111111111111,222222222222"}
	srv := httptest.NewServer(f)
	defer srv.Close()
	args := []string{"query", "--engine", "athena", "--config", orgInput, "--snapshot", snapGolden, "--named", "root-activity", "--endpoint-url", srv.URL}

	_, stderr, code := run(args...)
	if code != ExitBadInput || !strings.Contains(stderr, "lacks 2 that should deliver (333333333333, 444444444444)") ||
		!strings.Contains(stderr, "'projection.account.values'='111111111111,222222222222,333333333333,444444444444'") {
		t.Fatalf("subset table: exit %d\n%s", code, stderr)
	}
	if strings.Join(f.ops, ",") != "GetTableMetadata" {
		t.Fatalf("calls %v: a query started over a table that skips accounts", f.ops)
	}

	f.ops, f.accounts = nil, "111111111111,222222222222,333333333333,444444444444,555555555555"
	_, stderr, code = run(args...)
	if code != ExitFailure || !strings.Contains(stderr, "the test endpoint runs no query") || len(f.ops) < 2 || f.ops[1] != "StartQueryExecution" {
		t.Fatalf("covering table: exit %d, calls %v\n%s", code, f.ops, stderr)
	}

	// Nothing says which accounts should be there: exit 2, no call.
	f.ops = nil
	_, stderr, code = run("query", "--engine", "athena", "--region", "us-east-1", "--named", "root-activity", "--endpoint-url", srv.URL)
	if code != ExitBadInput || !strings.Contains(stderr, "--accounts") || len(f.ops) != 0 {
		t.Fatalf("no expected set: exit %d, calls %v\n%s", code, f.ops, stderr)
	}
}
