package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// TestASFF_RequiredFields renders the bad fixture as ASFF and checks each
// finding as aws securityhub batch-import-findings would: every required
// top-level attribute present and well formed, the ProductArn of the
// default product in the finding's own account (the account that must
// import it), labels and statuses from Security Hub's lists, lengths
// within its limits, and an Id that is unique and the same run after run.
func TestASFF_RequiredFields(t *testing.T) {
	c := loadConfig(t)
	s := loadSnapshot(t, "bad.json")
	rep, err := Run(c, s, "baseline")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)
	opt := ASFFOptions{Region: c.HomeRegion, Account: c.LogArchiveAccount, Time: at}
	findings := ASFF(rep, opt)
	if len(findings) != len(rep.Findings) {
		t.Fatalf("%d findings for %d", len(findings), len(rep.Findings))
	}
	raw, err := json.Marshal(findings)
	if err != nil {
		t.Fatal(err)
	}
	var generic []map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatal(err)
	}
	required := []string{"SchemaVersion", "Id", "ProductArn", "GeneratorId", "AwsAccountId", "Types", "CreatedAt", "UpdatedAt",
		"Severity", "Title", "Description", "Resources"}
	account := regexp.MustCompile(`^\d{12}$`)
	typeNS := regexp.MustCompile(`^(Software and Configuration Checks|TTPs|Effects|Unusual Behaviors|Sensitive Data Identifications)(/[^/]+){0,2}$`)
	ids := map[string]bool{}
	statuses := map[string]int{}
	for i, g := range generic {
		f := findings[i]
		for _, k := range required {
			if v, ok := g[k]; !ok || v == "" || v == nil {
				t.Errorf("finding %d (%s): %s missing", i, f.GeneratorID, k)
			}
		}
		if f.SchemaVersion != "2018-10-08" {
			t.Errorf("SchemaVersion %q", f.SchemaVersion)
		}
		if !account.MatchString(f.AwsAccountID) {
			t.Errorf("%s: AwsAccountId %q", f.ID, f.AwsAccountID)
		}
		if want := "arn:aws:securityhub:us-east-1:" + f.AwsAccountID + ":product/" + f.AwsAccountID + "/default"; f.ProductArn != want {
			t.Errorf("%s: ProductArn %q, want %q", f.ID, f.ProductArn, want)
		}
		if !slices.Contains([]string{"INFORMATIONAL", "LOW", "MEDIUM", "HIGH", "CRITICAL"}, f.Severity.Label) {
			t.Errorf("%s: Severity.Label %q", f.ID, f.Severity.Label)
		}
		if !slices.Contains([]string{"PASSED", "WARNING", "FAILED", "NOT_AVAILABLE"}, f.Compliance.Status) {
			t.Errorf("%s: Compliance.Status %q", f.ID, f.Compliance.Status)
		}
		statuses[f.Compliance.Status]++
		for _, ty := range f.Types {
			if !typeNS.MatchString(ty) {
				t.Errorf("%s: type %q is not namespace/category/classifier", f.ID, ty)
			}
		}
		if f.CreatedAt != "2026-11-24T10:00:00.000Z" || f.UpdatedAt != f.CreatedAt {
			t.Errorf("%s: CreatedAt %q UpdatedAt %q", f.ID, f.CreatedAt, f.UpdatedAt)
		}
		if utf8.RuneCountInString(f.Title) > 256 || utf8.RuneCountInString(f.Description) > 1024 ||
			(f.Remediation != nil && utf8.RuneCountInString(f.Remediation.Recommendation.Text) > 512) {
			t.Errorf("%s: text over Security Hub's limits", f.ID)
		}
		if f.Remediation == nil || f.Remediation.Recommendation.Text == "" {
			t.Errorf("%s: no remediation", f.ID)
		}
		if len(f.Resources) != 1 || f.Resources[0].Type == "" || f.Resources[0].ID == "" {
			t.Errorf("%s: resources %+v", f.ID, f.Resources)
		}
		if ids[f.ID] || len(f.ID) > 512 {
			t.Errorf("Id %q repeated or too long", f.ID)
		}
		ids[f.ID] = true
		if (f.Compliance.Status == "PASSED") != (f.Severity.Label == "INFORMATIONAL" && rep.Findings[i].Status == Pass) {
			t.Errorf("%s: status %s with severity %s", f.ID, f.Compliance.Status, f.Severity.Label)
		}
	}
	if statuses["FAILED"] == 0 || statuses["PASSED"] == 0 {
		t.Errorf("statuses %v: the bad fixture has failures and passes", statuses)
	}
	again, _ := json.Marshal(ASFF(rep, opt))
	if !bytes.Equal(raw, again) {
		t.Error("two renderings differ")
	}
}

func TestASFFResource(t *testing.T) {
	for arn, want := range map[string]string{
		"arn:aws:s3:::acme":                                   "AwsS3Bucket",
		"arn:aws:s3:::acme/org/AWSLogs/":                      "Other", // a prefix is not an object
		"arn:aws:cloudtrail:us-east-1:111111111111:trail/t":   "AwsCloudTrailTrail",
		"arn:aws:kms:us-east-1:222222222222:key/1":            "AwsKmsKey",
		"arn:aws:iam::222222222222:role/r":                    "AwsIamRole",
		"arn:aws:organizations::111111111111:organization/o-": "Other",
		"111111111111": "AwsAccount",
	} {
		if got := asffResource(arn, "111111111111", "us-east-1"); got.Type != want {
			t.Errorf("%s: %s, want %s", arn, got.Type, want)
		}
	}
}

// TestWriteCSV: one row per finding under the header, fields that hold
// commas, quotes and newlines read back whole.
func TestWriteCSV(t *testing.T) {
	rep := &Report{Profile: "baseline", Findings: []Finding{
		{Rule: "TW-X-01", Title: "A, \"quoted\" title", Severity: High, Status: Fail, Account: "111111111111", Resource: "arn:aws:s3:::b",
			Message: "line one\nline two", Remediation: "aws s3api ...", Evidence: []string{"a = 1", "b = 2"}},
		{Rule: "TW-X-02", Title: "t", Severity: Low, Status: Pass, Resource: "r"},
	}}
	var b bytes.Buffer
	if err := WriteCSV(&b, rep); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 || !slices.Equal(recs[0], CSVHeader) || recs[1][1] != `A, "quoted" title` || recs[1][6] != "line one\nline two" ||
		recs[1][8] != "a = 1\nb = 2" || recs[2][3] != "pass" {
		t.Fatalf("read back %q", recs)
	}
}
