// Package s3 implements objstore.Store on Amazon S3 and S3-compatible
// stores (MinIO and the like) with the AWS SDK for Go v2.
//
// Credentials come from the SDK's default chain: environment variables, the
// shared config and credentials files (with Options.Profile as the profile),
// SSO, web identity, ECS and EC2 instance metadata. Options.RoleARN, if set,
// is assumed on top of those credentials through STS.
//
// Keys are full object keys in the bucket, not relative to Options.Prefix;
// the prefix only names the store (String) for messages.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/trailwarden/trailwarden/internal/aws/session"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/trailwarden/trailwarden/internal/objstore"
)

// Options configures a Store.
type Options struct {
	// Bucket is the bucket name (required).
	Bucket string
	// Prefix scopes the duckdb's name (String) only; keys are full keys.
	Prefix string
	// Region is the bucket's region; empty means the SDK's (AWS_REGION, the
	// profile's region), or us-east-1 with an Endpoint.
	Region string
	// Endpoint is the base URL of an S3-compatible store, such as
	// http://127.0.0.1:9000. It implies path-style addressing.
	Endpoint string
	// PathStyle addresses the bucket as endpoint/bucket rather than
	// bucket.endpoint.
	PathStyle bool
	// RoleARN, if set, is assumed (with ExternalID, if set) through STS.
	RoleARN    string
	ExternalID string
	// Profile selects a profile of the shared AWS config files.
	Profile string
	// MaxRetries is how many times a failed request is retried; 0 keeps the
	// SDK's default (2 retries, 3 attempts).
	MaxRetries int
	// Timeout is how long a request, or an object's body, may go without
	// progress (connecting, waiting for the first byte, between reads):
	// a stalled request is retried, and once the retries are spent the
	// call (or the body's Read) fails with objstore.ErrStalled. 0 means
	// session.DefaultTimeout. A body that keeps moving is never cut.
	Timeout time.Duration
}

// Store is an S3 bucket. It is safe for concurrent use.
type Store struct {
	client *s3.Client
	bucket string
	prefix string
	// unsignedStreams: bodies that cannot be rewound are sent with
	// UNSIGNED-PAYLOAD (the SDK cannot hash them up front and, without
	// flexible checksums, has no trailer to sign instead).
	unsignedStreams bool
	// direct is Get's fast path; nil when the endpoint did not resolve.
	direct *direct
	// idle is the limit on a body's silence; endpoint names the store's
	// endpoint in stall errors ("" when unknown: the connection's address
	// is named instead).
	idle     time.Duration
	endpoint string
}

var _ objstore.Store = (*Store)(nil)

// Errors of the bucket's region.
var (
	// ErrNoRegion is a client for AWS with no region: none given, none in
	// AWS_REGION or the profile.
	ErrNoRegion = errors.New("s3: no AWS region: none given, and none in AWS_REGION or the profile")
	// ErrWrongRegion is a bucket in another region than the client's.
	ErrWrongRegion = errors.New("the bucket is in another region than the one configured")
)

// RoleSessionName is the session name of an assumed role, as it appears in
// the role's CloudTrail events.
const RoleSessionName = session.RoleSessionName

// New makes a Store. It loads the AWS configuration but makes no request:
// missing or wrong credentials show up on the first call.
func New(ctx context.Context, o Options) (*Store, error) {
	if err := ValidateBucket(o.Bucket); err != nil {
		return nil, err
	}
	cfg, endpoint, err := session.Load(ctx, session.Options{Region: o.Region, Profile: o.Profile, RoleARN: o.RoleARN,
		ExternalID: o.ExternalID, Endpoint: o.Endpoint, MaxRetries: o.MaxRetries, Timeout: o.Timeout})
	if err != nil {
		return nil, fmt.Errorf("s3: %w", err)
	}
	if cfg.Region == "" {
		if endpoint == "" {
			return nil, ErrNoRegion
		}
		cfg.Region = "us-east-1"
	}
	client := s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.UsePathStyle = o.PathStyle
		if endpoint != "" {
			so.BaseEndpoint = aws.String(endpoint)
			so.UsePathStyle = true
			// Not every S3-compatible store supports the SDK's default
			// CRC checksums; send and check them only where S3 requires.
			so.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			so.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		}
	})
	st := &Store{
		client:          client,
		bucket:          o.Bucket,
		prefix:          o.Prefix,
		unsignedStreams: endpoint != "",
		direct:          newDirect(ctx, client, o.Bucket),
		idle:            o.Timeout,
		endpoint:        endpoint,
	}
	if st.idle == 0 {
		st.idle = session.DefaultTimeout
	}
	if st.endpoint == "" && st.direct != nil {
		st.endpoint = st.direct.base.Scheme + "://" + st.direct.base.Host
	}
	return st, nil
}

// ParseURL splits s3://bucket/prefix into its bucket and prefix ("" when
// there is none; a trailing "/" is kept).
func ParseURL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		if i := strings.Index(s, "://"); i >= 0 && strings.EqualFold(s[:i], "s3") {
			rest = s[i+3:]
		} else {
			return "", "", fmt.Errorf("s3: %q is not an s3:// URL (want s3://bucket or s3://bucket/prefix)", redactURL(s))
		}
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if strings.Contains(bucket, "@") {
		return "", "", errors.New("s3: an s3:// URL must not contain credentials")
	}
	if bucket == "" {
		return "", "", fmt.Errorf("s3: %q has no bucket name (want s3://bucket/prefix)", s)
	}
	if err := ValidateBucket(bucket); err != nil {
		return "", "", err
	}
	if strings.HasPrefix(prefix, "/") {
		return "", "", fmt.Errorf("s3: %q: the prefix starts with \"/\" (a doubled slash after the bucket?)", s)
	}
	if strings.ContainsAny(prefix, "\x00") {
		return "", "", fmt.Errorf("s3: %q: the prefix contains a NUL byte", s)
	}
	return bucket, prefix, nil
}

// redactURL hides the user information of a URL-like string.
func redactURL(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s[i+3:], "@"); at >= 0 {
			if slash := strings.Index(s[i+3:], "/"); slash < 0 || at < slash {
				return s[:i+3] + "REDACTED@" + s[i+3+at+1:]
			}
		}
	}
	return s
}

// ValidateBucket checks S3's bucket naming rules: 3 to 63 characters of
// lower-case letters, digits, '.' and '-', beginning and ending with a letter
// or digit, not shaped like an IP address.
func ValidateBucket(name string) error {
	if name == "" {
		return errors.New("s3: empty bucket name")
	}
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("s3: bucket name %q must be 3 to 63 characters long", name)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case c == '.' || c == '-':
			if i == 0 || i == len(name)-1 {
				return fmt.Errorf("s3: bucket name %q must begin and end with a letter or digit", name)
			}
		case c >= 'A' && c <= 'Z':
			return fmt.Errorf("s3: bucket name %q has upper-case letters; bucket names are lower-case", name)
		default:
			return fmt.Errorf("s3: bucket name %q has the character %q; allowed are a-z, 0-9, '.' and '-'", name, c)
		}
	}
	if strings.Contains(name, "..") {
		return fmt.Errorf("s3: bucket name %q has two adjacent periods", name)
	}
	if isIPv4(name) {
		return fmt.Errorf("s3: bucket name %q is formatted as an IP address", name)
	}
	return nil
}

func isIPv4(s string) bool {
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return false
		}
	}
	return true
}

// String returns s3://bucket/prefix.
func (s *Store) String() string { return "s3://" + s.bucket + "/" + s.prefix }

// Bucket returns the duckdb's bucket name.
func (s *Store) Bucket() string { return s.bucket }

// loc names an object in messages; a key with control or invalid characters
// (it may come from a hostile bucket) is quoted rather than printed raw.
func (s *Store) loc(key string) string {
	if !printable(key) {
		key = strconv.Quote(key)
	}
	return "s3://" + s.bucket + "/" + key
}

func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// checkPutKey rejects keys that S3-compatible stores do not store as given:
// MinIO silently drops a leading "/", and no listing can return a NUL.
func checkPutKey(key string) error {
	switch {
	case key == "":
		return errors.New("empty key")
	case strings.HasPrefix(key, "/"):
		return errors.New(`key starts with "/", which some S3-compatible stores drop`)
	case strings.IndexByte(key, 0) >= 0:
		return errors.New("key contains a NUL byte")
	case !utf8.ValidString(key):
		return errors.New("key is not valid UTF-8")
	case len(key) > 1024:
		return fmt.Errorf("key is %d bytes, longer than S3's 1024", len(key))
	}
	return nil
}

// List implements objstore.Store with ListObjectsV2, one page of up to 1,000
// keys at a time.
func (s *Store) List(ctx context.Context, prefix, startAfter string, fn func(objstore.Object) error) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	if startAfter != "" {
		in.StartAfter = aws.String(startAfter)
	}
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return s.fail("list", s.loc(prefix), err)
		}
		for _, o := range page.Contents {
			if err := ctx.Err(); err != nil {
				return err
			}
			obj := objstore.Object{Key: aws.ToString(o.Key), Size: aws.ToInt64(o.Size), LastModified: aws.ToTime(o.LastModified)}
			if err := fn(obj); err != nil {
				return err
			}
		}
	}
	return nil
}

// ListDirs implements objstore.Store with the delimiter "/".
func (s *Store) ListDirs(ctx context.Context, prefix string) ([]string, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Delimiter: aws.String("/")}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	var out []string
	pages := s3.NewListObjectsV2Paginator(s.client, in)
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s.fail("list", s.loc(prefix), err)
		}
		for _, cp := range page.CommonPrefixes {
			name := strings.TrimSuffix(strings.TrimPrefix(aws.ToString(cp.Prefix), prefix), "/")
			if name != "" {
				out = append(out, name)
			}
		}
	}
	return out, nil
}

// Get implements objstore.Store, through the direct fast path when it
// answers, else with the SDK's GetObject. The body's reads fail with
// objstore.ErrStalled once no byte has come for the duckdb's limit; a body
// that stalls is first resumed once where it stopped (see bodyResumes).
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, objstore.Metadata, error) {
	// The body is read after Get returns: the request's context lives as
	// long as the body, and the watchdog cancels it.
	rctx, cancel := context.WithCancel(ctx)
	var opts []func(*s3.Options)
	earlier := 0
	if s.direct != nil {
		resp, meta, err := s.direct.get(rctx, key) //nolint:bodyclose // the caller closes it, through watch
		if err == nil {
			return s.watch(ctx, key, resp.Body, cancel, resp.Header.Get("ETag"), resp.ContentLength), meta, nil
		}
		if errors.Is(err, session.ErrStalled) {
			// The stalled fast path was the first attempt.
			opts = append(opts, s.fewerAttempts)
			earlier = 1
		}
	}
	out, err := s.client.GetObject(rctx, &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}, opts...)
	if err != nil {
		cancel()
		return nil, nil, s.failAfter("get object", s.loc(key), err, earlier)
	}
	size := int64(-1)
	if out.ContentLength != nil {
		size = *out.ContentLength
	}
	return s.watch(ctx, key, out.Body, cancel, aws.ToString(out.ETag), size), metadata(out.Metadata), nil
}

// fewerAttempts makes a call one attempt shorter than the client's.
func (s *Store) fewerAttempts(o *s3.Options) {
	if n := s.client.Options().Retryer.MaxAttempts(); n > 1 {
		o.RetryMaxAttempts = n - 1
	}
}

// bodyResumes is how many times a body that stalls is asked for again,
// from the byte where it stopped, on a new connection (through the SDK
// and its retries): a single half-open connection does not end a read,
// an endpoint that keeps stalling does.
const bodyResumes = 1

// watch wraps the body of the request that ctx (the caller's) made and
// cancel ends, of size bytes (-1 unknown) and entity tag etag.
func (s *Store) watch(ctx context.Context, key string, body io.ReadCloser, cancel context.CancelFunc, etag string, size int64) io.ReadCloser {
	return &watchedBody{s: s, ctx: ctx, key: key, etag: etag, size: size, resumes: bodyResumes, cur: s.watchRequest(body, cancel)}
}

// watchedBody is an object's body: a Read that gets no byte for the
// duckdb's limit ends its request and fails with ErrStalled, unless the
// object can be asked for again from where it stopped. Only the time
// spent inside Read counts: a caller that pauses between reads is not
// the endpoint stalling.
type watchedBody struct {
	s       *Store
	ctx     context.Context
	key     string
	etag    string
	size    int64
	read    int64
	resumes int
	cur     *watchedRequest
}

// watchedRequest is one request's body and its watchdog.
type watchedRequest struct {
	body   io.ReadCloser
	cancel context.CancelFunc
	timer  *time.Timer
	fired  atomic.Bool
}

func (s *Store) watchRequest(body io.ReadCloser, cancel context.CancelFunc) *watchedRequest {
	r := &watchedRequest{body: body, cancel: cancel}
	r.timer = time.AfterFunc(time.Hour, func() {
		r.fired.Store(true)
		cancel()
	})
	r.timer.Stop()
	return r
}

func (r *watchedRequest) close() error {
	r.timer.Stop()
	err := r.body.Close()
	r.cancel()
	return err
}

func (w *watchedBody) Read(p []byte) (int, error) {
	for {
		r := w.cur
		r.timer.Reset(w.s.idle)
		n, err := r.body.Read(p)
		r.timer.Stop()
		w.read += int64(n)
		if err == nil {
			return n, nil
		}
		if r.fired.Load() && !errors.Is(err, io.EOF) {
			err = &session.StallError{Op: "read", Addr: w.s.endpoint, Limit: w.s.idle}
		}
		if !errors.Is(err, session.ErrStalled) || objstore.Stalled(err) != nil {
			return n, err
		}
		if w.resumes == 0 || w.etag == "" || w.ctx.Err() != nil {
			return n, w.s.fail("get object", w.s.loc(w.key), err)
		}
		w.resumes--
		if rerr := w.resume(err); rerr != nil {
			return n, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume replaces the request that stalled (with the error stalled) by
// one for the rest of the same object (If-Match its entity tag), or
// returns why it cannot.
func (w *watchedBody) resume(stalled error) error {
	_ = w.cur.close()
	if w.size >= 0 && w.read >= w.size {
		w.cur = w.s.watchRequest(io.NopCloser(strings.NewReader("")), func() {})
		return nil
	}
	rctx, cancel := context.WithCancel(w.ctx)
	out, err := w.s.client.GetObject(rctx, &s3.GetObjectInput{Bucket: aws.String(w.s.bucket), Key: aws.String(w.key),
		Range: aws.String(fmt.Sprintf("bytes=%d-", w.read)), IfMatch: aws.String(w.etag)})
	if err != nil {
		cancel()
		if !errors.Is(err, session.ErrStalled) {
			// The object changed (If-Match failed), or another error:
			// the read stays a stall, never a verdict on a mix.
			err = stalled
		}
		return w.s.fail("get object", w.s.loc(w.key), err)
	}
	// Only the bytes from w.read on may follow: a response that is not
	// that range would corrupt the object, not resume it.
	if !strings.HasPrefix(aws.ToString(out.ContentRange), fmt.Sprintf("bytes %d-", w.read)) {
		_ = out.Body.Close()
		cancel()
		return w.s.fail("get object", w.s.loc(w.key), stalled)
	}
	w.cur = w.s.watchRequest(out.Body, cancel)
	return nil
}

func (w *watchedBody) Close() error { return w.cur.close() }

// Head implements objstore.Store.
func (s *Store) Head(ctx context.Context, key string) (objstore.Object, objstore.Metadata, error) {
	out, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return objstore.Object{}, nil, s.fail("head object", s.loc(key), err)
	}
	obj := objstore.Object{Key: key, Size: aws.ToInt64(out.ContentLength), LastModified: aws.ToTime(out.LastModified)}
	return obj, metadata(out.Metadata), nil
}

// metadata returns the SDK's metadata map, keys lower-cased (the SDK
// returns them as the server sends them, which is lower-case for S3).
func metadata(m map[string]string) objstore.Metadata {
	out := make(objstore.Metadata, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// Put implements objstore.Store with one PutObject of exactly size bytes,
// streamed from body. S3 stores an object whole or not at all.
func (s *Store) Put(ctx context.Context, key string, body io.Reader, size int64, meta objstore.Metadata) error {
	if err := checkPutKey(key); err != nil {
		return fmt.Errorf("s3: put object %s: %w", s.loc(key), err)
	}
	if size < 0 {
		return fmt.Errorf("s3: put object %s: negative size %d", s.loc(key), size)
	}
	in := &s3.PutObjectInput{
		Bucket:        aws.String(s.bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
	}
	if len(meta) > 0 {
		in.Metadata = make(map[string]string, len(meta))
		for k, v := range meta {
			in.Metadata[strings.ToLower(k)] = v
		}
	}
	var opts []func(*s3.Options)
	if _, seekable := body.(io.Seeker); !seekable && s.unsignedStreams {
		opts = append(opts, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	if _, err := s.client.PutObject(ctx, in, opts...); err != nil {
		return s.fail("put object", s.loc(key), err)
	}
	return nil
}

// Delete implements objstore.Store.
func (s *Store) Delete(ctx context.Context, key string) error {
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}); err != nil {
		return s.fail("delete object", s.loc(key), err)
	}
	return nil
}

// fail is the error of call op on the object or prefix at loc: a stall
// names the endpoint and what did not happen, and matches both
// objstore.ErrStalled and session.ErrStalled; anything else is
// explained.
func (s *Store) fail(op, loc string, err error) error {
	return s.failAfter(op, loc, err, 0)
}

// failAfter is fail for a call that had earlier attempts than the SDK's
// (the fast path's).
func (s *Store) failAfter(op, loc string, err error, earlier int) error {
	var se *session.StallError
	if !errors.As(err, &se) {
		return fmt.Errorf("s3: %s %s: %w", op, loc, s.explain(err))
	}
	endpoint := s.endpoint
	if endpoint == "" {
		endpoint = se.Addr
	}
	dir := "from"
	if op == "put object" {
		dir = "to"
	}
	msg := fmt.Sprintf("s3: %s %s %s %s: %s (stalled endpoint)", op, loc, dir, endpoint, se.Problem())
	attempts := earlier + 1
	var mae *retry.MaxAttemptsError
	if errors.As(err, &mae) {
		attempts = earlier + mae.Attempt
	}
	if attempts > 1 {
		msg += fmt.Sprintf(", %d attempts", attempts)
	}
	return &objstore.StallError{Msg: msg, Err: err}
}

// explain maps a missing object to objstore.ErrNotFound and gives the other
// common failures a readable cause. The SDK's errors carry the service's
// code and message, never the credentials.
func (s *Store) explain(err error) error {
	var nsk *types.NoSuchKey
	var nf *types.NotFound
	if errors.As(err, &nsk) || errors.As(err, &nf) {
		return objstore.ErrNotFound
	}
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return objstore.ErrNotFound
		case "NoSuchBucket":
			return fmt.Errorf("bucket %s does not exist: %w", s.bucket, err)
		case "SignatureDoesNotMatch", "InvalidAccessKeyId":
			return fmt.Errorf("the credentials were refused (check the access key, the secret key and the profile): %w", err)
		case "AccessDenied", "Forbidden":
			return fmt.Errorf("access denied (check the credentials, role and bucket policy): %w", err)
		case "PermanentRedirect", "AuthorizationHeaderMalformed":
			return fmt.Errorf("%w: %w", ErrWrongRegion, err)
		}
	}
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		if api == nil || api.ErrorCode() != "NoSuchBucket" {
			return objstore.ErrNotFound
		}
	}
	return err
}
