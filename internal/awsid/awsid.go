// Package awsid validates and builds the AWS identifiers trailwarden handles:
// account ids, organization ids, regions and partitions, S3 bucket names and
// key prefixes, CloudTrail trail names, IAM role names and ARNs.
//
// Every check returns an error that says what is wrong and what a valid value
// looks like, because these values come from people typing config files.
package awsid

import (
	"fmt"
	"net/netip"
	"regexp"
	"strings"
)

var (
	accountRe   = regexp.MustCompile(`^[0-9]{12}$`)
	orgRe       = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	regionRe    = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]{1,2}$`)
	trailRe     = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)
	roleNameRe  = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rolePathRe  = regexp.MustCompile(`^/([\x21-\x7E]*/)?$`)
	externalRe  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	keyIDRe     = regexp.MustCompile(`^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
	patternRe   = regexp.MustCompile(`^[\w+=,.@*?-]{1,64}$`)
	bucketRe    = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	trailPunctR = regexp.MustCompile(`[._-]{2}`)
)

// Account checks a 12-digit account id. Ids are strings: leading zeros count.
func Account(id string) error {
	if !accountRe.MatchString(id) {
		return fmt.Errorf("%q is not an AWS account id: an account id is exactly 12 digits, leading zeros included (quote it in YAML, e.g. \"012345678901\")", id)
	}
	return nil
}

// Organization checks an AWS Organizations id such as o-a1b2c3d4e5.
func Organization(id string) error {
	if !orgRe.MatchString(id) {
		return fmt.Errorf("%q is not an organization id: it is \"o-\" followed by 10 to 32 lower-case letters or digits (aws organizations describe-organization prints it)", id)
	}
	return nil
}

// Partition returns the ARN partition of a region: aws, aws-cn or aws-us-gov.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	}
	return "aws"
}

// Bucket checks the S3 general purpose bucket naming rules.
func Bucket(name string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not a valid S3 bucket name: %s", name, why)
	}
	if len(name) < 3 || len(name) > 63 {
		return bad("a name is 3 to 63 characters long")
	}
	if !bucketRe.MatchString(name) {
		return bad("use only lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit")
	}
	if strings.Contains(name, "..") {
		return bad("two adjacent dots are not allowed")
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return bad("a name must not look like an IP address")
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return bad(fmt.Sprintf("the prefix %q is reserved by AWS", p))
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return bad(fmt.Sprintf("the suffix %q is reserved by AWS", s))
		}
	}
	return nil
}

// KeyPrefix checks a CloudTrail S3 key prefix (S3KeyPrefix). The empty prefix
// is valid and means "no prefix".
func KeyPrefix(p string) error {
	if p == "" {
		return nil
	}
	bad := func(why string) error {
		return fmt.Errorf("%q is not a valid key prefix: %s", p, why)
	}
	switch {
	case len(p) > 200:
		return bad("CloudTrail allows at most 200 characters")
	case strings.HasPrefix(p, "/") || strings.HasSuffix(p, "/"):
		return bad(fmt.Sprintf("write it without leading or trailing slashes (CloudTrail adds the slash itself): %q", strings.Trim(p, "/")))
	case strings.Contains(p, "//"):
		return bad("empty path segments (\"//\") would not match the keys CloudTrail writes")
	case strings.Contains(p, "AWSLogs/") || p == "AWSLogs":
		return bad("CloudTrail refuses prefixes containing \"AWSLogs/\"; it appends AWSLogs/ itself")
	}
	for _, r := range p {
		if r < 0x21 || r > 0x7e {
			return bad("use printable ASCII without spaces")
		}
		if strings.ContainsRune(`*?$"\{}`, r) {
			return bad(fmt.Sprintf("the character %q has a meaning in IAM policies and cannot be matched literally", r))
		}
	}
	return nil
}

// TrailName checks CloudTrail's trail naming rules.
func TrailName(n string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not a valid trail name: %s", n, why)
	}
	if len(n) < 3 || len(n) > 128 {
		return bad("a trail name is 3 to 128 characters long")
	}
	if !trailRe.MatchString(n) {
		return bad("use letters, digits, periods, underscores and hyphens, starting and ending with a letter or digit")
	}
	if trailPunctR.MatchString(n) {
		return bad("periods, underscores and hyphens must not be adjacent")
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return bad("a trail name must not look like an IP address")
	}
	return nil
}

// RoleName checks an IAM role name.
func RoleName(n string) error {
	if !roleNameRe.MatchString(n) {
		return fmt.Errorf("%q is not a valid IAM role name: 1 to 64 letters, digits or the characters +=,.@_-", n)
	}
	return nil
}

// RolePattern checks a role-name pattern such as ams-access-*.
func RolePattern(p string) error {
	if !patternRe.MatchString(p) {
		return fmt.Errorf("%q is not a valid role-name pattern: 1 to 64 role-name characters, with * and ? as wildcards (e.g. ams-access-*)", p)
	}
	if strings.Trim(p, "*?") == "" {
		return fmt.Errorf("%q is not a valid role-name pattern: it would match every role; name a common prefix such as ams-access-*", p)
	}
	return nil
}

// ExternalID checks an sts:ExternalId value.
func ExternalID(id string) error {
	// Regexp repeat counts stop at 1000, so the length is checked apart.
	if len(id) < 2 || len(id) > 1224 || !externalRe.MatchString(id) {
		return fmt.Errorf("external id is not valid: 2 to 1224 letters, digits or the characters +=,.@:/-")
	}
	return nil
}
