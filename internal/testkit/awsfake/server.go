package awsfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Wire protocols of the services the fake speaks.
const (
	protoJSON     = "json"     // JSON 1.1: CloudTrail, KMS, Organizations
	protoQuery    = "query"    // Query/XML: IAM, STS
	protoRESTXML  = "restxml"  // S3
	protoRESTJSON = "restjson" // Account
)

var protocols = map[string]string{
	"cloudtrail": protoJSON, "kms": protoJSON, "organizations": protoJSON,
	"iam": protoQuery, "sts": protoQuery, "s3": protoRESTXML, "account": protoRESTJSON,
}

var scopeRE = regexp.MustCompile(`Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request`)

// ServeHTTP answers one SDK request.
func (w *World) ServeHTTP(rw http.ResponseWriter, hr *http.Request) {
	raw, _ := io.ReadAll(hr.Body)
	c, err := w.decode(hr, raw)
	if err != nil {
		http.Error(rw, "awsfake: "+err.Error(), http.StatusBadRequest)
		return
	}
	w.mu.Lock()
	w.seq++
	reqID := fmt.Sprintf("fake-%08d", w.seq)
	var resp Response
	if f := w.fault(c); f != nil {
		msg := f.Message
		if msg == "" {
			msg = fmt.Sprintf("injected %s for %s:%s", f.Code, c.Service, c.Operation)
		}
		resp = errorResponse(c.Service, f.Code, msg, f.Status, reqID)
	} else {
		resp = w.dispatch(c, reqID)
	}
	if strings.HasPrefix(c.Resource, "account:") && resp.Status >= 300 {
		resp.Body = s3ControlError(resp.Body)
	}
	c.Status = resp.Status
	if c.Status == 0 {
		c.Status = http.StatusOK
	}
	w.calls = append(w.calls, *c)
	w.mu.Unlock()
	write(rw, hr, c.Service, resp, reqID)
}

// s3ControlError wraps an S3 error body the way S3 Control sends its
// errors: <ErrorResponse><Error>...</Error></ErrorResponse>.
func s3ControlError(body string) string {
	start := strings.Index(body, "<Error>")
	if start < 0 {
		return body
	}
	return `<?xml version="1.0" encoding="UTF-8"?>` + "\n<ErrorResponse>" + body[start:] + "</ErrorResponse>"
}

func write(rw http.ResponseWriter, hr *http.Request, service string, resp Response, reqID string) {
	h := rw.Header()
	switch protocols[service] {
	case protoJSON:
		h.Set("Content-Type", "application/x-amz-json-1.1")
		h.Set("X-Amzn-Requestid", reqID)
	case protoRESTJSON:
		h.Set("Content-Type", "application/json")
		h.Set("X-Amzn-Requestid", reqID)
	case protoQuery:
		h.Set("Content-Type", "text/xml")
		h.Set("X-Amzn-Requestid", reqID)
	case protoRESTXML:
		h.Set("Content-Type", "application/xml")
		h.Set("X-Amz-Request-Id", reqID)
		h.Set("X-Amz-Id-2", "fakehost/"+reqID)
	}
	for k, vs := range resp.Header {
		h[http.CanonicalHeaderKey(k)] = vs
	}
	status := resp.Status
	if status == 0 {
		status = http.StatusOK
	}
	rw.WriteHeader(status)
	if hr.Method != http.MethodHead {
		_, _ = io.WriteString(rw, resp.Body)
	}
}

// decode works out service, region, account, operation and parameters the
// way AWS does, from the signature and the protocol's addressing.
func (w *World) decode(hr *http.Request, raw []byte) (*Call, error) {
	m := scopeRE.FindStringSubmatch(hr.Header.Get("Authorization"))
	if m == nil {
		return nil, fmt.Errorf("request %s %s is not SigV4-signed", hr.Method, hr.URL.Path)
	}
	akid, region, service := m[1], m[2], m[3]
	c := &Call{Service: service, Region: scopeRegion(service, region), Account: w.accountOf(akid), Body: string(raw), Params: map[string]string{}}
	if id := hr.Header.Get("X-Amz-Account-Id"); id != "" {
		c.Account = id // S3 Control addresses the account explicitly
	}
	switch protocols[service] {
	case protoJSON:
		c.Operation = lastAfter(hr.Header.Get("X-Amz-Target"), ".")
		if err := jsonParams(raw, c.Params); err != nil {
			return nil, err
		}
	case protoRESTJSON:
		op := strings.Trim(hr.URL.Path, "/")
		if op == "" {
			return nil, fmt.Errorf("account request without an operation path")
		}
		c.Operation = strings.ToUpper(op[:1]) + op[1:]
		if err := jsonParams(raw, c.Params); err != nil {
			return nil, err
		}
	case protoQuery:
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("query body: %w", err)
		}
		c.Operation = form.Get("Action")
		for k, vs := range form {
			if k != "Action" && k != "Version" {
				c.Params[k] = strings.Join(vs, ",")
			}
		}
	case protoRESTXML:
		s3Operation(hr, c)
	default:
		return nil, fmt.Errorf("service %q is not faked", service)
	}
	if c.Operation == "" {
		return nil, fmt.Errorf("%s request without an operation", service)
	}
	c.Resource = resourceOf(c)
	c.At = time.Now()
	c.Page = c.Params["NextToken"]
	if c.Page == "" {
		c.Page = c.Params["Marker"]
	}
	return c, nil
}

func jsonParams(raw []byte, into map[string]string) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(raw, &body); err != nil {
		return fmt.Errorf("JSON body: %w", err)
	}
	for k, v := range body {
		var s string
		if json.Unmarshal(v, &s) == nil {
			into[k] = s
			continue
		}
		var b bytes.Buffer
		if json.Compact(&b, v) == nil {
			into[k] = b.String()
		}
	}
	return nil
}

// s3Subresources name the bucket sub-resources the fake routes, with the
// noun of their Get/Put/Delete operations.
var s3Subresources = map[string]string{
	"policy": "BucketPolicy", "encryption": "BucketEncryption", "logging": "BucketLogging",
	"lifecycle": "BucketLifecycleConfiguration", "ownershipControls": "BucketOwnershipControls",
	"versioning": "BucketVersioning", "object-lock": "ObjectLockConfiguration",
	"publicAccessBlock": "PublicAccessBlock", "requestPayment": "BucketRequestPayment",
	"acl": "BucketAcl", "location": "BucketLocation", "tagging": "BucketTagging",
	"policyStatus": "BucketPolicyStatus",
}

var s3Verbs = map[string]string{http.MethodGet: "Get", http.MethodPut: "Put", http.MethodDelete: "Delete"}

// s3Operation routes a path-style S3 request (/bucket[/key]?subresource).
func s3Operation(hr *http.Request, c *Call) {
	q := hr.URL.Query()
	for k, vs := range q {
		c.Params[k] = strings.Join(vs, ",")
	}
	path := strings.TrimPrefix(hr.URL.Path, "/")
	if strings.HasPrefix(path, "v20180820/configuration/publicAccessBlock") { // S3 Control
		c.Operation = s3Verbs[hr.Method] + "PublicAccessBlock"
		c.Resource = "account:" + c.Account
		return
	}
	bucket, key, _ := strings.Cut(path, "/")
	c.Params["Bucket"] = bucket
	if key != "" {
		c.Params["Key"] = key
	}
	for sub, noun := range s3Subresources {
		if _, ok := q[sub]; ok {
			c.Operation = s3Verbs[hr.Method] + noun
			return
		}
	}
	switch {
	case hr.Method == http.MethodHead && key == "":
		c.Operation = "HeadBucket"
	case hr.Method == http.MethodHead:
		c.Operation = "HeadObject"
	case hr.Method == http.MethodPut && key == "":
		c.Operation = "CreateBucket"
	case hr.Method == http.MethodDelete && key == "":
		c.Operation = "DeleteBucket"
	case hr.Method == http.MethodGet && key == "":
		c.Operation = "ListObjectsV2"
	default:
		c.Operation = s3Verbs[hr.Method] + "Object"
	}
}

// resourceParams name the parameters that identify the resource of an
// operation; several are joined with "/".
var resourceParams = map[string][]string{
	"iam.GetRolePolicy":                   {"RoleName", "PolicyName"},
	"iam.PutRolePolicy":                   {"RoleName", "PolicyName"},
	"iam.DeleteRolePolicy":                {"RoleName", "PolicyName"},
	"iam.GetPolicy":                       {"PolicyArn"},
	"iam.GetPolicyVersion":                {"PolicyArn", "VersionId"},
	"organizations.ListParents":           {"ChildId"},
	"organizations.ListPoliciesForTarget": {"TargetId", "Filter"},
	"organizations.DescribePolicy":        {"PolicyId"},
	"organizations.DescribeAccount":       {"AccountId"},
	"sts.AssumeRole":                      {"RoleArn"},
}

func resourceOf(c *Call) string {
	if c.Service == "s3" {
		if c.Resource != "" {
			return c.Resource
		}
		return c.Params["Bucket"]
	}
	if names, ok := resourceParams[c.Service+"."+c.Operation]; ok {
		var parts []string
		for _, n := range names {
			parts = append(parts, c.Params[n])
		}
		return strings.Join(parts, "/")
	}
	switch c.Service {
	case "cloudtrail":
		name := c.Params["Name"]
		if name == "" {
			name = c.Params["TrailName"]
		}
		return lastAfter(name, ":trail/")
	case "kms":
		return lastAfter(c.Params["KeyId"], ":key/")
	case "iam":
		return c.Params["RoleName"]
	}
	return ""
}

// accountOf maps an access key id to its account: assumed-role keys carry
// it (ASIA + 12 digits + 4 characters), other keys are the caller's.
func (w *World) accountOf(akid string) string {
	if strings.HasPrefix(akid, "ASIA") && len(akid) >= 16 {
		if id := akid[4:16]; strings.Trim(id, "0123456789") == "" {
			return id
		}
	}
	return w.Caller
}
