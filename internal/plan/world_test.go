package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// world is an in-memory executor: it applies each action to a snapshot the
// way AWS would change the resource, so that a plan can be re-built from
// the result and a rollback compared with the start.
type world struct {
	s     *snapshot.Snapshot
	calls []Action
	// failOn makes the n-th call (1-based) of this op fail.
	failOp Op
	failN  int
	seen   map[Op]int
	// failAccount limits failOp to one account ("" for any).
	failAccount string
	mu          sync.Mutex
}

var errInjected = errors.New("AccessDenied: injected")

func (w *world) Do(_ context.Context, a Action) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, a)
	if w.seen == nil {
		w.seen = map[Op]int{}
	}
	if w.failAccount == "" || w.failAccount == a.Account {
		w.seen[a.Op]++
		if a.Op == w.failOp && w.seen[a.Op] == max(w.failN, 1) {
			return errInjected
		}
	}
	s := w.s
	switch a.Op {
	case OpPutBucketPolicy, OpDeleteBucketPolicy:
		b := s.Bucket
		if t := s.AccessLogTarget; t != nil && a.Bucket == t.Name {
			b = t
		}
		if !b.Exists {
			return errors.New("NoSuchBucket")
		}
		b.Policy = a.Document
	case OpCreateBucket:
		if s.AccessLogTarget.Exists {
			return errors.New("BucketAlreadyOwnedByYou")
		}
		s.AccessLogTarget.Exists, s.AccessLogTarget.ObjectOwnership = true, a.ObjectOwnership
	case OpDeleteBucket:
		*s.AccessLogTarget = snapshot.Bucket{Name: s.AccessLogTarget.Name, Account: s.AccessLogTarget.Account, Region: s.AccessLogTarget.Region}
	case OpPutBucketLogging:
		s.Bucket.Logging = nil
		if a.Logging != nil {
			l := *a.Logging
			s.Bucket.Logging = &l
		}
	case OpPutKeyPolicy:
		s.KeyFor(a.KeyARN).Policy = a.Document
	case OpCreateRole, OpUpdateAssumeRolePolicy, OpPutRolePolicy, OpDeleteRolePolicy, OpDeleteRole:
		return w.role(a)
	case OpPutBucketVersioning:
		if a.Versioning == "Suspended" && s.Bucket.ObjectLock != nil && s.Bucket.ObjectLock.Enabled {
			return errors.New("InvalidBucketState: Object Lock")
		}
		s.Bucket.Versioning = a.Versioning
	case OpPutPublicAccessBlock:
		pab := *a.PublicAccessBlock
		s.Bucket.PublicAccessBlock = &pab
	case OpDeletePublicAccessBlock:
		s.Bucket.PublicAccessBlock = nil
	case OpPutBucketOwnershipControls:
		s.Bucket.ObjectOwnership = a.ObjectOwnership
	case OpDeleteBucketOwnershipControls:
		s.Bucket.ObjectOwnership = ""
	case OpPutBucketEncryption:
		s.Bucket.Encryption = append([]snapshot.EncryptionRule(nil), a.Encryption...)
	case OpDeleteBucketEncryption:
		s.Bucket.Encryption = nil
	case OpPutBucketLifecycle:
		s.Bucket.Lifecycle = nil
		for _, r := range a.Lifecycle {
			s.Bucket.Lifecycle = append(s.Bucket.Lifecycle, cloneRule(r))
		}
	case OpDeleteBucketLifecycle:
		s.Bucket.Lifecycle = nil
	case OpPutObjectLockConfiguration:
		if s.Bucket.Versioning != "Enabled" {
			return errors.New("InvalidBucketState: versioning")
		}
		l := *a.ObjectLock
		s.Bucket.ObjectLock = &l
	default:
		return w.trail(a)
	}
	return nil
}

func (w *world) role(a Action) error {
	var r *snapshot.Role
	for i := range w.s.Readers {
		if w.s.Readers[i].Name == a.Role && w.s.Readers[i].Account == a.Account {
			r = &w.s.Readers[i]
		}
	}
	if r == nil {
		return fmt.Errorf("NoSuchEntity: role %s", a.Role)
	}
	switch a.Op {
	case OpCreateRole:
		if r.Exists {
			return errors.New("EntityAlreadyExists")
		}
		r.Exists, r.TrustPolicy = true, a.Document
	case OpUpdateAssumeRolePolicy:
		r.TrustPolicy = a.Document
	case OpPutRolePolicy:
		for i := range r.Inline {
			if r.Inline[i].Name == a.PolicyName {
				r.Inline[i].Document = a.Document
				return nil
			}
		}
		r.Inline = append(r.Inline, snapshot.NamedPolicy{Name: a.PolicyName, Document: a.Document})
	case OpDeleteRolePolicy:
		for i := range r.Inline {
			if r.Inline[i].Name == a.PolicyName {
				r.Inline = append(r.Inline[:i], r.Inline[i+1:]...)
				if len(r.Inline) == 0 {
					r.Inline = nil
				}
				return nil
			}
		}
		return errors.New("NoSuchEntity: policy")
	case OpDeleteRole:
		if len(r.Inline) > 0 {
			return errors.New("DeleteConflict: role has inline policies")
		}
		r.Exists, r.TrustPolicy = false, ""
	}
	return nil
}

func (w *world) trail(a Action) error {
	var acct *snapshot.Account
	for i := range w.s.Accounts {
		if w.s.Accounts[i].ID == a.Account {
			acct = &w.s.Accounts[i]
		}
	}
	if acct == nil {
		return fmt.Errorf("no account %s", a.Account)
	}
	arn := fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/%s", a.Region, a.Account, a.Trail)
	idx := -1
	for i, t := range acct.Trails {
		if t.ARN == arn {
			idx = i
		}
	}
	if a.Op == OpCreateTrail {
		if idx >= 0 {
			return errors.New("TrailAlreadyExistsException")
		}
		acct.Trails = append(acct.Trails, snapshot.Trail{ARN: arn, HomeRegion: a.Region, Status: &snapshot.TrailStatus{}})
		idx = len(acct.Trails) - 1
	}
	if idx < 0 {
		return errors.New("TrailNotFoundException")
	}
	t := &acct.Trails[idx]
	switch a.Op {
	case OpCreateTrail, OpUpdateTrail:
		st := a.Settings
		t.Name, t.S3BucketName, t.S3KeyPrefix, t.KMSKeyID = st.Name, st.S3BucketName, st.S3KeyPrefix, st.KMSKeyID
		t.IsMultiRegion, t.IncludeGlobalServiceEvents = st.IsMultiRegion, st.IncludeGlobalServiceEvents
		t.LogFileValidationEnabled, t.IsOrganization = st.LogFileValidationEnabled, st.IsOrganization
		if w := st.CloudWatchLogs; w != nil {
			t.CloudWatchLogsLogGroupARN, t.CloudWatchLogsRoleARN = w.LogGroupARN, w.RoleARN
		}
	case OpPutEventSelectors:
		t.EventSelectors, t.AdvancedEventSelectors = a.Selectors.Basic, a.Selectors.Advanced
	case OpStartLogging:
		t.Status.IsLogging = true
	case OpStopLogging:
		t.Status.IsLogging = false
	case OpDeleteTrail:
		acct.Trails = append(acct.Trails[:idx], acct.Trails[idx+1:]...)
		if len(acct.Trails) == 0 {
			acct.Trails = nil
		}
	default:
		return fmt.Errorf("unknown op %s", a.Op)
	}
	return nil
}

func loadConfig(t *testing.T, name string) *config.Config {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// keyAdminPolicy is the default policy of a new KMS key.
const keyAdminPolicy = `{"Version":"2012-10-17","Id":"key-default-1","Statement":[{"Sid":"Enable IAM User Permissions","Effect":"Allow",` +
	`"Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"kms:*","Resource":"*"}]}`

// freshWorld is the live state before trailwarden: the bucket and key
// exist (the key with its default policy), nothing else does.
func freshWorld(c *config.Config) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Version: snapshot.SchemaVersion, TakenAt: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Partition: "aws"}
	if c.OrganizationID != "" {
		s.Organization = &snapshot.Organization{ID: c.OrganizationID, ManagementAccount: c.ManagementAccount, FeatureSet: "ALL", CloudTrailTrustedAccess: true}
	}
	for _, a := range append(c.TrailOwners(), c.LogArchiveAccount) {
		dup := false
		for _, x := range s.Accounts {
			dup = dup || x.ID == a
		}
		if !dup {
			s.Accounts = append(s.Accounts, snapshot.Account{ID: a, Regions: []string{c.HomeRegion}})
		}
	}
	// Versioning is on, as on most log buckets: S3 cannot turn it back off,
	// so the rollback tests compare with a state it can return to.
	s.Bucket = &snapshot.Bucket{Name: c.Bucket, Account: c.LogArchiveAccount, Region: c.EffectiveBucketRegion(), Exists: true, Versioning: "Enabled"}
	s.AccessLogTarget = &snapshot.Bucket{Name: c.AccessLogTarget(), Account: c.LogArchiveAccount, Region: c.EffectiveBucketRegion()}
	if c.KMSKeyARN != "" {
		s.Keys = []snapshot.Key{{ARN: c.KMSKeyARN, Account: arnPart(c.KMSKeyARN, 4), Region: arnPart(c.KMSKeyARN, 3), Policy: keyAdminPolicy, State: "Enabled"}}
	}
	s.Readers = []snapshot.Role{{ARN: c.ReaderRoleARN(), Name: c.Readers.RoleName, Account: c.LogArchiveAccount}}
	return s
}

func clone(t *testing.T, s *snapshot.Snapshot) *snapshot.Snapshot {
	t.Helper()
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out snapshot.Snapshot
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return &out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	data, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func snapshotTrail(account, region string, i int) snapshot.Trail {
	return snapshot.Trail{ARN: fmt.Sprintf("arn:aws:cloudtrail:%s:%s:trail/other-%d", region, account, i), Name: fmt.Sprintf("other-%d", i), HomeRegion: region}
}
