package s3

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"maps"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

// TestDirectGetAgainstMinIO checks that the fast path itself (not the SDK
// it falls back to) serves objects, hostile keys included, byte for byte
// with the SDK's metadata, and declines what the SDK must explain.
func TestDirectGetAgainstMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	srv.SetEnv(t)
	ctx := t.Context()
	bucket := "direct-get"
	srv.CreateBucket(t, bucket)
	s, err := New(ctx, Options{Bucket: bucket, Endpoint: srv.Endpoint})
	if err != nil {
		t.Fatal(err)
	}
	if s.direct == nil {
		t.Fatal("no fast path for an S3-compatible endpoint")
	}
	keys := []string{
		"AWSLogs/o-1/111111111111/CloudTrail/us-east-1/2026/11/20/111111111111_CloudTrail_us-east-1_20261120T0000Z_abc.json.gz",
		"spaces and + plus/100% ~tilde/a?b#c/ünïcødé/€/=&;:@,$!*()'[]",
	}
	for i, key := range keys {
		body := strings.Repeat(key, i+1)
		if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
			Body: strings.NewReader(body), Metadata: map[string]string{"signature": "sig-" + key[:4], "signature-algorithm": "SHA256withRSA"}}); err != nil {
			t.Fatalf("put %q: %v", key, err)
		}
		resp, meta, err := s.direct.get(ctx, key)
		if err != nil {
			t.Fatalf("direct get %q declined: %v", key, err)
		}
		got, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil || string(got) != body {
			t.Fatalf("direct get %q = %q, %v; want %q", key, got, err, body)
		}
		sdk, err := s.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		_ = sdk.Body.Close()
		if want := metadata(sdk.Metadata); !maps.Equal(meta, want) {
			t.Errorf("direct get %q: metadata %v, the SDK's %v", key, meta, want)
		}
	}

	t.Run("GzipEncodingIsNotUndone", func(t *testing.T) {
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		_, _ = zw.Write([]byte(`{"Records":[]}`))
		_ = zw.Close()
		if _, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("enc.json.gz"),
			Body: bytes.NewReader(gz.Bytes()), ContentEncoding: aws.String("gzip"), ContentType: aws.String("application/json")}); err != nil {
			t.Fatal(err)
		}
		resp, _, err := s.direct.get(ctx, "enc.json.gz")
		if err != nil {
			t.Fatal("declined")
		}
		got, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if !bytes.Equal(got, gz.Bytes()) {
			t.Fatalf("got %d bytes, want the %d stored gzip bytes", len(got), gz.Len())
		}
	})

	t.Run("DeclinesWhatTheSDKMustExplain", func(t *testing.T) {
		if resp, _, err := s.direct.get(ctx, "no/such/key"); err == nil {
			_ = resp.Body.Close()
			t.Error("a missing key was served")
		}
		missing, err := New(ctx, Options{Bucket: "no-such-bucket", Endpoint: srv.Endpoint})
		if err != nil {
			t.Fatal(err)
		}
		if resp, _, err := missing.direct.get(ctx, keys[0]); err == nil {
			_ = resp.Body.Close()
			t.Error("a missing bucket was served")
		}
		t.Setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret-0123456789")
		wrong, err := New(ctx, Options{Bucket: bucket, Endpoint: srv.Endpoint, MaxRetries: 1})
		if err != nil {
			t.Fatal(err)
		}
		if resp, _, err := wrong.direct.get(ctx, keys[0]); err == nil {
			_ = resp.Body.Close()
			t.Error("a request with a wrong secret key was served")
		}
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if resp, _, err := s.direct.get(cancelled, keys[0]); err == nil {
			_ = resp.Body.Close()
			t.Error("a cancelled request was served")
		}
	})
}

// TestDirectEndpoints checks the bucket endpoints the fast path resolves
// for AWS itself, as the SDK's GetObject would address them.
func TestDirectEndpoints(t *testing.T) {
	IsolateAWSEnv(t, "AKIDEXAMPLE", "secret")
	t.Setenv("AWS_USE_DUALSTACK_ENDPOINT", "")
	for _, c := range []struct {
		bucket, region, want string
		fips                 bool
	}{
		{bucket: "acme-org-cloudtrail", region: "eu-west-1", want: "https://acme-org-cloudtrail.s3.eu-west-1.amazonaws.com"},
		{bucket: "acme.org.cloudtrail", region: "us-east-1", want: "https://s3.us-east-1.amazonaws.com/acme.org.cloudtrail"},
		{bucket: "acme-org-cloudtrail", region: "us-gov-west-1", fips: true, want: "https://acme-org-cloudtrail.s3-fips.us-gov-west-1.amazonaws.com"},
	} {
		t.Setenv("AWS_USE_FIPS_ENDPOINT", map[bool]string{true: "true", false: ""}[c.fips])
		s, err := New(t.Context(), Options{Bucket: c.bucket, Region: c.region})
		if err != nil {
			t.Fatal(err)
		}
		if s.direct == nil {
			t.Fatalf("%s in %s: no fast path", c.bucket, c.region)
		}
		if got := s.direct.base.String(); got != c.want {
			t.Errorf("%s in %s (FIPS %v): endpoint %s, want %s", c.bucket, c.region, c.fips, got, c.want)
		}
	}
}
