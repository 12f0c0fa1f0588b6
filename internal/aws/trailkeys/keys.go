package trailkeys

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/smithy-go"

	"github.com/trailwarden/trailwarden/internal/digest"
)

// maxPages bounds pagination against a server that never stops handing out
// new tokens; a region has a handful of keys, far fewer than one page each.
const maxPages = 1000

// regionRE accepts region names (us-east-1, us-gov-west-1, eu-isoe-west-1).
// Regions may come from object keys of an untrusted bucket, and the region
// becomes part of the endpoint's host name.
var regionRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// PublicKeys returns the public keys CloudTrail used in region to sign
// digests between start and end. Like validate-logs it asks for keys valid
// up to digest.SigningDelay after end, since a digest is signed after its
// hour closes and may fall under a key that becomes valid only then.
func (c *Client) PublicKeys(ctx context.Context, region string, start, end time.Time) (*digest.KeySet, error) {
	if len(region) > 63 || !regionRE.MatchString(region) {
		return nil, fmt.Errorf("cloudtrail: list public keys: invalid region %q", region)
	}
	fail := func(err error) error {
		return fmt.Errorf("cloudtrail: list public keys in %s: %w", region, err)
	}
	if start.IsZero() || end.IsZero() {
		return nil, fail(errors.New("zero start or end time"))
	}
	if start.After(end) {
		return nil, fail(fmt.Errorf("start %s is after end %s",
			start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339)))
	}
	in := &cloudtrail.ListPublicKeysInput{
		StartTime: aws.Time(start),
		EndTime:   aws.Time(end.Add(digest.SigningDelay)),
	}
	pages := cloudtrail.NewListPublicKeysPaginator(c.api, in, func(po *cloudtrail.ListPublicKeysPaginatorOptions) {
		po.StopOnDuplicateToken = true
	})
	inRegion := func(o *cloudtrail.Options) { o.Region = region }
	var keys []digest.PublicKey
	for n := 0; pages.HasMorePages(); n++ {
		if n == maxPages {
			return nil, fail(fmt.Errorf("more than %d pages of keys; giving up", maxPages))
		}
		page, err := pages.NextPage(ctx, inRegion)
		if err != nil {
			return nil, fail(explain(err, region))
		}
		for _, e := range page.PublicKeyList {
			k, err := convert(e)
			if err != nil {
				return nil, fail(fmt.Errorf("key %d %w", len(keys), err))
			}
			keys = append(keys, k)
		}
	}
	return digest.NewKeySet(keys...), nil
}

// convert turns one PublicKeyList entry into a digest.PublicKey. Value is a
// JSON-protocol blob, which the SDK has base64-decoded once already; AWS
// documents it as DER PKCS#1, yet the CLI decodes base64 once more, so
// digest.DecodePublicKey accepts either. Errors begin with the fingerprint so
// the caller can prefix the entry's index.
func convert(e types.PublicKey) (digest.PublicKey, error) {
	fp := aws.ToString(e.Fingerprint)
	if fp == "" {
		return digest.PublicKey{}, errors.New("has no fingerprint")
	}
	name := "(fingerprint " + strconv.Quote(fp) + ")"
	if len(e.Value) == 0 {
		return digest.PublicKey{}, fmt.Errorf("%s has no value", name)
	}
	pub, err := digest.DecodePublicKey(e.Value)
	if err != nil {
		return digest.PublicKey{}, fmt.Errorf("%s: decode value: %w", name, err)
	}
	return digest.PublicKey{
		Fingerprint: fp,
		Key:         pub,
		ValidFrom:   aws.ToTime(e.ValidityStartTime),
		ValidTo:     aws.ToTime(e.ValidityEndTime),
	}, nil
}

// explain gives the failures a user can fix a readable cause. The SDK's
// errors carry the service's code and message, never the credentials.
func explain(err error, region string) error {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return err
	}
	switch api.ErrorCode() {
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation":
		return fmt.Errorf("access denied: the credentials need the IAM permission cloudtrail:ListPublicKeys "+
			"(check the identity and role policies and any SCP): %w", err)
	case "UnrecognizedClientException", "InvalidClientTokenId":
		return fmt.Errorf("the credentials are not valid in %s (wrong keys, or the region is not enabled for the account): %w",
			region, err)
	case "ExpiredTokenException", "ExpiredToken":
		return fmt.Errorf("the credentials have expired (refresh the session or SSO login): %w", err)
	}
	return err
}
