package plan

import (
	"fmt"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// SidAccessLogs is the statement of the access log bucket's policy that
// lets S3's logging service write the central bucket's access logs.
const SidAccessLogs = config.SidPrefix + "S3ServerAccessLogs"

const loggingService = "logging.s3.amazonaws.com"

// accessLogStatement lets only the logging service write only the central
// bucket's logs, only under its prefix.
func accessLogStatement(c *config.Config, d config.DesiredBucket, account string) (policy.Statement, error) {
	text := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Sid":%q,"Effect":"Allow","Principal":{"Service":%q},"Action":"s3:PutObject",`+
		`"Resource":"arn:%s:s3:::%s/%s*","Condition":{"ArnLike":{"aws:SourceArn":%q},"StringEquals":{"aws:SourceAccount":%q}}}]}`,
		SidAccessLogs, loggingService, c.Partition(), d.AccessLogBucket, d.AccessLogPrefix, c.BucketARN(), account)
	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return policy.Statement{}, fmt.Errorf("plan access log bucket policy: %w", err)
	}
	return doc.Statements[0], nil
}

// loggingSteps are the access log bucket (created, or its policy
// completed) and the central bucket's server access logging.
func loggingSteps(c *config.Config, s *snapshot.Snapshot, b *snapshot.Bucket, region string, d config.DesiredBucket, evals *access.Cache) ([]Step, error) {
	target := Step{Kind: KindAccessLogTarget, Account: b.Account, Region: region, Name: d.AccessLogBucket, Change: NoOp}
	logging := Step{Kind: KindBucketLogging, Account: b.Account, Region: region, Name: c.Bucket, Change: NoOp}
	bucketAct := func(op Op, bucket string) Action {
		return Action{Op: op, Account: b.Account, Region: region, Bucket: bucket}
	}

	stmt, err := accessLogStatement(c, d, b.Account)
	if err != nil {
		return nil, err
	}
	t := s.AccessLogTarget
	switch {
	case t == nil || t.Name != d.AccessLogBucket:
		target.Change = Update
		target.Predicted = append(target.Predicted, unknown("access log bucket "+d.AccessLogBucket, s, "s3"))
	case bucketReadFailed(s, d.AccessLogBucket, "HeadBucket", "GetBucketLocation", "GetBucketPolicy") != nil:
		target.Change = Update
		target.Predicted = append(target.Predicted, failedRead("access log bucket "+d.AccessLogBucket,
			bucketReadFailed(s, d.AccessLogBucket, "HeadBucket", "GetBucketLocation", "GetBucketPolicy")))
	case !t.Exists:
		doc := &policy.Document{Version: "2012-10-17", Statements: []policy.Statement{stmt}}
		create := bucketAct(OpCreateBucket, d.AccessLogBucket)
		create.ObjectOwnership = config.OwnershipBucketOwnerForced
		put := bucketAct(OpPutBucketPolicy, d.AccessLogBucket)
		put.Document = compact(doc)
		target.Change, target.Diff = Create, policyDiff(nil, doc)
		// Deleting the bucket removes its policy; it fails while the bucket
		// holds logs, which a rollback then reports.
		target.Calls = []Call{{Do: create, Undo: []Action{bucketAct(OpDeleteBucket, d.AccessLogBucket)}}, {Do: put}}
		if miss := loggingDenied(c, d, b.Account, doc, evals); miss != "" {
			target.Predicted = append(target.Predicted, miss2(miss, d))
		}
	default:
		if t.Region != "" && t.Region != region {
			target.Predicted = append(target.Predicted, Prediction{Code: "CrossLocationLoggingProhibitted",
				Message: fmt.Sprintf("access log bucket %s is in %s but %s is in %s; S3 delivers access logs only within one region", d.AccessLogBucket, t.Region, c.Bucket, region),
				Fix:     "name a bucket in " + region + " as access_log_bucket, or leave it out to use " + c.Bucket + "-access-logs"})
		}
		live, err := parseLive("bucket policy of "+d.AccessLogBucket, t.Policy)
		if err != nil {
			return nil, err
		}
		want := &policy.Document{Version: "2012-10-17"}
		if live != nil {
			want = live.Clone()
			kept := want.Statements[:0]
			for _, st := range want.Statements {
				if st.Sid != SidAccessLogs {
					kept = append(kept, st)
				}
			}
			want.Statements = kept
		}
		want.Statements = append(want.Statements, stmt)
		if live == nil || !policy.Equal(live, want) {
			do := bucketAct(OpPutBucketPolicy, d.AccessLogBucket)
			do.Document = compact(want)
			undo := bucketAct(OpDeleteBucketPolicy, d.AccessLogBucket)
			if live != nil {
				undo = bucketAct(OpPutBucketPolicy, d.AccessLogBucket)
				undo.Document = t.Policy
			}
			target.Change, target.Diff = Update, policyDiff(live, want)
			target.Calls = []Call{{Do: do, Undo: []Action{undo}}}
		}
		if miss := loggingDenied(c, d, b.Account, want, evals); miss != "" {
			target.Predicted = append(target.Predicted, miss2(miss, d))
		}
	}

	wantLog := &snapshot.Logging{TargetBucket: d.AccessLogBucket, TargetPrefix: d.AccessLogPrefix}
	if e := bucketReadFailed(s, c.Bucket, "GetBucketLogging"); e != nil {
		logging.Change = Update
		logging.Predicted = append(logging.Predicted, failedRead("server access logging of "+c.Bucket, e))
		return []Step{target, logging}, nil
	}
	if b.Logging == nil || *b.Logging != *wantLog {
		was, now := "logging: off\n", fmt.Sprintf("target: s3://%s/%s\n", wantLog.TargetBucket, wantLog.TargetPrefix)
		if b.Logging != nil {
			was = fmt.Sprintf("target: s3://%s/%s\n", b.Logging.TargetBucket, b.Logging.TargetPrefix)
		}
		do := bucketAct(OpPutBucketLogging, c.Bucket)
		do.Logging = wantLog
		undo := bucketAct(OpPutBucketLogging, c.Bucket)
		if b.Logging != nil {
			l := *b.Logging
			undo.Logging = &l
		}
		logging.Change, logging.Diff = Update, settingDiff(was, now)
		logging.Calls = []Call{{Do: do, Undo: []Action{undo}}}
		if len(target.Predicted) > 0 {
			logging.Predicted = append(logging.Predicted, Prediction{Code: "DependencyBlocked",
				Message: "server access logging needs " + target.Title() + ", which is blocked", Fix: "fix the blocked step above first"})
		}
	}
	return []Step{target, logging}, nil
}

func miss2(miss string, d config.DesiredBucket) Prediction {
	return Prediction{Code: "InvalidTargetBucketForLogging",
		Message: "the desired policy of " + d.AccessLogBucket + " does not let S3's logging service " + miss,
		Fix:     "remove the Deny statements of " + d.AccessLogBucket + "'s policy that match " + loggingService + " writing under " + d.AccessLogPrefix}
}

// loggingDenied returns what the logging service cannot do under doc, or "".
func loggingDenied(c *config.Config, d config.DesiredBucket, account string, doc *policy.Document, evals *access.Cache) string {
	ev, err := evals.Target(access.Bucket, doc, false)
	if err != nil {
		return "be checked: the policy does not compile: " + err.Error()
	}
	r := eval.Request{Principal: eval.Principal{Kind: eval.KindService, Service: loggingService}, Action: "s3:PutObject",
		Resource:        fmt.Sprintf("arn:%s:s3:::%s/%s2026-01-01-00-00-00-0123456789ABCDEF", c.Partition(), d.AccessLogBucket, d.AccessLogPrefix),
		ResourceAccount: account,
		Context:         map[string][]string{"aws:SourceArn": {c.BucketARN()}, "aws:SourceAccount": {account}}}
	if res := ev.Evaluate(r); res.Decision != eval.Allowed {
		return fmt.Sprintf("write %s (%s)", r.Resource, res.Decision)
	}
	return ""
}
