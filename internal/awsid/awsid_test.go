package awsid_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/awsid"
)

func TestValidators(t *testing.T) {
	long := strings.Repeat("a", 201)
	tests := []struct {
		name  string
		check func(string) error
		in    string
		want  string // substring of the error; "" for valid
	}{
		{"AccountOK", awsid.Account, "012345678901", ""},
		{"AccountElevenDigits", awsid.Account, "12345678901", "exactly 12 digits"},
		{"AccountLetters", awsid.Account, "12345678901a", "exactly 12 digits"},
		{"AccountSpace", awsid.Account, " 123456789012", "exactly 12 digits"},
		{"OrgOK", awsid.Organization, "o-a1b2c3d4e5", ""},
		{"OrgUpper", awsid.Organization, "o-A1B2C3D4E5", "lower-case"},
		{"OrgShort", awsid.Organization, "o-abc", "10 to 32"},
		{"OrgNoPrefix", awsid.Organization, "a1b2c3d4e5", "\"o-\""},
		{"RegionOK", awsid.Region, "ap-southeast-2", ""},
		{"RegionGov", awsid.Region, "us-gov-west-1", ""},
		{"RegionBad", awsid.Region, "useast1", "region"},
		{"BucketOK", awsid.Bucket, "acme-org-cloudtrail", ""},
		{"BucketDots", awsid.Bucket, "acme.logs", ""},
		{"BucketUpper", awsid.Bucket, "Acme-Logs", "lower-case"},
		{"BucketShort", awsid.Bucket, "ab", "3 to 63"},
		{"BucketLong", awsid.Bucket, strings.Repeat("a", 64), "3 to 63"},
		{"BucketAdjacentDots", awsid.Bucket, "a..b", "adjacent dots"},
		{"BucketIP", awsid.Bucket, "192.168.5.4", "IP address"},
		{"BucketReservedPrefix", awsid.Bucket, "xn--logs", "reserved"},
		{"BucketReservedSuffix", awsid.Bucket, "logs-s3alias", "reserved"},
		{"BucketUnderscore", awsid.Bucket, "acme_logs", "lower-case letters"},
		{"PrefixEmpty", awsid.KeyPrefix, "", ""},
		{"PrefixOK", awsid.KeyPrefix, "org/trail-logs", ""},
		{"PrefixLeadingSlash", awsid.KeyPrefix, "/logs", "without leading or trailing slashes"},
		{"PrefixTrailingSlash", awsid.KeyPrefix, "logs/", "\"logs\""},
		{"PrefixAWSLogs", awsid.KeyPrefix, "x/AWSLogs/y", "AWSLogs/"},
		{"PrefixDoubleSlash", awsid.KeyPrefix, "a//b", "empty path segments"},
		{"PrefixTooLong", awsid.KeyPrefix, long, "200 characters"},
		{"PrefixWildcard", awsid.KeyPrefix, "logs*", "meaning in IAM policies"},
		{"PrefixSpace", awsid.KeyPrefix, "my logs", "printable ASCII"},
		{"TrailOK", awsid.TrailName, "org-trail", ""},
		{"TrailShort", awsid.TrailName, "ab", "3 to 128"},
		{"TrailAdjacent", awsid.TrailName, "my-_trail", "adjacent"},
		{"TrailEndsHyphen", awsid.TrailName, "trail-", "ending with a letter or digit"},
		{"TrailIP", awsid.TrailName, "10.0.0.1", "IP address"},
		{"RolePatternOK", awsid.RolePattern, "ams-access-*", ""},
		{"RolePatternAll", awsid.RolePattern, "*", "every role"},
		{"RolePatternSlash", awsid.RolePattern, "a/b*", "role-name characters"},
		{"ExternalIDBad", awsid.ExternalID, "has space", "not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.check(tt.in)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("%q: unexpected error %v", tt.in, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("%q: error %v, want it to contain %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestExternalIDNotEchoed(t *testing.T) {
	err := awsid.ExternalID("secret value")
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("error must not echo the external id: %v", err)
	}
}

func TestRoleARN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"arn:aws:iam::123456789012:role/reader", ""},
		{"arn:aws:iam::123456789012:role/path/to/reader", ""},
		{"arn:aws-us-gov:iam::123456789012:role/reader", ""},
		{"arn:aws:iam::123456789012:root", "account root"},
		{"arn:aws:iam::123456789012:user/bob", "not role/"},
		{"arn:aws:sts::123456789012:assumed-role/reader/alice", "arn:aws:iam::123456789012:role/reader"},
		{"arn:aws:iam::12345678901:role/reader", "12-digit"},
		{"arn:aws:iam::123456789012:role/read*", "role name"},
		{"arn:aws:s3:::bucket", "not iam"},
		{"role/reader", "not an ARN"},
		{"arn:aws:iam:us-east-1:123456789012:role/reader", "empty region"},
		{"arn:foo:iam::123456789012:role/reader", "unknown partition"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := awsid.RoleARN(tt.in)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("RoleARN(%q) = %v, want error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestKeyARN(t *testing.T) {
	tests := []struct{ in, want string }{
		{"arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab", ""},
		{"arn:aws:kms:us-east-1:222222222222:key/mrk-1234567890abcdef1234567890abcdef", ""},
		{"arn:aws:kms:us-east-1:222222222222:alias/trail", "alias"},
		{"arn:aws:kms:us-east-1:222222222222:key/nope", "key/<key id>"},
		{"arn:aws:kms::222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab", "region"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := awsid.KeyARN(tt.in)
			if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
				t.Fatalf("KeyARN(%q) = %v, want error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{"us-east-1": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov"} {
		if got := awsid.Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}

// FuzzParseARN checks that ParseARN never panics and that an ARN it
// accepts is its own rendering: String gives back the input, and parsing
// that gives the same parts.
func FuzzParseARN(f *testing.F) {
	for _, s := range []string{"arn:aws:s3:::bucket/a:b", "arn:aws:iam::123456789012:role/path/name", "arn:aws-cn:kms:cn-north-1:1:key/x",
		"arn:aws:sts::1:assumed-role/r/s", "arn:::::", "arn:aws:s3:::", "not an arn"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := awsid.ParseARN(s)
		if err != nil {
			return
		}
		if a.String() != s {
			t.Fatalf("ParseARN(%q).String() = %q", s, a.String())
		}
		again, err := awsid.ParseARN(a.String())
		if err != nil || again != a {
			t.Fatalf("ParseARN(%q) again: %+v, %v; first %+v", a.String(), again, err, a)
		}
		_, _ = awsid.RoleARN(s)
		_, _ = awsid.KeyARN(s)
	})
}

func TestRegion(t *testing.T) {
	tests := []struct {
		in, want string // want: "" valid, else a part of the error
	}{
		{"us-east-1", ""},
		{"eu-west-1", ""},
		{"ap-southeast-7", ""},
		{"cn-northwest-1", ""},
		{"us-gov-west-1", ""},
		{"us-isob-east-1", ""},
		{"us-esat-1", "did you mean us-east-1?"},
		{"US-EAST-1", "did you mean us-east-1?"},
		{"eu-wset-2", "did you mean eu-west-2?"},
		{"useast1", "did you mean us-east-1?"},
		{"us-east-9", "did you mean us-east-1?"},
		{"xx-nowhere-7", "not an AWS region trailwarden knows"},
		{"eusc-de-east-1", "partition trailwarden does not support"},
		{"eu-isoe-west-1", "partition trailwarden does not support"},
		{"", "not an AWS region name"},
		{"banana", "not an AWS region name: expected"},
	}
	for _, tt := range tests {
		err := awsid.Region(tt.in)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Region(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	for _, r := range awsid.KnownRegions() {
		if err := awsid.Region(r); err != nil {
			t.Errorf("a known region is refused: %v", err)
		}
		if !slices.Contains(awsid.PartitionRegions(awsid.Partition(r)), r) {
			t.Errorf("%s is not listed in its partition %s", r, awsid.Partition(r))
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"s3", "kms", "sts", "iam", "cloudtrail", "organizations"}
	tests := []struct{ in, want string }{
		{"S3", "s3"},
		{"cloudtrial", "cloudtrail"},
		{"organisations", "organizations"},
		{"kns", "kms"},
		{"ec2", ""},
		{"lambda", ""},
		{"x", ""},
	}
	for _, tt := range tests {
		if got := awsid.Suggest(tt.in, known); got != tt.want {
			t.Errorf("Suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAction(t *testing.T) {
	tests := []struct {
		in, want string // want: "" valid, else a part of the error
	}{
		{"s3:GetObject", ""},
		{"kms:GenerateDataKey", ""},
		{"sts:AssumeRole", ""},
		{"cloudtrail:PutEventSelectors", ""},
		{"execute-api:Invoke", ""},
		{"newservice:DoThing", ""}, // not near a known prefix: taken as written
		{"s3GetObject", "did you mean s3:GetObject?"},
		{"kmsDecrypt", "did you mean kms:Decrypt?"},
		{"S3:GetObject", "did you mean s3:GetObject?"},
		{"s4:GetObject", "did you mean s3:GetObject?"},
		{"cloudtrial:LookupEvents", "did you mean cloudtrail:LookupEvents?"},
		{"s3:*", "without wildcards"},
		{"s3:Get*", "without wildcards"},
		{"s3:", "is service:Name"},
		{":GetObject", "is service:Name"},
		{"s3:Get Object", "is service:Name"},
		{"GetObject", "an action is service:Name"},
		{"", "an action is service:Name"},
	}
	for _, tt := range tests {
		err := awsid.Action(tt.in)
		if (err == nil) != (tt.want == "") || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("Action(%q) = %v, want %q", tt.in, err, tt.want)
		}
	}
}
