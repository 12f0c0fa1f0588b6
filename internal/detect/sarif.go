package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"path"
	"strconv"
	"strings"

	"github.com/trailwarden/trailwarden/internal/audit"
)

// DocsURL documents detect and the built-in rules.
const DocsURL = "https://github.com/trailwarden/trailwarden/blob/main/docs/detect.md"

// sarifLevel maps a Sigma level to SARIF's, as audit maps severities.
func sarifLevel(level string) string {
	switch level {
	case "critical", "high":
		return "error"
	case "medium":
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub code scanning's score, as audit gives it.
func securitySeverity(level string) string {
	switch level {
	case "critical":
		return "9.5"
	case "high":
		return "8.0"
	case "medium":
		return "5.5"
	case "low":
		return "3.0"
	}
	return "1.0"
}

// ruleFile is where a rule's file is, relative to the checkout: the
// built-in rules are under rules/ in trailwarden's repository, the user's
// under the folder given.
func ruleFile(r *Rule) string {
	if r.Origin == BuiltinOrigin {
		return path.Join("rules", r.Source)
	}
	return path.Join(r.Origin, r.Source)
}

// SARIF renders a report in the SARIF 2.1.0 subset audit writes: the
// rules that ran as tool.driver.rules, one result per detection, placed
// on the rule's file and naming the account, region and principal as
// logical locations, with a fingerprint of the rule and the events. The
// report's unknowns are tool notifications, so a clean SARIF file is not
// read as an all-clear.
func SARIF(rep *Report, cat *Catalog, version string) *SARIFLog {
	driver := audit.SARIFDriver{Name: "trailwarden", Version: version, InformationURI: DocsURL}
	index := map[string]int{}
	files := map[string]string{}
	for _, r := range cat.Ready() {
		index[r.ID] = len(driver.Rules)
		files[r.ID] = ruleFile(r)
		tags := append([]string{"security", "cloudtrail"}, r.Tags...)
		what := r.Description
		if i := strings.Index(what, "What to do:"); i >= 0 {
			what = strings.TrimSpace(what[i+len("What to do:"):])
		}
		driver.Rules = append(driver.Rules, audit.SARIFRule{
			ID: r.ID, Name: audit.SARIFName(r.Title),
			ShortDescription:     audit.SARIFMessage{Text: r.Title},
			FullDescription:      audit.SARIFMessage{Text: r.Description},
			Help:                 audit.SARIFMessage{Text: what},
			HelpURI:              DocsURL,
			DefaultConfiguration: audit.SARIFConfig{Level: sarifLevel(r.Level)},
			Properties: map[string]any{"security-severity": securitySeverity(r.Level), "tags": tags,
				"precision": "high", "level": r.Level, "origin": r.Origin},
		})
	}
	results := []audit.SARIFResult{}
	for _, d := range rep.Detections {
		msg := d.Rule + ": " + d.EventName + " in " + d.Account + " " + d.Region + " by " + d.Principal
		if d.Count > 1 {
			msg = d.Rule + ": " + strings.TrimSpace(d.Group) + ", " + itoa(d.Count) + " events"
		}
		var logical []audit.SARIFLogicalLocation
		for _, l := range [][2]string{{d.Account, "account"}, {d.Region, "region"}, {d.Principal, "principal"}} {
			if l[0] != "" {
				logical = append(logical, audit.SARIFLogicalLocation{Name: l[0], FullyQualifiedName: l[0], Kind: l[1]})
			}
		}
		h := sha256.Sum256([]byte(d.RuleID + "\x00" + strings.Join(d.EventIDs, ",")))
		results = append(results, audit.SARIFResult{
			RuleID: d.RuleID, RuleIndex: index[d.RuleID], Level: sarifLevel(d.Level), Kind: "fail",
			Message: audit.SARIFMessage{Text: msg},
			Locations: []audit.SARIFLocation{{
				PhysicalLocation: &audit.SARIFPhysical{ArtifactLocation: audit.SARIFArtLoc{URI: files[d.RuleID], URIBaseID: "%SRCROOT%"},
					Region: &audit.SARIFRegion{StartLine: 1}},
				LogicalLocations: logical,
			}},
			PartialFingerprints: map[string]string{audit.FingerprintKey: hex.EncodeToString(h[:16])},
			Properties: map[string]any{"time": d.Time, "last_time": d.LastTime, "event_ids": d.EventIDs, "source_address": d.SourceIP,
				"event_name": d.EventName, "count": d.Count, "level": d.Level},
		})
	}
	inv := SARIFInvocation{ExecutionSuccessful: true, Notifications: []SARIFNotification{}}
	for _, u := range rep.Unknown {
		inv.Notifications = append(inv.Notifications, SARIFNotification{Level: "warning", Message: audit.SARIFMessage{Text: "unknown: " + u}})
	}
	run := SARIFRun{SARIFRun: audit.SARIFRun{Tool: audit.SARIFTool{Driver: driver},
		AutomationDetails: &audit.SARIFAutomation{ID: "trailwarden/detect/" + rep.Engine + "/"}, Results: results},
		Invocations: []SARIFInvocation{inv}}
	return &SARIFLog{Schema: audit.SARIFSchema, Version: audit.SARIFVersion, Runs: []SARIFRun{run}}
}

// SARIFLog is audit's SARIF log with invocations, which carry what the
// run could not know.
type SARIFLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is audit's run and its invocation.
type SARIFRun struct {
	audit.SARIFRun
	Invocations []SARIFInvocation `json:"invocations"`
}

// SARIFInvocation is how the run went: its unknowns as notifications.
type SARIFInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []SARIFNotification `json:"toolExecutionNotifications"`
}

// SARIFNotification is one notification.
type SARIFNotification struct {
	Level   string             `json:"level"`
	Message audit.SARIFMessage `json:"message"`
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
