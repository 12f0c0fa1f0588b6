package audit

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// TestReaders_AllowRestingOnJudgementCallIsNotAPass: the log-archive
// account's reader role has a permissions boundary that does not allow the
// reads, and the bucket and key policies grant it only through statements
// to "*". Whether such a grant escapes the boundary is a judgement call of
// the evaluator (AWS's documentation does not settle it), so the readable
// check cannot pass on it (issue 13 item 11).
func TestReaders_AllowRestingOnJudgementCallIsNotAPass(t *testing.T) {
	s := mutated(t, "good.json", func(s *snapshot.Snapshot) {
		s.Readers[0].Boundary = &snapshot.NamedPolicy{Name: "ec2-only",
			Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`}
		s.Bucket.Policy = strings.Replace(s.Bucket.Policy, `"Statement": [`, `"Statement": [{"Sid":"SameAccountReaders","Effect":"Allow","Principal":"*",
			"Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::acme-org-cloudtrail","arn:aws:s3:::acme-org-cloudtrail/*"],
			"Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/trailwarden-*"}}},`, 1)
		s.Key.Policy = strings.Replace(s.Key.Policy, `"Statement": [`, `"Statement": [{"Sid":"SameAccountDecrypt","Effect":"Allow","Principal":"*",
			"Action":"kms:Decrypt","Resource":"*","Condition":{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/trailwarden-*"}}},`, 1)
	})
	rep := audit(t, s, "baseline")
	const reader = "arn:aws:iam::222222222222:role/trailwarden-log-reader"
	found := false
	for _, f := range byRule(rep, "TW-ACC-02") {
		if f.Resource != reader {
			continue
		}
		found = true
		text := f.Message + "\n" + strings.Join(f.Evidence, "\n")
		if f.Status != Unknown || !strings.Contains(text, "judgement call wildcard-grant-session-limits") || f.Remediation == "" {
			t.Errorf("reader %s: %s, want unknown naming judgement call wildcard-grant-session-limits, with a fix:\n%s", reader, f.Status, text)
		}
	}
	if !found {
		t.Fatalf("no TW-ACC-02 finding for %s", reader)
	}
	// Without the boundary the same statements decide the reads by
	// documented rules alone, and the check passes.
	s.Readers[0].Boundary = nil
	for _, f := range byRule(audit(t, s, "baseline"), "TW-ACC-02") {
		if f.Resource == reader && f.Status != Pass {
			t.Errorf("reader without a boundary: %s, want pass: %s %v", f.Status, f.Message, f.Evidence)
		}
	}
}
