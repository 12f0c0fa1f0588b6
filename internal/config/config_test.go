package config_test

import (
	"errors"
	"io"
	"os"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/trailwarden/trailwarden/internal/config"
)

type parseCase struct {
	Name         string   `yaml:"name"`
	Config       string   `yaml:"config"`
	Errors       []string `yaml:"errors"`
	Line         int      `yaml:"line"`
	WantAccounts []string `yaml:"want_accounts"`
}

func loadCases(t testing.TB) []parseCase {
	t.Helper()
	data, err := os.ReadFile("testdata/cases.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cases []parseCase
	if err := yaml.Unmarshal(data, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestParse(t *testing.T) {
	for _, tc := range loadCases(t) {
		t.Run(tc.Name, func(t *testing.T) {
			c, err := config.Parse(strings.NewReader(tc.Config), "trailwarden.yaml")
			if len(tc.Errors) == 0 {
				if err != nil {
					t.Fatalf("unexpected error:\n%v", err)
				}
				if tc.WantAccounts != nil && !reflect.DeepEqual(c.SourceAccounts, tc.WantAccounts) {
					t.Fatalf("source accounts %q, want %q", c.SourceAccounts, tc.WantAccounts)
				}
				return
			}
			if err == nil {
				t.Fatalf("parsed, want errors %q", tc.Errors)
			}
			for _, want := range tc.Errors {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error\n%v\ndoes not contain %q", err, want)
				}
			}
			if tc.Line > 0 {
				var fe *config.FieldError
				if !errors.As(err, &fe) || fe.Line != tc.Line {
					t.Errorf("error %v: want line %d", err, tc.Line)
				}
			}
			if !strings.HasPrefix(err.Error(), "trailwarden.yaml:") {
				t.Errorf("error does not name the file: %v", err)
			}
		})
	}
}

func TestRenderRoundTrip(t *testing.T) {
	c := config.Default()
	c.OrganizationID = "o-a1b2c3d4e5"
	c.ManagementAccount = "011111111111"
	c.LogArchiveAccount = "222222222222"
	c.SourceAccounts = []string{"033333333333"}
	c.Bucket = "acme-org-cloudtrail"
	c.KeyPrefix = "org/logs"
	c.HomeRegion = "us-east-1"
	c.Trail = config.Trail{Name: "org-trail", Organization: true}
	c.KMSKeyARN = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	c.Readers.Roles = []string{"arn:aws:iam::444444444444:role/siem"}
	c.Readers.RolePattern = "ams-access-*"
	c.Readers.AthenaOnly = true
	c.Readers.ExternalID = "ext-123"
	c.Profile = config.ProfileAccelerate
	c.AcceptedForeignSids = config.AcceptedSids{BucketPolicy: []string{"PartnerRead", "Legacy Sid"}, KeyPolicy: []string{"KeyAdmins"}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	got, err := config.Parse(strings.NewReader(string(config.Render(&c))), "rendered")
	if err != nil {
		t.Fatalf("rendered config does not parse: %v\n%s", err, config.Render(&c))
	}
	if !reflect.DeepEqual(config.WithoutSource(*got), c) {
		t.Fatalf("round trip changed the config:\n got %+v\nwant %+v", *got, c)
	}
}

func TestDerivedNames(t *testing.T) {
	c := config.Default()
	c.HomeRegion = "cn-north-1"
	c.Bucket = "b-logs"
	c.LogArchiveAccount = "222222222222"
	c.Trail.Name = "t-1"
	if got, want := c.TrailARN("111111111111"), "arn:aws-cn:cloudtrail:cn-north-1:111111111111:trail/t-1"; got != want {
		t.Errorf("TrailARN = %q, want %q", got, want)
	}
	if got, want := c.BucketARN(), "arn:aws-cn:s3:::b-logs"; got != want {
		t.Errorf("BucketARN = %q, want %q", got, want)
	}
	if got, want := c.ReaderRoleARN(), "arn:aws-cn:iam::222222222222:role/trailwarden-log-reader"; got != want {
		t.Errorf("ReaderRoleARN = %q, want %q", got, want)
	}
	if c.LogRoot() != "" {
		t.Errorf("LogRoot without prefix = %q", c.LogRoot())
	}
	c.KeyPrefix = "p/q"
	if c.LogRoot() != "p/q/" {
		t.Errorf("LogRoot = %q", c.LogRoot())
	}
}

// An oversized config is refused with its real size, not the limit plus
// one byte.
func TestParseOversizedGivesTheRealSize(t *testing.T) {
	body := "version: 1\n# " + strings.Repeat("x", 3<<20) + "\n"
	_, err := config.Parse(struct{ io.Reader }{strings.NewReader(body)}, "trailwarden.yaml")
	var fe *config.FieldError
	want := "trailwarden.yaml: file is 3,145,742 bytes, over the 1 MiB limit; is this really trailwarden.yaml?"
	if !errors.As(err, &fe) || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
}

// TestParseStandard reads the requirement standard under its name,
// "standard", and under its old name, "profile", with a notice; both at
// once are refused.
func TestParseStandard(t *testing.T) {
	const base = "version: 1\nlog_archive_account: \"222222222222\"\nsource_accounts: [\"333333333333\"]\nbucket: acme-logs\nhome_region: us-east-1\ntrail: {name: trail}\n"
	tests := []struct {
		name, extra, want, notice, err string
	}{
		{"default", "", config.ProfileBaseline, "", ""},
		{"standard", "standard: cis\n", config.ProfileCIS, "", ""},
		{"old name", "profile: cis\n", config.ProfileCIS, `trailwarden.yaml:7: the setting "profile" is now called "standard"; read as standard: cis`, ""},
		{"old name, bad value", "profile: strict\n", "", "", `trailwarden.yaml:7:10: standard: unknown standard "strict"`},
		{"both", "standard: cis\nprofile: cis\n", "", "", `trailwarden.yaml:8:10: profile: the old name of "standard", which is set too`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := config.Parse(strings.NewReader(base+tt.extra), "trailwarden.yaml")
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Profile != tt.want || c.LegacyProfile != "" {
				t.Errorf("standard %q (legacy %q), want %q", c.Profile, c.LegacyProfile, tt.want)
			}
			if got := strings.Join(c.Notices, "\n"); (tt.notice == "") != (got == "") || !strings.Contains(got, tt.notice) {
				t.Errorf("notices %q, want %q", got, tt.notice)
			}
			// What Render writes reads back under the new name, silently.
			again, err := config.Parse(strings.NewReader(string(config.Render(c))), "rendered.yaml")
			if err != nil || again.Profile != tt.want || len(again.Notices) != 0 || strings.Contains(string(config.Render(c)), "\nprofile:") {
				t.Errorf("round trip: %v, %+v", err, again)
			}
		})
	}
}

// TestLine: a parsed config knows the line of each setting (for SARIF
// locations): scalars, a mapping and a list at their key, a field left out
// at its nearest parent, nothing for a config built in code.
func TestLine(t *testing.T) {
	src := `version: 1
organization_id: o-a1b2c3d4e5
management_account: "111111111111"
log_archive_account: "222222222222"
bucket: acme-org-cloudtrail
home_region: us-east-1

trail:
  name: org-trail
  organization: true
readers:
  role_name: r
  roles:
    - arn:aws:iam::444444444444:role/siem
`
	c, err := config.Parse(strings.NewReader(src), "t.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for field, want := range map[string]int{
		"bucket": 5, "trail": 8, "trail.name": 9, "trail.organization": 10, "trail.nothing": 8, "readers": 11, "readers.roles": 13,
		"readers.roles[0]": 14, "kms_key_arn": 0, "version": 1,
	} {
		if got := c.Line(field); got != want {
			t.Errorf("Line(%q) = %d, want %d", field, got, want)
		}
	}
	if c.Source() != "t.yaml" {
		t.Errorf("Source() = %q", c.Source())
	}
	var built config.Config
	if built.Line("bucket") != 0 || built.Source() != "" {
		t.Error("a config built in code has lines")
	}
}
