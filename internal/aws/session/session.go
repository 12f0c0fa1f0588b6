// Package session builds the AWS SDK configuration every adapter shares:
// the default credential chain, an optional shared-config profile, retries,
// an optional role to assume, the checks on an endpoint override, and the
// HTTP client whose connections fail, rather than hang, when an endpoint
// stalls (HTTPClient).
package session

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
)

// RoleSessionName is the session name of an assumed role, as it appears in
// the role's CloudTrail events.
const RoleSessionName = "trailwarden"

// stsFallbackRegion is where a role is assumed when no region is
// configured; STS in us-east-1 serves the aws partition.
const stsFallbackRegion = "us-east-1"

// Options are the settings a user gives on the command line.
type Options struct {
	Region, Profile     string
	RoleARN, ExternalID string
	Endpoint            string
	MaxRetries          int // 0 keeps the SDK's default
	// Timeout is how long a connection may go without progress before the
	// call is retried and, once the retries are spent, fails with a
	// *StallError; 0 means DefaultTimeout.
	Timeout time.Duration
}

// Load returns the configuration and the checked endpoint ("" when none).
// It makes no request: credentials are resolved on first use.
func Load(ctx context.Context, o Options) (aws.Config, string, error) {
	if o.MaxRetries < 0 {
		return aws.Config{}, "", fmt.Errorf("negative MaxRetries %d", o.MaxRetries)
	}
	if o.Timeout < 0 {
		return aws.Config{}, "", fmt.Errorf("negative timeout %s", o.Timeout)
	}
	var endpoint string
	if o.Endpoint != "" {
		var err error
		if endpoint, err = CheckEndpoint(o.Endpoint); err != nil {
			return aws.Config{}, "", err
		}
	}
	if o.RoleARN != "" && !strings.HasPrefix(o.RoleARN, "arn:") {
		return aws.Config{}, "", fmt.Errorf("role %q is not an ARN (arn:aws:iam::ACCOUNT:role/NAME)", o.RoleARN)
	}
	// Credential providers (STS, SSO, instance metadata) use this client
	// too, so no call of the configuration can hang. The SDK logs nothing
	// (no "falling back to IMDSv1" warnings) unless the context asks for
	// its log (WithDebugLog).
	loads := []func(*config.LoadOptions) error{config.WithHTTPClient(HTTPClient(o.Timeout)), config.WithLogger(logging.Nop{})}
	if w := debugLog(ctx); w != nil {
		loads = append(loads, config.WithLogger(logging.NewStandardLogger(w)),
			config.WithClientLogMode(aws.LogRetries|aws.LogResponse|aws.LogDeprecatedUsage))
	}
	if o.Region != "" {
		loads = append(loads, config.WithRegion(o.Region))
	}
	if o.Profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(o.Profile))
	}
	if o.MaxRetries > 0 {
		loads = append(loads, config.WithRetryMaxAttempts(o.MaxRetries+1))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return aws.Config{}, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	// Frozen, the client (with a custom CA bundle, if the configuration
	// names one) is used as it is: a service client changes a buildable
	// one for its defaults mode (AWS_DEFAULTS_MODE), and that would drop
	// the watchdog.
	if b, ok := cfg.HTTPClient.(*awshttp.BuildableClient); ok {
		cfg.HTTPClient = b.Freeze()
	}
	if o.RoleARN != "" {
		stsCfg := cfg.Copy()
		if stsCfg.Region == "" {
			stsCfg.Region = stsFallbackRegion
		}
		provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(stsCfg), o.RoleARN, func(ao *stscreds.AssumeRoleOptions) {
			ao.RoleSessionName = RoleSessionName
			if o.ExternalID != "" {
				ao.ExternalID = aws.String(o.ExternalID)
			}
		})
		cfg.Credentials = aws.NewCredentialsCache(provider)
	}
	return cfg, endpoint, nil
}

// CheckEndpoint validates an endpoint URL without echoing credentials
// embedded in it, and returns it without a trailing slash.
func CheckEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("endpoint is not a URL (want http(s)://host[:port])")
	}
	if u.User != nil {
		return "", errors.New("endpoint must not contain credentials; use the AWS credential chain")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("endpoint %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("endpoint %q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("endpoint %q must not have a query or fragment", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// InAccount returns a copy of base whose credentials are those of role
// roleName in account, assumed on first use with base's credentials
// (session RoleSessionName). STS calls go where base's calls go: its
// BaseEndpoint when set, else its region, else stsFallbackRegion.
func InAccount(base aws.Config, partition, account, roleName string) aws.Config {
	stsCfg := base.Copy()
	if stsCfg.Region == "" {
		stsCfg.Region = stsFallbackRegion
	}
	role := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, roleName)
	provider := stscreds.NewAssumeRoleProvider(sts.NewFromConfig(stsCfg), role, func(ao *stscreds.AssumeRoleOptions) {
		ao.RoleSessionName = RoleSessionName
	})
	cfg := base.Copy()
	cfg.Credentials = aws.NewCredentialsCache(provider)
	return cfg
}

type debugKey struct{}

// WithDebugLog returns a context under which Load's configurations write
// the SDK's log (warnings, retries, each response's status and headers) to
// w. Without it the SDK logs nothing.
func WithDebugLog(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, debugKey{}, w)
}

func debugLog(ctx context.Context) io.Writer {
	w, _ := ctx.Value(debugKey{}).(io.Writer)
	return w
}

// IsCredentialError reports whether err is the SDK failing to find or
// refresh credentials (the chain of environment, shared config, SSO,
// container and instance metadata found none, or a named profile does not
// exist), as opposed to AWS refusing the credentials it got.
func IsCredentialError(err error) bool {
	if err == nil {
		return false
	}
	var missing config.SharedConfigProfileNotExistError
	if errors.As(err, &missing) {
		return true
	}
	var missingPtr *config.SharedConfigProfileNotExistError
	if errors.As(err, &missingPtr) {
		return true
	}
	msg := err.Error()
	return strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "get credentials: ") ||
		strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "static credentials are empty")
}
