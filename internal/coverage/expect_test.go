package coverage_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// world is the demo organization's config and snapshot: five accounts, an
// organization trail over us-east-1 and eu-west-1.
func world(t *testing.T) (*config.Config, *snapshot.Snapshot) {
	t.Helper()
	org := demo.NewOrg(1, 5, []string{"us-east-1", "eu-west-1"}, "demo-bucket", "", "org-trail")
	snap, err := org.Snapshot(time.Date(2026, 11, 21, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	return org.Config(), snap
}

func ids(e *coverage.Expected) string { return strings.Join(e.IDs(), ",") }

func TestResolve(t *testing.T) {
	cfg, snap := world(t)
	all := strings.Join(func() []string {
		active, _, err := snap.OrgAccounts()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range active {
			out = append(out, a.ID)
		}
		return out
	}(), ",")
	noRegions := *cfg
	noRegions.AWS.Regions = nil
	perAccount := *cfg
	perAccount.Trail.Organization = false
	perAccount.SourceAccounts = []string{"333333333333", "111111111111"}
	withSources := noRegions
	withSources.SourceAccounts = []string{"333333333333"}

	suspended := *snap
	suspended.Organization = &snapshot.Organization{ID: snap.Organization.ID, ManagementAccount: snap.Organization.ManagementAccount,
		Accounts: append(append([]snapshot.OrgAccount(nil), snap.Organization.Accounts...), snapshot.OrgAccount{ID: "999999999999", Name: "closed", Status: "SUSPENDED"})}
	listFailed := *snap
	listFailed.Errors = []snapshot.CallError{{Account: "111111111111", Service: "organizations", Operation: "ListAccounts", Code: "AccessDenied"}}
	regionsFailed := *snap
	regionsFailed.Errors = []snapshot.CallError{{Account: "222222222222", Service: "account", Operation: "ListRegions", Code: "AccessDenied"}}
	otherOrg := *snap
	otherOrg.Organization = &snapshot.Organization{ID: "o-zzzzzzzzzz", Accounts: snap.Organization.Accounts}
	singleRegion := *snap
	singleRegion.Accounts = append([]snapshot.Account(nil), snap.Accounts...)
	for i := range singleRegion.Accounts {
		ts := append([]snapshot.Trail(nil), singleRegion.Accounts[i].Trails...)
		for j := range ts {
			ts[j].IsMultiRegion = false
		}
		singleRegion.Accounts[i].Trails = ts
	}
	perAccountSnap := *snap
	perAccountSnap.Accounts = []snapshot.Account{
		{ID: "333333333333", Regions: []string{"us-east-1"}, Trails: []snapshot.Trail{{ARN: "arn:aws:cloudtrail:us-east-1:333333333333:trail/audit",
			Name: "audit", HomeRegion: "us-east-1", S3BucketName: "demo-bucket", IsMultiRegion: true}}},
		{ID: "444444444444", Regions: []string{"us-east-1", "eu-west-1"}, Trails: []snapshot.Trail{{ARN: "arn:aws:cloudtrail:us-east-1:444444444444:trail/audit",
			Name: "audit", HomeRegion: "us-east-1", S3BucketName: "demo-bucket", IsMultiRegion: true}}},
		{ID: "555555555555", Regions: []string{"us-east-1"}, Trails: []snapshot.Trail{{ARN: "arn:aws:cloudtrail:us-east-1:555555555555:trail/other",
			Name: "other", HomeRegion: "us-east-1", S3BucketName: "elsewhere", IsMultiRegion: true}}},
	}
	live := &snapshot.Organization{ID: cfg.OrganizationID, Accounts: []snapshot.OrgAccount{
		{ID: "111111111111", Status: "ACTIVE"}, {ID: "444444444444", Status: "ACTIVE"}, {ID: "555555555555", Status: "PENDING_CLOSURE"}}}

	tests := []struct {
		name        string
		in          coverage.Input
		accounts    string
		accountFrom string
		regionsFrom string
		regions     string // of the first account
		left        string
		unknown     string // substring of an *UnknownError
		err         string // substring of another error
		wantsOrg    bool
	}{
		{name: "explicit lists win", in: coverage.Input{Accounts: []string{"333333333333", " 111111111111", "333333333333"}, Regions: []string{"eu-west-1", "us-east-1"}, Config: cfg, Snapshot: snap},
			accounts: "111111111111,333333333333", accountFrom: coverage.FromList, regionsFrom: coverage.FromList, regions: "eu-west-1,us-east-1"},
		{name: "a bad account id", in: coverage.Input{Accounts: []string{"12345"}}, err: "12345"},
		{name: "per-account trails: the trail owners", in: coverage.Input{Config: &perAccount, Snapshot: snap},
			accounts: "111111111111,333333333333", accountFrom: coverage.FromConfig, regionsFrom: coverage.FromMixed, regions: "eu-west-1,us-east-1"},
		{name: "organization from the snapshot", in: coverage.Input{Config: &noRegions, Snapshot: snap, SnapshotName: "s.json"},
			accounts: all, accountFrom: coverage.FromSnapshot, regionsFrom: coverage.FromSnapshot, regions: "eu-west-1,us-east-1"},
		{name: "suspended accounts are left out, and said so", in: coverage.Input{Config: cfg, Snapshot: &suspended},
			accounts: all, accountFrom: coverage.FromSnapshot, regionsFrom: coverage.FromSnapshot, regions: "eu-west-1,us-east-1", left: "999999999999"},
		// Issue 13 item 7: an organization trail with no source_accounts
		// is not its management and log-archive accounts.
		{name: "organization trail, nothing to list it", in: coverage.Input{Config: &noRegions}, unknown: "organization trail of organization o-a1b2c3d4e5", wantsOrg: true},
		{name: "organization read live", in: coverage.Input{Config: cfg, Organization: live},
			accounts: "111111111111,444444444444", accountFrom: coverage.FromOrganization, regionsFrom: coverage.FromConfig, regions: "eu-west-1,us-east-1", left: "555555555555"},
		{name: "live read failed, nothing else", in: coverage.Input{Config: &noRegions, OrganizationErr: errors.New("AccessDenied")}, unknown: "could not be read live: AccessDenied"},
		{name: "live read failed, the config's sources and owner", in: coverage.Input{Config: &withSources, OrganizationErr: errors.New("AccessDenied")},
			accounts: "111111111111,333333333333", accountFrom: coverage.FromConfig, unknown: "regions of 111111111111, 333333333333"},
		{name: "ListAccounts failed in the snapshot", in: coverage.Input{Config: cfg, Snapshot: &listFailed}, unknown: "ListAccounts failed: AccessDenied", wantsOrg: true},
		{name: "a snapshot of another organization", in: coverage.Input{Config: cfg, Snapshot: &otherOrg}, err: "o-zzzzzzzzzz"},
		{name: "an account whose regions failed, aws.regions set", in: coverage.Input{Config: cfg, Snapshot: &regionsFailed},
			accounts: all, accountFrom: coverage.FromSnapshot, regionsFrom: coverage.FromMixed, regions: "eu-west-1,us-east-1"},
		{name: "an account whose regions failed, nothing else", in: coverage.Input{Config: &noRegions, Snapshot: &regionsFailed}, unknown: "regions of 222222222222"},
		{name: "regions read live", in: coverage.Input{Config: &noRegions, Organization: live, LiveRegions: map[string][]string{
			"111111111111": {"us-east-1", "ap-south-1"}, "444444444444": {"us-east-1"}}},
			accounts: "111111111111,444444444444", accountFrom: coverage.FromOrganization, regionsFrom: coverage.FromLive, regions: "ap-south-1,us-east-1", left: "555555555555"},
		{name: "a single-Region trail: its home region", in: coverage.Input{Config: cfg, Snapshot: &singleRegion},
			accounts: all, accountFrom: coverage.FromSnapshot, regionsFrom: coverage.FromTrail, regions: "us-east-1"},
		{name: "accounts without any regions source", in: coverage.Input{Accounts: []string{"111111111111"}}, unknown: "regions"},
		{name: "nothing at all", in: coverage.Input{}, unknown: "no list of accounts, no config and no snapshot"},
		{name: "a snapshot of per-account trails alone: their owners", in: coverage.Input{Snapshot: &perAccountSnap, Bucket: "demo-bucket"},
			accounts: "333333333333,444444444444", accountFrom: coverage.FromSnapshot, regionsFrom: coverage.FromSnapshot, regions: "us-east-1"},
		{name: "a snapshot alone", in: coverage.Input{Snapshot: snap, Bucket: "demo-bucket"},
			accounts: all, accountFrom: coverage.FromSnapshot, regionsFrom: coverage.FromSnapshot, regions: "eu-west-1,us-east-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.in.WantsOrganization(); got != tt.wantsOrg {
				t.Errorf("WantsOrganization = %v, want %v", got, tt.wantsOrg)
			}
			e, err := coverage.Resolve(tt.in)
			var ue *coverage.UnknownError
			switch {
			case tt.unknown != "":
				if !errors.As(err, &ue) || !errors.Is(err, coverage.ErrUnknown) || !strings.Contains(err.Error(), tt.unknown) {
					t.Fatalf("err = %v, want an UnknownError with %q", err, tt.unknown)
				}
				if tt.accounts != "" {
					a, err := coverage.ResolveAccounts(tt.in)
					if err != nil || ids(a) != tt.accounts || a.AccountsFrom != tt.accountFrom {
						t.Fatalf("ResolveAccounts = %v, %v", a, err)
					}
				}
				return
			case tt.err != "":
				if err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want one with %q", err, tt.err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			if ids(e) != tt.accounts || e.AccountsFrom != tt.accountFrom || e.RegionsFrom != tt.regionsFrom {
				t.Fatalf("accounts %s from %s, regions from %s; want %s from %s, regions from %s", ids(e), e.AccountsFrom, e.RegionsFrom,
					tt.accounts, tt.accountFrom, tt.regionsFrom)
			}
			if got := strings.Join(e.Accounts[0].Regions, ","); got != tt.regions {
				t.Errorf("regions %s, want %s", got, tt.regions)
			}
			var left []string
			for _, l := range e.Left {
				left = append(left, l.Account)
				if !strings.Contains(l.Reason, "ACTIVE") {
					t.Errorf("left %+v does not say why", l)
				}
			}
			if got := strings.Join(left, ","); got != tt.left {
				t.Errorf("left out %s, want %s", got, tt.left)
			}
		})
	}
}

func TestWantsRegions(t *testing.T) {
	cfg, snap := world(t)
	noRegions := *cfg
	noRegions.AWS.Regions = nil
	in := coverage.Input{Config: &noRegions, Organization: &snapshot.Organization{ID: cfg.OrganizationID,
		Accounts: []snapshot.OrgAccount{{ID: "111111111111"}, {ID: "444444444444"}}}}
	e, err := coverage.ResolveAccounts(in)
	if err != nil {
		t.Fatal(err)
	}
	if got := in.WantsRegions(e); !reflect.DeepEqual(got, []string{"111111111111", "444444444444"}) {
		t.Errorf("WantsRegions = %v", got)
	}
	in.Snapshot = snap // 111111111111 is in it, 444444444444 is not
	if got := in.WantsRegions(e); !reflect.DeepEqual(got, []string{"444444444444"}) {
		t.Errorf("WantsRegions with a snapshot = %v", got)
	}
	in.Config = cfg // aws.regions settles every account
	if got := in.WantsRegions(e); got != nil {
		t.Errorf("WantsRegions with aws.regions = %v", got)
	}
}
