package s3

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/objstore"
)

// direct is Get's fast path: one GET signed with Signature Version 4 and
// sent with the SDK's own HTTP client and credentials, to the bucket
// endpoint the SDK's resolver gave once. A pull reads thousands of small
// objects (a log file and a digest per account, region and hour), and
// the SDK's middleware stack cost about 150 µs of CPU each, as much as
// decompressing a typical log file.
//
// Anything but 200 OK (a missing key, a denial, a redirect, a skewed
// clock) and any transport error goes back to the SDK, which retries
// and explains the failure as it always has, so the fast path changes
// the cost of a read, never its outcome. Its connections are the SDK's
// client's, watched as every AWS call's are (session.HTTPClient).
type direct struct {
	http   aws.HTTPClient
	creds  aws.CredentialsProvider
	signer *v4.Signer
	base   url.URL // the bucket's endpoint, e.g. https://b.s3.eu-west-1.amazonaws.com
	region string
}

// emptySHA256 is the SHA-256 of an empty payload, as S3 signs a GET.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// newDirect resolves the bucket's endpoint as the client's GetObject
// would; nil means Get always uses the SDK.
func newDirect(ctx context.Context, c *s3.Client, bucket string) *direct {
	o := c.Options()
	if o.Credentials == nil || o.HTTPClient == nil || o.EndpointResolverV2 == nil || o.Region == "" {
		return nil
	}
	ep, err := o.EndpointResolverV2.ResolveEndpoint(ctx, s3.EndpointParameters{
		Bucket:         aws.String(bucket),
		Region:         aws.String(o.Region),
		UseFIPS:        aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack:   aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
		Endpoint:       o.BaseEndpoint,
		ForcePathStyle: aws.Bool(o.UsePathStyle),
		Accelerate:     aws.Bool(o.UseAccelerate),
	})
	if err != nil || ep.URI.Host == "" || ep.URI.RawQuery != "" {
		return nil
	}
	return &direct{http: o.HTTPClient, creds: o.Credentials, signer: v4.NewSigner(), base: ep.URI, region: o.Region}
}

// errDeclined is a response the fast path leaves to the SDK.
var errDeclined = errors.New("not 200 OK")

// get returns the object's response (200 OK) and metadata, or an error
// for the SDK to take over: why the fast path did not answer.
func (d *direct) get(ctx context.Context, key string) (*http.Response, objstore.Metadata, error) {
	creds, err := d.creds.Retrieve(ctx)
	if err != nil {
		return nil, nil, err
	}
	u := d.base
	u.Path = strings.TrimSuffix(d.base.Path, "/") + "/" + key
	u.RawPath = strings.TrimSuffix(d.base.EscapedPath(), "/") + "/" + escapeKey(key)
	// The URL is built, not parsed: a string round trip would only redo
	// the escaping above.
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "", nil)
	if err != nil {
		return nil, nil, err
	}
	req.URL, req.Host = &u, u.Host
	// identity: a log file stored with Content-Encoding gzip must arrive
	// as stored, not decompressed by Go's transport (its digest hashes
	// what the reader decompresses).
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "trailwarden")
	req.Header.Set("X-Amz-Content-Sha256", emptySHA256)
	if err := d.signer.SignHTTP(ctx, creds, req, emptySHA256, "s3", d.region, time.Now().UTC(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }); err != nil {
		return nil, nil, err
	}
	resp, err := d.http.Do(req)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		_ = resp.Body.Close()
		return nil, nil, errDeclined
	}
	meta := objstore.Metadata{}
	for k, v := range resp.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-meta-"); ok && len(v) > 0 {
			meta[name] = v[0]
		}
	}
	return resp, meta, nil
}

// escapeKey percent-encodes a key for an S3 URL path: every byte but the
// unreserved characters and "/", as S3 expects in the signed path.
func escapeKey(key string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(key))
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	return b.String()
}
