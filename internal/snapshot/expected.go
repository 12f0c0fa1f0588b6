package snapshot

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// ErrIncomplete is wrapped by the answers below when the snapshot cannot
// give a whole list: the call that would have listed it failed, or the
// snapshot never read it. A partial list would make a gap look like
// coverage, so callers get no list at all.
var ErrIncomplete = errors.New("the snapshot does not hold the whole list")

// AccountStatusActive is the status of an account Organizations lists as
// a working member.
const AccountStatusActive = "ACTIVE"

// OrgAccounts returns the organization's active accounts and, apart, the
// accounts it lists in any other state (SUSPENDED, PENDING_CLOSURE), which
// deliver no logs. An account without a status is taken as active, as the
// reader does. The error wraps ErrIncomplete when the snapshot has no
// organization, no accounts, or a failed ListAccounts.
func (s *Snapshot) OrgAccounts() (active, other []OrgAccount, err error) {
	o := s.Organization
	if o == nil {
		if ce := s.failed("organizations", "DescribeOrganization", ""); ce != nil {
			return nil, nil, fmt.Errorf("snapshot: organization: %w (DescribeOrganization failed: %s)", ErrIncomplete, ce.Code)
		}
		return nil, nil, fmt.Errorf("snapshot: organization: %w (it holds no organization)", ErrIncomplete)
	}
	if ce := s.failed("organizations", "ListAccounts", ""); ce != nil {
		return nil, nil, fmt.Errorf("snapshot: accounts of organization %s: %w (ListAccounts failed: %s)", o.ID, ErrIncomplete, ce.Code)
	}
	if len(o.Accounts) == 0 {
		return nil, nil, fmt.Errorf("snapshot: accounts of organization %s: %w (it lists none)", o.ID, ErrIncomplete)
	}
	for _, a := range o.Accounts {
		if a.Status == "" || a.Status == AccountStatusActive {
			active = append(active, a)
		} else {
			other = append(other, a)
		}
	}
	byID := func(xs []OrgAccount) { sort.Slice(xs, func(i, j int) bool { return xs[i].ID < xs[j].ID }) }
	byID(active)
	byID(other)
	return active, other, nil
}

// EnabledRegions returns the regions the snapshot read in account: the
// regions enabled in it, or the config's aws.regions when the snapshot was
// taken with them. The error wraps ErrIncomplete when the account is not in
// the snapshot or its regions could not be listed (the reader then falls
// back to the home region alone, which is not the account's list).
func (s *Snapshot) EnabledRegions(account string) ([]string, error) {
	for _, ce := range s.Errors {
		if ce.Account != account {
			continue
		}
		if (ce.Service == "account" && ce.Operation == "ListRegions") || (ce.Service == "sts" && ce.Operation == "AssumeRole") {
			return nil, fmt.Errorf("snapshot: regions of account %s: %w (%s failed: %s)", account, ErrIncomplete, ce.Operation, ce.Code)
		}
	}
	for _, a := range s.Accounts {
		if a.ID != account {
			continue
		}
		if len(a.Regions) == 0 {
			return nil, fmt.Errorf("snapshot: regions of account %s: %w (none recorded)", account, ErrIncomplete)
		}
		out := append([]string(nil), a.Regions...)
		sort.Strings(out)
		return out, nil
	}
	return nil, fmt.Errorf("snapshot: regions of account %s: %w (the account was not read)", account, ErrIncomplete)
}

// TrailsTo returns the distinct trails of every account that deliver to
// bucket under prefix ("" for no prefix), sorted by ARN; name, when not
// empty, keeps only the trails of that name.
func (s *Snapshot) TrailsTo(bucket, prefix, name string) []Trail {
	seen := map[string]bool{}
	var out []Trail
	for _, a := range s.Accounts {
		for _, t := range a.Trails {
			if t.S3BucketName != bucket || strings.Trim(t.S3KeyPrefix, "/") != strings.Trim(prefix, "/") || (name != "" && t.Name != name) || seen[t.ARN] {
				continue
			}
			seen[t.ARN] = true
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ARN < out[j].ARN })
	return out
}

// failed is the first recorded failure of service's operation (in
// account, when not empty), or nil.
func (s *Snapshot) failed(service, operation, account string) *CallError {
	for i, ce := range s.Errors {
		if ce.Service == service && ce.Operation == operation && (account == "" || ce.Account == account) {
			return &s.Errors[i]
		}
	}
	return nil
}
