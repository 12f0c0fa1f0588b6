package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
)

// codeStatus is the HTTP status AWS sends with an error code; unlisted
// codes are 400 (the JSON and Query protocols' client-error status).
var codeStatus = map[string]int{
	"SlowDown": 503, "ServiceUnavailable": 503, "InternalError": 500, "InternalFailure": 500,
	"AccessDenied": 403, "NoSuchBucket": 404, "NoSuchBucketPolicy": 404, "NoSuchKey": 404,
	"ServerSideEncryptionConfigurationNotFoundError": 404, "NoSuchLifecycleConfiguration": 404,
	"OwnershipControlsNotFoundError": 404, "NoSuchPublicAccessBlockConfiguration": 404,
	"ObjectLockConfigurationNotFoundError": 404, "NoSuchTagSet": 404,
	"NoSuchEntity": 404, "EntityAlreadyExists": 409, "DeleteConflict": 409,
}

// xmlNS are the Query protocol's response namespaces.
var xmlNS = map[string]string{
	"iam": "https://iam.amazonaws.com/doc/2010-05-08/",
	"sts": "https://sts.amazonaws.com/doc/2011-06-15/",
}

// Error returns an error response in the service's wire shape; status 0
// takes the code's usual status.
func Error(service, code, message string, status int) Response {
	return errorResponse(service, code, message, status, "fake-error")
}

func errorResponse(service, code, message string, status int, reqID string) Response {
	if status == 0 {
		status = codeStatus[code]
		if status == 0 {
			status = http.StatusBadRequest
		}
		if code == "AccessDenied" && service != "s3" && service != "iam" && service != "sts" {
			status = http.StatusBadRequest
		}
	}
	r := Response{Status: status, Header: http.Header{}}
	switch protocols[service] {
	case protoJSON:
		b, _ := json.Marshal(map[string]string{"__type": code, "message": message})
		r.Body = string(b)
	case protoRESTJSON:
		r.Header.Set("X-Amzn-ErrorType", code)
		b, _ := json.Marshal(map[string]string{"message": message})
		r.Body = string(b)
	case protoQuery:
		kind := "Sender"
		if status >= 500 {
			kind = "Receiver"
		}
		r.Body = fmt.Sprintf(`<ErrorResponse xmlns="%s"><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>%s</RequestId></ErrorResponse>`,
			xmlNS[service], kind, esc(code), esc(message), reqID)
	case protoRESTXML:
		r.Body = fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Error><Code>%s</Code><Message>%s</Message><RequestId>%s</RequestId><HostId>fakehost</HostId></Error>`,
			esc(code), esc(message), reqID)
	}
	return r
}

// QueryResult wraps the inner XML of a Query-protocol result the way IAM
// and STS do; inner "" gives a response with metadata only.
func QueryResult(service, action, inner string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<%sResponse xmlns="%s">`, action, xmlNS[service])
	if inner != "" {
		fmt.Fprintf(&b, "<%sResult>%s</%sResult>", action, inner, action)
	}
	fmt.Fprintf(&b, "<ResponseMetadata><RequestId>fake-request</RequestId></ResponseMetadata></%sResponse>", action)
	return b.String()
}

// OK is a 200 response with body.
func OK(body string) Response { return Response{Body: body} }

// JSON is a 200 response with v marshalled.
func JSON(v any) Response {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // test values always marshal
	}
	return Response{Body: string(b)}
}

func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// OwnerCanonicalID is the canonical user id of every bucket owner in the
// fake.
const OwnerCanonicalID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

// notRecorded is what AWS answers for a resource nobody configured: the
// service's "not found" or "not configured" error, or an empty success.
var notRecorded = map[string]Response{
	"s3.GetBucketPolicy":                 {Status: -1, Body: "NoSuchBucketPolicy"},
	"s3.GetBucketEncryption":             {Status: -1, Body: "ServerSideEncryptionConfigurationNotFoundError"},
	"s3.GetBucketLifecycleConfiguration": {Status: -1, Body: "NoSuchLifecycleConfiguration"},
	"s3.GetBucketOwnershipControls":      {Status: -1, Body: "OwnershipControlsNotFoundError"},
	"s3.GetPublicAccessBlock":            {Status: -1, Body: "NoSuchPublicAccessBlockConfiguration"},
	"s3.GetObjectLockConfiguration":      {Status: -1, Body: "ObjectLockConfigurationNotFoundError"},
	"s3.GetBucketTagging":                {Status: -1, Body: "NoSuchTagSet"},
	"s3.GetBucketLogging":                {Body: `<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`},
	"s3.GetBucketVersioning":             {Body: `<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`},
	"s3.GetBucketRequestPayment":         {Body: `<RequestPaymentConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Payer>BucketOwner</Payer></RequestPaymentConfiguration>`},
	"s3.HeadBucket":                      {},
	// A bucket nobody placed elsewhere is in us-east-1 (no constraint).
	"s3.GetBucketLocation": {Body: `<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`},
	// A bucket's ACL as S3 creates it: its owner has FULL_CONTROL.
	"s3.GetBucketAcl": {Body: `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>` + OwnerCanonicalID + `</ID></Owner>` +
		`<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + OwnerCanonicalID +
		`</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList></AccessControlPolicy>`},
	"s3.PutBucketPolicy":                                {Status: 204},
	"s3.DeleteBucketPolicy":                             {Status: 204},
	"cloudtrail.DescribeTrails":                         {Body: `{"trailList":[]}`},
	"cloudtrail.GetTrail":                               {Status: -1, Body: "TrailNotFoundException"},
	"cloudtrail.GetTrailStatus":                         {Status: -1, Body: "TrailNotFoundException"},
	"cloudtrail.GetEventSelectors":                      {Status: -1, Body: "TrailNotFoundException"},
	"cloudtrail.GetInsightSelectors":                    {Status: -1, Body: "TrailNotFoundException"},
	"kms.GetKeyPolicy":                                  {Status: -1, Body: "NotFoundException"},
	"kms.DescribeKey":                                   {Status: -1, Body: "NotFoundException"},
	"kms.GetKeyRotationStatus":                          {Status: -1, Body: "NotFoundException"},
	"iam.GetRole":                                       {Status: -1, Body: "NoSuchEntity"},
	"iam.GetRolePolicy":                                 {Status: -1, Body: "NoSuchEntity"},
	"iam.ListRolePolicies":                              {Status: -1, Body: "NoSuchEntity"},
	"iam.ListAttachedRolePolicies":                      {Status: -1, Body: "NoSuchEntity"},
	"iam.GetPolicy":                                     {Status: -1, Body: "NoSuchEntity"},
	"iam.GetPolicyVersion":                              {Status: -1, Body: "NoSuchEntity"},
	"organizations.DescribeOrganization":                {Status: -1, Body: "AWSOrganizationsNotInUseException"},
	"organizations.ListAccounts":                        {Status: -1, Body: "AWSOrganizationsNotInUseException"},
	"organizations.ListRoots":                           {Status: -1, Body: "AWSOrganizationsNotInUseException"},
	"organizations.ListAWSServiceAccessForOrganization": {Status: -1, Body: "AWSOrganizationsNotInUseException"},
	"organizations.ListPoliciesForTarget":               {Body: `{"Policies":[]}`},
}

// dispatch answers c: STS and the typed state first, then recordings, then
// what AWS says about things that were never configured. w.mu is held.
func (w *World) dispatch(c *Call, reqID string) Response {
	if c.Service == "sts" {
		return w.sts(c, reqID)
	}
	if r, ok := w.state.serve(w, c, reqID); ok {
		return r
	}
	if r, ok := w.records[Key{c.Account, c.Region, c.Service, c.Operation, c.Resource, c.Page}]; ok {
		return r
	}
	if c.Service == "s3" && c.Resource != "" && !w.buckets[c.Resource] && !strings.HasPrefix(c.Resource, "account:") {
		if c.Operation == "HeadBucket" {
			return Response{Status: http.StatusNotFound}
		}
		return errorResponse("s3", "NoSuchBucket", "The specified bucket does not exist", 0, reqID)
	}
	if r, ok := notRecorded[c.Service+"."+c.Operation]; ok {
		if r.Status == -1 {
			return errorResponse(c.Service, r.Body, fmt.Sprintf("%s not found", nonEmpty(c.Resource, c.Operation)), 0, reqID)
		}
		return r
	}
	return errorResponse(c.Service, "InvalidAction", fmt.Sprintf("awsfake: nothing recorded for %s:%s in account %s region %q resource %q page %q",
		c.Service, c.Operation, c.Account, c.Region, c.Resource, c.Page), 0, reqID)
}

func nonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
