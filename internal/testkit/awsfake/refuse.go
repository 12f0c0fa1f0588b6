package awsfake

import (
	"encoding/json"
	"encoding/xml"
	"regexp"
	"strings"
)

// refusePut answers the bucket setting writes S3 refuses, before the state
// changes: BucketOwnerEnforced while the ACL grants anyone but the owner,
// access logging to a bucket that is missing, in another region or that
// does not let the logging service write, Object Lock on a bucket without
// versioning, and suspending versioning under Object Lock.
func (s *state) refusePut(w *World, c *Call, noun, reqID string) (Response, bool) {
	b := c.Resource
	fail := func(code, msg string, status int) (Response, bool) {
		return errorResponse("s3", code, msg, status, reqID), true
	}
	switch noun {
	case "BucketOwnershipControls":
		if strings.Contains(c.Body, "BucketOwnerEnforced") && aclGrantsBeyondOwner(w.bucketACL(b)) {
			return fail("InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting", 400)
		}
	case "BucketLogging":
		m := targetRE.FindStringSubmatch(c.Body)
		if m == nil {
			return Response{}, false // logging turned off
		}
		target := m[1]
		if !w.buckets[target] {
			return fail("InvalidTargetBucketForLogging", "The target bucket for logging does not exist", 400)
		}
		if from, to := w.bucketRegion(b, c.Region), w.bucketRegion(target, ""); to != "" && from != to {
			return fail("CrossLocationLoggingProhibitted", "Cross S3 location logging not allowed.", 403)
		}
		if !loggingAllowed(s.bucketPolicies[target]) && !strings.Contains(w.bucketACL(target), "/s3/LogDelivery<") {
			return fail("InvalidTargetBucketForLogging", "You must either provide the logging service access in the target bucket policy or give the log-delivery group WRITE and READ_ACP permissions to the target bucket", 400)
		}
	case "ObjectLockConfiguration":
		if !strings.Contains(s.bucketConfigs[b+"/BucketVersioning"], "<Status>Enabled</Status>") {
			return fail("InvalidBucketState", "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration", 409)
		}
	case "BucketVersioning":
		if strings.Contains(c.Body, "Suspended") && strings.Contains(s.bucketConfigs[b+"/ObjectLockConfiguration"], "<ObjectLockEnabled>Enabled</ObjectLockEnabled>") {
			return fail("InvalidBucketState", "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.", 409)
		}
	}
	return Response{}, false
}

var targetRE = regexp.MustCompile(`<TargetBucket>([^<]*)</TargetBucket>`)

// bucketACL is the ACL document GetBucketAcl would return for bucket.
func (w *World) bucketACL(bucket string) string {
	if doc := w.state.bucketConfigs[bucket+"/BucketAcl"]; doc != "" {
		return doc
	}
	for k, r := range w.records {
		if k.Service == "s3" && k.Operation == "GetBucketAcl" && k.Resource == bucket && r.Status < 300 {
			return r.Body
		}
	}
	return notRecorded["s3.GetBucketAcl"].Body
}

// bucketRegion is the region of bucket: where it was created, or what a
// recorded GetBucketLocation says, else dflt.
func (w *World) bucketRegion(bucket, dflt string) string {
	if r, ok := w.state.bucketRegions[bucket]; ok {
		return r
	}
	for k, r := range w.records {
		if k.Service == "s3" && k.Operation == "GetBucketLocation" && k.Resource == bucket && r.Status < 300 {
			if m := locationRE.FindStringSubmatch(r.Body); m != nil && m[1] != "" {
				return m[1]
			}
			if strings.Contains(r.Body, "LocationConstraint") {
				return "us-east-1"
			}
		}
	}
	return dflt
}

type aclDoc struct {
	Owner  string `xml:"Owner>ID"`
	Grants []struct {
		ID    string `xml:"Grantee>ID"`
		URI   string `xml:"Grantee>URI"`
		Email string `xml:"Grantee>EmailAddress"`
	} `xml:"AccessControlList>Grant"`
}

// aclGrantsBeyondOwner reports whether an ACL grants anything to anyone
// but the bucket owner: what S3 refuses under BucketOwnerEnforced.
func aclGrantsBeyondOwner(doc string) bool {
	var a aclDoc
	if xml.Unmarshal([]byte(doc), &a) != nil {
		return false
	}
	for _, g := range a.Grants {
		if g.ID != a.Owner || g.URI != "" || g.Email != "" {
			return true
		}
	}
	return false
}

// loggingAllowed is a coarse reading of a target bucket policy: some
// statement allows the logging service, and no Deny names it (or
// everyone) for s3:PutObject. Conditions are not evaluated.
func loggingAllowed(policy string) bool {
	var doc struct {
		Statement []struct {
			Effect    string
			Principal json.RawMessage
			Action    json.RawMessage
		}
	}
	if json.Unmarshal([]byte(policy), &doc) != nil {
		return false
	}
	allowed := false
	for _, st := range doc.Statement {
		p, a := string(st.Principal), string(st.Action)
		names := strings.Contains(p, "logging.s3.amazonaws.com")
		everyone := p == `"*"` || strings.Contains(p, `"AWS":"*"`)
		puts := strings.Contains(a, "s3:PutObject") || strings.Contains(a, `"s3:*"`) || strings.Contains(a, `"*"`)
		switch {
		case st.Effect == "Deny" && (names || everyone) && puts:
			return false
		case st.Effect == "Allow" && names && puts:
			allowed = true
		}
	}
	return allowed
}
