package iac_test

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/iac"
)

// Every trail the output declares carries its own account's CloudWatch
// Logs log group and role when the config names them by name: one
// account's ARNs in another's trail would make CloudTrail refuse it.
func TestCloudWatchLogsPerAccount(t *testing.T) {
	tf := string(generated(t, "per-account", iac.Terraform)["main.tf"])
	for _, acct := range []string{"333333333333", "555555555555"} {
		for _, want := range []string{
			`"arn:aws:logs:eu-central-1:` + acct + `:log-group:cloudtrail/central:*"`,
			`"arn:aws:iam::` + acct + `:role/CloudTrailToCloudWatch"`,
		} {
			if strings.Count(tf, want) != 1 {
				t.Errorf("terraform: %s appears %d times, want once (that account's trail)", want, strings.Count(tf, want))
			}
		}
	}
	var stackSet string
	for path, data := range generated(t, "per-account", iac.CloudFormation) {
		if strings.Contains(path, "stackset") && strings.HasSuffix(path, ".json") {
			stackSet = string(data)
		}
	}
	if !strings.Contains(stackSet, `log-group:cloudtrail/central:*`) || !strings.Contains(stackSet, `Fn::Sub`) || !strings.Contains(stackSet, `${AWS::AccountId}`) {
		t.Errorf("the stack set's trail does not resolve the log group in each account:\n%s", stackSet)
	}
}

// A config asking for Object Lock gets output that says plainly it does
// not set it (an irreversible setting is not left to a template), rather
// than the generic note.
func TestObjectLockAskedIsSaidNotSet(t *testing.T) {
	c := loadConfig(t, "demo")
	c.BucketSettings.ObjectLock = config.ObjectLock{Mode: "compliance", Years: 1}
	for _, f := range []iac.Format{iac.Terraform, iac.CloudFormation} {
		readme := string(generate(t, c, f, iac.DefaultExisting())["README.md"])
		if !strings.Contains(readme, "The config asks for Object Lock (COMPLIANCE, 1 years). These files do NOT set it") {
			t.Errorf("%s README does not say the asked-for Object Lock is not set:\n%s", f, readme)
		}
	}
}
