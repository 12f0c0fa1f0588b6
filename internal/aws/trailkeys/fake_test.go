package trailkeys

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
)

// Targets a CloudTrail endpoint accepts for ListPublicKeys: botocore and the
// CLI send the long form (the service's targetPrefix); the Go SDK v2 sends
// the Smithy shape name. Either is the same operation to AWS.
var listPublicKeysTargets = map[string]bool{
	"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys": true,
	"CloudTrail_20131101.ListPublicKeys":                                    true,
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
	// Empty is unset for the SDK. No region on purpose: every call names one.
	for _, k := range []string{"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDTRAIL",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE"} {
		env[k] = ""
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// request is what the fake server saw of one ListPublicKeys call.
type request struct {
	Region    string // from the SigV4 credential scope
	StartTime json.Number
	EndTime   json.Number
	NextToken string
}

// reply is a status and a JSON body in CloudTrail's JSON 1.1 wire shape.
type reply struct {
	status int
	body   string
}

// fake serves ListPublicKeys from respond, checking every request's wire
// shape the way CloudTrail would.
type fake struct {
	t       *testing.T
	URL     string
	respond func(n int, r request) reply
	delay   time.Duration

	mu   sync.Mutex
	reqs []request
}

var scopeRE = regexp.MustCompile(`Credential=[^/]+/\d{8}/([^/]+)/cloudtrail/aws4_request`)

func newFake(t *testing.T, respond func(n int, r request) reply) *fake {
	f := &fake{t: t, respond: respond}
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
	if got := hr.Header.Get("X-Amz-Target"); !listPublicKeysTargets[got] {
		t.Errorf("X-Amz-Target %q, want ListPublicKeys", got)
	}
	if got := hr.Header.Get("Content-Type"); got != "application/x-amz-json-1.1" {
		t.Errorf("Content-Type %q, want application/x-amz-json-1.1", got)
	}
	var r request
	if m := scopeRE.FindStringSubmatch(hr.Header.Get("Authorization")); m != nil {
		r.Region = m[1]
	} else {
		t.Errorf("Authorization %q is not SigV4 for cloudtrail", hr.Header.Get("Authorization"))
	}
	raw, _ := io.ReadAll(hr.Body)
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var body map[string]any
	if err := dec.Decode(&body); err != nil {
		t.Errorf("request body %q: %v", raw, err)
	}
	for k, v := range body {
		switch k {
		case "StartTime", "EndTime":
			n, ok := v.(json.Number)
			if !ok {
				t.Errorf("%s is %T, want epoch seconds", k, v)
			}
			if k == "StartTime" {
				r.StartTime = n
			} else {
				r.EndTime = n
			}
		case "NextToken":
			r.NextToken, _ = v.(string)
		default:
			t.Errorf("unexpected request member %q", k)
		}
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, r)
	f.mu.Unlock()
	time.Sleep(f.delay)
	rep := f.respond(n, r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Requestid", fmt.Sprintf("00000000-0000-0000-0000-%012d", n))
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fake) requests() []request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]request(nil), f.reqs...)
}

// testKeys are generated once: RSA generation is slow under -race.
var testKeys = sync.OnceValue(func() [2]*rsa.PublicKey {
	var out [2]*rsa.PublicKey
	for i := range out {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		out[i] = &k.PublicKey
	}
	return out
})

// wireValue is Value as CloudTrail sends it: the JSON protocol's base64 of
// the blob, and the blob is DER PKCS#1.
func wireValue(pub *rsa.PublicKey) string {
	return base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(pub))
}

func ok(body string) reply { return reply{http.StatusOK, body} }

// newTestClient connects to f with the SDK's retry backoff cut to 1ms.
func newTestClient(t *testing.T, f *fake, o Options) *Client {
	t.Helper()
	o.Endpoint = f.URL
	c, err := newClient(context.Background(), o, func(co *cloudtrail.Options) {
		co.Retryer = retry.AddWithMaxBackoffDelay(co.Retryer, time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
