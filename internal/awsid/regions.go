package awsid

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// partitionRegions are the regions of each partition trailwarden knows, from
// the AWS SDK for Go v2's partitions.json (aws-sdk-go-v2 v1.48.0), without
// the -global pseudo-regions. Partitions whose ARNs Partition cannot name
// (aws-eusc, aws-iso-e, aws-iso-f) are left out, so their regions are
// refused rather than written into ARNs of the wrong partition.
var partitionRegions = map[string][]string{
	"aws": {"af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
		"ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
		"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
		"eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
		"il-central-1", "me-central-1", "me-south-1", "me-west-1", "mx-central-1", "sa-east-1", "sa-west-1",
		"us-east-1", "us-east-2", "us-west-1", "us-west-2"},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
	"aws-us-gov": {"us-gov-east-1", "us-gov-west-1"},
	"aws-iso":    {"us-iso-east-1", "us-iso-west-1"},
	"aws-iso-b":  {"us-isob-east-1", "us-isob-west-1"},
}

// unsupportedRegions are regions of partitions trailwarden cannot write
// ARNs for.
var unsupportedRegions = []string{"eusc-de-east-1", "eu-isoe-west-1", "us-isof-east-1", "us-isof-south-1"}

// PartitionRegions returns the regions of a partition (aws, aws-cn,
// aws-us-gov, aws-iso, aws-iso-b), sorted; nil for another.
func PartitionRegions(partition string) []string {
	return slices.Clone(partitionRegions[partition])
}

// KnownRegions returns every region of every partition trailwarden knows,
// sorted.
func KnownRegions() []string {
	var out []string
	for _, rs := range partitionRegions {
		out = append(out, rs...)
	}
	slices.Sort(out)
	return out
}

// Region checks a region name against the regions of the partitions
// trailwarden knows (KnownRegions). A name that is not one says the nearest
// known name when there is one ("did you mean us-east-1?").
func Region(r string) error {
	if slices.Contains(partitionRegions[Partition(r)], r) {
		return nil
	}
	if slices.Contains(unsupportedRegions, r) {
		return fmt.Errorf("%q is a region of a partition trailwarden does not support (it writes ARNs for %s)", r,
			strings.Join(slices.Sorted(maps.Keys(partitionRegions)), ", "))
	}
	if !regionRe.MatchString(r) {
		if s := Suggest(r, KnownRegions()); s != "" {
			return fmt.Errorf("%q is not an AWS region name: did you mean %s?", r, s)
		}
		return fmt.Errorf("%q is not an AWS region name: expected a name such as us-east-1, eu-west-1 or ap-southeast-2", r)
	}
	if s := Suggest(r, KnownRegions()); s != "" {
		return fmt.Errorf("%q is not an AWS region: did you mean %s?", r, s)
	}
	return fmt.Errorf("%q is not an AWS region trailwarden knows (the regions of %s): check its spelling in the AWS console, or use a newer trailwarden if AWS opened it recently",
		r, strings.Join(slices.Sorted(maps.Keys(partitionRegions)), ", "))
}

// Suggest returns the candidate nearest to s when it is near enough to be
// what was meant (an edit distance of at most a third of its length, and
// at most 3; a difference of case alone counts as none), else "".
func Suggest(s string, candidates []string) string {
	best, bestD := "", 4
	limit := min(3, max(1, len(s)/3))
	for _, c := range candidates {
		if strings.EqualFold(s, c) {
			return c
		}
		if d := distance(strings.ToLower(s), strings.ToLower(c)); d <= limit && d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distance is the Damerau-Levenshtein (optimal string alignment) distance
// between a and b in bytes: an adjacent transposition ("esat") counts one.
func distance(a, b string) int {
	if len(a) > 256 || len(b) > 256 {
		return 1 << 30
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
