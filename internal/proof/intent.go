// Package proof decides, with the evaluator, what a policy actually grants
// compared with what the config intends. It builds the intended requests of
// a config (CloudTrail delivery for every account, reads for every reader)
// and finds the statements that block them.
package proof

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
)

// Target names which policy a request is decided by (see access.Target).
type Target = access.Target

// Targets.
const (
	TargetBucket = access.Bucket
	TargetKey    = access.Key
	TargetTrust  = access.Trust
	TargetAccess = access.Identity
)

// Intent is one request the config means to allow.
type Intent struct {
	Target      Target       `json:"target"`
	Description string       `json:"description"`
	Request     eval.Request `json:"request"`
}

// sampleDay is the date used in sample object keys; any date works since
// the policies never condition on it.
const sampleDay = "2026/01/01"

// Intended lists the requests the config intends to be allowed by the
// policy of target.
func Intended(c *config.Config, target Target) ([]Intent, error) {
	switch target {
	case TargetBucket:
		return bucketIntents(c)
	case TargetKey:
		return keyIntents(c)
	case TargetTrust:
		return trustIntents(c)
	case TargetAccess:
		return accessIntents(c)
	}
	return nil, fmt.Errorf("intended requests: unknown target %q", target)
}

// deliveringAccounts are the accounts whose logs CloudTrail writes: the
// source accounts, or for an unrestricted organization trail the management
// and log-archive accounts as representatives of every member.
func deliveringAccounts(c *config.Config) []string {
	if len(c.SourceAccounts) > 0 {
		return c.SourceAccounts
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range []string{c.ManagementAccount, c.LogArchiveAccount} {
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}

// maxRepresentatives bounds how many accounts the proof probes one by one:
// every account is treated alike, so the first few and the last stand for
// the rest and the proof stays fast for hundreds of accounts.
const maxRepresentatives = 4

func representatives(accounts []string) []string {
	if len(accounts) <= maxRepresentatives {
		return accounts
	}
	out := append([]string{}, accounts[:maxRepresentatives-1]...)
	return append(out, accounts[len(accounts)-1])
}

// logKey is a realistic object key CloudTrail writes for account.
func logKey(c *config.Config, account string) string {
	root := c.LogRoot() + "AWSLogs/"
	if c.Trail.Organization {
		root += c.OrganizationID + "/"
	}
	return fmt.Sprintf("%s%s/CloudTrail/%s/%s/%s_CloudTrail_%s_20260101T0005Z_a1b2c3d4e5f6a7b8.json.gz",
		root, account, c.HomeRegion, sampleDay, account, c.HomeRegion)
}

// trailFor is the trail that delivers account's logs.
func trailFor(c *config.Config, account string) (owner, arn string) {
	if c.Trail.Organization {
		return c.ManagementAccount, c.TrailARN(c.ManagementAccount)
	}
	return account, c.TrailARN(account)
}

// cloudTrailContext is what CloudTrail's service-to-service requests carry.
func cloudTrailContext(c *config.Config, owner, trailARN string) map[string][]string {
	ctx := map[string][]string{
		"aws:SourceArn":     {trailARN},
		"aws:SourceAccount": {owner},
	}
	if c.OrganizationID != "" {
		ctx["aws:SourceOrgID"] = []string{c.OrganizationID}
	}
	return ctx
}

func service(name string) eval.Principal {
	return eval.Principal{Kind: eval.KindService, Service: name}
}

// reader is one configured reader, as the session that would make requests.
type reader struct {
	label     string
	principal eval.Principal
}

// readers returns a session of every exact reader role, and of one role
// matching the pattern in an organization account.
func readers(c *config.Config) ([]reader, error) {
	var out []reader
	for _, arn := range c.Readers.Roles {
		p, err := roleSession(c, arn)
		if err != nil {
			return nil, err
		}
		out = append(out, reader{label: arn, principal: p})
	}
	if c.Readers.RolePattern != "" {
		name := strings.NewReplacer("*", "reader", "?", "x").Replace(c.Readers.RolePattern)
		arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition(), firstMember(c), name)
		p, err := roleSession(c, arn)
		if err != nil {
			return nil, err
		}
		out = append(out, reader{label: "role " + name + " (pattern " + c.Readers.RolePattern + ")", principal: p})
	}
	return out, nil
}

func firstMember(c *config.Config) string {
	if len(c.SourceAccounts) > 0 {
		return c.SourceAccounts[0]
	}
	return c.LogArchiveAccount
}

// roleSession is a session of the role, in the config's organization.
func roleSession(c *config.Config, roleARN string) (eval.Principal, error) {
	a, err := awsid.RoleARN(roleARN)
	if err != nil {
		return eval.Principal{}, err
	}
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	p, err := eval.ParsePrincipal(fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/trailwarden-proof", a.Partition, a.Account, name))
	if err != nil {
		return eval.Principal{}, err
	}
	if p, err = p.WithIssuer(roleARN); err != nil {
		return eval.Principal{}, err
	}
	p.OrgID = c.OrganizationID
	return p, nil
}

// readerContext is the context of a reader's request: through Athena when
// readers are Athena-only, as the AMS Accelerate onboarding guide's statements (the accelerate
// profile) always make them.
func readerContext(c *config.Config, extra map[string][]string) map[string][]string {
	ctx := map[string][]string{}
	if c.Readers.AthenaOnly || c.Profile == config.ProfileAccelerate {
		ctx["aws:CalledVia"] = []string{"athena.amazonaws.com"}
	}
	for k, v := range extra {
		ctx[k] = v
	}
	return ctx
}
