package inventory

import (
	"context"
	"net/url"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// roleARN splits arn:PARTITION:iam::ACCOUNT:role[/path]/NAME.
func roleARN(arn string) (account, name string, ok bool) {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[2] != "iam" || !strings.HasPrefix(f[5], "role/") {
		return "", "", false
	}
	return f[4], f[5][strings.LastIndex(f[5], "/")+1:], true
}

// readers reads the reader role in the log-archive account and the role
// ARNs the config names, each once.
func (r *reader) readers(ctx context.Context) ([]snapshot.Role, error) {
	set := map[string]bool{}
	if r.cfg.Readers.RoleName != "" && r.cfg.LogArchiveAccount != "" {
		set[r.cfg.ReaderRoleARN()] = true
	}
	for _, arn := range r.cfg.Readers.Roles {
		if _, _, ok := roleARN(arn); ok {
			set[arn] = true
		}
	}
	arns := sortedSet(set)
	out := make([]snapshot.Role, len(arns))
	if err := r.each(ctx, "details", len(arns), func(ctx context.Context, i int) {
		out[i] = r.role(ctx, arns[i])
	}); err != nil {
		return nil, err
	}
	return out, nil
}

// decodePolicy undoes IAM's URL encoding of policy documents (RFC 3986,
// so "+" is a plus sign, not a space).
func decodePolicy(s string) string {
	if d, err := url.PathUnescape(s); err == nil {
		return d
	}
	return s
}

func (r *reader) role(ctx context.Context, arn string) snapshot.Role {
	acct, name, _ := roleARN(arn)
	role := snapshot.Role{ARN: arn, Name: name, Account: acct}
	cfg, ok := r.at(ctx, acct, r.globalRegion())
	if !ok {
		return role
	}
	c := iam.NewFromConfig(cfg)
	ce := func(op, res string) snapshot.CallError {
		return snapshot.CallError{Account: acct, Service: "iam", Operation: op, Resource: res}
	}
	got, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String(name)})
	switch {
	case isCode(err, "NoSuchEntity"):
		return role
	case err != nil:
		r.fail(err, ce("GetRole", arn))
		// Still try the policies: the role may exist and they may be readable.
	default:
		role.TrustPolicy = decodePolicy(aws.ToString(got.Role.AssumeRolePolicyDocument))
		if b := got.Role.PermissionsBoundary; b != nil && aws.ToString(b.PermissionsBoundaryArn) != "" {
			role.Boundary = r.managed(ctx, c, acct, aws.ToString(b.PermissionsBoundaryArn))
		}
	}
	role.Exists = err == nil

	var names []string
	for p := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if isCode(err, "NoSuchEntity") { // GetRole could not say; this can
			return snapshot.Role{ARN: arn, Name: name, Account: acct}
		}
		if err != nil {
			r.fail(err, ce("ListRolePolicies", arn))
			break
		}
		names = append(names, page.PolicyNames...)
	}
	sort.Strings(names)
	for _, pn := range names {
		got, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String(name), PolicyName: aws.String(pn)})
		if err != nil {
			r.fail(err, ce("GetRolePolicy", arn+" "+pn))
			continue
		}
		role.Inline = append(role.Inline, snapshot.NamedPolicy{Name: pn, Document: decodePolicy(aws.ToString(got.PolicyDocument))})
	}

	var attached []string
	for p := iam.NewListAttachedRolePoliciesPaginator(c, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail(err, ce("ListAttachedRolePolicies", arn))
			break
		}
		for _, a := range page.AttachedPolicies {
			attached = append(attached, aws.ToString(a.PolicyArn))
		}
	}
	sort.Strings(attached)
	for _, pa := range attached {
		if np := r.managed(ctx, c, acct, pa); np != nil {
			role.Attached = append(role.Attached, *np)
		}
	}
	if role.TrustPolicy != "" || len(role.Inline) > 0 || len(role.Attached) > 0 {
		role.Exists = true
	}
	return role
}

// managed reads a managed policy's default version; nil when it cannot.
func (r *reader) managed(ctx context.Context, c *iam.Client, acct, arn string) *snapshot.NamedPolicy {
	ce := func(op string) snapshot.CallError {
		return snapshot.CallError{Account: acct, Service: "iam", Operation: op, Resource: arn}
	}
	p, err := c.GetPolicy(ctx, &iam.GetPolicyInput{PolicyArn: aws.String(arn)})
	if err != nil {
		r.fail(err, ce("GetPolicy"))
		return nil
	}
	np := &snapshot.NamedPolicy{Name: aws.ToString(p.Policy.PolicyName), ARN: arn}
	v, err := c.GetPolicyVersion(ctx, &iam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: p.Policy.DefaultVersionId})
	if err != nil {
		r.fail(err, ce("GetPolicyVersion"))
		return np
	}
	np.Document = decodePolicy(aws.ToString(v.PolicyVersion.Document))
	return np
}
