package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/timewindow"
)

// The flags several commands share, under one name per meaning (the AWS
// CLI's where it has one): --profile is the AWS shared-config profile,
// --region the AWS region of the calls, --endpoint-url where they go,
// --accounts and --regions filters (comma-separated, repeatable),
// --since/--until the time window, --format the output format and
// -o/--out a file to write.

// regionFlag registers a region flag whose value is checked against the
// partitions' region lists as it is read.
func regionFlag(f *pflag.FlagSet, p *string, name, usage string) {
	f.Var((*regionValue)(p), name, usage)
}

type regionValue string

func (v *regionValue) String() string { return string(*v) }
func (v *regionValue) Type() string   { return "string" }

func (v *regionValue) Set(s string) error {
	if err := awsid.Region(s); err != nil {
		return err
	}
	*v = regionValue(s)
	return nil
}

// regionsFlag registers a comma-separated, repeatable list of regions,
// each checked as it is read; def is the default list.
func regionsFlag(f *pflag.FlagSet, p *[]string, name, usage string, def ...string) {
	*p = def
	f.Var(&regionsValue{p: p}, name, usage)
}

type regionsValue struct {
	p   *[]string
	set bool
}

func (v *regionsValue) String() string { return "[" + strings.Join(*v.p, ",") + "]" }
func (v *regionsValue) Type() string   { return "strings" }

func (v *regionsValue) Set(s string) error {
	var rs []string
	for _, r := range strings.Split(s, ",") {
		r = strings.TrimSpace(r)
		if r == "" {
			continue
		}
		if err := awsid.Region(r); err != nil {
			return err
		}
		rs = append(rs, r)
	}
	if !v.set {
		*v.p, v.set = nil, true // the first use replaces the default
	}
	*v.p = append(*v.p, rs...)
	return nil
}

// windowHelp is how --since and --until are described.
const windowHelp = "a duration back from now (24h, 7d), a date (2026-11-20) or an RFC 3339 time"

// windowBadInput turns a time window's error into bad input naming the
// flag and the forms it takes.
func windowBadInput(err error) error {
	var be *timewindow.BoundError
	if errors.As(err, &be) {
		return badInput(fmt.Errorf("--%s %w", be.Bound, be.Err),
			"e.g. --"+be.Bound+" 24h, --"+be.Bound+" 2026-11-20 or --"+be.Bound+" 2026-11-20T00:00:00Z")
	}
	return badInput(err, "give an --until later than --since")
}

// parseWindow reads --since and --until (either may be empty: the zero
// time, for the caller's default).
func parseWindow(since, until string, now time.Time) (time.Time, time.Time, error) {
	s, u, err := timewindow.Range(since, until, now)
	if err != nil {
		return s, u, windowBadInput(err)
	}
	return s, u, nil
}

// awsFlags registers the source and the AWS access to it under the AWS
// CLI's names (--region is the bucket's region, the region of the calls).
// --external-id is the one --role-arn needs, as "aws sts assume-role
// --external-id" takes it.
func (o *sourceOpts) awsFlags(f *pflag.FlagSet, what string) {
	f.StringVar(&o.source, "source", "", what+": s3://BUCKET[/PREFIX] or a local folder")
	f.StringVar(&o.endpoint, "endpoint-url", "", "send AWS calls to this URL, e.g. an S3-compatible endpoint http://127.0.0.1:9000 (path-style)")
	regionFlag(f, &o.region, "region", "AWS region of the calls, the bucket's (default: from the AWS configuration)")
	f.StringVar(&o.profile, "profile", "", "AWS shared-config profile (default: the AWS_PROFILE environment variable, else the default profile)")
	f.StringVar(&o.roleARN, "role-arn", "", "role to assume for reading the bucket")
	f.StringVar(&o.externalID, "external-id", "", "the sts:ExternalId that --role-arn's trust policy requires, passed when assuming it")
	timeoutFlag(f, &o.timeout)
}

// actionValue is an IAM action (service:Name), checked as it is read.
type actionValue string

func (v *actionValue) String() string { return string(*v) }
func (v *actionValue) Type() string   { return "string" }

func (v *actionValue) Set(s string) error {
	if err := awsid.Action(s); err != nil {
		return err
	}
	*v = actionValue(s)
	return nil
}
