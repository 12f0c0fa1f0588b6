package config

import (
	"strings"
	"testing"
)

func TestCloudWatchLogsResolvesPerAccount(t *testing.T) {
	c := &Config{HomeRegion: "eu-west-1", Trail: Trail{CloudWatchLogs: CloudWatchLogs{LogGroup: "ct/logs", Role: "CTtoCW"}}}
	if got, want := c.CloudWatchLogGroupARN("333333333333"), "arn:aws:logs:eu-west-1:333333333333:log-group:ct/logs:*"; got != want {
		t.Errorf("log group %s, want %s", got, want)
	}
	if got, want := c.CloudWatchRoleARN("333333333333"), "arn:aws:iam::333333333333:role/CTtoCW"; got != want {
		t.Errorf("role %s, want %s", got, want)
	}
	c.Trail.CloudWatchLogs.LogGroup = "arn:aws:logs:eu-west-1:111111111111:log-group:g"
	if got := c.CloudWatchLogGroupARN("111111111111"); got != "arn:aws:logs:eu-west-1:111111111111:log-group:g:*" {
		t.Errorf("an ARN without :* is %s, want it as CloudTrail returns it", got)
	}
	if (&Config{}).CloudWatchLogGroupARN("1") != "" || (&Config{}).CloudWatchRoleARN("1") != "" {
		t.Error("no cloudwatch_logs resolves to ARNs")
	}
}

func TestCloudWatchLogsValidation(t *testing.T) {
	tests := []struct {
		name string
		cw   CloudWatchLogs
		org  bool
		want string // "" = valid
	}{
		{"names, per-account", CloudWatchLogs{LogGroup: "g", Role: "r"}, false, ""},
		{"ARNs, organization trail", CloudWatchLogs{LogGroup: "arn:aws:logs:us-east-1:111111111111:log-group:g:*", Role: "arn:aws:iam::111111111111:role/r"}, true, ""},
		{"group without role", CloudWatchLogs{LogGroup: "g"}, false, "give both"},
		{"role without group", CloudWatchLogs{Role: "r"}, false, "give both"},
		{"log group in another region", CloudWatchLogs{LogGroup: "arn:aws:logs:eu-west-1:111111111111:log-group:g", Role: "r"}, true, "home region is us-east-1"},
		{"log group ARN with several trail accounts", CloudWatchLogs{LogGroup: "arn:aws:logs:us-east-1:333333333333:log-group:g", Role: "r"}, false, "trail of account 555555555555"},
		{"role of another account", CloudWatchLogs{LogGroup: "g", Role: "arn:aws:iam::999999999999:role/r"}, true, "role is in account 999999999999"},
		{"not a log group ARN", CloudWatchLogs{LogGroup: "arn:aws:s3:::b", Role: "r"}, false, "not a log group ARN"},
		{"bad log group name", CloudWatchLogs{LogGroup: "a b", Role: "r"}, false, "log group name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{HomeRegion: "us-east-1", ManagementAccount: "111111111111", SourceAccounts: []string{"333333333333", "555555555555"},
				Trail: Trail{Name: "t", Organization: tt.org, CloudWatchLogs: tt.cw}}
			var msgs []string
			c.validateCloudWatch(func(field, msg string) { msgs = append(msgs, field+": "+msg) })
			got := strings.Join(msgs, "\n")
			if tt.want == "" && got != "" || tt.want != "" && !strings.Contains(got, tt.want) {
				t.Errorf("errors %q, want %q", got, tt.want)
			}
		})
	}
}
