package inventory

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/account"
	accttypes "github.com/aws/aws-sdk-go-v2/service/account/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// Organization reads only the organization's identity and its accounts
// (DescribeOrganization, then ListAccounts page by page) from the
// management account, reached as Read reaches it: the caller's own
// credentials when the caller is the management account, else the config's
// aws.access_role. Unlike Read, a failed call is an error: a partial
// account list must never stand for the organization.
func Organization(ctx context.Context, cfg *config.Config, o Options) (*snapshot.Organization, error) {
	r, err := newReader(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	mgmt := cfg.ManagementAccount
	if mgmt == "" {
		mgmt = r.caller
	}
	acfg, ok := r.at(ctx, mgmt, r.globalRegion())
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, r.firstError("reach the management account " + mgmt)
	}
	c := organizations.NewFromConfig(acfg)
	d, err := c.DescribeOrganization(ctx, &organizations.DescribeOrganizationInput{})
	if err != nil {
		return nil, callError("organizations:DescribeOrganization in "+mgmt, err)
	}
	org := &snapshot.Organization{ID: aws.ToString(d.Organization.Id), ManagementAccount: aws.ToString(d.Organization.MasterAccountId),
		FeatureSet: string(d.Organization.FeatureSet)}
	for p := organizations.NewListAccountsPaginator(c, &organizations.ListAccountsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callError("organizations:ListAccounts in "+mgmt, err)
		}
		for _, a := range page.Accounts {
			org.Accounts = append(org.Accounts, snapshot.OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Status: string(a.Status)})
		}
	}
	sort.Slice(org.Accounts, func(i, j int) bool { return org.Accounts[i].ID < org.Accounts[j].ID })
	return org, nil
}

// Regions reads the regions enabled in each account (account:ListRegions,
// through aws.access_role as Read does). Any account it cannot read makes
// it an error naming the account: a guessed list would hide a region.
func Regions(ctx context.Context, cfg *config.Config, accounts []string, o Options) (map[string][]string, error) {
	r, err := newReader(ctx, cfg, o)
	if err != nil {
		return nil, err
	}
	var mu sync.Mutex
	out := make(map[string][]string, len(accounts))
	var errs []error
	if err := r.each(ctx, "regions", len(accounts), func(ctx context.Context, i int) {
		id := accounts[i]
		rs, err := r.enabledRegions(ctx, id)
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			errs = append(errs, err)
			return
		}
		out[id] = rs
	}); err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Error() < errs[j].Error() })
		if len(errs) > 1 {
			return nil, fmt.Errorf("%w (and %d more accounts)", errs[0], len(errs)-1)
		}
		return nil, errs[0]
	}
	return out, nil
}

// enabledRegions lists the regions enabled in account id.
func (r *reader) enabledRegions(ctx context.Context, id string) ([]string, error) {
	cfg, ok := r.at(ctx, id, r.globalRegion())
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, r.firstError("reach account " + id)
	}
	var out []string
	in := &account.ListRegionsInput{RegionOptStatusContains: []accttypes.RegionOptStatus{accttypes.RegionOptStatusEnabled, accttypes.RegionOptStatusEnabledByDefault}}
	for p := account.NewListRegionsPaginator(account.NewFromConfig(cfg), in); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, callError("account:ListRegions in "+id, err)
		}
		for _, rg := range page.Regions {
			out = append(out, aws.ToString(rg.RegionName))
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("read: account:ListRegions in %s listed no region", id)
	}
	sort.Strings(out)
	return out, nil
}

// callError is a failed call as an error: the call, the AWS error code
// and message.
func callError(what string, err error) error {
	code, msg := errorCode(err)
	return fmt.Errorf("read: %s: %s: %s", what, code, msg)
}

// firstError is the recorded failure (an AssumeRole) that stopped what.
func (r *reader) firstError(what string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.errs) == 0 {
		return fmt.Errorf("read: %s: failed", what)
	}
	ce := r.errs[0]
	return fmt.Errorf("read: %s: %s:%s %s: %s: %s", what, ce.Service, ce.Operation, ce.Resource, ce.Code, ce.Message)
}
