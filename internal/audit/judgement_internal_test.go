package audit

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// sameAccountStarGrants gives the log-archive account's reader role a
// permissions boundary that does not allow the reads, and grants it the
// reads only through bucket and key statements to "*" narrowed by cond.
func sameAccountStarGrants(t *testing.T, cond string) *snapshot.Snapshot {
	return mutated(t, "good.json", func(s *snapshot.Snapshot) {
		s.Readers[0].Boundary = &snapshot.NamedPolicy{Name: "ec2-only",
			Document: `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`}
		s.Bucket.Policy = strings.Replace(s.Bucket.Policy, `"Statement": [`, `"Statement": [{"Sid":"SameAccountReaders","Effect":"Allow","Principal":"*",
			"Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],"Resource":["arn:aws:s3:::acme-org-cloudtrail","arn:aws:s3:::acme-org-cloudtrail/*"],
			"Condition":`+cond+`},`, 1)
		s.Keys[0].Policy = strings.Replace(s.Keys[0].Policy, `"Statement": [`, `"Statement": [{"Sid":"SameAccountDecrypt","Effect":"Allow","Principal":"*",
			"Action":"kms:Decrypt","Resource":"*","Condition":`+cond+`},`, 1)
	})
}

// TestReaders_AllowRestingOnJudgementCallIsNotAPass: whether a grant to
// "*" narrowed by aws:PrincipalAccount escapes the reader's permissions
// boundary is a judgement call of the evaluator (AWS's documentation does
// not settle it), so the readable check cannot pass on it; narrowed by
// aws:PrincipalArn, AWS documents that the boundary does not limit it, and
// the check passes (issue 13 item 11).
func TestReaders_AllowRestingOnJudgementCallIsNotAPass(t *testing.T) {
	s := sameAccountStarGrants(t, `{"StringEquals":{"aws:PrincipalAccount":"222222222222"}}`)
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
	// Without the boundary, or with grants narrowed by aws:PrincipalArn,
	// documented rules alone decide the reads, and the check passes.
	s.Readers[0].Boundary = nil
	documented := []*snapshot.Snapshot{s, sameAccountStarGrants(t, `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:role/trailwarden-*"}}`)}
	for i, d := range documented {
		for _, f := range byRule(audit(t, d, "baseline"), "TW-ACC-02") {
			if f.Resource == reader && f.Status != Pass {
				t.Errorf("documented case %d: %s, want pass: %s %v", i, f.Status, f.Message, f.Evidence)
			}
		}
	}
}
