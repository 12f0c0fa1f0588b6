package audit

import (
	"fmt"
	"strings"

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

// checkMultiRegion: every source account has a logging multi-Region trail
// delivering to the central bucket.
func checkMultiRegion(e *env, _ *Rule) []Finding {
	var out []Finding
	for _, a := range e.s.Accounts {
		want := e.expectedTrailARN(a.ID)
		var ev []string
		ok, seen := false, false
		var statusErr *snapshot.CallError
		for i := range a.Trails {
			t := &a.Trails[i]
			if t.S3BucketName != e.c.Bucket {
				ev = append(ev, fmt.Sprintf("%s delivers to %s, not the central bucket", t.ARN, t.S3BucketName))
				continue
			}
			seen = true
			logging := "unknown"
			if t.Status != nil {
				logging = fmt.Sprint(t.Status.IsLogging)
			} else {
				statusErr = e.callErr("cloudtrail", t.Name, "", "GetTrailStatus")
			}
			ev = append(ev, fmt.Sprintf("%s: isMultiRegion = %t, isLogging = %s", t.ARN, t.IsMultiRegion, logging))
			if t.IsMultiRegion && t.Status != nil && t.Status.IsLogging {
				ok = true
			}
		}
		switch {
		case ok:
			out = append(out, Finding{Status: Pass, Account: a.ID, Resource: want, Evidence: ev,
				Message: "a multi-Region trail logs every Region to the central bucket"})
		case len(a.Trails) == 0 && e.callErr("cloudtrail", "", a.ID, "DescribeTrails") != nil:
			out = append(out, unknown(a.ID, want, e.callErr("cloudtrail", "", a.ID, "DescribeTrails"), "trails"))
		case seen && statusErr != nil:
			f := unknown(a.ID, want, statusErr, "trail status")
			f.Evidence = ev
			out = append(out, f)
		default:
			out = append(out, Finding{Status: Fail, Account: a.ID, Resource: want, Evidence: ev,
				Message:     "no logging multi-Region trail delivers this account's events to " + e.c.Bucket,
				Remediation: e.createTrailFix(a.ID)})
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

// checkCloudWatch: the trail sends events to CloudWatch Logs.
func checkCloudWatch(e *env, _ *Rule) []Finding {
	return perTrail(e, func(t *snapshot.Trail) Finding {
		ev := []string{"cloudWatchLogsLogGroupArn = " + orNone(t.CloudWatchLogsLogGroupARN)}
		if t.CloudWatchLogsLogGroupARN != "" {
			return Finding{Status: Pass, Evidence: ev, Message: "the trail delivers to CloudWatch Logs"}
		}
		owner := keyAccount(t.ARN)
		return Finding{Status: Fail, Evidence: ev, Message: "the trail is not integrated with CloudWatch Logs",
			Remediation: updateTrail(t, fmt.Sprintf("--cloud-watch-logs-log-group-arn arn:%s:logs:%s:%s:log-group:aws-cloudtrail-logs-%s:* --cloud-watch-logs-role-arn arn:%s:iam::%s:role/CloudTrail_CloudWatchLogs_Role\n(create the log group and a role CloudTrail can assume with logs:CreateLogStream and logs:PutLogEvents first)",
				e.s.Partition, t.HomeRegion, owner, t.Name, e.s.Partition, owner))}
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
