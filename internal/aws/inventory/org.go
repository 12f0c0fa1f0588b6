package inventory

import (
	"context"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	orgtypes "github.com/aws/aws-sdk-go-v2/service/organizations/types"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// organization reads the organization from the management account: nil
// when the config names no organization or Organizations cannot be read.
func (r *reader) organization(ctx context.Context) (*snapshot.Organization, error) {
	if r.cfg.OrganizationID == "" && r.cfg.ManagementAccount == "" {
		return nil, nil
	}
	mgmt := r.cfg.ManagementAccount
	if mgmt == "" {
		mgmt = r.caller
	}
	cfg, ok := r.at(ctx, mgmt, r.globalRegion())
	if !ok {
		return nil, ctx.Err()
	}
	c := organizations.NewFromConfig(cfg)
	ce := func(op, res string) snapshot.CallError {
		return snapshot.CallError{Account: mgmt, Service: "organizations", Operation: op, Resource: res}
	}
	d, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		r.fail(err, ce("DescribeOrganization", ""))
		return nil, ctx.Err()
	}
	org := &snapshot.Organization{ID: aws.ToString(d.Organization.Id), ManagementAccount: aws.ToString(d.Organization.MasterAccountId),
		FeatureSet: string(d.Organization.FeatureSet)}

	for p := organizations.NewListAWSServiceAccessForOrganizationPaginator(c, &organizations.ListAWSServiceAccessForOrganizationInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail(err, ce("ListAWSServiceAccessForOrganization", ""))
			break
		}
		for _, sp := range page.EnabledServicePrincipals {
			if aws.ToString(sp.ServicePrincipal) == "cloudtrail.amazonaws.com" {
				org.CloudTrailTrustedAccess = true
			}
		}
	}

	for p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			r.fail(err, ce("ListAccounts", ""))
			break
		}
		for _, a := range page.Accounts {
			org.Accounts = append(org.Accounts, snapshot.OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Status: string(a.Status)})
		}
	}
	sort.Slice(org.Accounts, func(i, j int) bool { return org.Accounts[i].ID < org.Accounts[j].ID })

	w := &orgWalk{r: r, c: c, mgmt: mgmt, parent: map[string]string{}, policies: map[string]*snapshot.OrgPolicy{}}
	if err := w.paths(ctx, org, r.scopedAccounts(org)); err != nil {
		return nil, err
	}
	if err := w.attach(ctx, org); err != nil {
		return nil, err
	}
	return org, nil
}

// scopedAccounts are the accounts whose SCP/RCP paths matter: the source
// accounts, the trail owners, the log-archive account and the readers'.
func (r *reader) scopedAccounts(org *snapshot.Organization) map[string]bool {
	set := map[string]bool{}
	for _, a := range r.sourceAccounts(org) {
		set[a] = true
	}
	set[r.cfg.LogArchiveAccount] = true
	for _, arn := range r.cfg.Readers.Roles {
		if acct, _, ok := roleARN(arn); ok {
			set[acct] = true
		}
	}
	delete(set, "")
	return set
}

// orgWalk finds each account's path to the root and the policies attached
// along it, asking about each OU once.
type orgWalk struct {
	r    *reader
	c    *organizations.Client
	mgmt string

	mu       sync.Mutex
	parent   map[string]string // child id -> parent id ("" = none/unknown)
	policies map[string]*snapshot.OrgPolicy
}

func (w *orgWalk) paths(ctx context.Context, org *snapshot.Organization, scope map[string]bool) error {
	var idx []int
	for i, a := range org.Accounts {
		if scope[a.ID] {
			idx = append(idx, i)
		}
	}
	return w.r.each(ctx, "organization", len(idx), func(ctx context.Context, n int) {
		a := &org.Accounts[idx[n]]
		var chain []string
		for id := a.ID; ; {
			p, ok := w.parentOf(ctx, id)
			if !ok || p == "" {
				break
			}
			chain = append([]string{p}, chain...)
			id = p
		}
		a.Path = chain
	})
}

// parentOf is id's parent; ok is false when ListParents failed.
func (w *orgWalk) parentOf(ctx context.Context, id string) (string, bool) {
	w.mu.Lock()
	p, seen := w.parent[id]
	w.mu.Unlock()
	if seen {
		return p, true
	}
	out, err := w.c.ListParents(ctx, &organizations.ListParentsInput{ChildId: aws.String(id)})
	if err != nil {
		w.r.fail(err, snapshot.CallError{Account: w.mgmt, Service: "organizations", Operation: "ListParents", Resource: id})
		return "", false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(out.Parents) > 0 {
		p = aws.ToString(out.Parents[0].Id)
		if out.Parents[0].Type == orgtypes.ParentTypeRoot {
			w.parent[p] = "" // the root has no parent: the walk stops there
		}
	}
	w.parent[id] = p
	return p, true
}

// attach lists the SCPs and RCPs of every target on the scoped paths and
// reads each policy once.
func (w *orgWalk) attach(ctx context.Context, org *snapshot.Organization) error {
	targets := map[string]bool{}
	for _, a := range org.Accounts {
		if a.Path == nil {
			continue
		}
		targets[a.ID] = true
		for _, p := range a.Path {
			targets[p] = true
		}
	}
	type job struct{ target, filter string }
	var jobs []job
	for _, t := range sortedSet(targets) {
		for _, f := range []string{snapshot.PolicySCP, snapshot.PolicyRCP} {
			jobs = append(jobs, job{t, f})
		}
	}
	if err := w.r.each(ctx, "organization", len(jobs), func(ctx context.Context, i int) {
		j := jobs[i]
		in := &organizations.ListPoliciesForTargetInput{TargetId: aws.String(j.target), Filter: orgtypes.PolicyType(j.filter)}
		for p := organizations.NewListPoliciesForTargetPaginator(w.c, in); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if isCode(err, "PolicyTypeNotEnabledException") {
				return // the type is off: nothing can be attached
			}
			if err != nil {
				w.r.fail(err, snapshot.CallError{Account: w.mgmt, Service: "organizations", Operation: "ListPoliciesForTarget", Resource: j.target + " " + j.filter})
				return
			}
			w.mu.Lock()
			for _, ps := range page.Policies {
				id := aws.ToString(ps.Id)
				op := w.policies[id]
				if op == nil {
					op = &snapshot.OrgPolicy{ID: id, Name: aws.ToString(ps.Name), Type: j.filter, AWSManaged: ps.AwsManaged}
					w.policies[id] = op
				}
				op.Targets = append(op.Targets, j.target)
			}
			w.mu.Unlock()
		}
	}); err != nil {
		return err
	}
	ids := make([]string, 0, len(w.policies))
	for id := range w.policies {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if err := w.r.each(ctx, "organization", len(ids), func(ctx context.Context, i int) {
		out, err := w.c.DescribePolicy(ctx, &organizations.DescribePolicyInput{PolicyId: aws.String(ids[i])})
		if err != nil {
			w.r.fail(err, snapshot.CallError{Account: w.mgmt, Service: "organizations", Operation: "DescribePolicy", Resource: ids[i]})
			return
		}
		w.policies[ids[i]].Document = aws.ToString(out.Policy.Content) // distinct entries: no lock needed
	}); err != nil {
		return err
	}
	for _, id := range ids {
		p := w.policies[id]
		sort.Strings(p.Targets)
		org.Policies = append(org.Policies, *p)
	}
	return nil
}
