package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
)

type canOpts struct {
	principal, action, resource, resourceAccount, resourceKind string
	resourcePolicy, boundary, session, org, roleARN, config    string
	identity, scps, rcps, context                              []string
	format                                                     string
	wide                                                       bool
}

func newCanCmd(a *app) *cobra.Command {
	var o canOpts
	cmd := &cobra.Command{
		Use:   "can",
		Short: "Decide whether a principal can perform an action on a resource, and why",
		Long: `can evaluates one request against the given policies with trailwarden's IAM
evaluator (AWS's documented evaluation logic) and explains the decision: the
statements that allowed or denied it, and each condition with the values it
compared.

Context keys AWS derives are filled in (aws:PrincipalArn, aws:PrincipalAccount,
aws:PrincipalType, aws:userid, aws:PrincipalOrgID from --org or the config,
aws:SecureTransport=true, ...); --context overrides them. Give a key several
times for a multivalued key.

A few cases are not settled by AWS's documentation: a same-account grant to
Principal "*" for a caller whose session policy or permissions boundary does
not allow the action, and a NotPrincipal that names only part of the caller's
chain (account, role or user, session). trailwarden reads them the way that
gives the caller more access; when one decides the request, the verdict says
so and a "judgement call:" line names the case, the decision under the other
reading and the documentation it rests on ("judgements" in --format json).
docs/evaluator.md explains each.

Exit status: 0 allowed (also when the allow rests on a judgement call), 1
denied, 2 bad input.`,
		Example: `  trailwarden can --principal cloudtrail.amazonaws.com --action s3:PutObject \
    --resource arn:aws:s3:::acme-org-cloudtrail/AWSLogs/o-a1b2c3d4e5/333333333333/CloudTrail/us-east-1/2026/11/22/x.json.gz \
    --resource-account 222222222222 --resource-policy bucket.json \
    --context aws:SourceArn=arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail \
    --context s3:x-amz-acl=bucket-owner-full-control

  trailwarden can --principal arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice \
    --action s3:GetObject --resource arn:aws:s3:::acme-org-cloudtrail/AWSLogs/x.json.gz \
    --config trailwarden.yaml --resource-policy bucket.json --identity-policy reader-access.json \
    --org o-a1b2c3d4e5 --context aws:CalledVia=athena.amazonaws.com --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runCan(o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.principal, "principal", "", "caller: IAM/STS ARN, 12-digit account, service principal (cloudtrail.amazonaws.com) or anonymous")
	f.StringVar(&o.roleARN, "principal-role-arn", "", "for an assumed-role session (--principal arn:aws:sts::...:assumed-role/NAME/SESSION) of a role with a path: the role's full ARN")
	f.Var((*actionValue)(&o.action), "action", "the action requested, service:Name, e.g. s3:GetObject")
	f.StringVar(&o.resource, "resource", "", "resource ARN")
	f.StringVar(&o.resourceAccount, "resource-account", "", "account owning the resource (S3 ARNs carry none; default: from the ARN, or the config's log-archive account for its bucket)")
	f.StringVar(&o.resourceKind, "resource-kind", "auto", "auto, generic, kms-key or role-trust (KMS key policies and trust policies must allow explicitly)")
	f.StringVar(&o.resourcePolicy, "resource-policy", "", "resource-based policy JSON (bucket policy, key policy, trust policy)")
	f.StringArrayVar(&o.identity, "identity-policy", nil, "identity-based policy JSON of the caller (repeatable)")
	f.StringArrayVar(&o.scps, "scp", nil, "SCPs of one level of the caller's account path, root first; comma-separate policies of one level (repeatable)")
	f.StringArrayVar(&o.rcps, "rcp", nil, "RCPs of one level of the resource's account path, root first (repeatable)")
	f.StringVar(&o.boundary, "boundary", "", "permissions boundary JSON")
	f.StringVar(&o.session, "session-policy", "", "session policy JSON")
	f.StringVar(&o.org, "org", "", "the caller's organization id (aws:PrincipalOrgID)")
	f.StringArrayVar(&o.context, "context", nil, "context key=value (repeat a key for several values)")
	f.StringVarP(&o.config, "config", "c", "", "trailwarden.yaml: default organization, resource and management accounts")
	f.StringVar(&o.format, "format", "text", "text or json")
	addWide(f, &o.wide)
	return cmd
}

func (a *app) runCan(o canOpts) error {
	if err := checkFormat(o.format, "text", "json"); err != nil {
		return err
	}
	for flag, v := range map[string]string{"--principal": o.principal, "--action": o.action, "--resource": o.resource} {
		if v == "" {
			return badInput(fmt.Errorf("%s is required", flag), "see trailwarden can --help for an example")
		}
	}
	var cfg *config.Config
	if o.config != "" {
		c, err := loadConfig(a, o.config)
		if err != nil {
			return err
		}
		cfg = c
	}
	req, err := buildRequest(o, cfg)
	if err != nil {
		return err
	}
	ps, err := a.loadPolicySet(o, req, cfg)
	if err != nil {
		return err
	}
	ev, err := eval.Compile(ps)
	if err != nil {
		return badInput(err, "AWS would reject this policy; fix the statement named above")
	}
	res := ev.Evaluate(req)
	if o.format == "json" {
		out := struct {
			Request eval.Request        `json:"request"`
			Context map[string][]string `json:"context"`
			eval.Result
		}{req, eval.DeriveContext(req), res}
		if err := printJSON(a.stdout, out); err != nil {
			return err
		}
	} else if err := fitted(a.stdout, o.wide, func(w io.Writer) { renderDecision(w, req, res) }); err != nil {
		return err
	}
	if res.Decision != eval.Allowed {
		return &exitError{code: ExitFailure}
	}
	return nil
}

func buildRequest(o canOpts, cfg *config.Config) (eval.Request, error) {
	p, err := eval.ParsePrincipal(o.principal)
	if err != nil {
		return eval.Request{}, badInput(err, "")
	}
	if o.roleARN != "" {
		if p, err = p.WithIssuer(o.roleARN); err != nil {
			return eval.Request{}, badInput(err, "")
		}
	}
	switch {
	case o.org != "":
		if err := awsid.Organization(o.org); err != nil {
			return eval.Request{}, badInput(fmt.Errorf("--org: %w", err), "")
		}
		p.OrgID = o.org
	case cfg != nil && p.Kind != eval.KindService && p.Kind != eval.KindAnonymous:
		p.OrgID = cfg.OrganizationID
	}
	ctx, err := parseContext(o.context)
	if err != nil {
		return eval.Request{}, err
	}
	req := eval.Request{Principal: p, Action: o.action, Resource: o.resource, Context: ctx}
	req.ResourceAccount, err = resourceAccount(o, cfg)
	return req, err
}

func parseContext(kvs []string) (map[string][]string, error) {
	ctx := map[string][]string{}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, badInput(fmt.Errorf("--context %q is not key=value", kv), "e.g. --context aws:SourceArn=arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail")
		}
		ctx[k] = append(ctx[k], v)
	}
	return ctx, nil
}

func resourceAccount(o canOpts, cfg *config.Config) (string, error) {
	if o.resourceAccount != "" {
		if err := awsid.Account(o.resourceAccount); err != nil {
			return "", badInput(fmt.Errorf("--resource-account: %w", err), "")
		}
		return o.resourceAccount, nil
	}
	if arn, err := awsid.ParseARN(o.resource); err == nil && arn.Account != "" {
		return arn.Account, nil
	}
	if cfg != nil && (o.resource == cfg.BucketARN() || strings.HasPrefix(o.resource, cfg.BucketARN()+"/")) {
		return cfg.LogArchiveAccount, nil
	}
	return "", badInput(errors.New("the resource's account is unknown: its ARN carries none"),
		"pass --resource-account, or --config for the central bucket (its owner is the log-archive account)")
}

func (a *app) loadPolicySet(o canOpts, req eval.Request, cfg *config.Config) (eval.Policies, error) {
	var ps eval.Policies
	load := func(path string) (*eval.Named, error) {
		doc, err := loadPolicy(a, path)
		if err != nil {
			return nil, err
		}
		return &eval.Named{Name: path, Doc: doc}, nil
	}
	var err error
	if o.resourcePolicy != "" {
		if ps.Resource, err = load(o.resourcePolicy); err != nil {
			return ps, err
		}
	}
	for _, path := range o.identity {
		n, err := load(path)
		if err != nil {
			return ps, err
		}
		ps.Identity = append(ps.Identity, *n)
	}
	if o.boundary != "" {
		if ps.Boundary, err = load(o.boundary); err != nil {
			return ps, err
		}
	}
	if o.session != "" {
		if ps.Session, err = load(o.session); err != nil {
			return ps, err
		}
	}
	levels := func(flags []string) ([][]eval.Named, error) {
		var out [][]eval.Named
		for _, level := range flags {
			var ns []eval.Named
			for _, path := range strings.Split(level, ",") {
				n, err := load(path)
				if err != nil {
					return nil, err
				}
				ns = append(ns, *n)
			}
			out = append(out, ns)
		}
		return out, nil
	}
	if ps.SCPs, err = levels(o.scps); err != nil {
		return ps, err
	}
	if ps.RCPs, err = levels(o.rcps); err != nil {
		return ps, err
	}
	if ps.ResourceKind, err = resourceKind(o.resourceKind, req); err != nil {
		return ps, err
	}
	if cfg != nil && cfg.ManagementAccount != "" {
		ps.PrincipalIsManagementAccount = req.Principal.Account == cfg.ManagementAccount
		ps.ResourceInManagementAccount = req.ResourceAccount == cfg.ManagementAccount
	}
	return ps, nil
}

func resourceKind(flag string, req eval.Request) (eval.ResourceKind, error) {
	switch flag {
	case "generic":
		return eval.Generic, nil
	case "kms-key":
		return eval.KMSKey, nil
	case "role-trust":
		return eval.RoleTrust, nil
	case "auto":
		action := strings.ToLower(req.Action)
		switch {
		case strings.HasPrefix(action, "kms:") && strings.Contains(req.Resource, ":kms:"):
			return eval.KMSKey, nil
		case strings.HasPrefix(action, "sts:assumerole") && strings.Contains(req.Resource, ":role/"):
			return eval.RoleTrust, nil
		}
		return eval.Generic, nil
	}
	return "", badInput(fmt.Errorf("unknown --resource-kind %q", flag), "use auto, generic, kms-key or role-trust")
}
