package plan

import (
	"slices"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// TestDesiredIsWhatBuildPuts: on a bucket with no settings of its own,
// Build puts exactly the settings Desired describes (the state iac renders),
// and creates a trail with Desired's settings in every trail owner.
func TestDesiredIsWhatBuildPuts(t *testing.T) {
	for _, name := range []string{"org.yaml", "accounts.yaml"} {
		for _, retention := range []int{0, 600} {
			c := loadConfig(t, name)
			c.BucketSettings.RetentionDays = retention
			d, err := Desired(c)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Build(c, freshWorld(c))
			if err != nil {
				t.Fatal(err)
			}
			do := map[Op][]Action{}
			for _, st := range p.Steps {
				for _, call := range st.Calls {
					do[call.Do.Op] = append(do[call.Do.Op], call.Do)
				}
			}
			one := func(op Op) Action {
				t.Helper()
				if len(do[op]) != 1 {
					t.Fatalf("%s: %d %s calls, want 1", name, len(do[op]), op)
				}
				return do[op][0]
			}
			if got := one(OpPutBucketEncryption).Encryption; jsonOf(t, got) != jsonOf(t, d.Encryption) {
				t.Errorf("%s: Build encrypts with %s, Desired says %s", name, jsonOf(t, got), jsonOf(t, d.Encryption))
			}
			if got := one(OpPutBucketOwnershipControls).ObjectOwnership; got != d.Bucket.ObjectOwnership || got != config.OwnershipBucketOwnerForced {
				t.Errorf("%s: ownership %q, Desired %q", name, got, d.Bucket.ObjectOwnership)
			}
			if retention == 0 {
				if len(do[OpPutBucketLifecycle]) != 0 || d.Lifecycle != nil {
					t.Errorf("%s: baseline with retention 0: lifecycle %v, Desired %v; want none", name, do[OpPutBucketLifecycle], d.Lifecycle)
				}
			} else if got := one(OpPutBucketLifecycle).Lifecycle; jsonOf(t, got) != jsonOf(t, d.Lifecycle) || *d.Lifecycle[0].NoncurrentExpirationDays != int32(retention) {
				t.Errorf("%s: Build's lifecycle %s, Desired %s", name, jsonOf(t, got), jsonOf(t, d.Lifecycle))
			}
			var logPolicy string
			for _, a := range do[OpPutBucketPolicy] {
				if a.Bucket == d.Bucket.AccessLogBucket {
					logPolicy = a.Document
				}
				if a.Bucket == c.Bucket {
					pr, err := generator.Prove(c, "bucket", nil)
					if err != nil {
						t.Fatal(err)
					}
					if a.Document != string(policy.Compact(pr.Doc)) {
						t.Errorf("%s: Build's bucket policy is not the proven one iac renders", name)
					}
				}
			}
			if logPolicy == "" || logPolicy != string(policy.Compact(d.AccessLogPolicy)) {
				t.Errorf("%s: access log bucket policy %s, Desired %s", name, logPolicy, policy.Compact(d.AccessLogPolicy))
			}
			var owners []string
			for _, a := range do[OpCreateTrail] {
				owners = append(owners, a.Account)
				if *a.Settings != d.Trail {
					t.Errorf("%s: trail in %s created with %+v, Desired %+v", name, a.Account, *a.Settings, d.Trail)
				}
			}
			if !slices.Equal(owners, d.TrailOwners) || len(owners) == 0 {
				t.Errorf("%s: trails created in %v, Desired owners %v", name, owners, d.TrailOwners)
			}
			for _, a := range do[OpPutEventSelectors] {
				if jsonOf(t, *a.Selectors) != jsonOf(t, d.Selectors) {
					t.Errorf("%s: selectors %s, Desired %s", name, jsonOf(t, *a.Selectors), jsonOf(t, d.Selectors))
				}
			}
		}
	}
}
