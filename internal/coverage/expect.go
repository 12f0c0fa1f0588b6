package coverage

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// Where the expected accounts or regions came from (Expected.AccountsFrom,
// Expected.RegionsFrom).
const (
	FromList         = "list"         // given explicitly
	FromSnapshot     = "snapshot"     // the organization or accounts of a snapshot file
	FromOrganization = "organization" // Organizations ListAccounts, read live
	FromConfig       = "config"       // the config's source_accounts or aws.regions
	FromLive         = "live"         // regions read live (account:ListRegions)
	FromTrail        = "trail"        // a single-Region trail's home region
	FromMixed        = "mixed"        // regions: some accounts from one source, some from another
)

// Input is everything the expected set may come from. Only what is set is
// used; the most explicit source wins.
type Input struct {
	// Accounts and Regions are explicit lists.
	Accounts, Regions []string
	// Config is the pipeline's trailwarden.yaml, when known.
	Config *config.Config
	// Snapshot is a snapshot file of the pipeline, named SnapshotName in
	// messages.
	Snapshot     *snapshot.Snapshot
	SnapshotName string
	// Organization is the organization read live (DescribeOrganization
	// and ListAccounts); OrganizationErr is why that read failed, when it
	// was tried.
	Organization    *snapshot.Organization
	OrganizationErr error
	// LiveRegions are the regions enabled in each account, read live;
	// LiveRegionsErr is why that read failed, when it was tried.
	LiveRegions    map[string][]string
	LiveRegionsErr error
	// Bucket and Prefix locate the logs, to find in the snapshot the trails
	// that deliver there.
	Bucket, Prefix string
}

// Expected is the set of accounts, and the regions of each, whose logs
// should be in the bucket.
type Expected struct {
	Accounts []Account `json:"accounts"`
	// AccountsFrom and RegionsFrom are one of the From constants;
	// AccountsDetail and RegionsDetail say it in a sentence.
	AccountsFrom   string `json:"accounts_from"`
	AccountsDetail string `json:"accounts_detail"`
	RegionsFrom    string `json:"regions_from,omitempty"`
	RegionsDetail  string `json:"regions_detail,omitempty"`
	// Left are accounts the source listed but that are not expected to
	// deliver, each with the reason.
	Left []Left `json:"left_out"`
}

// Account is one expected account and its expected regions.
type Account struct {
	ID      string   `json:"id"`
	Name    string   `json:"name,omitempty"`
	Regions []string `json:"regions,omitempty"`
}

// Left is an account the organization lists but that is not expected.
type Left struct {
	Account string `json:"account"`
	Name    string `json:"name,omitempty"`
	Reason  string `json:"reason"`
}

// IDs returns the expected account ids, sorted.
func (e *Expected) IDs() []string {
	out := make([]string, len(e.Accounts))
	for i, a := range e.Accounts {
		out[i] = a.ID
	}
	return out
}

// Regions returns every expected region of any account, sorted.
func (e *Expected) Regions() []string {
	var out []string
	for _, a := range e.Accounts {
		out = append(out, a.Regions...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Pairs returns the expected account x region pairs, sorted.
func (e *Expected) Pairs() []Place {
	var out []Place
	for _, a := range e.Accounts {
		for _, r := range a.Regions {
			out = append(out, Place{Account: a.ID, Region: r})
		}
	}
	return out
}

// Place is one account x region.
type Place struct {
	Account string `json:"account"`
	Region  string `json:"region"`
}

// ErrUnknown is wrapped by every UnknownError.
var ErrUnknown = errors.New("the expected set is unknown")

// UnknownError says that the accounts or regions that should deliver
// cannot be known from what was given, and why. It never comes with a
// guess: a set made from what happens to be in the bucket would hide the
// very account that stopped delivering.
type UnknownError struct {
	What string   // "accounts", or "regions of 333333333333, ..."
	Why  []string // each source tried and why it could not say
	// Organization is true when the organization's account list would
	// settle it (an organization trail).
	Organization bool
}

func (e *UnknownError) Error() string {
	return fmt.Sprintf("expected set: the %s that should deliver are unknown: %s", e.What, strings.Join(e.Why, "; "))
}

// Unwrap makes errors.Is(err, ErrUnknown) true.
func (e *UnknownError) Unwrap() error { return ErrUnknown }

// trails are the snapshot's trails that deliver to the bucket.
func (in Input) trails() []snapshot.Trail {
	if in.Snapshot == nil {
		return nil
	}
	bucket, prefix, name := in.Bucket, in.Prefix, ""
	if in.Config != nil {
		bucket, prefix, name = in.Config.Bucket, in.Config.KeyPrefix, in.Config.Trail.Name
	}
	if bucket == "" {
		return nil
	}
	return in.Snapshot.TrailsTo(bucket, prefix, name)
}

// trailOwners returns the accounts owning the snapshot's trails to the
// bucket when all of them are per-account trails; nil otherwise.
func (in Input) trailOwners() []string {
	ts := in.trails()
	if len(ts) == 0 {
		return nil
	}
	var out []string
	for _, t := range ts {
		parts := strings.Split(t.ARN, ":")
		if t.IsOrganization || len(parts) < 5 {
			return nil
		}
		out = append(out, parts[4])
	}
	return out
}

// WantsOrganization reports whether the accounts can only come from the
// organization and neither the explicit list nor the snapshot gives them:
// the caller may then read the organization live and set Organization (or
// OrganizationErr) before Resolve.
func (in Input) WantsOrganization() bool {
	if len(in.Accounts) > 0 || in.Organization != nil || in.OrganizationErr != nil {
		return false
	}
	if in.Config == nil || !in.Config.Trail.Organization {
		return false
	}
	if in.Snapshot != nil {
		if _, _, err := in.Snapshot.OrgAccounts(); err == nil {
			return false
		}
	}
	return true
}

// ResolveAccounts decides which accounts should deliver: the explicit list;
// else, for per-account trails, the config's source accounts (the accounts
// that own a trail); else the organization's active accounts, from the
// snapshot or read live; else the config's source_accounts with the trail
// owners; else the snapshot's accounts. Regions are left empty. It returns
// an *UnknownError when none of these is available.
func ResolveAccounts(in Input) (*Expected, error) {
	e := &Expected{Left: []Left{}}
	if len(in.Accounts) > 0 {
		ids, err := accountList(in.Accounts)
		if err != nil {
			return nil, err
		}
		e.AccountsFrom, e.AccountsDetail = FromList, "the accounts given"
		return e.withIDs(ids), nil
	}
	c := in.Config
	if c != nil && !c.Trail.Organization {
		// Per-account trails: an account delivers only if it owns a trail.
		if len(c.SourceAccounts) == 0 {
			return nil, &UnknownError{What: "accounts", Why: []string{"the config describes per-account trails but lists no source_accounts"}}
		}
		ids, err := accountList(c.TrailOwners())
		if err != nil {
			return nil, fmt.Errorf("expected set: config source_accounts: %w", err)
		}
		e.AccountsFrom, e.AccountsDetail = FromConfig, "the config's source_accounts (each owns a trail)"
		return e.withIDs(ids), nil
	}
	if c == nil {
		if owners := in.trailOwners(); owners != nil {
			// Without a config, the snapshot's per-account trails to the
			// bucket say who delivers: their owners.
			ids, err := accountList(owners)
			if err != nil {
				return nil, err
			}
			e.AccountsFrom, e.AccountsDetail = FromSnapshot, "the owners of the per-account trails to the bucket in snapshot "+in.SnapshotName
			return e.withIDs(ids), nil
		}
	}
	var why []string
	if in.Snapshot != nil {
		if c != nil {
			if err := in.Snapshot.CheckTakenFor(c.Bucket, c.OrganizationID); err != nil {
				return nil, fmt.Errorf("expected set: snapshot %s: %w", in.SnapshotName, err)
			}
		}
		active, other, err := in.Snapshot.OrgAccounts()
		if err == nil {
			e.AccountsFrom = FromSnapshot
			e.AccountsDetail = fmt.Sprintf("the active accounts of organization %s in snapshot %s", in.Snapshot.Organization.ID, in.SnapshotName)
			return e.withOrg(active, other), nil
		}
		why = append(why, fmt.Sprintf("snapshot %s: %v", in.SnapshotName, strings.TrimPrefix(err.Error(), "snapshot: ")))
	}
	if o := in.Organization; o != nil {
		snap := &snapshot.Snapshot{Organization: o}
		active, other, err := snap.OrgAccounts()
		if err == nil {
			e.AccountsFrom = FromOrganization
			e.AccountsDetail = fmt.Sprintf("the active accounts of organization %s (Organizations ListAccounts)", o.ID)
			if c != nil && c.OrganizationID != "" && o.ID != c.OrganizationID {
				return nil, fmt.Errorf("expected set: the credentials read organization %s, the config's is %s", o.ID, c.OrganizationID)
			}
			return e.withOrg(active, other), nil
		}
		why = append(why, "the organization read live: "+strings.TrimPrefix(err.Error(), "snapshot: "))
	}
	if in.OrganizationErr != nil {
		why = append(why, "the organization could not be read live: "+in.OrganizationErr.Error())
	}
	if c != nil && len(c.SourceAccounts) > 0 {
		ids, err := accountList(append(append([]string(nil), c.SourceAccounts...), c.TrailOwners()...))
		if err != nil {
			return nil, fmt.Errorf("expected set: config source_accounts: %w", err)
		}
		e.AccountsFrom, e.AccountsDetail = FromConfig, "the config's source_accounts and the trail's owner (the organization's account list was not available)"
		return e.withIDs(ids), nil
	}
	if c == nil && in.Snapshot != nil && in.Snapshot.Organization == nil && len(in.Snapshot.Accounts) > 0 {
		// A snapshot of per-account trails: its accounts are the config's
		// source accounts when it was taken.
		ids := make([]string, 0, len(in.Snapshot.Accounts))
		for _, a := range in.Snapshot.Accounts {
			ids = append(ids, a.ID)
		}
		ids, err := accountList(ids)
		if err != nil {
			return nil, err
		}
		e.AccountsFrom, e.AccountsDetail = FromSnapshot, "the source accounts of snapshot "+in.SnapshotName
		return e.withIDs(ids), nil
	}
	switch {
	case c != nil:
		why = append(why, fmt.Sprintf("the config describes an organization trail of %s, which logs every account of the organization, and lists no source_accounts", orgName(c.OrganizationID)))
	case in.Snapshot == nil:
		why = append(why, "no list of accounts, no config and no snapshot")
	}
	return nil, &UnknownError{What: "accounts", Why: why, Organization: c == nil || c.Trail.Organization}
}

func orgName(id string) string {
	if id == "" {
		return "the organization"
	}
	return "organization " + id
}

func (e *Expected) withIDs(ids []string) *Expected {
	for _, id := range ids {
		e.Accounts = append(e.Accounts, Account{ID: id})
	}
	return e
}

func (e *Expected) withOrg(active, other []snapshot.OrgAccount) *Expected {
	for _, a := range active {
		e.Accounts = append(e.Accounts, Account{ID: a.ID, Name: a.Name})
	}
	for _, a := range other {
		e.Left = append(e.Left, Left{Account: a.ID, Name: a.Name,
			Reason: fmt.Sprintf("status %s: only ACTIVE accounts deliver logs", a.Status)})
	}
	return e
}

// accountList validates, sorts and de-duplicates account ids.
func accountList(ids []string) ([]string, error) {
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id == "" {
			continue
		}
		if err := awsid.Account(id); err != nil {
			return nil, fmt.Errorf("expected set: %w", err)
		}
		out = append(out, id)
	}
	if len(out) == 0 {
		return nil, &UnknownError{What: "accounts", Why: []string{"the list of accounts is empty"}}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}

// singleRegion returns the home regions when every trail the snapshot
// shows delivering to the bucket is a single-Region trail; nil otherwise.
func (in Input) singleRegion() []string {
	ts := in.trails()
	if len(ts) == 0 {
		return nil
	}
	var homes []string
	for _, t := range ts {
		if t.IsMultiRegion {
			return nil
		}
		homes = append(homes, t.HomeRegion)
	}
	slices.Sort(homes)
	return slices.Compact(homes)
}

// WantsRegions returns the accounts of e whose regions neither the explicit
// list, the trail, the snapshot nor the config gives: the caller may read
// them live and set LiveRegions (or LiveRegionsErr) before Resolve.
func (in Input) WantsRegions(e *Expected) []string {
	if len(in.Regions) > 0 || in.singleRegion() != nil || (in.Config != nil && len(in.Config.AWS.Regions) > 0) ||
		in.LiveRegions != nil || in.LiveRegionsErr != nil {
		return nil
	}
	var out []string
	for _, a := range e.Accounts {
		if in.Snapshot != nil {
			if _, err := in.Snapshot.EnabledRegions(a.ID); err == nil {
				continue
			}
		}
		out = append(out, a.ID)
	}
	return out
}

// Resolve decides the expected accounts (ResolveAccounts) and the regions
// of each: the explicit list; else the home region of a single-Region
// trail; else, for a multi-Region trail, the regions enabled in the
// account as the snapshot recorded them, or the config's aws.regions, or
// the regions read live. An account whose regions none of these gives
// makes it an *UnknownError naming the account.
func Resolve(in Input) (*Expected, error) {
	e, err := ResolveAccounts(in)
	if err != nil {
		return nil, err
	}
	if len(in.Regions) > 0 {
		rs, err := regionList(in.Regions)
		if err != nil {
			return nil, err
		}
		for i := range e.Accounts {
			e.Accounts[i].Regions = rs
		}
		e.RegionsFrom, e.RegionsDetail = FromList, "the regions given"
		return e, nil
	}
	if homes := in.singleRegion(); homes != nil {
		for i := range e.Accounts {
			e.Accounts[i].Regions = homes
		}
		e.RegionsFrom, e.RegionsDetail = FromTrail, "the home region of the single-Region trail in snapshot "+in.SnapshotName
		return e, nil
	}
	if in.Config == nil && in.Snapshot == nil {
		return nil, &UnknownError{What: "regions", Why: []string{"no list of regions, no config and no snapshot to find the trail's regions in"}}
	}
	// A multi-Region trail logs every region enabled in the account (the
	// trails trailwarden creates are multi-Region).
	used := map[string]bool{}
	var unknown, why []string
	for i, a := range e.Accounts {
		if in.Snapshot != nil {
			rs, err := in.Snapshot.EnabledRegions(a.ID)
			if err == nil {
				e.Accounts[i].Regions, used[FromSnapshot] = rs, true
				continue
			}
			if len(why) < 3 {
				why = append(why, fmt.Sprintf("snapshot %s: %s", in.SnapshotName, strings.TrimPrefix(err.Error(), "snapshot: ")))
			}
		}
		if in.Config != nil && len(in.Config.AWS.Regions) > 0 {
			rs, err := regionList(in.Config.AWS.Regions)
			if err != nil {
				return nil, fmt.Errorf("expected set: config aws.regions: %w", err)
			}
			e.Accounts[i].Regions, used[FromConfig] = rs, true
			continue
		}
		if rs := in.LiveRegions[a.ID]; len(rs) > 0 {
			rs, err := regionList(rs)
			if err != nil {
				return nil, err
			}
			e.Accounts[i].Regions, used[FromLive] = rs, true
			continue
		}
		unknown = append(unknown, a.ID)
	}
	if len(unknown) > 0 {
		if in.LiveRegionsErr != nil {
			why = append(why, "the regions could not be read live: "+in.LiveRegionsErr.Error())
		} else if in.Config != nil {
			why = append(why, "the config's aws.regions is empty")
		}
		what := "regions of " + strings.Join(unknown[:min(len(unknown), 5)], ", ")
		if len(unknown) > 5 {
			what += fmt.Sprintf(" and %d more accounts", len(unknown)-5)
		}
		return nil, &UnknownError{What: what, Why: why}
	}
	switch {
	case len(used) > 1:
		var from []string
		for _, f := range []string{FromSnapshot, FromConfig, FromLive} {
			if used[f] {
				from = append(from, map[string]string{FromSnapshot: "snapshot " + in.SnapshotName, FromConfig: "the config's aws.regions", FromLive: "read live"}[f])
			}
		}
		e.RegionsFrom, e.RegionsDetail = FromMixed, "the regions enabled in each account, from "+strings.Join(from, " or ")
	case used[FromSnapshot]:
		e.RegionsFrom, e.RegionsDetail = FromSnapshot, "the regions enabled in each account, from snapshot "+in.SnapshotName
	case used[FromConfig]:
		e.RegionsFrom, e.RegionsDetail = FromConfig, "the config's aws.regions"
	case used[FromLive]:
		e.RegionsFrom, e.RegionsDetail = FromLive, "the regions enabled in each account (account ListRegions)"
	}
	return e, nil
}

// regionList validates, sorts and de-duplicates regions.
func regionList(rs []string) ([]string, error) {
	var out []string
	for _, r := range rs {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if err := awsid.Region(r); err != nil {
			return nil, fmt.Errorf("expected set: %w", err)
		}
		out = append(out, r)
	}
	if len(out) == 0 {
		return nil, &UnknownError{What: "regions", Why: []string{"the list of regions is empty"}}
	}
	sort.Strings(out)
	return slices.Compact(out), nil
}
