package plan

import (
	"fmt"
	"regexp"
	"slices"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

// probe is one representative request of a target.
type probe struct {
	target      proof.Target
	description string
	req         eval.Request
}

// accessDiff evaluates the representative requests of every target under
// the live and the desired documents and returns those whose decision
// changes.
func accessDiff(c *config.Config, was, want desired) ([]AccessChange, error) {
	probes, err := representative(c)
	if err != nil {
		return nil, err
	}
	probes = append(probes, formerDelivery(c, was.bucket)...)
	docs := func(d desired, t proof.Target) *policy.Document {
		switch t {
		case proof.TargetBucket:
			return d.bucket
		case proof.TargetKey:
			return d.key
		case proof.TargetTrust:
			return d.trust
		}
		return d.access
	}
	var out []AccessChange
	seen := map[string]bool{}
	for _, pr := range probes {
		// Several intents can be the same request (one ACL check per
		// delivering account of one organization trail).
		key := pr.description + "|" + pr.req.Action + "|" + pr.req.Resource
		if seen[key] {
			continue
		}
		seen[key] = true
		before, err := decide(pr, docs(was, pr.target), was.evals)
		if err != nil {
			return nil, err
		}
		after, err := decide(pr, docs(want, pr.target), want.evals)
		if err != nil {
			return nil, err
		}
		if before == after {
			continue
		}
		out = append(out, AccessChange{Target: string(pr.target), Description: pr.description, Principal: principalName(pr.req.Principal),
			Action: pr.req.Action, Resource: pr.req.Resource, Before: before, After: after})
	}
	return out, nil
}

func principalName(p eval.Principal) string {
	switch p.Kind {
	case eval.KindService:
		return p.Service
	case eval.KindAnonymous:
		return "anonymous"
	}
	return p.ARN
}

// decide evaluates one probe against doc (nil: no policy). A caller of
// another account gets the caller's own permissions, so that only doc can
// refuse it.
func decide(pr probe, doc *policy.Document, evals *access.Cache) (eval.Decision, error) {
	ev, err := evals.Target(pr.target, doc, access.CrossAccount(pr.req.Principal, pr.req.ResourceAccount))
	if err != nil {
		return "", fmt.Errorf("plan access diff %s: %w", pr.target, err)
	}
	return ev.Evaluate(pr.req).Decision, nil
}

// representative lists the intended requests of every target and the
// requests that must stay denied: anonymous, a foreign account and plain
// HTTP.
func representative(c *config.Config) ([]probe, error) {
	targets := []proof.Target{proof.TargetBucket, proof.TargetKey, proof.TargetTrust, proof.TargetAccess}
	var out []probe
	for _, t := range targets {
		if t == proof.TargetKey && c.KMSKeyARN == "" {
			continue
		}
		intents, err := proof.Intended(c, t)
		if err != nil {
			return nil, fmt.Errorf("plan access diff: %w", err)
		}
		for _, it := range intents {
			out = append(out, probe{target: t, description: it.Description, req: it.Request})
		}
	}
	outsider, err := access.Outsider(c.Partition(), "session")
	if err != nil {
		return nil, fmt.Errorf("plan access diff: %w", err)
	}
	obj := logObject(c, c.LogArchiveAccount)
	anon := access.Anonymous()
	bucket := func(desc string, p eval.Principal, action, res string, ctx map[string][]string) probe {
		return probe{target: proof.TargetBucket, description: desc,
			req: eval.Request{Principal: p, Action: action, Resource: res, ResourceAccount: c.LogArchiveAccount, Context: ctx}}
	}
	out = append(out,
		bucket("an anonymous caller gets a log file", anon, "s3:GetObject", obj, nil),
		bucket("an anonymous caller lists the bucket", anon, "s3:ListBucket", c.BucketARN(), nil),
		bucket("a role in a foreign account gets a log file", outsider, "s3:GetObject", obj, nil),
		bucket("a foreign account's CloudTrail writes into the bucket", eval.Principal{Kind: eval.KindService, Service: cloudTrailService},
			"s3:PutObject", fmt.Sprintf("arn:%s:s3:::%s/%sAWSLogs/%s/x.json.gz", c.Partition(), c.Bucket, c.LogRoot(), access.OutsiderAccount),
			map[string][]string{"aws:SourceArn": {fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/%s", c.Partition(), c.HomeRegion, access.OutsiderAccount, c.Trail.Name)},
				"aws:SourceAccount": {access.OutsiderAccount}, "s3:x-amz-acl": {"bucket-owner-full-control"}}),
		probe{target: proof.TargetTrust, description: "a role in a foreign account assumes the reader role",
			req: eval.Request{Principal: outsider, Action: "sts:AssumeRole", Resource: c.ReaderRoleARN(), ResourceAccount: c.LogArchiveAccount}},
	)
	// Plain HTTP: every intended reader request again, without TLS.
	for _, pr := range out {
		if pr.target == proof.TargetBucket && pr.req.Principal.Kind != eval.KindService && pr.req.Principal.Kind != eval.KindAnonymous &&
			pr.req.Action == "s3:GetObject" && pr.req.Principal.Account != access.OutsiderAccount {
			r := pr.req
			r.Context = with(r.Context, "aws:SecureTransport", "false")
			out = append(out, probe{target: proof.TargetBucket, description: pr.description + " over plain HTTP", req: r})
			break
		}
	}
	if owners := c.TrailOwners(); c.KMSKeyARN != "" && len(owners) > 0 {
		out = append(out, probe{target: proof.TargetKey, description: "a role in a foreign account decrypts a log file",
			req: eval.Request{Principal: outsider, Action: "kms:Decrypt", Resource: c.KMSKeyARN, ResourceAccount: arnPart(c.KMSKeyARN, 4),
				Context: map[string][]string{"kms:EncryptionContext:aws:cloudtrail:arn": {c.TrailARN(owners[0])},
					"kms:ViaService": {"s3." + c.EffectiveBucketRegion() + ".amazonaws.com"}}}})
	}
	return out, nil
}

// logPath finds the accounts a bucket policy lets CloudTrail write for.
var logPath = regexp.MustCompile(`AWSLogs/(?:o-[a-z0-9]+/)?([0-9]{12})/`)

// formerDelivery probes CloudTrail delivery for the accounts the live bucket
// policy names and the config no longer does, so that removing an account
// shows as lost access.
func formerDelivery(c *config.Config, live *policy.Document) []probe {
	if live == nil {
		return nil
	}
	keep := append(slices.Clone(c.SourceAccounts), c.TrailOwners()...)
	var out []probe
	for _, m := range logPath.FindAllStringSubmatch(string(policy.Compact(live)), -1) {
		acct := m[1]
		if slices.Contains(keep, acct) {
			continue
		}
		keep = append(keep, acct)
		owner := acct
		if c.Trail.Organization {
			owner = c.ManagementAccount
		}
		ctx := trailContext(c, owner)
		ctx["s3:x-amz-acl"] = []string{"bucket-owner-full-control"}
		out = append(out, probe{target: proof.TargetBucket, description: fmt.Sprintf("CloudTrail delivers account %s's logs", acct),
			req: eval.Request{Principal: eval.Principal{Kind: eval.KindService, Service: cloudTrailService}, Action: "s3:PutObject",
				Resource: logObject(c, acct), ResourceAccount: c.LogArchiveAccount, Context: ctx}})
	}
	return out
}
