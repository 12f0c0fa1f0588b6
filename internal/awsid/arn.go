package awsid

import (
	"fmt"
	"strings"
)

// ARN is an Amazon Resource Name split into its six parts. Resource keeps
// any further colons (arn:aws:s3:::bucket/a:b is resource "bucket/a:b").
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string
	Resource  string
}

// String renders the ARN.
func (a ARN) String() string {
	return "arn:" + a.Partition + ":" + a.Service + ":" + a.Region + ":" + a.Account + ":" + a.Resource
}

// ParseARN splits s into its parts without checking service-specific rules.
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("%q is not an ARN: expected arn:partition:service:region:account:resource", s)
	}
	a := ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}
	switch a.Partition {
	case "aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc":
	default:
		return ARN{}, fmt.Errorf("%q is not an ARN: unknown partition %q (expected aws, aws-cn or aws-us-gov)", s, a.Partition)
	}
	if a.Service == "" || a.Resource == "" {
		return ARN{}, fmt.Errorf("%q is not an ARN: the service and resource parts must not be empty", s)
	}
	return a, nil
}

// RoleARN checks an IAM role ARN (arn:aws:iam::123456789012:role/path/name)
// and returns it parsed. Account roots, users and sessions are refused with
// an explanation, because trailwarden only ever grants to named roles.
func RoleARN(s string) (ARN, error) {
	a, err := ParseARN(s)
	if err != nil {
		return ARN{}, err
	}
	notRole := func(why string) error {
		return fmt.Errorf("%q is not an IAM role ARN: %s; expected arn:aws:iam::123456789012:role/name", s, why)
	}
	if a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/") {
		name, _, _ := strings.Cut(strings.TrimPrefix(a.Resource, "assumed-role/"), "/")
		return ARN{}, notRole(fmt.Sprintf("it is a role session; name the role itself (arn:%s:iam::%s:role/%s)", a.Partition, a.Account, name))
	}
	if a.Service != "iam" {
		return ARN{}, notRole(fmt.Sprintf("service is %q, not iam", a.Service))
	}
	if a.Region != "" {
		return ARN{}, notRole("IAM ARNs have an empty region part")
	}
	if err := Account(a.Account); err != nil {
		return ARN{}, notRole("the account part is not a 12-digit account id")
	}
	if a.Resource == "root" {
		return ARN{}, notRole("it is an account root, which would trust every principal of the account; name the reading role instead")
	}
	if !strings.HasPrefix(a.Resource, "role/") {
		return ARN{}, notRole(fmt.Sprintf("resource %q is not role/...", a.Resource))
	}
	path := strings.TrimPrefix(a.Resource, "role")
	i := strings.LastIndex(path, "/")
	if !rolePathRe.MatchString(path[:i+1]) {
		return ARN{}, notRole("the role path is malformed")
	}
	if err := RoleName(path[i+1:]); err != nil {
		return ARN{}, notRole(err.Error())
	}
	if strings.ContainsAny(path, "*?") {
		return ARN{}, notRole("wildcards are not allowed here; use readers.role_pattern for a pattern")
	}
	return a, nil
}

// KeyARN checks a KMS key ARN. Aliases are refused: key policies belong to
// keys, and CloudTrail records the key, not the alias.
func KeyARN(s string) (ARN, error) {
	a, err := ParseARN(s)
	if err != nil {
		return ARN{}, err
	}
	notKey := func(why string) error {
		return fmt.Errorf("%q is not a KMS key ARN: %s; expected arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", s, why)
	}
	if a.Service != "kms" {
		return ARN{}, notKey(fmt.Sprintf("service is %q, not kms", a.Service))
	}
	if err := Region(a.Region); err != nil {
		return ARN{}, notKey("the region part is not a region")
	}
	if err := Account(a.Account); err != nil {
		return ARN{}, notKey("the account part is not a 12-digit account id")
	}
	if strings.HasPrefix(a.Resource, "alias/") {
		return ARN{}, notKey("it is an alias; use the key ARN (aws kms describe-key --key-id alias/... prints it)")
	}
	id, ok := strings.CutPrefix(a.Resource, "key/")
	if !ok || !keyIDRe.MatchString(id) {
		return ARN{}, notKey("the resource part is not key/<key id>")
	}
	return a, nil
}
