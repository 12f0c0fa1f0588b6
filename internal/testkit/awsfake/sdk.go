package awsfake

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
)

// BaseAccessKeyID is the key id Isolate gives the SDK: the World's Caller.
const BaseAccessKeyID = "AKIDAWSFAKEBASE00000"

// Isolate points the SDK at static fake credentials and away from the
// machine's AWS config and environment, so a test neither reads nor needs
// real accounts. It uses t.Setenv: tests calling it cannot be parallel.
func Isolate(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	conf, creds := filepath.Join(dir, "config"), filepath.Join(dir, "credentials")
	for _, f := range []string{conf, creds} {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"AWS_ACCESS_KEY_ID":           BaseAccessKeyID,
		"AWS_SECRET_ACCESS_KEY":       "awsfake-secret",
		"AWS_CONFIG_FILE":             conf,
		"AWS_SHARED_CREDENTIALS_FILE": creds,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_REGION":                  "us-east-1",
	}
	// Empty is unset for the SDK.
	for _, k := range []string{"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM", "AWS_ENDPOINT_URL_KMS",
		"AWS_ENDPOINT_URL_CLOUDTRAIL", "AWS_ENDPOINT_URL_ORGANIZATIONS", "AWS_ENDPOINT_URL_ACCOUNT", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_MAX_ATTEMPTS", "AWS_RETRY_MODE", "AWS_CA_BUNDLE"} {
		env[k] = ""
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
}

// FastRetryer wraps the SDK's standard retryer (same attempts and retry
// rules) with backoff capped at a millisecond, so throttling tests are
// quick. Assign it to aws.Config.Retryer or a client's Options.Retryer.
func FastRetryer(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		r := retry.NewStandard(func(o *retry.StandardOptions) {
			if maxAttempts > 0 {
				o.MaxAttempts = maxAttempts
			}
		})
		return retry.AddWithMaxBackoffDelay(r, time.Millisecond)
	}
}

// Config is an SDK configuration for the server: static base credentials
// (BaseAccessKeyID, the World's Caller), region, BaseEndpoint and fast retries.
func (s *Server) Config(region string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  aws.CredentialsProviderFunc(staticBase),
		BaseEndpoint: aws.String(s.URL),
		Retryer:      FastRetryer(0),
	}
}

func staticBase(_ context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: BaseAccessKeyID, SecretAccessKey: "awsfake-secret", Source: "awsfake"}, nil
}
