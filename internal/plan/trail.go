package plan

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/textdiff"
)

// managementSelector logs every management event, read and write, with no
// event source excluded (so KMS and RDS Data API events are kept).
var managementSelector = snapshot.EventSelector{ReadWriteType: "All", IncludeManagementEvents: true}

// DesiredTrail is the settings the config asks of the trail in owner's
// account: every standard wants it multi-Region, with global service
// events, log file validation and the config's KMS key; CloudWatch Logs
// only when the config names a log group.
func DesiredTrail(c *config.Config, owner string) TrailSettings {
	t := TrailSettings{
		Name: c.Trail.Name, S3BucketName: c.Bucket, S3KeyPrefix: c.KeyPrefix,
		IsMultiRegion: true, IncludeGlobalServiceEvents: true, LogFileValidationEnabled: true,
		KMSKeyID: c.KMSKeyARN, IsOrganization: c.Trail.Organization,
	}
	if c.Trail.CloudWatchLogs.Configured() {
		t.CloudWatchLogs = &CloudWatchLogs{LogGroupARN: c.CloudWatchLogGroupARN(owner), RoleARN: c.CloudWatchRoleARN(owner)}
	}
	return t
}

// DesiredSelectors are the event selectors of a new trail: every
// management event, read and write, nothing excluded.
func DesiredSelectors() Selectors {
	return Selectors{Basic: []snapshot.EventSelector{managementSelector}}
}

func liveSettings(t *snapshot.Trail) TrailSettings {
	return TrailSettings{
		Name: t.Name, S3BucketName: t.S3BucketName, S3KeyPrefix: t.S3KeyPrefix,
		IsMultiRegion: t.IsMultiRegion, IncludeGlobalServiceEvents: t.IncludeGlobalServiceEvents,
		LogFileValidationEnabled: t.LogFileValidationEnabled, KMSKeyID: t.KMSKeyID, IsOrganization: t.IsOrganization,
		CloudWatchLogs: &CloudWatchLogs{LogGroupARN: t.CloudWatchLogsLogGroupARN, RoleARN: t.CloudWatchLogsRoleARN},
	}
}

// settingsText is one "field: value" line per setting, for diffs.
func settingsText(t TrailSettings, logging bool, sel Selectors) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\ns3_bucket: %s\ns3_key_prefix: %s\nmulti_region: %t\nglobal_service_events: %t\n",
		t.Name, t.S3BucketName, t.S3KeyPrefix, t.IsMultiRegion, t.IncludeGlobalServiceEvents)
	fmt.Fprintf(&b, "log_file_validation: %t\nkms_key: %s\norganization: %t\n",
		t.LogFileValidationEnabled, t.KMSKeyID, t.IsOrganization)
	if w := t.CloudWatchLogs; w != nil {
		fmt.Fprintf(&b, "cloudwatch_logs_log_group: %s\ncloudwatch_logs_role: %s\n", w.LogGroupARN, w.RoleARN)
	}
	fmt.Fprintf(&b, "logging: %t\n", logging)
	for _, s := range sel.Basic {
		fmt.Fprintf(&b, "event_selector: read_write=%s management=%t", s.ReadWriteType, s.IncludeManagementEvents)
		if len(s.ExcludeManagementEventSources) > 0 {
			fmt.Fprintf(&b, " exclude=%s", strings.Join(s.ExcludeManagementEventSources, ","))
		}
		for _, d := range s.DataResources {
			fmt.Fprintf(&b, " data=%s:%s", d.Type, strings.Join(d.Values, ","))
		}
		b.WriteString("\n")
	}
	for _, s := range sel.Advanced {
		fmt.Fprintf(&b, "advanced_selector: %q", s.Name)
		for _, f := range s.FieldSelectors {
			fmt.Fprintf(&b, " %s=%s", f.Field, strings.Join(append(append([]string{}, f.Equals...), f.StartsWith...), ","))
			if len(f.NotEquals) > 0 {
				fmt.Fprintf(&b, " %s!=%s", f.Field, strings.Join(f.NotEquals, ","))
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// logsManagement reports whether the selectors log every management event,
// read and write.
func logsManagement(sel Selectors) bool {
	for _, s := range sel.Basic {
		if s.IncludeManagementEvents && s.ReadWriteType == "All" && len(s.ExcludeManagementEventSources) == 0 {
			return true
		}
	}
	for _, s := range sel.Advanced {
		mgmt, narrowed := false, false
		for _, f := range s.FieldSelectors {
			switch f.Field {
			case "eventCategory":
				mgmt = len(f.Equals) == 1 && f.Equals[0] == "Management"
			default:
				// readOnly, eventSource exclusions: not every event.
				narrowed = true
			}
		}
		if mgmt && !narrowed {
			return true
		}
	}
	return false
}

// wantSelectors keeps the live data-event selectors and adds logging of all
// management events.
func wantSelectors(was Selectors) Selectors {
	if len(was.Advanced) > 0 {
		out := Selectors{Advanced: []snapshot.AdvancedEventSelector{{Name: "Management events selector",
			FieldSelectors: []snapshot.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}}}}
		for _, s := range was.Advanced {
			if !isManagement(s) {
				out.Advanced = append(out.Advanced, s)
			}
		}
		return out
	}
	out := Selectors{Basic: []snapshot.EventSelector{managementSelector}}
	for _, s := range was.Basic {
		if len(s.DataResources) > 0 {
			s.IncludeManagementEvents = false
			s.ExcludeManagementEventSources = nil
			out.Basic = append(out.Basic, s)
		}
	}
	return out
}

func isManagement(s snapshot.AdvancedEventSelector) bool {
	for _, f := range s.FieldSelectors {
		if f.Field == "eventCategory" && len(f.Equals) == 1 && f.Equals[0] == "Management" {
			return true
		}
	}
	return false
}

// findTrail returns the trail with the ARN, from the owner's account first,
// and whether the snapshot read the owner's trails at all.
func findTrail(s *snapshot.Snapshot, owner, arn string) (t *snapshot.Trail, read bool) {
	for i := range s.Accounts {
		a := &s.Accounts[i]
		if a.ID == owner {
			read = true
		}
		for j := range a.Trails {
			if a.Trails[j].ARN == arn {
				return &a.Trails[j], true
			}
		}
	}
	for _, e := range s.Errors {
		if e.Service == "cloudtrail" && e.Account == owner {
			read = false
		}
	}
	return nil, read
}

func trailStep(c *config.Config, s *snapshot.Snapshot, owner string, want desired) Step {
	name, region := c.Trail.Name, c.HomeRegion
	st := Step{Kind: KindTrail, Account: owner, Region: region, Name: name, Change: NoOp}
	arn := c.TrailARN(owner)
	t, read := findTrail(s, owner, arn)
	if !read {
		st.Predicted = append(st.Predicted, unknown("trails of account "+owner, s, "cloudtrail"))
		return st
	}
	act := func(op Op) Action { return Action{Op: op, Account: owner, Region: region, Trail: name} }
	set := DesiredTrail(c, owner)
	if t == nil {
		st.Change = Create
		sel := DesiredSelectors()
		create, put := act(OpCreateTrail), act(OpPutEventSelectors)
		create.Settings, put.Selectors = &set, &sel
		st.Diff = textdiff.Unified("live", "desired", "", settingsText(set, true, sel), 3)
		st.Calls = []Call{
			{Do: create, Undo: []Action{act(OpDeleteTrail)}},
			{Do: put},
			{Do: act(OpStartLogging), Undo: []Action{act(OpStopLogging)}},
		}
		st.Predicted = predictTrail(c, s, owner, true, want)
		return st
	}
	prev := liveSettings(t)
	if set.CloudWatchLogs == nil {
		// Not managed: neither the update nor its undo touches it.
		prev.CloudWatchLogs = nil
	}
	wasSel := Selectors{Basic: t.EventSelectors, Advanced: t.AdvancedEventSelectors}
	sel := wasSel
	if !logsManagement(wasSel) {
		sel = wantSelectors(wasSel)
	}
	logging := t.Status != nil && t.Status.IsLogging
	if !prev.Equal(set) {
		do, undo := act(OpUpdateTrail), act(OpUpdateTrail)
		do.Settings, undo.Settings = &set, &prev
		st.Calls = append(st.Calls, Call{Do: do, Undo: []Action{undo}})
	}
	if !logsManagement(wasSel) {
		do, undo := act(OpPutEventSelectors), act(OpPutEventSelectors)
		do.Selectors, undo.Selectors = &sel, &wasSel
		st.Calls = append(st.Calls, Call{Do: do, Undo: []Action{undo}})
	}
	if !logging {
		st.Calls = append(st.Calls, Call{Do: act(OpStartLogging), Undo: []Action{act(OpStopLogging)}})
	}
	if len(st.Calls) == 0 {
		return st
	}
	st.Change = Update
	st.Diff = textdiff.Unified("live", "desired", settingsText(prev, logging, wasSel), settingsText(set, true, sel), 3)
	st.Predicted = predictTrail(c, s, owner, false, want)
	return st
}
