package config

import (
	"strings"
	"testing"
)

func TestDesiredBucketDefaults(t *testing.T) {
	tests := []struct {
		name     string
		standard string
		kms      string
		settings BucketSettings
		logs     string
		want     DesiredBucket
	}{
		{"baseline, SSE-S3", ProfileBaseline, "", BucketSettings{}, "",
			DesiredBucket{Versioning: true, PublicAccessBlock: true, ObjectOwnership: "BucketOwnerEnforced", Encryption: EncryptionSSES3,
				AccessLogBucket: "b-access-logs", AccessLogPrefix: "b/"}},
		{"accelerate keeps 18 months, SSE-KMS with the key", ProfileAccelerate, "arn:aws:kms:us-east-1:222222222222:key/k", BucketSettings{}, "logs",
			DesiredBucket{Versioning: true, PublicAccessBlock: true, ObjectOwnership: "BucketOwnerEnforced", Encryption: EncryptionSSEKMS,
				KMSKeyARN: "arn:aws:kms:us-east-1:222222222222:key/k", RetentionDays: 548, AccessLogBucket: "logs", AccessLogPrefix: "b/"}},
		{"accelerate, longer retention, SSE-S3 despite a key", ProfileAccelerate, "arn:aws:kms:us-east-1:222222222222:key/k",
			BucketSettings{RetentionDays: 2555, Encryption: "sse-s3"}, "",
			DesiredBucket{Versioning: true, PublicAccessBlock: true, ObjectOwnership: "BucketOwnerEnforced", Encryption: EncryptionSSES3,
				RetentionDays: 2555, AccessLogBucket: "b-access-logs", AccessLogPrefix: "b/"}},
		{"everything unmanaged", ProfileAccelerate, "", BucketSettings{Versioning: "unmanaged", PublicAccessBlock: "unmanaged",
			ObjectOwnership: "unmanaged", Encryption: "unmanaged", RetentionDays: -1, AccessLogging: "unmanaged"}, "", DesiredBucket{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Bucket: "b", Profile: tt.standard, KMSKeyARN: tt.kms, BucketSettings: tt.settings, AccessLogBucket: tt.logs}
			if got := c.Desired(); got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestBucketSettingsValidation(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"unknown value", func(c *Config) { c.BucketSettings.Versioning = "on" }, "bucket_settings.versioning"},
		{"sse-kms without a key", func(c *Config) { c.BucketSettings.Encryption = "sse-kms" }, "sse-kms needs kms_key_arn"},
		{"accelerate below 18 months", func(c *Config) { c.Profile = ProfileAccelerate; c.BucketSettings.RetentionDays = 365 }, "548 days"},
		{"negative retention", func(c *Config) { c.BucketSettings.RetentionDays = -2 }, "bucket_settings.retention_days"},
		{"logs into the bucket itself", func(c *Config) { c.AccessLogBucket = c.Bucket }, "access_log_bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &Config{Bucket: "b", Profile: ProfileBaseline}
			tt.edit(c)
			var msgs []string
			c.validateBucketSettings(func(field, msg string) { msgs = append(msgs, field+": "+msg) })
			if !strings.Contains(strings.Join(msgs, "\n"), tt.want) {
				t.Errorf("errors %q lack %q", msgs, tt.want)
			}
		})
	}
}
