package plan

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
	"github.com/trailwarden/trailwarden/internal/textdiff"
)

// settingSteps returns a step per bucket setting the config manages. They
// need the bucket: when the snapshot has no record of it, or it does not
// exist, the bucket policy step already says so and there is none.
func settingSteps(c *config.Config, s *snapshot.Snapshot, p *Plan, evals *access.Cache) ([]Step, error) {
	b := s.Bucket
	if b == nil || b.Name != c.Bucket || !b.Exists {
		return nil, nil
	}
	d := c.Desired()
	base := Step{Account: b.Account, Region: c.EffectiveBucketRegion(), Name: c.Bucket, Change: NoOp}
	if b.Region != "" {
		base.Region = b.Region
	}
	act := func(op Op) Action {
		return Action{Op: op, Account: base.Account, Region: base.Region, Bucket: c.Bucket}
	}
	var out []Step
	// read returns the step of kind, blocked when the snapshot could not
	// read the setting.
	read := func(kind Kind, what string, ops ...string) (Step, bool) {
		st := base
		st.Kind = kind
		if e := bucketReadFailed(s, c.Bucket, ops...); e != nil {
			st.Change = Update
			st.Predicted = append(st.Predicted, failedRead(what+" of "+c.Bucket, e))
			return st, false
		}
		return st, true
	}
	if d.Versioning {
		if st, ok := read(KindBucketVersioning, "versioning", "GetBucketVersioning"); !ok {
			out = append(out, st)
		} else {
			out = append(out, versioningStep(st, b, act, p))
		}
	}
	if d.PublicAccessBlock {
		if st, ok := read(KindPublicAccessBlock, "public access block", "GetPublicAccessBlock"); !ok {
			out = append(out, st)
		} else {
			out = append(out, publicAccessStep(st, b, act))
		}
	}
	if d.ObjectOwnership != "" {
		if st, ok := read(KindObjectOwnership, "Object Ownership", "GetBucketOwnershipControls"); !ok {
			out = append(out, st)
		} else {
			out = append(out, ownershipStep(st, s, b, d.ObjectOwnership, act))
		}
	}
	if d.Encryption != "" {
		if st, ok := read(KindBucketEncryption, "default encryption", "GetBucketEncryption"); !ok {
			out = append(out, st)
		} else {
			out = append(out, encryptionStep(st, b, d, act))
		}
	}
	if d.RetentionDays > 0 {
		if st, ok := read(KindBucketLifecycle, "lifecycle", "GetBucketLifecycleConfiguration", "GetBucketVersioning"); !ok {
			out = append(out, st)
		} else {
			out = append(out, lifecycleStep(st, c, b, d, act, p))
		}
	}
	if d.ObjectLockMode != "" {
		if st, ok := read(KindObjectLock, "Object Lock configuration", "GetObjectLockConfiguration", "GetBucketVersioning"); !ok {
			out = append(out, st)
		} else {
			st = objectLockStep(st, b, d, act)
			out = append(out, st)
			for i := range out {
				if st.Change != NoOp && out[i].Kind == KindBucketVersioning && len(out[i].Calls) > 0 {
					p.Notes = append(p.Notes, "versioning of s3://"+b.Name+" stays enabled after a rollback if Object Lock is turned on: S3 never suspends it then")
				}
			}
		}
	}
	if d.AccessLogBucket != "" {
		steps, err := loggingSteps(c, s, b, base.Region, d, evals)
		if err != nil {
			return nil, err
		}
		out = append(out, steps...)
	}
	p.Notes = append(p.Notes, manualNotes(b, d)...)
	return out, nil
}

func settingDiff(was, want string) string { return textdiff.Unified("live", "desired", was, want, 3) }

func versioningStep(st Step, b *snapshot.Bucket, act func(Op) Action, p *Plan) Step {
	if b.Versioning == "Enabled" {
		return st
	}
	was := b.Versioning
	if was == "" {
		was = "never enabled"
	}
	st.Change, st.Diff = Update, settingDiff("status: "+was+"\n", "status: Enabled\n")
	do, undo := act(OpPutBucketVersioning), act(OpPutBucketVersioning)
	do.Versioning, undo.Versioning = "Enabled", "Suspended"
	if b.Versioning == "" {
		p.Notes = append(p.Notes, "versioning of s3://"+b.Name+" was never enabled; S3 cannot return a bucket to that state, so a rollback suspends versioning instead (versions written meanwhile stay)")
	}
	st.Calls = []Call{{Do: do, Undo: []Action{undo}}}
	return st
}

func pabText(p *snapshot.PublicAccessBlock) string {
	if p == nil {
		return ""
	}
	return fmt.Sprintf("BlockPublicAcls: %t\nIgnorePublicAcls: %t\nBlockPublicPolicy: %t\nRestrictPublicBuckets: %t\n",
		p.BlockPublicACLs, p.IgnorePublicACLs, p.BlockPublicPolicy, p.RestrictPublicBuckets)
}

func publicAccessStep(st Step, b *snapshot.Bucket, act func(Op) Action) Step {
	want := &snapshot.PublicAccessBlock{BlockPublicACLs: true, IgnorePublicACLs: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	if b.PublicAccessBlock != nil && *b.PublicAccessBlock == *want {
		return st
	}
	st.Change, st.Diff = Update, settingDiff(pabText(b.PublicAccessBlock), pabText(want))
	do := act(OpPutPublicAccessBlock)
	do.PublicAccessBlock = want
	undo := act(OpDeletePublicAccessBlock)
	if b.PublicAccessBlock != nil {
		was := *b.PublicAccessBlock
		undo = act(OpPutPublicAccessBlock)
		undo.PublicAccessBlock = &was
	} else {
		st.Change = Create
	}
	st.Calls = []Call{{Do: do, Undo: []Action{undo}}}
	return st
}

// aclGrantsBeyondOwner returns the bucket ACL's grants to anyone but the
// bucket owner. The snapshot does not name the owner's canonical id: a
// single canonical user holding FULL_CONTROL is taken as the owner (the
// ACL every bucket starts with); any other grant means someone may
// still write or read through ACLs.
func aclGrantsBeyondOwner(grants []snapshot.Grant) []string {
	users := map[string]bool{}
	for _, g := range grants {
		if g.GranteeType == "CanonicalUser" {
			users[g.GranteeID] = true
		}
	}
	var out []string
	for _, g := range grants {
		if g.GranteeType == "CanonicalUser" && len(users) == 1 && g.Permission == "FULL_CONTROL" {
			continue
		}
		who := g.GranteeURI
		if who == "" {
			who = g.GranteeID
		}
		out = append(out, fmt.Sprintf("%s to %s %s", g.Permission, g.GranteeType, who))
	}
	return out
}

func ownershipStep(st Step, s *snapshot.Snapshot, b *snapshot.Bucket, want string, act func(Op) Action) Step {
	if b.ObjectOwnership == want {
		return st
	}
	was := b.ObjectOwnership
	if was == "" {
		was = "(no ownership controls: ObjectWriter)"
	}
	st.Change, st.Diff = Update, settingDiff("ObjectOwnership: "+was+"\n", "ObjectOwnership: "+want+"\n")
	do := act(OpPutBucketOwnershipControls)
	do.ObjectOwnership = want
	undo := act(OpDeleteBucketOwnershipControls)
	if b.ObjectOwnership != "" {
		undo = act(OpPutBucketOwnershipControls)
		undo.ObjectOwnership = b.ObjectOwnership
	} else {
		st.Change = Create
	}
	st.Calls = []Call{{Do: do, Undo: []Action{undo}}}
	if e := bucketReadFailed(s, b.Name, "GetBucketAcl"); e != nil {
		st.Predicted = append(st.Predicted, failedRead("ACL of "+b.Name+" (needed to know whether a writer still depends on ACLs)", e))
	} else if grants := aclGrantsBeyondOwner(b.ACLGrants); len(grants) > 0 {
		st.Predicted = append(st.Predicted, Prediction{Code: "InvalidBucketAclWithObjectOwnership",
			Message: "the bucket ACL still grants " + strings.Join(grants, ", ") + "; S3 refuses BucketOwnerEnforced while ACL grants exist, and whoever relies on them would lose access",
			Fix:     "move those grants into the bucket policy, then reset the ACL (aws s3api put-bucket-acl --bucket " + b.Name + " --acl private) and plan again"})
	}
	return st
}

// desiredEncryption is the default-encryption configuration d asks for.
func desiredEncryption(d config.DesiredBucket) []snapshot.EncryptionRule {
	if d.Encryption == config.EncryptionSSEKMS {
		return []snapshot.EncryptionRule{{SSEAlgorithm: "aws:kms", KMSMasterKeyID: d.KMSKeyARN, BucketKeyEnabled: true}}
	}
	return []snapshot.EncryptionRule{{SSEAlgorithm: "AES256"}}
}

func encryptionText(rules []snapshot.EncryptionRule) string {
	var b strings.Builder
	for _, r := range rules {
		fmt.Fprintf(&b, "SSEAlgorithm: %s\n", r.SSEAlgorithm)
		if r.KMSMasterKeyID != "" {
			fmt.Fprintf(&b, "KMSMasterKeyID: %s\n", r.KMSMasterKeyID)
		}
		fmt.Fprintf(&b, "BucketKeyEnabled: %t\n", r.BucketKeyEnabled)
	}
	return b.String()
}

func sameEncryption(live, want []snapshot.EncryptionRule) bool {
	if len(live) != 1 || len(want) != 1 {
		return false
	}
	l, w := live[0], want[0]
	if l.SSEAlgorithm != w.SSEAlgorithm || l.BucketKeyEnabled != w.BucketKeyEnabled {
		return false
	}
	// S3 keeps the key as given: an ARN or the bare key id.
	return l.KMSMasterKeyID == w.KMSMasterKeyID || (w.KMSMasterKeyID != "" && strings.HasSuffix(w.KMSMasterKeyID, ":key/"+l.KMSMasterKeyID))
}

func encryptionStep(st Step, b *snapshot.Bucket, d config.DesiredBucket, act func(Op) Action) Step {
	want := desiredEncryption(d)
	if sameEncryption(b.Encryption, want) {
		return st
	}
	st.Change, st.Diff = Update, settingDiff(encryptionText(b.Encryption), encryptionText(want))
	do := act(OpPutBucketEncryption)
	do.Encryption = want
	undo := act(OpDeleteBucketEncryption)
	if len(b.Encryption) > 0 {
		undo = act(OpPutBucketEncryption)
		undo.Encryption = append([]snapshot.EncryptionRule(nil), b.Encryption...)
	} else {
		st.Change = Create
	}
	st.Calls = []Call{{Do: do, Undo: []Action{undo}}}
	return st
}

// manualNotes are the settings the API cannot make for trailwarden, and
// the irreversible one the config does not ask for.
func manualNotes(b *snapshot.Bucket, d config.DesiredBucket) []string {
	var out []string
	if b.MFADelete != "Enabled" {
		out = append(out, "manual step: MFA delete of s3://"+b.Name+" is off; only the bucket owner's root user with its MFA device can turn it on "+
			"(aws s3api put-bucket-versioning --bucket "+b.Name+" --versioning-configuration Status=Enabled,MFADelete=Enabled --mfa \"SERIAL CODE\"), so apply cannot")
	}
	if d.ObjectLockMode == "" && (b.ObjectLock == nil || b.ObjectLock.Mode != config.ObjectLockCompliance) {
		out = append(out, "not managed: Object Lock in compliance mode is not set on s3://"+b.Name+"; it can never be undone or shortened, "+
			"not even by the root user, so trailwarden sets it only when bucket_settings.object_lock asks for it, and apply then asks separately")
	}
	return out
}

// objectLockStep sets the bucket's default Object Lock retention. Turning
// Object Lock on cannot be undone, and a COMPLIANCE retention locks every
// version written meanwhile: the step is irreversible. Only a change of
// an existing GOVERNANCE retention has an inverse.
func objectLockStep(st Step, b *snapshot.Bucket, d config.DesiredBucket, act func(Op) Action) Step {
	want := &snapshot.ObjectLock{Enabled: true, Mode: d.ObjectLockMode, Days: d.ObjectLockDays, Years: d.ObjectLockYears}
	if b.ObjectLock != nil && *b.ObjectLock == *want {
		return st
	}
	lockText := func(l *snapshot.ObjectLock) string {
		if l == nil || !l.Enabled {
			return "ObjectLockEnabled: false\n"
		}
		t := "ObjectLockEnabled: true\n"
		if l.Mode != "" {
			t += fmt.Sprintf("DefaultRetention: %s days=%d years=%d\n", l.Mode, l.Days, l.Years)
		}
		return t
	}
	st.Change, st.Diff = Update, settingDiff(lockText(b.ObjectLock), lockText(want))
	do := act(OpPutObjectLockConfiguration)
	do.ObjectLock = want
	call := Call{Do: do}
	period := fmt.Sprintf("%d days", d.ObjectLockDays)
	if d.ObjectLockYears > 0 {
		period = fmt.Sprintf("%d years", d.ObjectLockYears)
	}
	switch {
	case b.ObjectLock == nil || !b.ObjectLock.Enabled:
		st.Change = Create
		st.Irreversible = "Object Lock can never be turned off on s3://" + b.Name + " once on, and versioning can never be suspended again"
		if d.ObjectLockMode == config.ObjectLockCompliance {
			st.Irreversible += "; in COMPLIANCE mode no one, the root user included, can delete or overwrite a log version written from now on until its " + period + " have passed"
		}
	case d.ObjectLockMode == config.ObjectLockCompliance:
		st.Irreversible = "in COMPLIANCE mode no one, the root user included, can delete or overwrite a log version of s3://" + b.Name + " written from now on until its " + period + " have passed"
	default:
		undo := act(OpPutObjectLockConfiguration)
		was := *b.ObjectLock
		undo.ObjectLock = &was
		call.Undo = []Action{undo}
	}
	if st.Irreversible != "" && b.ObjectLock != nil && b.ObjectLock.Enabled {
		// The previous retention is still put back; the locked versions stay.
		undo := act(OpPutObjectLockConfiguration)
		was := *b.ObjectLock
		undo.ObjectLock = &was
		call.Undo = []Action{undo}
	}
	st.Calls = []Call{call}
	if b.Versioning != "Enabled" && !d.Versioning {
		st.Predicted = append(st.Predicted, Prediction{Code: "InvalidBucketState", Message: "versioning of s3://" + b.Name + " is not enabled; S3 applies Object Lock only to a versioned bucket",
			Fix: "enable versioning (bucket_settings.versioning: enabled) and plan again"})
	}
	return st
}
