package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
)

// SARIF 2.1.0, the subset audit writes, shaped for GitHub code scanning:
// one run, the catalogue's rules as tool.driver.rules (with
// security-severity and tags), one result per failing or unknown finding,
// each at the line of trailwarden.yaml that describes what it is about
// (a physicalLocation) and with a partial fingerprint that stays the same
// from run to run.
const (
	SARIFVersion = "2.1.0"
	SARIFSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	// DocsURL is where each rule is documented; the rule's id (lower case)
	// is the anchor.
	DocsURL = "https://github.com/trailwarden/trailwarden/blob/main/docs/audit.md"
	// FingerprintKey names the partial fingerprint of each result.
	FingerprintKey = "trailwarden/v1"
)

// SARIFLog is a SARIF log file.
type SARIFLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is one run of the tool.
type SARIFRun struct {
	Tool              SARIFTool        `json:"tool"`
	AutomationDetails *SARIFAutomation `json:"automationDetails,omitempty"`
	Results           []SARIFResult    `json:"results"`
}

// SARIFAutomation tells code scanning which analysis a run is (one per
// profile), so runs of different profiles do not close each other's alerts.
type SARIFAutomation struct {
	ID string `json:"id"`
}

// SARIFTool names the tool.
type SARIFTool struct {
	Driver SARIFDriver `json:"driver"`
}

// SARIFDriver is the tool component with its rules.
type SARIFDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []SARIFRule `json:"rules"`
}

// SARIFRule is a reportingDescriptor.
type SARIFRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     SARIFMessage   `json:"shortDescription"`
	FullDescription      SARIFMessage   `json:"fullDescription"`
	Help                 SARIFMessage   `json:"help"`
	HelpURI              string         `json:"helpUri"`
	DefaultConfiguration SARIFConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties,omitempty"`
}

// SARIFConfig is a reportingConfiguration.
type SARIFConfig struct {
	Level string `json:"level"`
}

// SARIFMessage is a message with text.
type SARIFMessage struct {
	Text string `json:"text"`
}

// SARIFResult is one finding.
type SARIFResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Kind                string            `json:"kind"`
	Message             SARIFMessage      `json:"message"`
	Locations           []SARIFLocation   `json:"locations"`
	RelatedLocations    []SARIFLocation   `json:"relatedLocations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

// SARIFLocation is where a finding is: the line of trailwarden.yaml (or
// the snapshot file) as a physical location, and the cloud resource by its
// ARN as a logical one.
type SARIFLocation struct {
	ID               int                    `json:"id,omitempty"`
	PhysicalLocation *SARIFPhysical         `json:"physicalLocation,omitempty"`
	LogicalLocations []SARIFLogicalLocation `json:"logicalLocations,omitempty"`
	Message          *SARIFMessage          `json:"message,omitempty"`
}

// SARIFPhysical is a file and a region of it.
type SARIFPhysical struct {
	ArtifactLocation SARIFArtLoc  `json:"artifactLocation"`
	Region           *SARIFRegion `json:"region,omitempty"`
}

// SARIFArtLoc is a file's URI, relative to uriBaseId when that is set.
type SARIFArtLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

// SARIFRegion is a line of a file.
type SARIFRegion struct {
	StartLine int `json:"startLine"`
}

// SARIFLogicalLocation names a resource by its ARN.
type SARIFLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// SARIFOptions say where the audit's inputs are.
type SARIFOptions struct {
	// Version is trailwarden's version, for tool.driver.version.
	Version string
	// Config is the config audited; its file and line numbers place each
	// result. Without one (or one not read from a file), results are
	// placed on ConfigFile, line 1.
	Config *config.Config
	// ConfigFile names the config file when Config does not.
	ConfigFile string
	// Snapshot is the snapshot file audited ("" for a live audit): each
	// result names it as a related location, the evidence's source.
	Snapshot string
}

// level maps a severity to SARIF's levels.
func level(s Severity) string {
	switch s {
	case Critical, High:
		return "error"
	case Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is the score GitHub code scanning reads from a rule's
// properties["security-severity"]: above 9.0 is critical, 7.0 to 8.9 high,
// 4.0 to 6.9 medium, 0.1 to 3.9 low.
func securitySeverity(s Severity) string {
	switch s {
	case Critical:
		return "9.5"
	case High:
		return "8.0"
	case Medium:
		return "5.5"
	case Low:
		return "3.0"
	}
	return "1.0"
}

// ConfigField is the setting of trailwarden.yaml a rule is about: the
// line SARIF places its findings on.
func ConfigField(ruleID string) string {
	switch {
	case ruleID == "TW-ORG-01":
		return "organization_id"
	case ruleID == "TW-ACC-02", strings.HasPrefix(ruleID, "TW-RDR-"):
		return "readers"
	case ruleID == "TW-ACC-04", strings.HasPrefix(ruleID, "TW-KEY-"):
		return "kms_key_arn"
	case strings.HasPrefix(ruleID, "TW-TRL-"):
		return "trail"
	}
	return "bucket"
}

// artifact is a file as a SARIF artifact location: a relative path stays
// relative to the checkout (%SRCROOT%), as code scanning wants; an
// absolute one becomes a file URI.
func artifact(path string) SARIFArtLoc {
	if path == "" || path == "-" {
		path = "trailwarden.yaml"
	}
	if filepath.IsAbs(path) {
		return SARIFArtLoc{URI: "file://" + filepath.ToSlash(path)}
	}
	return SARIFArtLoc{URI: filepath.ToSlash(filepath.Clean(path)), URIBaseID: "%SRCROOT%"}
}

// fingerprint identifies a finding across runs: its rule, account and
// resource, never its message (which may hold times or counts).
func fingerprint(f Finding) string {
	h := sha256.Sum256([]byte(f.Rule + "\x00" + f.Account + "\x00" + f.Resource))
	return hex.EncodeToString(h[:16])
}

// SARIF renders a report. Passing findings are left out, as SARIF viewers
// show every result as a problem; unknown ones are kept with kind "review".
func SARIF(rep *Report, opt SARIFOptions) *SARIFLog {
	rules := Rules(rep.Profile)
	index := map[string]int{}
	driver := SARIFDriver{Name: "trailwarden", Version: opt.Version, InformationURI: DocsURL}
	for i, r := range rules {
		index[r.ID] = i
		tags := []string{"security", "cloudtrail"}
		for _, p := range r.Profiles {
			tags = append(tags, "profile:"+p)
		}
		driver.Rules = append(driver.Rules, SARIFRule{
			ID: r.ID, Name: SARIFName(r.Title),
			ShortDescription:     SARIFMessage{Text: r.Title},
			FullDescription:      SARIFMessage{Text: r.Checks},
			Help:                 SARIFMessage{Text: r.Fix},
			HelpURI:              DocsURL + "#" + strings.ToLower(r.ID),
			DefaultConfiguration: SARIFConfig{Level: level(r.Severity)},
			Properties: map[string]any{
				"security-severity": securitySeverity(r.Severity), "tags": tags, "precision": "high",
				"severity": string(r.Severity), "profiles": r.Profiles, "references": r.References,
			},
		})
	}
	file := opt.ConfigFile
	if opt.Config != nil && opt.Config.Source() != "" {
		file = opt.Config.Source()
	}
	cfgArt := artifact(file)
	results := []SARIFResult{}
	for _, f := range rep.Findings {
		if f.Status == Pass {
			continue
		}
		kind, lvl := "fail", level(f.Severity)
		if f.Status == Unknown {
			// SARIF requires level "none" for any kind but "fail".
			kind, lvl = "review", "none"
		}
		props := map[string]any{"status": string(f.Status), "severity": string(f.Severity), "evidence": f.Evidence, "remediation": f.Remediation}
		if f.Account != "" {
			props["account"] = f.Account
		}
		line := 0
		if opt.Config != nil {
			line = opt.Config.Line(ConfigField(f.Rule))
		}
		res := SARIFResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: lvl, Kind: kind,
			Message: SARIFMessage{Text: f.Message},
			Locations: []SARIFLocation{{
				PhysicalLocation: &SARIFPhysical{ArtifactLocation: cfgArt, Region: &SARIFRegion{StartLine: max(line, 1)}},
				LogicalLocations: []SARIFLogicalLocation{{Name: f.Resource, FullyQualifiedName: f.Resource, Kind: "resource"}},
			}},
			PartialFingerprints: map[string]string{FingerprintKey: fingerprint(f)},
			Properties:          props,
		}
		if opt.Snapshot != "" {
			res.RelatedLocations = []SARIFLocation{{ID: 1,
				PhysicalLocation: &SARIFPhysical{ArtifactLocation: artifact(opt.Snapshot)},
				Message:          &SARIFMessage{Text: "the snapshot the evidence comes from"}}}
		}
		results = append(results, res)
	}
	return &SARIFLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []SARIFRun{{
		Tool: SARIFTool{Driver: driver}, AutomationDetails: &SARIFAutomation{ID: "trailwarden/audit/" + rep.Profile + "/"},
		Results: results,
	}}}
}

// SARIFName turns a title into SARIF's PascalCase rule name (audit's and
// detect's rules alike).
func SARIFName(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}
