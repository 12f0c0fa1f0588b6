package proof

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// Accounts and organizations that appear in no config: the witnesses of
// "someone else".
const (
	foreignAccount    = access.OutsiderAccount
	foreignOrgAccount = "888888888888"
	foreignOrg        = "o-zzzzzzzzzz"
)

// probeKind says which part of the intended-access model a probe answers to.
type probeKind int

const (
	probeCloudTrail probeKind = iota
	probeReader               // a configured reader (exact role or pattern)
	probeReaderRole           // a session of the reader role in the log-archive account
	probeOther                // anyone else: strangers, foreign accounts, anonymous
)

// probe is one caller of the universe, with the context it naturally sends.
type probe struct {
	label     string
	kind      probeKind
	principal eval.Principal
	// trailARN and trailOwner are set for CloudTrail probes.
	trailARN, trailOwner string
	// exactReader is true for a reader named in readers.roles.
	exactReader bool
}

// probes builds the principals of the universe: CloudTrail for every trail
// and for foreign trails, every reader, the reader role, a principal of
// every account named in the policies, strangers in the same account, in
// another account of the organization and in a foreign organization, and
// anonymous.
func probes(c *config.Config, docs []*policy.Document) ([]probe, error) {
	var out []probe
	seen := map[string]bool{}
	add := func(p probe) {
		key := p.label
		if !seen[key] {
			seen[key] = true
			out = append(out, p)
		}
	}
	cloudtrail := func(owner, arn, label string) probe {
		return probe{label: label, kind: probeCloudTrail, principal: service("cloudtrail.amazonaws.com"), trailARN: arn, trailOwner: owner}
	}
	for _, owner := range representatives(c.TrailOwners()) {
		add(cloudtrail(owner, c.TrailARN(owner), "CloudTrail for trail "+c.TrailARN(owner)))
	}
	add(cloudtrail(foreignAccount, c.TrailARN(foreignAccount), "CloudTrail for a trail of another account"))
	rs, err := readers(c)
	if err != nil {
		return nil, err
	}
	exact := map[string]bool{}
	for _, r := range c.Readers.Roles {
		exact[r] = true
	}
	for _, r := range rs {
		add(probe{label: "reader " + r.label, kind: probeReader, principal: r.principal, exactReader: exact[r.principal.IssuerARN]})
	}
	rr, err := roleSession(c, c.ReaderRoleARN())
	if err != nil {
		return nil, err
	}
	add(probe{label: "reader role " + c.ReaderRoleARN(), kind: probeReaderRole, principal: rr})

	others := []struct {
		label, arn, org string
	}{
		{"a stranger in the log-archive account", roleARN(c, c.LogArchiveAccount, "stranger"), c.OrganizationID},
		{"a stranger in another account of the organization", roleARN(c, foreignAccount, "stranger"), orgOr(c, "")},
	}
	if c.Readers.RolePattern != "" {
		name := strings.NewReplacer("*", "reader", "?", "x").Replace(c.Readers.RolePattern)
		others = append(others, struct{ label, arn, org string }{
			"a role matching the pattern in a foreign organization", roleARN(c, foreignOrgAccount, name), foreignOrg})
	}
	for _, r := range c.Readers.Roles {
		name := r[strings.LastIndex(r, "/")+1:]
		others = append(others, struct{ label, arn, org string }{
			"a role named like reader " + name + " in a foreign organization", roleARN(c, foreignOrgAccount, name), foreignOrg})
	}
	for _, acct := range namedAccounts(docs) {
		others = append(others, struct{ label, arn, org string }{
			"a role of account " + acct + " named in the policy", roleARN(c, acct, "trailwarden-probe"), c.OrganizationID})
	}
	for _, o := range others {
		p, err := sessionOf(o.arn, o.org)
		if err != nil {
			return nil, err
		}
		add(probe{label: o.label, kind: probeOther, principal: p})
	}
	add(probe{label: "anonymous", kind: probeOther, principal: eval.Principal{Kind: eval.KindAnonymous}})
	return out, nil
}

func orgOr(c *config.Config, fallback string) string {
	if c.OrganizationID != "" {
		return c.OrganizationID
	}
	return fallback
}

func roleARN(c *config.Config, account, name string) string {
	return fmt.Sprintf("arn:%s:iam::%s:role/%s", c.Partition(), account, name)
}

func sessionOf(roleARN, org string) (eval.Principal, error) {
	parts := strings.SplitN(roleARN, ":", 6)
	name := roleARN[strings.LastIndex(roleARN, "/")+1:]
	p, err := eval.ParsePrincipal(fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/trailwarden-proof", parts[1], parts[4], name))
	if err != nil {
		return eval.Principal{}, err
	}
	p.OrgID = org
	return p, nil
}

// namedAccounts are the accounts named in Principal elements, so that a
// grant to an account root is probed by a principal of that account.
func namedAccounts(docs []*policy.Document) []string {
	set := map[string]bool{}
	for _, d := range docs {
		if d == nil {
			continue
		}
		for _, s := range d.Statements {
			for _, p := range []*policy.Principal{s.Principal, s.NotPrincipal} {
				if p == nil {
					continue
				}
				for _, v := range p.AWS {
					if a := accountOf(v); a != "" {
						set[a] = true
					}
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for a := range set {
		out = append(out, a)
	}
	sort.Strings(out)
	return out
}

func accountOf(v string) string {
	if len(v) == 12 && strings.Trim(v, "0123456789") == "" {
		return v
	}
	parts := strings.SplitN(v, ":", 6)
	if len(parts) == 6 && len(parts[4]) == 12 {
		return parts[4]
	}
	return ""
}
