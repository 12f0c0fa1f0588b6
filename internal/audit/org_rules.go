package audit

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
)

// notInUse is the Organizations error for an account outside any
// organization.
const notInUse = "AWSOrganizationsNotInUseException"

// noOrganization reports whether the snapshot shows the accounts are not in
// an AWS Organization (rather than that it could not be read).
func (e *env) noOrganization() bool {
	if e.s.Organization != nil {
		return false
	}
	if ce := e.callErr("organizations", "", "", "DescribeOrganization"); ce != nil {
		return ce.Code == notInUse
	}
	return e.c.OrganizationID == ""
}

// unsupportedByAccelerate is true under the accelerate profile for a setup
// without an Organization: the onboarding guide does not support it, and
// TW-ORG-01 says so once instead of every access rule failing.
func (e *env) unsupportedByAccelerate() bool {
	return e.profile == config.ProfileAccelerate && e.noOrganization()
}

// checkOrganization: the accounts that deliver to the central bucket are in
// an AWS Organization, which the AMS Accelerate onboarding guide requires
// for a centralized bucket.
func checkOrganization(e *env, _ *Rule) []Finding {
	const unsupported = "the AMS Accelerate onboarding guide does not support a trail that delivers to a centralized bucket when the accounts are not in an AWS Organization"
	fix := "put the accounts in an AWS Organization (aws organizations create-organization in the management account, then invite the source accounts), " +
		"set organization_id and management_account in trailwarden.yaml, and take the snapshot again; " +
		"or let the onboarding deploy its own trail in each account instead of integrating with this one"
	res := "organization"
	if e.noOrganization() {
		ev := []string{"organization_id = " + orNone(e.c.OrganizationID)}
		if ce := e.callErr("organizations", "", "", "DescribeOrganization"); ce != nil {
			ev = append(ev, fmt.Sprintf("organizations DescribeOrganization: %s", ce.Code))
		} else {
			ev = append(ev, "the config names no organization and the snapshot has none")
		}
		return []Finding{{Status: Fail, Resource: res, Evidence: ev, Remediation: fix,
			Message: unsupported + "; the reader and key checks of this profile are skipped until it is"}}
	}
	o := e.s.Organization
	if o == nil {
		ce := e.callErr("organizations", "", "", "DescribeOrganization", "ListAccounts")
		return []Finding{unknown(e.c.ManagementAccount, "organization "+e.c.OrganizationID, ce, "organization "+e.c.OrganizationID)}
	}
	res = "organization " + o.ID
	ev := []string{fmt.Sprintf("organization %s, management account %s, %d accounts listed", o.ID, o.ManagementAccount, len(o.Accounts))}
	if e.c.OrganizationID == "" {
		return []Finding{{Status: Fail, Account: o.ManagementAccount, Resource: res, Evidence: ev,
			Message:     "the accounts are in organization " + o.ID + " but trailwarden.yaml names no organization_id, which the onboarding guide's bucket and key statements are scoped to",
			Remediation: fmt.Sprintf("set organization_id: %q (and management_account: %q) in trailwarden.yaml", o.ID, o.ManagementAccount)}}
	}
	if len(o.Accounts) == 0 {
		f := unknown(o.ManagementAccount, res, e.callErr("organizations", "", "", "ListAccounts"), "list of the organization's accounts")
		f.Evidence = ev
		return []Finding{f}
	}
	var outside []string
	for _, a := range e.c.SourceAccounts {
		if member, _ := e.orgMember(a); !member {
			outside = append(outside, a)
		}
	}
	if len(outside) > 0 {
		return []Finding{{Status: Fail, Account: o.ManagementAccount, Resource: res, Evidence: append(ev, "not active members: "+strings.Join(outside, ", ")),
			Message:     fmt.Sprintf("source accounts %s are not active members of organization %s: %s", strings.Join(outside, ", "), o.ID, unsupported),
			Remediation: fmt.Sprintf("invite them to the organization (aws organizations invite-account-to-organization --target Id=%s,Type=ACCOUNT), or remove them from source_accounts", outside[0])}}
	}
	return []Finding{{Status: Pass, Account: o.ManagementAccount, Resource: res, Evidence: ev,
		Message: "the accounts delivering to the central bucket are in organization " + o.ID}}
}
