package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/coverage"
	"github.com/trailwarden/trailwarden/internal/objstore/source"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// expectOpts are the flags that say which accounts and regions should
// deliver: coverage, verify and athena share them.
type expectOpts struct {
	config, snapshot  string
	accounts, regions []string
	// profile, endpoint and timeout reach AWS for the live organization
	// read.
	profile, endpoint string
	timeout           time.Duration
}

// expectFlags registers --accounts, --regions and --snapshot (the config
// flag is each command's own: its default differs); what adds to the help
// of the two lists.
func (o *expectOpts) expectFlags(f *pflag.FlagSet, what string) {
	f.StringSliceVar(&o.accounts, "accounts", nil, "expected accounts, comma-separated; "+what+" (default: the organization's active accounts, from --snapshot or read live, else the config's source_accounts)")
	f.StringSliceVar(&o.regions, "regions", nil, "expected regions, comma-separated; "+what+" (default: the regions enabled in each account, from --snapshot or read live, or the config's aws.regions)")
	f.StringVar(&o.snapshot, "snapshot", "", "a snapshot file (trailwarden snapshot) to take the organization's accounts and regions from")
}

// given reports whether any flag names the expected set.
func (o *expectOpts) given() bool {
	return o.config != "" || o.snapshot != "" || len(o.accounts) > 0 || len(o.regions) > 0
}

// expectSources loads the config and snapshot the flags name; for a demo
// folder its own .trailwarden files are the defaults.
func (a *app) expectSources(o expectOpts, op *source.Source) (*config.Config, *snapshot.Snapshot, string, error) {
	cfgPath, snapPath := o.config, o.snapshot
	if cfgPath == "" {
		cfgPath = op.DemoFile(source.ConfigFile)
	}
	if snapPath == "" {
		snapPath = op.DemoFile(source.SnapshotFile)
	}
	var cfg *config.Config
	if cfgPath != "" {
		c, err := loadConfig(a, cfgPath)
		if err != nil {
			return nil, nil, "", err
		}
		cfg = c
	}
	var snap *snapshot.Snapshot
	if snapPath != "" {
		s, err := snapshot.ReadFile(snapPath)
		if err != nil {
			return nil, nil, "", badInput(err, "take one with `trailwarden snapshot --config trailwarden.yaml --out snapshot.json`")
		}
		snap = s
	}
	return cfg, snap, snapPath, nil
}

// expected resolves the expected set (inventory.Expected), reading the
// organization live with the flags' AWS access when it must.
func (a *app) expected(ctx context.Context, o expectOpts, in coverage.Input, accountsOnly bool) (*coverage.Expected, error) {
	in.Accounts, in.Regions = o.accounts, o.regions
	e, err := inventory.Expected(ctx, in, inventory.Options{Profile: o.profile, Endpoint: o.endpoint, Timeout: o.timeout}, accountsOnly)
	if err != nil && (ctx.Err() != nil || stallHint(err) != "") {
		return nil, err
	}
	return e, expectError(err)
}

// expectError adds what to pass to an unknown expected set: bad input,
// exit 2, never a guess.
func expectError(err error) error {
	var ue *coverage.UnknownError
	if err == nil {
		return nil
	}
	if !errors.As(err, &ue) {
		return badInput(err, "")
	}
	if strings.HasPrefix(ue.What, "regions") {
		return badInput(err, "pass --regions us-east-1,eu-west-1 (every region the trail logs), --snapshot FILE (trailwarden snapshot writes one), "+
			"or set aws.regions in the config, or give credentials (--profile) that can call account:ListRegions through aws.access_role")
	}
	hint := "pass --accounts 111111111111,222222222222 (every account that should deliver), or --config trailwarden.yaml"
	if ue.Organization {
		hint = "pass --snapshot FILE (trailwarden snapshot writes one), --accounts 111111111111,222222222222, " +
			"or credentials of the management account (--profile) that can call organizations:ListAccounts"
	}
	return badInput(err, hint)
}

// describeExpected says what was expected and why, one line for the
// accounts and one for the regions (when resolved).
func describeExpected(w io.Writer, e *coverage.Expected) {
	fmt.Fprintf(w, "Expected accounts: %d, %s\n", len(e.Accounts), e.AccountsDetail)
	if e.RegionsDetail != "" {
		fmt.Fprintf(w, "Expected regions: %s\n", e.RegionsDetail)
	}
}

// coverageInput is what the resolver knows before the flags.
func coverageInput(cfg *config.Config, snap *snapshot.Snapshot, snapName, bucket, prefix string) coverage.Input {
	return coverage.Input{Config: cfg, Snapshot: snap, SnapshotName: snapName, Bucket: bucket, Prefix: prefix}
}
