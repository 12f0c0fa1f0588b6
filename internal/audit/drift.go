package audit

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// checkDrift: every trail the config describes is deployed as described
// (bucket, key prefix, KMS key, organization flag), and no trail the config
// does not describe delivers to the central bucket. A difference is a
// finding of its own, with the deployed and the intended value side by
// side, whether or not the policies still let delivery work.
func checkDrift(e *env, _ *Rule) []Finding {
	var out []Finding
	described := map[string]bool{}
	for _, owner := range e.c.TrailOwners() {
		if owner == "" {
			continue
		}
		arn := e.c.TrailARN(owner)
		described[arn] = true
		t := e.findTrail(arn)
		if t == nil {
			cv := e.coverage(owner)
			if cv.unread != nil || cv.missing {
				out = append(out, unknown(owner, arn, cv.unread, "trail list of account "+owner))
				continue
			}
			ev := []string{"intended: trail " + arn + " delivering to s3://" + e.c.Bucket + "/" + e.c.LogRoot()}
			for _, o := range cv.trails {
				ev = append(ev, "deployed instead: "+o.ARN+" delivering to s3://"+o.S3BucketName+"/"+trailLogRoot(o))
			}
			for _, o := range cv.listed {
				ev = append(ev, "deployed instead: "+o.ARN+" delivering to s3://"+o.S3BucketName+"/"+trailLogRoot(o))
			}
			out = append(out, Finding{Status: Fail, Account: owner, Resource: arn, Evidence: ev,
				Message: "the config's trail " + e.c.Trail.Name + " does not exist in account " + owner, Remediation: e.createTrailFix(owner)})
			continue
		}
		out = append(out, e.driftFinding(owner, t))
	}
	for _, tr := range e.trails() {
		if described[tr.t.ARN] {
			continue
		}
		out = append(out, Finding{Status: Fail, Account: tr.owner, Resource: tr.t.ARN,
			Evidence: []string{fmt.Sprintf("deployed: trail %s delivers to s3://%s/%s (seen in %d accounts)", tr.t.ARN, tr.t.S3BucketName, trailLogRoot(tr.t), len(tr.accounts)),
				"intended: only " + strings.Join(e.describedTrails(), ", ") + " deliver to " + e.c.Bucket},
			Message: "trail " + tr.t.ARN + " delivers to the central bucket but the config does not describe it",
			Remediation: fmt.Sprintf("delete it if it is not needed (aws cloudtrail delete-trail --name %s --region %s), or describe it in trailwarden.yaml (trail.name, trail.organization, source_accounts) so its delivery is checked and granted",
				tr.t.ARN, tr.t.HomeRegion)})
	}
	return out
}

func (e *env) describedTrails() []string {
	var out []string
	for _, o := range e.c.TrailOwners() {
		if o != "" {
			out = append(out, e.c.TrailARN(o))
		}
	}
	return out
}

// driftFinding compares one deployed trail with the config.
func (e *env) driftFinding(owner string, t *snapshot.Trail) Finding {
	type diff struct{ field, deployed, intended, flag string }
	var diffs []diff
	if t.S3BucketName != e.c.Bucket {
		diffs = append(diffs, diff{"bucket", t.S3BucketName, e.c.Bucket, "--s3-bucket-name " + e.c.Bucket})
	}
	if strings.TrimSuffix(t.S3KeyPrefix, "/") != e.c.KeyPrefix {
		diffs = append(diffs, diff{"key prefix", orNone(t.S3KeyPrefix), orNone(e.c.KeyPrefix), "--s3-key-prefix " + orEmptyFlag(e.c.KeyPrefix)})
	}
	if !e.sameKey(t.KMSKeyID, e.c.KMSKeyARN) {
		flag := "--kms-key-id " + e.c.KMSKeyARN
		if e.c.KMSKeyARN == "" {
			flag = `--kms-key-id ""`
		}
		diffs = append(diffs, diff{"KMS key", orNone(t.KMSKeyID), orNone(e.c.KMSKeyARN), flag})
	}
	if t.IsOrganization != e.c.Trail.Organization {
		flag := "--is-organization-trail"
		if !e.c.Trail.Organization {
			flag = "--no-is-organization-trail"
		}
		diffs = append(diffs, diff{"organization trail", fmt.Sprint(t.IsOrganization), fmt.Sprint(e.c.Trail.Organization), flag})
	}
	if len(diffs) == 0 {
		return Finding{Status: Pass, Account: owner, Resource: t.ARN, Message: "the deployed trail matches the config",
			Evidence: []string{fmt.Sprintf("bucket %s, key prefix %s, KMS key %s, organization trail %t: as configured", t.S3BucketName, orNone(t.S3KeyPrefix), orNone(t.KMSKeyID), t.IsOrganization)}}
	}
	var ev, fields, flags []string
	for _, d := range diffs {
		ev = append(ev, fmt.Sprintf("%s: deployed %s, intended %s", d.field, d.deployed, d.intended))
		fields = append(fields, d.field)
		flags = append(flags, d.flag)
	}
	return Finding{Status: Fail, Account: owner, Resource: t.ARN, Evidence: ev,
		Message:     "the deployed trail differs from the config: " + strings.Join(fields, ", "),
		Remediation: updateTrail(t, strings.Join(flags, " ")) + "\n(or change trailwarden.yaml to what is deployed and regenerate the bucket and key policies)"}
}

// sameKey reports whether two key references name one key.
func (e *env) sameKey(a, b string) bool {
	if a == b {
		return true
	}
	if a == "" || b == "" {
		return false
	}
	ka, kb := e.s.KeyFor(a), e.s.KeyFor(b)
	return ka != nil && ka == kb
}
