package miniotest_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

func TestStart(t *testing.T) {
	s := miniotest.Start(t)
	if !strings.HasPrefix(s.Endpoint, "http://127.0.0.1:") {
		t.Errorf("Endpoint = %q, want a loopback address", s.Endpoint)
	}
	if s.AccessKey == "" || len(s.SecretKey) < 8 {
		t.Errorf("credentials %q/%q unusable", s.AccessKey, s.SecretKey)
	}
	s.CreateBucket(t, "miniotest-bucket")
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, s.Endpoint+"/minio/health/ready", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("health/ready: %s", resp.Status)
	}
}

func TestBinaryMissing(t *testing.T) {
	t.Setenv("TRAILWARDEN_MINIO", filepath.Join(t.TempDir(), "no-minio"))
	if _, err := miniotest.Binary(); err == nil {
		t.Error("Binary() found a missing minio")
	}
	// Without the override: the error names `make setup`.
	t.Setenv("TRAILWARDEN_MINIO", "")
	t.Setenv("GOPATH", t.TempDir())
	t.Setenv("PATH", t.TempDir())
	_, err := miniotest.Binary()
	if err == nil || !strings.Contains(err.Error(), "make setup") {
		t.Errorf("Binary() error = %v, want one naming make setup", err)
	}
}

// TestKillAndRestart: a killed server comes back on its data, at a new
// endpoint, and a stalled one answers again once resumed.
func TestKillAndRestart(t *testing.T) {
	s := miniotest.Start(t)
	s.CreateBucket(t, "kept")
	before := s.Endpoint
	s.Kill()
	if resp, err := http.Get(before + "/minio/health/live"); err == nil { //nolint:noctx // a probe
		_ = resp.Body.Close()
		t.Fatal("killed server still answers")
	}
	s.Restart(t)
	// The bucket is still there.
	ctx := context.Background()
	if _, err := s3Client(s).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String("kept")}); err != nil {
		t.Fatalf("bucket lost over a restart: %v", err)
	}
	if err := s.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Timeout: 500 * time.Millisecond}
	if resp, err := c.Get(s.Endpoint + "/minio/health/live"); err == nil { //nolint:noctx // a probe
		_ = resp.Body.Close()
		t.Fatal("stopped server answered")
	}
	if err := s.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(s.Endpoint + "/minio/health/live") //nolint:noctx // a probe
	if err != nil {
		t.Fatalf("resumed server: %v", err)
	}
	_ = resp.Body.Close()
}

func s3Client(s *miniotest.Server) *s3.Client {
	return s3.New(s3.Options{Region: miniotest.Region, BaseEndpoint: aws.String(s.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(s.AccessKey, s.SecretKey, "")})
}
