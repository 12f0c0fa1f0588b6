package cli

import (
	"path/filepath"
	"testing"

	"github.com/trailwarden/trailwarden/internal/testkit/miniotest"
)

// TestCoverageAgainstMinIO runs coverage on an S3-compatible bucket with
// the AWS CLI's flag names: the expected accounts present are covered hour
// by hour, an expected account absent from the bucket is one gap per
// region over the whole window, and the accounts not expected are listed.
func TestCoverageAgainstMinIO(t *testing.T) {
	srv := miniotest.Start(t)
	srv.SetEnv(t)
	srv.CreateBucket(t, "demo-bucket")
	keys := filepath.Join(t.TempDir(), "keys.json")
	url := "s3://demo-bucket/org-logs"
	if _, stderr, code := run("demo", "--s3", url, "--endpoint-url", srv.Endpoint, "--accounts", "3", "--regions", "us-east-1,eu-west-1",
		"--days", "1", "--public-keys-out", keys); code != 0 {
		t.Fatalf("demo: %d %s", code, stderr)
	}
	out := coverageRun(t, ExitFailure, "--source", url, "--endpoint-url", srv.Endpoint, "--public-keys", keys,
		"--accounts", "111111111111,222222222222,999999999999", "--regions", "us-east-1,eu-west-1",
		"--since", "2026-11-20T00:00:00Z", "--until", "2026-11-21T00:00:00Z")
	ok := 0
	for _, c := range out.Cells {
		if c.Status == "ok" {
			ok++
		}
	}
	if len(out.Cells) != 6 || ok != 4 || len(out.Gaps) != 2 || out.Gaps[0].Account != "999999999999" || out.Gaps[0].Hours != 24 {
		t.Fatalf("cells %+v gaps %+v", out.Cells, out.Gaps)
	}
	if len(out.Unexpected) != 2 {
		t.Fatalf("unexpected %+v, want the third demo account in both regions", out.Unexpected)
	}
}
