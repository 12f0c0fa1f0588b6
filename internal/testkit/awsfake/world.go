package awsfake

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// DefaultCaller is the account of the base (environment) credentials.
const DefaultCaller = "111111111111"

// Key says which request a recorded response answers. Region is "" for the
// global services (IAM, Organizations, Account); Page is the incoming
// pagination token (NextToken or Marker), "" for the first page.
type Key struct {
	Account, Region, Service, Operation, Resource, Page string
}

// Response is one raw HTTP response. A zero Status means 200; Header adds to
// (or replaces) the protocol's default Content-Type and request id headers.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Call is one request the server received, decoded.
type Call struct {
	Service, Account, Region, Operation string
	// Resource is the bucket, trail, key, role, ... the call names; Page is
	// its pagination token.
	Resource, Page string
	// Params are the request's decoded parameters: top-level JSON members
	// (strings as is, others as compact JSON), Query form fields, or the S3
	// bucket ("Bucket") and query string.
	Params map[string]string
	Body   string
	Status int
	// At is when the request arrived.
	At time.Time
}

// World is the recorded AWS world one test talks to.
type World struct {
	// Caller is the account of the base credentials (the ones that are
	// not the result of AssumeRole).
	Caller string
	// Partition of the ARNs the fake builds ("aws" by default).
	Partition string

	mu      sync.Mutex
	records map[Key]Response
	buckets map[string]bool // buckets with anything recorded: others are NoSuchBucket
	faults  []*Fault
	calls   []Call
	state   state
	seq     int
}

// New returns an empty world whose base credentials belong to DefaultCaller.
func New() *World {
	return &World{Caller: DefaultCaller, Partition: "aws", records: map[Key]Response{}, buckets: map[string]bool{}, state: newState()}
}

// Server is a running World.
type Server struct {
	*World
	URL string
}

// Start serves w on a loopback port until the test ends.
func Start(t testing.TB, w *World) *Server {
	t.Helper()
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	return &Server{World: w, URL: srv.URL}
}

// Record makes key answer with r (replacing an earlier record).
func (w *World) Record(k Key, r Response) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.record(k, r)
}

func (w *World) record(k Key, r Response) {
	k.Region = scopeRegion(k.Service, k.Region)
	w.records[k] = r
	if k.Service == "s3" && k.Resource != "" {
		w.buckets[k.Resource] = true
	}
}

// Calls returns every request received so far, in arrival order.
func (w *World) Calls() []Call {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Call(nil), w.calls...)
}

// CallsTo returns the calls of one service and operation, in order.
func (w *World) CallsTo(service, operation string) []Call {
	var out []Call
	for _, c := range w.Calls() {
		if c.Service == service && c.Operation == operation {
			out = append(out, c)
		}
	}
	return out
}

// Operations lists "service:Operation account region resource" for every
// call, in order: a compact form for asserting call sequences.
func (w *World) Operations() []string {
	var out []string
	for _, c := range w.Calls() {
		s := c.Service + ":" + c.Operation + " " + c.Account
		if c.Region != "" {
			s += " " + c.Region
		}
		if c.Resource != "" {
			s += " " + c.Resource
		}
		out = append(out, s)
	}
	return out
}

// ResetCalls forgets the calls recorded so far.
func (w *World) ResetCalls() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = nil
}

// global services are signed for one region but are the same everywhere.
var global = map[string]bool{"iam": true, "organizations": true, "account": true, "sts": true}

func scopeRegion(service, region string) string {
	if global[service] {
		return ""
	}
	return region
}

// Fault makes matching requests fail. Empty fields match anything; Times is
// how many requests fail before the operation succeeds (0 = always).
type Fault struct {
	Service, Operation        string
	Account, Region, Resource string
	Times                     int
	Code, Message             string
	// Status overrides the code's usual HTTP status.
	Status int

	fired int
}

// Inject adds a fault; the first matching fault that has not run out wins.
func (w *World) Inject(f Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = append(w.faults, &f)
}

// Throttle makes the next n calls of service:operation fail with the
// service's throttling error, then succeed.
func (w *World) Throttle(service, operation string, n int) {
	w.Inject(Fault{Service: service, Operation: operation, Times: n, Code: ThrottleCode(service)})
}

// Deny makes every call of service:operation (in account, "" for all)
// fail with the service's access-denied error.
func (w *World) Deny(service, operation, account string) {
	w.Inject(Fault{Service: service, Operation: operation, Account: account, Code: DeniedCode(service)})
}

func (w *World) fault(c *Call) *Fault {
	for _, f := range w.faults {
		if (f.Service != "" && f.Service != c.Service) || (f.Operation != "" && f.Operation != c.Operation) ||
			(f.Account != "" && f.Account != c.Account) || (f.Region != "" && f.Region != c.Region) ||
			(f.Resource != "" && f.Resource != c.Resource) {
			continue
		}
		if f.Times > 0 && f.fired >= f.Times {
			continue
		}
		f.fired++
		return f
	}
	return nil
}

// ThrottleCode is the throttling error code a service returns.
func ThrottleCode(service string) string {
	switch service {
	case "s3":
		return "SlowDown"
	case "iam", "sts":
		return "Throttling"
	}
	return "ThrottlingException"
}

// DeniedCode is the access-denied error code a service returns.
func DeniedCode(service string) string {
	switch service {
	case "s3", "iam", "sts":
		return "AccessDenied"
	}
	return "AccessDeniedException"
}

func lastAfter(s, sep string) string {
	if i := strings.LastIndex(s, sep); i >= 0 {
		return s[i+len(sep):]
	}
	return s
}
