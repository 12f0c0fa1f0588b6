package plan

import (
	"errors"
	"testing"
)

// TestCheckDrift: a plan made from a snapshot is applied only while the
// live state plans the same steps; a live state that gained a bucket
// policy, or a trail, plans others.
func TestCheckDrift(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	taken := freshWorld(c)
	reviewed, err := Build(c, taken)
	if err != nil {
		t.Fatal(err)
	}
	withPolicy := clone(t, taken)
	withPolicy.Bucket.Policy = `{"Version":"2012-10-17","Statement":[{"Sid":"Other","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::` + c.Bucket + `/*"}]}`
	withTrail := clone(t, taken)
	withTrail.Accounts[0].Trails = append(withTrail.Accounts[0].Trails, snapshotTrail(withTrail.Accounts[0].ID, c.HomeRegion, 0))
	withTrail.Accounts[0].Trails[0].Name, withTrail.Accounts[0].Trails[0].ARN = c.Trail.Name, c.TrailARN(withTrail.Accounts[0].ID)
	for _, tc := range []struct {
		name  string
		live  func() error
		drift bool
	}{
		{"same live state", func() error { return CheckDrift(c, reviewed, clone(t, taken)) }, false},
		{"a bucket policy appeared", func() error { return CheckDrift(c, reviewed, withPolicy) }, true},
		{"the trail appeared", func() error { return CheckDrift(c, reviewed, withTrail) }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.live()
			if got := errors.Is(err, ErrDrifted); got != tc.drift || (err != nil && !got) {
				t.Fatalf("CheckDrift = %v, want drift %v", err, tc.drift)
			}
		})
	}
}
