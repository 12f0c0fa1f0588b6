package iac_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/iac"
)

// TestUnmanagedSettingsAreLeftOut: a setting the config leaves unmanaged
// is in neither format (plan leaves it alone too), and a managed one is in
// both.
func TestUnmanagedSettingsAreLeftOut(t *testing.T) {
	settings := []struct {
		name     string
		unmanage func(*config.BucketSettings)
		tf, cfn  string
	}{
		{"versioning", func(s *config.BucketSettings) { s.Versioning = config.SettingUnmanaged }, "aws_s3_bucket_versioning", "VersioningConfiguration"},
		{"public access block", func(s *config.BucketSettings) { s.PublicAccessBlock = config.SettingUnmanaged }, "aws_s3_bucket_public_access_block", "PublicAccessBlockConfiguration"},
		{"ownership", func(s *config.BucketSettings) { s.ObjectOwnership = config.SettingUnmanaged }, "aws_s3_bucket_ownership_controls", "OwnershipControls"},
		{"encryption", func(s *config.BucketSettings) { s.Encryption = config.SettingUnmanaged }, "aws_s3_bucket_server_side_encryption_configuration", "BucketEncryption"},
		{"lifecycle", func(s *config.BucketSettings) { s.RetentionDays = -1 }, "aws_s3_bucket_lifecycle_configuration", "LifecycleConfiguration"},
		{"access logging", func(s *config.BucketSettings) { s.AccessLogging = config.SettingUnmanaged }, "aws_s3_bucket_logging", "LoggingConfiguration"},
	}
	has := func(t *testing.T, files map[string][]byte, tf, cfn string) (bool, bool) {
		t.Helper()
		var tpl map[string]any
		if err := json.Unmarshal(files["cfn"], &tpl); err != nil {
			t.Fatal(err)
		}
		props := resourcesOf(tpl)["CentralBucket"]["Properties"].(map[string]any)
		_, inCFN := props[cfn]
		return strings.Contains(string(files["tf"]), `resource "`+tf+`" "central"`), inCFN
	}
	managed := map[string][]byte{"tf": generated(t, "per-account", iac.Terraform)["main.tf"],
		"cfn": generated(t, "per-account", iac.CloudFormation)["log-archive.template.json"]}
	for _, tt := range settings {
		t.Run(tt.name, func(t *testing.T) {
			if tf, cfn := has(t, managed, tt.tf, tt.cfn); !tf || !cfn {
				t.Fatalf("managed: terraform has it %v, cloudformation %v; want both", tf, cfn)
			}
			c := loadConfig(t, "per-account")
			tt.unmanage(&c.BucketSettings)
			files := map[string][]byte{"tf": generate(t, c, iac.Terraform, iac.DefaultExisting())["main.tf"],
				"cfn": generate(t, c, iac.CloudFormation, iac.DefaultExisting())["log-archive.template.json"]}
			if tf, cfn := has(t, files, tt.tf, tt.cfn); tf || cfn {
				t.Errorf("unmanaged: terraform has it %v, cloudformation %v; want neither", tf, cfn)
			}
		})
	}
}
