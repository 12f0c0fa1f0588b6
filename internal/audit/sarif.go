package audit

import (
	"strings"
)

// SARIF 2.1.0, the subset audit writes: one run, the catalogue's rules as
// tool.driver.rules, one result per failing or unknown finding.
const (
	SARIFVersion = "2.1.0"
	SARIFSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
)

// SARIFLog is a SARIF log file.
type SARIFLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []SARIFRun `json:"runs"`
}

// SARIFRun is one run of the tool.
type SARIFRun struct {
	Tool    SARIFTool     `json:"tool"`
	Results []SARIFResult `json:"results"`
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
	RuleID     string          `json:"ruleId"`
	RuleIndex  int             `json:"ruleIndex"`
	Level      string          `json:"level"`
	Kind       string          `json:"kind"`
	Message    SARIFMessage    `json:"message"`
	Locations  []SARIFLocation `json:"locations"`
	Properties map[string]any  `json:"properties,omitempty"`
}

// SARIFLocation holds the resource as a logical location: findings are
// about cloud resources, not files.
type SARIFLocation struct {
	LogicalLocations []SARIFLogicalLocation `json:"logicalLocations"`
}

// SARIFLogicalLocation names a resource by its ARN.
type SARIFLogicalLocation struct {
	Name               string `json:"name"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
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

// SARIF renders a report. Passing findings are left out, as SARIF viewers
// show every result as a problem; unknown ones are kept with kind "review".
func SARIF(rep *Report, version string) *SARIFLog {
	rules := Rules(rep.Profile)
	index := map[string]int{}
	driver := SARIFDriver{Name: "trailwarden", Version: version, InformationURI: "https://github.com/trailwarden/trailwarden/blob/main/docs/audit.md"}
	for i, r := range rules {
		index[r.ID] = i
		driver.Rules = append(driver.Rules, SARIFRule{
			ID: r.ID, Name: pascal(r.Title),
			ShortDescription:     SARIFMessage{Text: r.Title},
			FullDescription:      SARIFMessage{Text: r.Checks},
			Help:                 SARIFMessage{Text: r.Fix},
			DefaultConfiguration: SARIFConfig{Level: level(r.Severity)},
			Properties:           map[string]any{"severity": string(r.Severity), "profiles": r.Profiles, "references": r.References},
		})
	}
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
		results = append(results, SARIFResult{
			RuleID: f.Rule, RuleIndex: index[f.Rule], Level: lvl, Kind: kind,
			Message:    SARIFMessage{Text: f.Message},
			Locations:  []SARIFLocation{{LogicalLocations: []SARIFLogicalLocation{{Name: f.Resource, FullyQualifiedName: f.Resource, Kind: "resource"}}}},
			Properties: props,
		})
	}
	return &SARIFLog{Schema: SARIFSchema, Version: SARIFVersion, Runs: []SARIFRun{{Tool: SARIFTool{Driver: driver}, Results: results}}}
}

// pascal turns a title into SARIF's PascalCase rule name.
func pascal(title string) string {
	var b strings.Builder
	for _, w := range strings.FieldsFunc(title, func(r rune) bool {
		return (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9')
	}) {
		b.WriteString(strings.ToUpper(w[:1]) + w[1:])
	}
	return b.String()
}
