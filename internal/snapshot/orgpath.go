package snapshot

// PolicyLevel is one level of an account's organization path (the root, an
// OU, or the account itself) with the policies of one type attached to it.
type PolicyLevel struct {
	Target   string      // r-..., ou-... or the account id
	Policies []OrgPolicy // in snapshot order
}

// PolicyPath returns the SCPs or RCPs (typ is PolicySCP or PolicyRCP) that
// apply to account, one level per step of its path from the root down to
// the account itself. It returns nil when the snapshot has no organization,
// the organization is not in all-features mode (SCPs and RCPs do not apply),
// the account is not a member, or no policy of that type was recorded: a
// caller then evaluates without that layer rather than denying everything.
func (s *Snapshot) PolicyPath(account, typ string) []PolicyLevel {
	o := s.Organization
	if o == nil || (o.FeatureSet != "" && o.FeatureSet != "ALL") {
		return nil
	}
	var member *OrgAccount
	for i := range o.Accounts {
		if o.Accounts[i].ID == account {
			member = &o.Accounts[i]
			break
		}
	}
	if member == nil {
		return nil
	}
	found := false
	for _, p := range o.Policies {
		if p.Type == typ {
			found = true
			break
		}
	}
	if !found {
		return nil
	}
	targets := append(append([]string{}, member.Path...), account)
	out := make([]PolicyLevel, 0, len(targets))
	for _, t := range targets {
		lvl := PolicyLevel{Target: t}
		for _, p := range o.Policies {
			if p.Type != typ {
				continue
			}
			for _, pt := range p.Targets {
				if pt == t {
					lvl.Policies = append(lvl.Policies, p)
					break
				}
			}
		}
		out = append(out, lvl)
	}
	return out
}

// IsManagementAccount reports whether account is the organization's
// management account, which SCPs and RCPs never restrict.
func (s *Snapshot) IsManagementAccount(account string) bool {
	return s.Organization != nil && s.Organization.ManagementAccount == account
}
