// Package trailkeys fetches CloudTrail's digest-signing public keys with
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
package trailkeys

import (
	"context"
	"fmt"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/session"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
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
	// Timeout is how long a request may go without progress before it is
	// retried, then fails with session.ErrStalled; 0 means
	// session.DefaultTimeout.
	Timeout time.Duration
}

// Client reads CloudTrail public keys. It is safe for concurrent use.
type Client struct {
	api *cloudtrail.Client
}

// RoleSessionName is the session name of an assumed role, as it appears in
// the role's CloudTrail events.
const RoleSessionName = session.RoleSessionName

// New makes a Client. It loads the AWS configuration but makes no request:
// missing or wrong credentials show up on the first call.
func New(ctx context.Context, o Options) (*Client, error) {
	return newClient(ctx, o)
}

// newClient is New with extra client options, so tests can shorten the
// SDK's retry backoff without a field in Options.
func newClient(ctx context.Context, o Options, extra ...func(*cloudtrail.Options)) (*Client, error) {
	cfg, endpoint, err := session.Load(ctx, session.Options{Profile: o.Profile, RoleARN: o.RoleARN,
		ExternalID: o.ExternalID, Endpoint: o.Endpoint, MaxRetries: o.MaxRetries, Timeout: o.Timeout})
	if err != nil {
		return nil, fmt.Errorf("cloudtrail: %w", err)
	}
	fns := []func(*cloudtrail.Options){func(co *cloudtrail.Options) {
		if endpoint != "" {
			co.BaseEndpoint = aws.String(endpoint)
		}
	}}
	return &Client{api: cloudtrail.NewFromConfig(cfg, append(fns, extra...)...)}, nil
}
