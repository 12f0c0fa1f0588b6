package athena

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/athena"
)

// Athena's JSON 1.1 X-Amz-Target is "AmazonAthena.<Operation>": the
// service's targetPrefix (what botocore and the CLI send) and the Smithy
// service shape name (what the Go SDK v2 sends) are the same string for
// Athena, so there is no shorter form to accept. The fake accepts exactly
// these five operations.
var targets = map[string]string{
	"AmazonAthena.StartQueryExecution": "StartQueryExecution",
	"AmazonAthena.GetQueryExecution":   "GetQueryExecution",
	"AmazonAthena.GetQueryResults":     "GetQueryResults",
	"AmazonAthena.StopQueryExecution":  "StopQueryExecution",
	"AmazonAthena.GetTableMetadata":    "GetTableMetadata",
}

// members are the request members each operation may carry (Athena API
// reference); anything else is a wire-shape error.
var members = map[string]map[string]bool{
	"StartQueryExecution": {"QueryString": true, "ClientRequestToken": true, "QueryExecutionContext": true,
		"ResultConfiguration": true, "WorkGroup": true},
	"GetQueryExecution":  {"QueryExecutionId": true},
	"GetQueryResults":    {"QueryExecutionId": true, "NextToken": true, "MaxResults": true},
	"StopQueryExecution": {"QueryExecutionId": true},
	"GetTableMetadata":   {"CatalogName": true, "DatabaseName": true, "TableName": true, "WorkGroup": true},
}

// isolate points the SDK at static fake credentials and away from the
// machine's AWS config, so tests neither read nor need real accounts.
func isolate(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	conf, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for _, f := range []string{conf, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":           "AKIDTRAILWARDENTEST",
		"AWS_SECRET_ACCESS_KEY":       "fake-secret-for-tests",
		"AWS_CONFIG_FILE":             conf,
		"AWS_SHARED_CREDENTIALS_FILE": creds,
		"AWS_EC2_METADATA_DISABLED":   "true",
	}
	// Empty is unset for the SDK. No region: each test names one.
	for _, k := range []string{"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_ATHENA",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE"} {
		env[k] = ""
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// request is what the fake saw of one call.
type request struct {
	Op     string
	Region string // from the SigV4 credential scope
	Body   map[string]any
}

func (r request) str(key string) string {
	s, _ := r.Body[key].(string)
	return s
}

// reply is a status and a JSON body in Athena's JSON 1.1 wire shape.
type reply struct {
	status int
	body   string
}

func ok(body string) reply { return reply{http.StatusOK, body} }

// apiError is an Athena error reply: HTTP 400 with __type and Message
// (Athena's own exceptions capitalize Message; the front door's throttling
// sends "message").
func apiError(typ, msg string) reply {
	return reply{http.StatusBadRequest, fmt.Sprintf(`{"__type":%q,"Message":%q}`, typ, msg)}
}

// fake is an Athena endpoint: respond answers each request, given how many
// requests of the same operation came before it.
type fake struct {
	t       *testing.T
	URL     string
	respond func(n int, r request) reply

	mu   sync.Mutex
	reqs []request
	ops  map[string]int
}

var scopeRE = regexp.MustCompile(`Credential=AKIDTRAILWARDENTEST/\d{8}/([^/]+)/athena/aws4_request`)

func newFake(t *testing.T, respond func(n int, r request) reply) *fake {
	f := &fake{t: t, respond: respond, ops: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

func (f *fake) serve(w http.ResponseWriter, hr *http.Request) {
	t := f.t
	if hr.Method != http.MethodPost || hr.URL.Path != "/" {
		t.Errorf("request %s %s, want POST /", hr.Method, hr.URL.Path)
	}
	op, known := targets[hr.Header.Get("X-Amz-Target")]
	if !known {
		t.Errorf("X-Amz-Target %q is not one of the five operations", hr.Header.Get("X-Amz-Target"))
	}
	if got := hr.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q, want application/x-amz-json-1.1", got)
	}
	r := request{Op: op}
	if m := scopeRE.FindStringSubmatch(hr.Header.Get("Authorization")); m != nil {
		r.Region = m[1]
	} else {
		t.Errorf("Authorization %q is not SigV4 for athena with the test key", hr.Header.Get("Authorization"))
	}
	raw, _ := io.ReadAll(hr.Body)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&r.Body); err != nil {
		t.Errorf("%s body %q: %v", op, raw, err)
	}
	for k := range r.Body {
		if !members[op][k] {
			t.Errorf("%s: unexpected request member %q", op, k)
		}
	}
	if op != "StartQueryExecution" && op != "GetTableMetadata" && r.str("QueryExecutionId") == "" {
		t.Errorf("%s without QueryExecutionId", op)
	}
	f.mu.Lock()
	n := f.ops[op]
	f.ops[op]++
	f.reqs = append(f.reqs, r)
	seq := len(f.reqs)
	f.mu.Unlock()
	rep := f.respond(n, r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("00000000-0000-0000-0000-%012d", seq))
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

// requests returns the requests of op, or all when op is "".
func (f *fake) requests(op string) []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []request
	for _, r := range f.reqs {
		if op == "" || r.Op == op {
			out = append(out, r)
		}
	}
	return out
}

// newTestClient connects to f in eu-west-1, polling every millisecond and
// with the SDK's retry backoff cut to 1ms.
func newTestClient(t *testing.T, f *fake, o Options) *Client {
	t.Helper()
	o.Endpoint = f.URL
	if o.Region == "" {
		o.Region = "eu-west-1"
	}
	if o.PollInterval == 0 {
		o.PollInterval = time.Millisecond
	}
	c, err := newClient(context.Background(), o, func(ao *athena.Options) {
		ao.Retryer = retry.AddWithMaxBackoffDelay(ao.Retryer, time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Wire-shape builders, as Athena sends them.

const queryID = "a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"

// execution is a GetQueryExecution response in state, shaped like the
// responses of Athena engine version 3.
func execution(state, statementType, extraStatus string) reply {
	completion := ""
	if state == "SUCCEEDED" || state == "FAILED" || state == "CANCELLED" {
		completion = `,"CompletionDateTime":1.709296497812E9`
	}
	return ok(`{"QueryExecution":{"QueryExecutionId":"` + queryID + `",` +
		`"Query":"SELECT eventname, count(*) FROM cloudtrail_logs GROUP BY 1",` +
		`"StatementType":"` + statementType + `",` +
		`"ResultConfiguration":{"OutputLocation":"s3://acme-athena-results/trailwarden/` + queryID + `.csv"},` +
		`"ResultReuseConfiguration":{"ResultReuseByAgeConfiguration":{"Enabled":false}},` +
		`"QueryExecutionContext":{"Database":"trailwarden","Catalog":"awsdatacatalog"},` +
		`"Status":{"State":"` + state + `","SubmissionDateTime":1.709296495124E9` + completion + extraStatus + `},` +
		`"Statistics":{"EngineExecutionTimeInMillis":1620,"DataScannedInBytes":83342,"TotalExecutionTimeInMillis":1831,` +
		`"QueryQueueTimeInMillis":77,"ServicePreProcessingTimeInMillis":41,"QueryPlanningTimeInMillis":412,` +
		`"ServiceProcessingTimeInMillis":93,"ResultReuseInformation":{"ReusedPreviousResult":false}},` +
		`"WorkGroup":"primary",` +
		`"EngineVersion":{"SelectedEngineVersion":"AUTO","EffectiveEngineVersion":"Athena engine version 3"},` +
		`"SubstatementType":"SELECT"}}`)
}

// column is one ColumnInfo as Athena sends it for a query result.
func column(name, typ string, precision int) string {
	return fmt.Sprintf(`{"CatalogName":"hive","SchemaName":"","TableName":"","Name":%q,"Label":%q,"Type":%q,`+
		`"Precision":%d,"Scale":0,"Nullable":"UNKNOWN","CaseSensitive":%v}`, name, name, typ, precision, typ == "varchar")
}

// row is one result row; a nil value is a NULL, which Athena sends as a
// Datum without VarCharValue.
func row(values ...*string) string {
	parts := make([]string, len(values))
	for i, v := range values {
		if v == nil {
			parts[i] = "{}"
		} else {
			parts[i] = fmt.Sprintf(`{"VarCharValue":%q}`, *v)
		}
	}
	return `{"Data":[` + strings.Join(parts, ",") + `]}`
}

func s(v string) *string { return &v }

// results is a GetQueryResults response.
func results(columns []string, rows []string, nextToken string) reply {
	body := `{"UpdateCount":0,"ResultSet":{"Rows":[` + strings.Join(rows, ",") + `],` +
		`"ResultSetMetadata":{"ColumnInfo":[` + strings.Join(columns, ",") + `]}}`
	if nextToken != "" {
		body += `,"NextToken":"` + nextToken + `"`
	}
	return ok(body + "}")
}

// tableMetadata is a GetTableMetadata response for a table with params as
// its TBLPROPERTIES, shaped as Athena returns a Glue table.
func tableMetadata(params map[string]string) reply {
	b, _ := json.Marshal(params)
	return ok(`{"TableMetadata":{"Name":"cloudtrail_logs","CreateTime":1.709296495E9,"LastAccessTime":0.0,` +
		`"TableType":"EXTERNAL_TABLE","Columns":[{"Name":"eventversion","Type":"string"},{"Name":"eventtime","Type":"string"}],` +
		`"PartitionKeys":[{"Name":"account","Type":"string"},{"Name":"region","Type":"string"},{"Name":"timestamp","Type":"string"}],` +
		`"Parameters":` + string(b) + `}}`)
}
