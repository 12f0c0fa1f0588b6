package miniotest_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/miniotest"
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
