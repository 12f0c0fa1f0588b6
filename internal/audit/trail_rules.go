package audit

import (
	"fmt"
	"strings"
	"time"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// updateTrail is the CLI call that changes one trail setting.
func updateTrail(t *snapshot.Trail, flags string) string {
	return fmt.Sprintf("aws cloudtrail update-trail --name %s --region %s %s", t.ARN, t.HomeRegion, flags)
}

// perTrail runs fn on every trail that delivers to the central bucket.
func perTrail(e *env, fn func(t *snapshot.Trail) Finding) []Finding {
	var out []Finding
	for _, tr := range e.trails() {
		f := fn(tr.t)
		f.Account, f.Resource = tr.owner, tr.t.ARN
		out = append(out, f)
	}
	return out
}

// boolCheck is a trail rule that looks at one flag.
func boolCheck(ok func(t *snapshot.Trail) bool, field, good, bad, flags string) func(*env, *Rule) []Finding {
	return func(e *env, _ *Rule) []Finding {
		return perTrail(e, func(t *snapshot.Trail) Finding {
			ev := []string{fmt.Sprintf("%s = %t", field, ok(t))}
			if ok(t) {
				return Finding{Status: Pass, Message: good, Evidence: ev}
			}
			return Finding{Status: Fail, Message: bad, Evidence: ev, Remediation: updateTrail(t, flags)}
		})
	}
}

// checkMultiRegion: every account whose logs should reach the central
// bucket has a logging multi-Region trail delivering there. An account
// with no such trail is named; one whose trail list could not be read is
// unknown.
func checkMultiRegion(e *env, _ *Rule) []Finding {
	expected, gap := e.expectedAccounts()
	var out []Finding
	if gap != nil {
		out = append(out, *gap)
	}
	for _, acct := range expected {
		cv := e.coverage(acct)
		want := e.expectedTrailARN(acct)
		var ev []string
		ok := false
		var statusErr *snapshot.CallError
		for _, t := range cv.listed {
			ev = append(ev, fmt.Sprintf("%s delivers to %s, not the central bucket", t.ARN, t.S3BucketName))
		}
		for _, t := range cv.trails {
			logging := "unknown"
			if t.Status != nil {
				logging = fmt.Sprint(t.Status.IsLogging)
			} else {
				statusErr = e.callErr("cloudtrail", t.ARN, "", "GetTrailStatus")
			}
			ev = append(ev, fmt.Sprintf("%s: isMultiRegion = %t, isLogging = %s", t.ARN, t.IsMultiRegion, logging))
			if t.IsMultiRegion && t.Status != nil && t.Status.IsLogging {
				ok = true
			}
		}
		switch {
		case ok:
			out = append(out, Finding{Status: Pass, Account: acct, Resource: want, Evidence: ev,
				Message: "a multi-Region trail logs every Region to the central bucket"})
		case len(cv.trails) == 0 && (cv.unread != nil || cv.missing):
			f := unknown(acct, want, cv.unread, "trails of account "+acct)
			f.Evidence = ev
			out = append(out, f)
		case len(cv.trails) > 0 && statusErr != nil:
			f := unknown(acct, want, statusErr, "trail status")
			f.Evidence = ev
			out = append(out, f)
		default:
			out = append(out, Finding{Status: Fail, Account: acct, Resource: want, Evidence: ev,
				Message:     "no logging multi-Region trail delivers this account's events to " + e.c.Bucket,
				Remediation: e.createTrailFix(acct)})
		}
	}
	return out
}

// createTrailFix creates (or fixes) the configured trail for account.
func (e *env) createTrailFix(account string) string {
	c := e.c
	owner := account
	org := ""
	if c.Trail.Organization {
		owner, org = c.ManagementAccount, " --is-organization-trail"
	}
	prefix := ""
	if c.KeyPrefix != "" {
		prefix = " --s3-key-prefix " + c.KeyPrefix
	}
	kms := ""
	if c.KMSKeyARN != "" {
		kms = " --kms-key-id " + c.KMSKeyARN
	}
	return fmt.Sprintf("in account %s: aws cloudtrail create-trail --name %s --s3-bucket-name %s%s --is-multi-region-trail --include-global-service-events --enable-log-file-validation%s%s --region %s\n"+
		"(or, if the trail exists: aws cloudtrail update-trail --name %s --is-multi-region-trail --region %s)\n"+
		"then: aws cloudtrail start-logging --name %s --region %s",
		owner, c.Trail.Name, c.Bucket, prefix, org, kms, c.HomeRegion,
		c.TrailARN(owner), c.HomeRegion, c.TrailARN(owner), c.HomeRegion)
}

// mgmtCheck is a management-events rule over the given event sources ("" =
// no exclusion at all).
func mgmtCheck(sources ...string) func(*env, *Rule) []Finding {
	return func(e *env, _ *Rule) []Finding {
		return perTrail(e, func(t *snapshot.Trail) Finding {
			if len(t.EventSelectors) == 0 && len(t.AdvancedEventSelectors) == 0 {
				if ce := e.callErr("cloudtrail", t.Name, "", "GetEventSelectors"); ce != nil {
					return unknown("", "", ce, "event selectors")
				}
			}
			var ev, missing []string
			for _, src := range sources {
				cv := managementCoverage(t, src)
				label := src
				if label == "" {
					label = "every event source"
				}
				if !cv.read {
					missing = append(missing, "read events of "+label)
				}
				if !cv.write {
					missing = append(missing, "write events of "+label)
				}
				if len(ev) == 0 {
					ev = append(ev, cv.why...)
				}
			}
			if len(missing) == 0 {
				return Finding{Status: Pass, Evidence: ev, Message: "management events are logged, read and write, for " + sourcesLabel(sources)}
			}
			return Finding{Status: Fail, Evidence: ev, Message: "management events not logged: " + strings.Join(missing, ", "),
				Remediation: fmt.Sprintf(`aws cloudtrail put-event-selectors --trail-name %s --region %s --advanced-event-selectors '[{"Name":"Management events","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]}]'
(put-event-selectors replaces every selector: add your data-event selectors to the same list)`, t.ARN, t.HomeRegion)}
		})
	}
}

func sourcesLabel(sources []string) string {
	if len(sources) == 1 && sources[0] == "" {
		return "every event source with none excluded"
	}
	return "every event source including " + strings.Join(sources, " and ")
}

// cloudWatchMaxAge is how old the latest delivery to CloudWatch Logs may
// be: Prowler fails a trail with none in the last 24 hours.
const cloudWatchMaxAge = 24 * time.Hour

// checkCloudWatch: the trail sends events to CloudWatch Logs, and they
// arrived within a day of the snapshot (judged against the snapshot's time,
// so a live audit and an audit of its snapshot agree).
func checkCloudWatch(e *env, _ *Rule) []Finding {
	return perTrail(e, func(t *snapshot.Trail) Finding {
		ev := []string{"cloudWatchLogsLogGroupArn = " + orNone(t.CloudWatchLogsLogGroupARN)}
		owner := keyAccount(t.ARN)
		if t.CloudWatchLogsLogGroupARN == "" {
			return Finding{Status: Fail, Evidence: ev, Message: "the trail is not integrated with CloudWatch Logs",
				Remediation: updateTrail(t, fmt.Sprintf("--cloud-watch-logs-log-group-arn arn:%s:logs:%s:%s:log-group:aws-cloudtrail-logs-%s:* --cloud-watch-logs-role-arn arn:%s:iam::%s:role/CloudTrail_CloudWatchLogs_Role\n(create the log group and a role CloudTrail can assume with logs:CreateLogStream and logs:PutLogEvents first)",
					e.partition(), t.HomeRegion, owner, t.Name, e.partition(), owner))}
		}
		st := t.Status
		if st == nil {
			f := unknown("", "", e.callErr("cloudtrail", t.ARN, "", "GetTrailStatus"), "trail status (the latest CloudWatch Logs delivery)")
			f.Evidence = ev
			return f
		}
		if e.s.TakenAt.IsZero() {
			f := unknown("", "", nil, "time it was taken, against which the latest CloudWatch Logs delivery is judged")
			f.Evidence = ev
			return f
		}
		taken := e.s.TakenAt.UTC().Format(time.RFC3339)
		ev = append(ev, "snapshot taken at "+taken, "latestCloudWatchLogsDeliveryError = "+orNone(st.LatestCloudWatchLogsDeliveryError))
		fix := fmt.Sprintf("check the role %s can use (logs:CreateLogStream, logs:PutLogEvents on the log group) and that the log group exists: aws cloudtrail get-trail-status --name %s --region %s",
			"the trail's --cloud-watch-logs-role-arn", t.ARN, t.HomeRegion)
		last := st.LatestCloudWatchLogsDeliveryTime
		switch {
		case last == nil:
			ev = append(ev, "latestCloudWatchLogsDeliveryTime = (none)")
			return Finding{Status: Fail, Evidence: ev, Remediation: fix,
				Message: "the trail names a CloudWatch Logs group but has never delivered to it"}
		case e.s.TakenAt.Sub(*last) > cloudWatchMaxAge:
			ev = append(ev, "latestCloudWatchLogsDeliveryTime = "+last.UTC().Format(time.RFC3339))
			return Finding{Status: Fail, Evidence: ev, Remediation: fix,
				Message: fmt.Sprintf("the latest delivery to CloudWatch Logs was %s before the snapshot (more than 24 hours)", e.s.TakenAt.Sub(*last).Round(time.Minute))}
		case st.LatestCloudWatchLogsDeliveryError != "":
			ev = append(ev, "latestCloudWatchLogsDeliveryTime = "+last.UTC().Format(time.RFC3339))
			return Finding{Status: Fail, Evidence: ev, Remediation: fix,
				Message: "CloudTrail reports the latest delivery to CloudWatch Logs failed (" + st.LatestCloudWatchLogsDeliveryError + ")"}
		}
		ev = append(ev, "latestCloudWatchLogsDeliveryTime = "+last.UTC().Format(time.RFC3339))
		return Finding{Status: Pass, Evidence: ev, Message: fmt.Sprintf("the trail delivers to CloudWatch Logs (latest %s before the snapshot)", e.s.TakenAt.Sub(*last).Round(time.Minute))}
	})
}

// checkDelivering: the trail logs and CloudTrail reports no delivery error.
func checkDelivering(e *env, _ *Rule) []Finding {
	return perTrail(e, func(t *snapshot.Trail) Finding {
		st := t.Status
		if st == nil {
			return unknown("", "", e.callErr("cloudtrail", t.Name, "", "GetTrailStatus"), "trail status")
		}
		ev := []string{fmt.Sprintf("isLogging = %t", st.IsLogging),
			"latestDeliveryError = " + orNone(st.LatestDeliveryError),
			"latestDigestDeliveryError = " + orNone(st.LatestDigestDeliveryError)}
		var problems, fixes []string
		if !st.IsLogging {
			problems = append(problems, "logging is stopped")
			fixes = append(fixes, fmt.Sprintf("aws cloudtrail start-logging --name %s --region %s", t.ARN, t.HomeRegion))
		}
		if st.LatestDeliveryError != "" || st.LatestDigestDeliveryError != "" {
			problems = append(problems, "delivery fails ("+strings.TrimSpace(st.LatestDeliveryError+" "+st.LatestDigestDeliveryError)+")")
			fixes = append(fixes, "trailwarden policy bucket --config trailwarden.yaml --existing <(aws s3api get-bucket-policy --bucket "+e.c.Bucket+" --query Policy --output text) --diff",
				"then: aws s3api put-bucket-policy --bucket "+e.c.Bucket+" --policy file://bucket-policy.json (and the key policy: trailwarden policy key)")
		}
		if len(problems) == 0 {
			return Finding{Status: Pass, Evidence: ev, Message: "the trail is logging and delivering without errors"}
		}
		return Finding{Status: Fail, Evidence: ev, Message: "the trail " + strings.Join(problems, " and "), Remediation: strings.Join(fixes, "\n")}
	})
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// dataEventsCheck is the rule that every trail delivering to the central
// bucket logs S3 object-level write (or read) events of every bucket.
func dataEventsCheck(write bool) func(*env, *Rule) []Finding {
	kind, rw := "read", "ReadOnly"
	if write {
		kind, rw = "write", "WriteOnly"
	}
	return func(e *env, _ *Rule) []Finding {
		return perTrail(e, func(t *snapshot.Trail) Finding {
			if len(t.EventSelectors) == 0 && len(t.AdvancedEventSelectors) == 0 {
				if ce := e.callErr("cloudtrail", t.ARN, "", "GetEventSelectors"); ce != nil {
					return unknown("", "", ce, "event selectors")
				}
			}
			ok, why := s3DataCoverage(t, e.partition(), e.c.Bucket, write)
			if ok {
				return Finding{Status: Pass, Evidence: why, Message: "S3 object-level " + kind + " events of every bucket are logged"}
			}
			return Finding{Status: Fail, Evidence: why, Message: "S3 object-level " + kind + " events are not logged for every bucket",
				Remediation: fmt.Sprintf(`aws cloudtrail put-event-selectors --trail-name %s --region %s --advanced-event-selectors '[{"Name":"Management events","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]},{"Name":"S3 object-level events","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"resources.ARN","NotStartsWith":["arn:%s:s3:::%s/"]}]}]'
(put-event-selectors replaces every selector: keep your others in the list. This logs reads and writes; for %s events only (%s), add {"Field":"readOnly","Equals":["%t"]}. Data events are billed per event)`,
					t.ARN, t.HomeRegion, e.partition(), e.c.Bucket, kind, rw, !write)}
		})
	}
}

// checkInsights: every trail delivering to the central bucket has
// CloudTrail Insights enabled.
func checkInsights(e *env, _ *Rule) []Finding {
	return perTrail(e, func(t *snapshot.Trail) Finding {
		ev := []string{fmt.Sprintf("hasInsightSelectors = %t", t.HasInsightSelectors), "insightTypes = " + orNone(strings.Join(t.InsightTypes, ", "))}
		switch {
		case t.HasInsightSelectors && len(t.InsightTypes) > 0:
			return Finding{Status: Pass, Evidence: ev, Message: "CloudTrail Insights is on (" + strings.Join(t.InsightTypes, ", ") + ")"}
		case t.HasInsightSelectors:
			if ce := e.callErr("cloudtrail", t.ARN, "", "GetInsightSelectors"); ce != nil {
				f := unknown("", "", ce, "insight selectors")
				f.Evidence = ev
				return f
			}
		}
		return Finding{Status: Fail, Evidence: ev, Message: "CloudTrail Insights is off: unusual API call and error rates go unnoticed",
			Remediation: fmt.Sprintf(`aws cloudtrail put-insight-selectors --trail-name %s --region %s --insight-selectors '[{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}]'
(Insights is billed per event analysed)`, t.ARN, t.HomeRegion)}
	})
}
