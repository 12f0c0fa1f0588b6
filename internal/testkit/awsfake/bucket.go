package awsfake

import "strings"

// bucketConfigNouns are the bucket sub-resources whose Put/Get/Delete the
// state serves. S3's Get answers with the same XML document its Put takes,
// so the state keeps the body of the last Put and echoes it.
var bucketConfigNouns = map[string]bool{"BucketVersioning": true, "PublicAccessBlock": true, "BucketOwnershipControls": true,
	"BucketEncryption": true, "BucketLifecycleConfiguration": true, "BucketLogging": true}

// noDelete are the sub-resources S3 has no Delete call for.
var noDelete = map[string]bool{"BucketVersioning": true, "BucketLogging": true}

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
