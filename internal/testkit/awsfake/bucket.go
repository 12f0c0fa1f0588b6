package awsfake

import (
	"regexp"
	"strings"
)

// bucketConfigNouns are the bucket sub-resources whose Put/Get/Delete the
// state serves. S3's Get answers with the same XML document its Put takes,
// so the state keeps the body of the last Put and echoes it.
var bucketConfigNouns = map[string]bool{"BucketVersioning": true, "PublicAccessBlock": true, "BucketOwnershipControls": true,
	"BucketEncryption": true, "BucketLifecycleConfiguration": true, "BucketLogging": true, "BucketAcl": true,
	"ObjectLockConfiguration": true}

// noDelete are the sub-resources S3 has no Delete call for.
var noDelete = map[string]bool{"BucketVersioning": true, "BucketLogging": true, "BucketAcl": true, "ObjectLockConfiguration": true}

// SetBucketConfig makes bucket exist with one setting: noun is the S3
// operation's noun (BucketVersioning, PublicAccessBlock,
// BucketOwnershipControls, BucketEncryption, BucketLifecycleConfiguration,
// BucketLogging) and xml the document its Get returns; "" is "not
// configured".
func (w *World) SetBucketConfig(bucket, noun, xml string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buckets[bucket] = true
	w.state.bucketConfigs[bucket+"/"+noun] = xml
}

// BucketConfig is the document of one bucket setting as the state holds
// it ("" when not configured).
func (w *World) BucketConfig(bucket, noun string) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.state.bucketConfigs[bucket+"/"+noun]
}

// bucketLifecycle serves CreateBucket, DeleteBucket and the location of
// the buckets created through the API.
func (s *state) bucketLifecycle(w *World, c *Call, reqID string) (Response, bool) {
	b := c.Resource
	switch c.Operation {
	case "CreateBucket":
		if w.buckets[b] {
			return errorResponse("s3", "BucketAlreadyOwnedByYou", "Your previous request to create the named bucket succeeded and you already own it.", 409, reqID), true
		}
		region := c.Region
		if m := locationRE.FindStringSubmatch(c.Body); m != nil {
			region = m[1]
		}
		w.buckets[b], s.bucketRegions[b] = true, region
		// Since April 2023 a new bucket has ACLs disabled and its public
		// access blocked.
		s.bucketConfigs[b+"/BucketOwnershipControls"] = `<OwnershipControls xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ObjectOwnership>` +
			`BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>`
		s.bucketConfigs[b+"/PublicAccessBlock"] = `<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls>` +
			`<IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>`
		s.bucketPolicies[b] = ""
		return Response{Header: map[string][]string{"Location": {"/" + b}}}, true
	case "DeleteBucket":
		if !w.buckets[b] {
			return errorResponse("s3", "NoSuchBucket", "The specified bucket does not exist", 0, reqID), true
		}
		delete(w.buckets, b)
		delete(s.bucketRegions, b)
		delete(s.bucketPolicies, b)
		for k := range s.bucketConfigs {
			if strings.HasPrefix(k, b+"/") {
				delete(s.bucketConfigs, k)
			}
		}
		return Response{Status: 204}, true
	case "GetBucketLocation":
		region, ok := s.bucketRegions[b]
		if !ok {
			return Response{}, false
		}
		if region == "us-east-1" {
			region = ""
		}
		return OK(`<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + region + `</LocationConstraint>`), true
	}
	return Response{}, false
}

var locationRE = regexp.MustCompile(`<LocationConstraint[^>]*>([^<]*)</LocationConstraint>`)

// bucketConfig serves Get/Put/Delete of a bucket setting held in the
// state; a Get of a setting never set falls through to the recordings.
func (s *state) bucketConfig(w *World, c *Call, reqID string) (Response, bool) {
	var verb, noun string
	for _, v := range []string{"Get", "Put", "Delete"} {
		if n, ok := strings.CutPrefix(c.Operation, v); ok && bucketConfigNouns[n] {
			verb, noun = v, n
		}
	}
	if noun == "" || (verb == "Delete" && noDelete[noun]) || strings.HasPrefix(c.Resource, "account:") {
		return Response{}, false
	}
	k := c.Resource + "/" + noun
	switch verb {
	case "Get":
		doc, ok := s.bucketConfigs[k]
		if !ok {
			return Response{}, false
		}
		if doc == "" {
			r := notRecorded["s3."+c.Operation]
			if r.Status == -1 {
				return errorResponse("s3", r.Body, "The configuration does not exist", 0, reqID), true
			}
			return r, true
		}
		return OK(doc), true
	case "Put":
		if !w.buckets[c.Resource] {
			return errorResponse("s3", "NoSuchBucket", "The specified bucket does not exist", 0, reqID), true
		}
		if r, refused := s.refusePut(w, c, noun, reqID); refused {
			return r, true
		}
		if noun == "BucketAcl" && strings.TrimSpace(c.Body) == "" {
			// A canned ACL (x-amz-acl: private) in a header: the owner
			// keeps FULL_CONTROL and nobody else has a grant.
			s.bucketConfigs[k] = notRecorded["s3.GetBucketAcl"].Body
			return Response{}, true
		}
		s.bucketConfigs[k] = c.Body
		return Response{}, true
	default:
		if !w.buckets[c.Resource] {
			return errorResponse("s3", "NoSuchBucket", "The specified bucket does not exist", 0, reqID), true
		}
		s.bucketConfigs[k] = ""
		return Response{Status: 204}, true
	}
}
