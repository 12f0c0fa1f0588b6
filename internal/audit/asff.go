package audit

import (
	"strings"
	"time"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/internal/awsid"
)

// ASFF is the AWS Security Finding Format, as `aws securityhub
// batch-import-findings --findings` takes it: ASFFFindings are the list.
//
// With the default product ARN, Security Hub takes a finding only from the
// account it is about (AwsAccountId), so each finding's ProductArn names
// that account; import each account's findings from that account, at most
// 100 a call.
const ASFFSchemaVersion = "2018-10-08"

// ASFF limits, in characters: longer text is cut, ending in "…".
const (
	asffTitleMax       = 256
	asffDescriptionMax = 1024
	asffTextMax        = 512
)

// ASFFFinding is one AwsSecurityFinding.
type ASFFFinding struct {
	SchemaVersion         string             `json:"SchemaVersion"`
	ID                    string             `json:"Id"`
	ProductArn            string             `json:"ProductArn"`
	ProductName           string             `json:"ProductName"`
	CompanyName           string             `json:"CompanyName"`
	GeneratorID           string             `json:"GeneratorId"`
	AwsAccountID          string             `json:"AwsAccountId"`
	Region                string             `json:"Region"`
	Types                 []string           `json:"Types"`
	CreatedAt             string             `json:"CreatedAt"`
	UpdatedAt             string             `json:"UpdatedAt"`
	Severity              ASFFSeverity       `json:"Severity"`
	FindingProviderFields ASFFProviderFields `json:"FindingProviderFields"`
	Title                 string             `json:"Title"`
	Description           string             `json:"Description"`
	Remediation           *ASFFRemediation   `json:"Remediation,omitempty"`
	SourceURL             string             `json:"SourceUrl,omitempty"`
	Resources             []ASFFResource     `json:"Resources"`
	Compliance            ASFFCompliance     `json:"Compliance"`
	RecordState           string             `json:"RecordState"`
	ProductFields         map[string]string  `json:"ProductFields,omitempty"`
}

// ASFFSeverity is a finding's severity label, and the tool's own name
// for it.
type ASFFSeverity struct {
	Label    string `json:"Label"`
	Original string `json:"Original,omitempty"`
}

// ASFFProviderFields are the values Security Hub keeps as the provider's
// when a finding is imported again (Severity and Types are updated there).
type ASFFProviderFields struct {
	Severity ASFFSeverity `json:"Severity"`
	Types    []string     `json:"Types"`
}

// ASFFRemediation is the fix, as text and a link.
type ASFFRemediation struct {
	Recommendation ASFFRecommendation `json:"Recommendation"`
}

// ASFFRecommendation is a remediation's text and URL.
type ASFFRecommendation struct {
	Text string `json:"Text"`
	URL  string `json:"Url,omitempty"`
}

// ASFFResource is the resource a finding is about.
type ASFFResource struct {
	Type      string `json:"Type"`
	ID        string `json:"Id"`
	Partition string `json:"Partition,omitempty"`
	Region    string `json:"Region,omitempty"`
}

// ASFFCompliance is a finding's outcome: PASSED, FAILED or NOT_AVAILABLE.
type ASFFCompliance struct {
	Status string `json:"Status"`
	// RelatedRequirements are the rule's references (the onboarding guide's
	// requirements, CIS and Security Hub controls).
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
}

// ASFFOptions place the findings.
type ASFFOptions struct {
	// Region is the Security Hub Region the findings go to (the config's
	// home Region).
	Region string
	// Account owns findings that name no account (organization-wide ones):
	// the log archive account.
	Account string
	// Time is when the configuration was read (the snapshot's time): each
	// finding's CreatedAt and UpdatedAt.
	Time time.Time
}

// asffSeverity maps a severity to Security Hub's labels. A passing
// finding is INFORMATIONAL, as Security Hub's own control findings are.
func asffSeverity(f Finding) string {
	if f.Status == Pass {
		return "INFORMATIONAL"
	}
	switch f.Severity {
	case Critical:
		return "CRITICAL"
	case High:
		return "HIGH"
	case Medium:
		return "MEDIUM"
	case Low:
		return "LOW"
	}
	return "INFORMATIONAL"
}

// asffCompliance maps a status to Compliance.Status.
func asffCompliance(s Status) string {
	switch s {
	case Pass:
		return "PASSED"
	case Fail:
		return "FAILED"
	}
	return "NOT_AVAILABLE"
}

// asffResource types a resource by its ARN.
func asffResource(arn, account, region string) ASFFResource {
	r := ASFFResource{Type: "Other", ID: arn, Region: region}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" {
		r.Partition = parts[1]
		if parts[3] != "" {
			r.Region = parts[3]
		}
		switch {
		case parts[2] == "s3" && !strings.Contains(parts[5], "/"):
			r.Type = "AwsS3Bucket"
		case parts[2] == "cloudtrail":
			r.Type = "AwsCloudTrailTrail"
		case parts[2] == "kms":
			r.Type = "AwsKmsKey"
		case parts[2] == "iam" && strings.HasPrefix(parts[5], "role/"):
			r.Type = "AwsIamRole"
		}
		return r
	}
	if arn == "" || arn == account {
		r.Type, r.ID = "AwsAccount", "AWS::::Account:"+account
		r.Partition = awsid.Partition(region)
	}
	return r
}

// cut shortens s to n characters, ending in "…".
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// ASFF renders a report as Security Hub findings: every finding, passing
// ones too (PASSED), so that importing a later run resolves the findings
// it no longer fails. A finding's Id is the same from run to run.
func ASFF(rep *Report, opt ASFFOptions) []ASFFFinding {
	partition := awsid.Partition(opt.Region)
	at := opt.Time.UTC().Format("2006-01-02T15:04:05.000Z")
	out := make([]ASFFFinding, 0, len(rep.Findings))
	types := []string{"Software and Configuration Checks/AWS Security Best Practices"}
	for _, f := range rep.Findings {
		account := f.Account
		if account == "" {
			account = opt.Account
		}
		rule := ruleByID(f.Rule)
		ftypes := types
		if rep.Profile == cis {
			ftypes = []string{"Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark"}
		}
		sev := ASFFSeverity{Label: asffSeverity(f), Original: string(f.Severity)}
		desc := f.Message
		if len(f.Evidence) > 0 {
			desc += "\nEvidence: " + strings.Join(f.Evidence, "; ")
		}
		a := ASFFFinding{
			SchemaVersion: ASFFSchemaVersion,
			ID:            "trailwarden/" + rep.Profile + "/" + f.Rule + "/" + fingerprint(f),
			ProductArn:    "arn:" + partition + ":securityhub:" + opt.Region + ":" + account + ":product/" + account + "/default",
			ProductName:   "trailwarden", CompanyName: "trailwarden",
			GeneratorID:  "trailwarden/" + f.Rule,
			AwsAccountID: account,
			Region:       opt.Region,
			Types:        ftypes,
			CreatedAt:    at, UpdatedAt: at,
			Severity:              sev,
			FindingProviderFields: ASFFProviderFields{Severity: sev, Types: ftypes},
			Title:                 cut(f.Rule+" "+f.Title, asffTitleMax),
			Description:           cut(desc, asffDescriptionMax),
			SourceURL:             DocsURL + "#" + strings.ToLower(f.Rule),
			Resources:             []ASFFResource{asffResource(f.Resource, account, opt.Region)},
			Compliance:            ASFFCompliance{Status: asffCompliance(f.Status)},
			RecordState:           "ACTIVE",
			ProductFields:         map[string]string{"trailwarden/Profile": rep.Profile, "trailwarden/Status": string(f.Status)},
		}
		if rule != nil {
			a.Compliance.RelatedRequirements = rule.References
		}
		if fix := f.Remediation; fix != "" || rule != nil {
			if fix == "" {
				fix = rule.Fix
			}
			a.Remediation = &ASFFRemediation{Recommendation: ASFFRecommendation{Text: cut(fix, asffTextMax), URL: DocsURL + "#" + strings.ToLower(f.Rule)}}
		}
		out = append(out, a)
	}
	return out
}

// ruleByID finds a rule of the catalogue.
func ruleByID(id string) *Rule {
	for i := range catalogue {
		if catalogue[i].ID == id {
			return &catalogue[i]
		}
	}
	return nil
}
