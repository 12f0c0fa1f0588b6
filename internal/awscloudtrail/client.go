// Package awscloudtrail fetches CloudTrail's digest-signing public keys with
// the AWS SDK for Go v2, as `aws cloudtrail validate-logs` does before it
// checks digest signatures.
//
// Credentials come from the SDK's default chain: environment variables, the
// shared config and credentials files (with Options.Profile as the profile),
// SSO, web identity, ECS and EC2 instance metadata. Options.RoleARN, if set,
// is assumed on top of those credentials through STS.
//
// CloudTrail signs digests with a different key pair in every region, so each
// call names its region; the configured default region is not used.
package awscloudtrail

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// Options configures a Client.
type Options struct {
	// Profile selects a profile of the shared AWS config files.
	Profile string
	// RoleARN, if set, is assumed (with ExternalID, if set) through STS.
	RoleARN    string
	ExternalID string
	// Endpoint replaces CloudTrail's regional endpoints with one base URL,
	// such as http://127.0.0.1:8080. It exists for tests.
	Endpoint string
	// MaxRetries is how many times a failed request is retried; 0 keeps the
	// SDK's default (2 retries, 3 attempts).
	MaxRetries int
}

// Client reads CloudTrail public keys. It is safe for concurrent use.
type Client struct {
	api *cloudtrail.Client
}

// RoleSessionName is the session name of an assumed role, as it appears in
// the role's CloudTrail events.
const RoleSessionName = "trailwarden"

// stsFallbackRegion is where the role is assumed when no region is
// configured: CloudTrail calls name their own region, so a missing default
// region must not stop them, and STS in us-east-1 serves the aws partition.
const stsFallbackRegion = "us-east-1"

// New makes a Client. It loads the AWS configuration but makes no request:
// missing or wrong credentials show up on the first call.
func New(ctx context.Context, o Options) (*Client, error) {
	return newClient(ctx, o)
}

// newClient is New with extra client options, so tests can shorten the
// SDK's retry backoff without a field in Options.
func newClient(ctx context.Context, o Options, extra ...func(*cloudtrail.Options)) (*Client, error) {
	if o.MaxRetries < 0 {
		return nil, fmt.Errorf("cloudtrail: negative MaxRetries %d", o.MaxRetries)
	}
	var endpoint string
	if o.Endpoint != "" {
		var err error
		if endpoint, err = checkEndpoint(o.Endpoint); err != nil {
			return nil, err
		}
	}
	if o.RoleARN != "" && !strings.HasPrefix(o.RoleARN, "arn:") {
		return nil, fmt.Errorf("cloudtrail: role %q is not an ARN (arn:aws:iam::ACCOUNT:role/NAME)", o.RoleARN)
	}

	var loads []func(*config.LoadOptions) error
	if o.Profile != "" {
		loads = append(loads, config.WithSharedConfigProfile(o.Profile))
	}
	if o.MaxRetries > 0 {
		loads = append(loads, config.WithRetryMaxAttempts(o.MaxRetries+1))
	}
	cfg, err := config.LoadDefaultConfig(ctx, loads...)
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: load AWS configuration: %w", err)
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
	fns := []func(*cloudtrail.Options){func(co *cloudtrail.Options) {
		if endpoint != "" {
			co.BaseEndpoint = aws.String(endpoint)
		}
	}}
	return &Client{api: cloudtrail.NewFromConfig(cfg, append(fns, extra...)...)}, nil
}

// checkEndpoint validates an endpoint URL without echoing credentials
// embedded in it.
func checkEndpoint(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("cloudtrail: endpoint is not a URL (want http(s)://host[:port])")
	}
	if u.User != nil {
		return "", errors.New("cloudtrail: endpoint must not contain credentials; use the AWS credential chain")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("cloudtrail: endpoint %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return "", fmt.Errorf("cloudtrail: endpoint %q has no host", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("cloudtrail: endpoint %q must not have a query or fragment", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}
