package awsfake

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
)

func (t *Trail) arn(w *World, account string) string {
	return fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", w.Partition, t.HomeRegion, account, t.Name)
}

// wire is the trail in DescribeTrails' and GetTrail's shape.
func (t *Trail) wire(w *World, account string) map[string]any {
	m := map[string]any{
		"Name": t.Name, "S3BucketName": t.S3BucketName, "IncludeGlobalServiceEvents": t.IncludeGlobalServiceEvents,
		"IsMultiRegionTrail": t.IsMultiRegion, "HomeRegion": t.HomeRegion, "TrailARN": t.arn(w, account),
		"LogFileValidationEnabled": t.LogFileValidation, "HasCustomEventSelectors": t.EventSelectors != "" || t.AdvancedEventSelectors != "",
		"HasInsightSelectors": t.Insights != "", "IsOrganizationTrail": t.IsOrganization,
	}
	if t.S3KeyPrefix != "" {
		m["S3KeyPrefix"] = t.S3KeyPrefix
	}
	if t.KMSKeyID != "" {
		m["KmsKeyId"] = t.KMSKeyID
	}
	if t.CloudWatchLogsLogGroupARN != "" {
		m["CloudWatchLogsLogGroupArn"] = t.CloudWatchLogsLogGroupARN
	}
	if t.CloudWatchLogsRoleARN != "" {
		m["CloudWatchLogsRoleArn"] = t.CloudWatchLogsRoleARN
	}
	return m
}

// defaultSelectors is what GetEventSelectors returns for a trail that
// never had selectors set: all management events.
const defaultSelectors = `[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[],"ExcludeManagementEventSources":[]}]`

func (s *state) cloudtrail(w *World, c *Call, reqID string) (Response, bool) {
	orgTrails := s.organizationTrails(c.Account)
	if !s.trailAccounts[c.Account] {
		_, recorded := w.records[Key{c.Account, c.Region, c.Service, c.Operation, c.Resource, c.Page}]
		switch {
		case c.Operation == "CreateTrail":
			s.trailAccounts[c.Account] = true
		case c.Operation == "DescribeTrails" && len(orgTrails) > 0 && !recorded:
			// Member accounts see the organization's trails.
		default:
			return Response{}, false
		}
	}
	if c.Operation == "DescribeTrails" {
		var list []map[string]any
		var names []string
		for k, t := range s.trails {
			if strings.HasPrefix(k, c.Account+"/") && (t.IsMultiRegion || t.HomeRegion == c.Region) {
				names = append(names, k)
			}
		}
		names = append(names, orgTrails...)
		sort.Strings(names)
		for _, k := range names {
			t := s.trails[k]
			if t.IsMultiRegion || t.HomeRegion == c.Region {
				owner, _, _ := strings.Cut(k, "/")
				list = append(list, t.wire(w, owner))
			}
		}
		if list == nil {
			list = []map[string]any{}
		}
		return JSON(map[string]any{"trailList": list}), true
	}
	k := c.Account + "/" + c.Resource
	t, ok := s.trails[k]
	notFound := func() (Response, bool) {
		return errorResponse("cloudtrail", "TrailNotFoundException",
			fmt.Sprintf("Unknown trail: %s for the user: %s", c.Resource, c.Account), 0, reqID), true
	}
	p := c.Params
	flag := func(name string, into *bool) {
		if v, ok := p[name]; ok {
			*into = v == "true"
		}
	}
	str := func(name string, into *string) {
		if v, ok := p[name]; ok {
			*into = v
		}
	}
	if c.Operation == "CreateTrail" || c.Operation == "UpdateTrail" {
		if r, bad := s.checkCloudWatch(c, t, reqID); bad {
			return r, true
		}
	}
	switch c.Operation {
	case "CreateTrail":
		if ok {
			return errorResponse("cloudtrail", "TrailAlreadyExistsException", "Trail "+c.Resource+" already exists for customer: "+c.Account, 0, reqID), true
		}
		if !w.buckets[p["S3BucketName"]] {
			return errorResponse("cloudtrail", "S3BucketDoesNotExistException", "S3 bucket "+p["S3BucketName"]+" does not exist.", 0, reqID), true
		}
		t = &Trail{Name: c.Resource, HomeRegion: c.Region, IncludeGlobalServiceEvents: true}
		s.trails[k] = t
	case "DeleteTrail":
		if !ok {
			return notFound()
		}
		delete(s.trails, k)
		return OK("{}"), true
	}
	if t == nil {
		return notFound()
	}
	switch c.Operation {
	case "CreateTrail", "UpdateTrail":
		str("S3BucketName", &t.S3BucketName)
		str("S3KeyPrefix", &t.S3KeyPrefix)
		str("KmsKeyId", &t.KMSKeyID)
		str("CloudWatchLogsLogGroupArn", &t.CloudWatchLogsLogGroupARN)
		str("CloudWatchLogsRoleArn", &t.CloudWatchLogsRoleARN)
		flag("IncludeGlobalServiceEvents", &t.IncludeGlobalServiceEvents)
		flag("IsMultiRegionTrail", &t.IsMultiRegion)
		flag("EnableLogFileValidation", &t.LogFileValidation)
		flag("IsOrganizationTrail", &t.IsOrganization)
		m := t.wire(w, c.Account)
		delete(m, "HasCustomEventSelectors")
		delete(m, "HasInsightSelectors")
		delete(m, "HomeRegion")
		return JSON(m), true
	case "GetTrail":
		return JSON(map[string]any{"Trail": t.wire(w, c.Account)}), true
	case "GetTrailStatus":
		st := map[string]any{"IsLogging": t.Logging}
		if t.Logging && t.CloudWatchLogsLogGroupARN != "" {
			// A logging trail delivers to its log group within minutes;
			// the fake reports a delivery at the time of the question.
			st["LatestCloudWatchLogsDeliveryTime"] = float64(time.Now().Unix())
		}
		return JSON(st), true
	case "StartLogging", "StopLogging":
		t.Logging = c.Operation == "StartLogging"
		return OK("{}"), true
	case "GetEventSelectors", "PutEventSelectors":
		if c.Operation == "PutEventSelectors" {
			t.EventSelectors, t.AdvancedEventSelectors = p["EventSelectors"], p["AdvancedEventSelectors"]
		}
		out := map[string]any{"TrailARN": t.arn(w, c.Account)}
		switch {
		case t.AdvancedEventSelectors != "":
			out["AdvancedEventSelectors"] = json.RawMessage(t.AdvancedEventSelectors)
		case t.EventSelectors != "":
			out["EventSelectors"] = json.RawMessage(t.EventSelectors)
		default:
			out["EventSelectors"] = json.RawMessage(defaultSelectors)
		}
		return JSON(out), true
	case "GetInsightSelectors":
		if t.Insights == "" {
			return errorResponse("cloudtrail", "InsightNotEnabledException", "Trail "+t.Name+" does not have Insights enabled.", 0, reqID), true
		}
		return JSON(map[string]any{"TrailARN": t.arn(w, c.Account), "InsightSelectors": json.RawMessage(t.Insights)}), true
	}
	return Response{}, false
}

// checkCloudWatch refuses CloudWatch Logs settings as CloudTrail does: the
// log group and the role go together, and both must be in the trail's
// account, the log group in its home region.
func (s *state) checkCloudWatch(c *Call, t *Trail, reqID string) (Response, bool) {
	group, role := "", ""
	if t != nil {
		group, role = t.CloudWatchLogsLogGroupARN, t.CloudWatchLogsRoleARN
	}
	if v, ok := c.Params["CloudWatchLogsLogGroupArn"]; ok {
		group = v
	}
	if v, ok := c.Params["CloudWatchLogsRoleArn"]; ok {
		role = v
	}
	home := c.Region
	if t != nil {
		home = t.HomeRegion
	}
	fail := func(code, msg string) (Response, bool) { return errorResponse("cloudtrail", code, msg, 0, reqID), true }
	switch {
	case group == "" && role == "":
		return Response{}, false
	case group == "":
		return fail("InvalidCloudWatchLogsLogGroupArnException", "You must specify a log group and a role ARN.")
	case role == "":
		return fail("InvalidCloudWatchLogsRoleArnException", "You must specify a log group and a role ARN.")
	}
	g := strings.Split(group, ":")
	if len(g) < 7 || g[2] != "logs" || g[3] != home || g[4] != c.Account || g[5] != "log-group" {
		return fail("InvalidCloudWatchLogsLogGroupArnException", "Access denied. Verify in IAM that the role has adequate permissions.")
	}
	r := strings.Split(role, ":")
	if len(r) != 6 || r[2] != "iam" || r[4] != c.Account || !strings.HasPrefix(r[5], "role/") {
		return fail("InvalidCloudWatchLogsRoleArnException", "Access denied. Verify in IAM that the role has adequate permissions.")
	}
	return Response{}, false
}

// organizationTrails are the keys of the organization trails other
// accounts own, which CloudTrail lists in every member account too. The
// fake does not track membership: every account is taken as a member.
func (s *state) organizationTrails(account string) []string {
	var out []string
	for k, t := range s.trails {
		if t.IsOrganization && !strings.HasPrefix(k, account+"/") {
			out = append(out, k)
		}
	}
	return out
}
