package s3_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/objstore"
	"github.com/trailwarden/trailwarden/internal/objstore/storetest"
	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

var bucketSeq atomic.Int64

func newBucket(t *testing.T, srv *miniotest.Server) string {
	t.Helper()
	name := fmt.Sprintf("tw-%d-%d", time.Now().UnixNano()%1_000_000, bucketSeq.Add(1))
	srv.CreateBucket(t, name)
	return name
}

func TestConformance(t *testing.T) {
	start := time.Now()
	srv := miniotest.Start(t)
	s3.IsolateAWSEnv(t, srv.AccessKey, srv.SecretKey)
	storetest.RunWith(t, func(t *testing.T) objstore.Store {
		s, err := s3.New(context.Background(), s3.Options{
			Bucket:   newBucket(t, srv),
			Prefix:   "AWSLogs/",
			Region:   miniotest.Region,
			Endpoint: srv.Endpoint,
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}, storetest.Options{
		ObjectPrefixConflict: "MinIO accepts both a/b and a/b/c but lists only a/b (unlike AWS S3)",
	})
	t.Cleanup(func() { t.Logf("MinIO-backed conformance: %v", time.Since(start).Round(time.Millisecond)) })
}

func TestAgainstMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	s3.IsolateAWSEnv(t, srv.AccessKey, srv.SecretKey)
	bucket := newBucket(t, srv)
	ctx := t.Context()

	t.Run("String", func(t *testing.T) {
		s, err := s3.New(ctx, s3.Options{Bucket: bucket, Prefix: "AWSLogs/o-123/", Endpoint: srv.Endpoint})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := s.String(), "s3://"+bucket+"/AWSLogs/o-123/"; got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
		// Keys are full keys, not relative to the prefix.
		if err := s.Put(ctx, "top-level", strings.NewReader("x"), 1, nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Head(ctx, "top-level"); err != nil {
			t.Errorf("Head(top-level): %v", err)
		}
	})

	t.Run("MissingBucket", func(t *testing.T) {
		s, err := s3.New(ctx, s3.Options{Bucket: "no-such-bucket", Endpoint: srv.Endpoint})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Get(ctx, "k")
		if err == nil || errors.Is(err, objstore.ErrNotFound) || !strings.Contains(err.Error(), "does not exist") {
			t.Errorf("Get in a missing bucket: %v, want a bucket error, not ErrNotFound", err)
		}
		err = s.List(ctx, "", "", func(objstore.Object) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "no-such-bucket") {
			t.Errorf("List of a missing bucket: %v", err)
		}
	})

	t.Run("WrongSecretNotLeaked", func(t *testing.T) {
		const secret = "wrong-secret-value-0123456789"
		t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
		s, err := s3.New(ctx, s3.Options{Bucket: bucket, Endpoint: srv.Endpoint, MaxRetries: 1})
		if err != nil {
			t.Fatal(err)
		}
		for _, err := range []error{
			s.Put(ctx, "k", strings.NewReader("x"), 1, objstore.Metadata{"signature": "s"}),
			func() error { _, _, err := s.Get(ctx, "k"); return err }(),
			s.List(ctx, "", "", func(objstore.Object) error { return nil }),
		} {
			if err == nil {
				t.Fatal("a request with a wrong secret key succeeded")
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), srv.SecretKey) {
				t.Errorf("error leaks the secret key: %v", err)
			}
			if errors.Is(err, objstore.ErrNotFound) {
				t.Errorf("auth failure reported as not found: %v", err)
			}
			if !strings.Contains(err.Error(), "credentials were refused") {
				t.Errorf("error does not say the credentials were refused: %v", err)
			}
		}
	})

	t.Run("GetErrorFormat", func(t *testing.T) {
		s, err := s3.New(ctx, s3.Options{Bucket: bucket, Endpoint: srv.Endpoint})
		if err != nil {
			t.Fatal(err)
		}
		_, _, err = s.Get(ctx, "missing/key")
		if !errors.Is(err, objstore.ErrNotFound) {
			t.Fatalf("Get(missing) = %v", err)
		}
		if want := "s3: get object s3://" + bucket + "/missing/key: "; !strings.HasPrefix(err.Error(), want) {
			t.Errorf("error %q does not start with %q", err, want)
		}
	})
}

func TestParseURL(t *testing.T) {
	good := []struct{ in, bucket, prefix string }{
		{"s3://my-bucket", "my-bucket", ""},
		{"s3://my-bucket/", "my-bucket", ""},
		{"s3://my-bucket/AWSLogs/", "my-bucket", "AWSLogs/"},
		{"s3://my.bucket.1/AWSLogs/o-abc/111122223333/CloudTrail", "my.bucket.1", "AWSLogs/o-abc/111122223333/CloudTrail"},
		{"S3://abc/x", "abc", "x"},
	}
	for _, c := range good {
		b, p, err := s3.ParseURL(c.in)
		if err != nil || b != c.bucket || p != c.prefix {
			t.Errorf("ParseURL(%q) = %q, %q, %v; want %q, %q", c.in, b, p, err, c.bucket, c.prefix)
		}
	}
	bad := []struct{ in, msg string }{
		{"", "not an s3:// URL"},
		{"my-bucket/x", "not an s3:// URL"},
		{"https://my-bucket.s3.amazonaws.com/x", "not an s3:// URL"},
		{"s3://", "no bucket"},
		{"s3:///prefix", "no bucket"},
		{"s3://ab", "3 to 63"},
		{"s3://My-Bucket", "upper-case"},
		{"s3://my_bucket", "'_'"},
		{"s3://-bucket", "begin and end"},
		{"s3://a..b", "adjacent periods"},
		{"s3://192.168.1.1", "IP address"},
		{"s3://bucket//x", "starts with \"/\""},
		{"s3://AKIAX:s3cr3t@bucket/x", "must not contain credentials"},
	}
	for _, c := range bad {
		_, _, err := s3.ParseURL(c.in)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("ParseURL(%q) error = %v, want one containing %q", c.in, err, c.msg)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("ParseURL(%q) error leaks the secret: %v", c.in, err)
		}
	}
	if _, _, err := s3.ParseURL("https://user:s3cr3t@host/x"); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("ParseURL with credentials in another scheme: %v", err)
	}
}

func TestNewValidates(t *testing.T) {
	s3.IsolateAWSEnv(t, "AKIDEXAMPLE", "secret")
	ctx := t.Context()
	cases := []struct {
		o   s3.Options
		msg string
	}{
		{s3.Options{}, "empty bucket"},
		{s3.Options{Bucket: "b_b"}, "'_'"},
		{s3.Options{Bucket: "bucket", MaxRetries: -1}, "MaxRetries"},
		{s3.Options{Bucket: "bucket", Endpoint: "ftp://host"}, "http or https"},
		{s3.Options{Bucket: "bucket", Endpoint: "http://key:s3cr3t@host"}, "must not contain credentials"},
		{s3.Options{Bucket: "bucket", Endpoint: "http://"}, "no host"},
		{s3.Options{Bucket: "bucket", Region: "us-east-1", RoleARN: "my-role"}, "not an ARN"},
		{s3.Options{Bucket: "bucket"}, "no AWS region"},
	}
	for _, c := range cases {
		_, err := s3.New(ctx, c.o)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("New(%+v) error = %v, want one containing %q", c.o, err, c.msg)
		}
		if err != nil && strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("New error leaks the secret: %v", err)
		}
	}
	// Assume-role and a profile-less, region-ful config load without a request.
	if _, err := s3.New(ctx, s3.Options{Bucket: "bucket", Region: "eu-west-1", RoleARN: "arn:aws:iam::111122223333:role/reader", ExternalID: "x"}); err != nil {
		t.Errorf("New with a role: %v", err)
	}
	if _, err := s3.New(ctx, s3.Options{Bucket: "bucket", Region: "eu-west-1", Profile: "missing-profile"}); err == nil {
		t.Error("New with a missing profile succeeded")
	}
}
