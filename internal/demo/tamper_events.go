package demo

import (
	"time"
)

// PipelineEvent is a tampering event the demo plants at a known time, so
// detections and queries can be checked against ground truth.
type PipelineEvent struct {
	Account   string    `json:"account"`
	Region    string    `json:"region"`
	Time      time.Time `json:"time"`
	EventName string    `json:"event_name"`
	EventID   string    `json:"event_id"`
}

// pipelineCalls are the calls that weaken the logging pipeline.
var pipelineCalls = []struct {
	source, name string
	target       func(o *Org) map[string]any
}{
	{"cloudtrail.amazonaws.com", "StopLogging", func(o *Org) map[string]any { return map[string]any{"name": o.TrailARN()} }},
	{"cloudtrail.amazonaws.com", "UpdateTrail", func(o *Org) map[string]any {
		return map[string]any{"name": o.TrailARN(), "enableLogFileValidation": false}
	}},
	{"cloudtrail.amazonaws.com", "PutEventSelectors", func(o *Org) map[string]any {
		return map[string]any{"trailName": o.TrailARN(), "eventSelectors": []any{map[string]any{"readWriteType": "WriteOnly", "includeManagementEvents": true}}}
	}},
	{"s3.amazonaws.com", "PutBucketPolicy", func(o *Org) map[string]any {
		return map[string]any{"bucketName": o.Bucket, "bucketPolicy": map[string]any{"Version": "2012-10-17"}}
	}},
	{"s3.amazonaws.com", "PutBucketLifecycle", func(o *Org) map[string]any {
		return map[string]any{"bucketName": o.Bucket, "LifecycleConfiguration": map[string]any{"Rule": map[string]any{"Expiration": map[string]any{"Days": 1}}}}
	}},
	{"s3.amazonaws.com", "DeleteBucketEncryption", func(o *Org) map[string]any { return map[string]any{"bucketName": o.Bucket} }},
	{"kms.amazonaws.com", "DisableKey", func(o *Org) map[string]any { return map[string]any{"keyId": o.KeyARN} }},
	{"kms.amazonaws.com", "ScheduleKeyDeletion", func(o *Org) map[string]any { return map[string]any{"keyId": o.KeyARN, "pendingWindowInDays": 7} }},
	{"cloudtrail.amazonaws.com", "DeleteTrail", func(o *Org) map[string]any { return map[string]any{"name": o.TrailARN()} }},
}

// pipelineEvent builds the i-th tampering event: trail changes come from
// the management account, bucket and key changes from the log archive.
func (g *gen) pipelineEvent(i int, at time.Time) (Record, PipelineEvent) {
	call := pipelineCalls[i%len(pipelineCalls)]
	acct := g.org.Management
	if call.source != "cloudtrail.amazonaws.com" {
		acct = g.org.LogArchive
	}
	id := g.assumed(acct, "Admin", g.pick("mallory", "dave"), i%2 == 0, at)
	rec := g.record(acct, g.org.HomeRegion, at, id, api{source: call.source, name: call.name, params: call.target(g.org)})
	return rec, PipelineEvent{Account: acct, Region: g.org.HomeRegion, Time: at, EventName: call.name, EventID: rec.EventID}
}
