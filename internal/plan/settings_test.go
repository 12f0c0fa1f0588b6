package plan

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func i32(v int32) *int32 { return &v }

func stepOf(p *Plan, k Kind) *Step {
	for i := range p.Steps {
		if p.Steps[i].Kind == k {
			return &p.Steps[i]
		}
	}
	return nil
}

// brokenBucket is the central bucket as the issue found it: versioning
// suspended, BucketOwnerPreferred, SSE-S3, no public access block, and
// a rule deleting noncurrent versions after 30 days.
func brokenBucket(b *snapshot.Bucket) {
	b.Versioning, b.ObjectOwnership = "Suspended", "BucketOwnerPreferred"
	b.Encryption = []snapshot.EncryptionRule{{SSEAlgorithm: "AES256"}}
	b.Lifecycle = []snapshot.LifecycleRule{{ID: "cleanup", Status: "Enabled", NoncurrentExpirationDays: i32(30)}}
	b.ACLGrants = []snapshot.Grant{{GranteeType: "CanonicalUser", GranteeID: "owner", Permission: "FULL_CONTROL"}}
}

func TestSettingStepsAndInverses(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	c.Profile = config.ProfileAccelerate
	s := freshWorld(c)
	brokenBucket(s.Bucket)
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		kind   Kind
		change Change
		do     func(Action) bool
		undo   func(Action) bool
	}{
		{KindBucketVersioning, Update, func(a Action) bool { return a.Versioning == "Enabled" }, func(a Action) bool { return a.Versioning == "Suspended" }},
		{KindPublicAccessBlock, Create, func(a Action) bool { return a.PublicAccessBlock != nil && a.PublicAccessBlock.RestrictPublicBuckets },
			func(a Action) bool { return a.Op == OpDeletePublicAccessBlock }},
		{KindObjectOwnership, Update, func(a Action) bool { return a.ObjectOwnership == "BucketOwnerEnforced" },
			func(a Action) bool {
				return a.Op == OpPutBucketOwnershipControls && a.ObjectOwnership == "BucketOwnerPreferred"
			}},
		{KindBucketEncryption, Update, func(a Action) bool {
			return len(a.Encryption) == 1 && a.Encryption[0].SSEAlgorithm == "aws:kms" && a.Encryption[0].KMSMasterKeyID == c.KMSKeyARN && a.Encryption[0].BucketKeyEnabled
		}, func(a Action) bool { return len(a.Encryption) == 1 && a.Encryption[0].SSEAlgorithm == "AES256" }},
		{KindBucketLifecycle, Update, func(a Action) bool { return len(a.Lifecycle) == 2 && a.Lifecycle[1].ID == LifecycleRuleID },
			func(a Action) bool { return len(a.Lifecycle) == 1 && *a.Lifecycle[0].NoncurrentExpirationDays == 30 }},
	}
	for _, tt := range tests {
		st := stepOf(p, tt.kind)
		if st == nil {
			t.Errorf("no %s step", tt.kind)
			continue
		}
		if st.Change != tt.change || len(st.Calls) != 1 || len(st.Predicted) != 0 {
			t.Errorf("%s: change %s, %d calls, predicted %+v", st.Title(), st.Change, len(st.Calls), st.Predicted)
			continue
		}
		if !tt.do(st.Calls[0].Do) || len(st.Calls[0].Undo) != 1 || !tt.undo(st.Calls[0].Undo[0]) {
			t.Errorf("%s: do %+v undo %+v", st.Title(), st.Calls[0].Do, st.Calls[0].Undo)
		}
	}

	// Applied to the in-memory world, the plan leaves nothing to do, and
	// a rollback restores the broken bucket exactly.
	w := &world{s: clone(t, s)}
	opt := Options{Backups: Backups{Dir: t.TempDir()}, Now: func() time.Time { return time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC) }}
	res, err := Apply(context.Background(), p, w, opt)
	if err != nil || !res.OK() {
		t.Fatalf("apply: %v %+v", err, res)
	}
	again, err := Build(c, w.s)
	if err != nil {
		t.Fatal(err)
	}
	if again.Changes() {
		t.Errorf("second plan changes: %s", kinds(again))
	}
	if _, err := Rollback(context.Background(), res.BackupID, w, opt); err != nil {
		t.Fatal(err)
	}
	if got, want := jsonOf(t, w.s), jsonOf(t, s); got != want {
		t.Errorf("not restored:\n%s\nwant\n%s", got, want)
	}
}

func TestVersioningNeverEnabled(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	s := freshWorld(c)
	s.Bucket.Versioning = ""
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	st := stepOf(p, KindBucketVersioning)
	if st == nil || st.Change != Update || st.Calls[0].Undo[0].Versioning != "Suspended" {
		t.Fatalf("versioning step %+v", st)
	}
	if !strings.Contains(strings.Join(p.Notes, "\n"), "rollback suspends versioning") {
		t.Errorf("the plan does not say a rollback only suspends versioning: %q", p.Notes)
	}
}

func TestSettingPredictions(t *testing.T) {
	tests := []struct {
		name   string
		change func(*config.Config, *snapshot.Snapshot)
		kind   Kind
		code   string
	}{
		{"ACL grant to the log delivery group", func(_ *config.Config, s *snapshot.Snapshot) {
			s.Bucket.ACLGrants = []snapshot.Grant{{GranteeType: "CanonicalUser", GranteeID: "owner", Permission: "FULL_CONTROL"},
				{GranteeType: "Group", GranteeURI: "http://acs.amazonaws.com/groups/s3/LogDelivery", Permission: "WRITE"}}
		}, KindObjectOwnership, "InvalidBucketAclWithObjectOwnership"},
		{"ACL grant to another account", func(_ *config.Config, s *snapshot.Snapshot) {
			s.Bucket.ACLGrants = []snapshot.Grant{{GranteeType: "CanonicalUser", GranteeID: "owner", Permission: "FULL_CONTROL"},
				{GranteeType: "CanonicalUser", GranteeID: "other", Permission: "READ"}}
		}, KindObjectOwnership, "InvalidBucketAclWithObjectOwnership"},
		{"ACL not read", func(c *config.Config, s *snapshot.Snapshot) {
			s.Errors = append(s.Errors, snapshot.CallError{Service: "s3", Operation: "GetBucketAcl", Resource: c.Bucket, Code: "AccessDenied"})
		}, KindObjectOwnership, LiveStateUnknown},
		{"encryption not read", func(c *config.Config, s *snapshot.Snapshot) {
			s.Errors = append(s.Errors, snapshot.CallError{Service: "s3", Operation: "GetBucketEncryption", Resource: c.Bucket, Code: "AccessDenied"})
		}, KindBucketEncryption, LiveStateUnknown},
		{"versioning not read", func(c *config.Config, s *snapshot.Snapshot) {
			s.Errors = append(s.Errors, snapshot.CallError{Service: "s3", Operation: "GetBucketVersioning", Resource: c.Bucket, Code: "AccessDenied"})
		}, KindBucketVersioning, LiveStateUnknown},
		{"public access block not read", func(c *config.Config, s *snapshot.Snapshot) {
			s.Errors = append(s.Errors, snapshot.CallError{Service: "s3", Operation: "GetPublicAccessBlock", Resource: c.Bucket, Code: "AccessDenied"})
		}, KindPublicAccessBlock, LiveStateUnknown},
		{"lifecycle not read", func(c *config.Config, s *snapshot.Snapshot) {
			c.Profile = config.ProfileAccelerate
			s.Errors = append(s.Errors, snapshot.CallError{Service: "s3", Operation: "GetBucketLifecycleConfiguration", Resource: c.Bucket, Code: "AccessDenied"})
		}, KindBucketLifecycle, LiveStateUnknown},
		{"a rule expires logs sooner", func(c *config.Config, s *snapshot.Snapshot) {
			c.Profile = config.ProfileAccelerate
			s.Bucket.Lifecycle = []snapshot.LifecycleRule{{ID: "short", Status: "Enabled", Prefix: "org/", ExpirationDays: i32(90)}}
		}, KindBucketLifecycle, "LifecycleRuleOverrides"},
		{"a rule has transitions", func(c *config.Config, s *snapshot.Snapshot) {
			c.Profile = config.ProfileAccelerate
			s.Bucket.Lifecycle = []snapshot.LifecycleRule{{ID: "glacier", Status: "Enabled", TransitionDays: []int32{90}}}
		}, KindBucketLifecycle, LiveStateUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadConfig(t, "org.yaml")
			s := freshWorld(c)
			tt.change(c, s)
			p, err := Build(c, s)
			if err != nil {
				t.Fatal(err)
			}
			st := stepOf(p, tt.kind)
			if st == nil || len(st.Predicted) != 1 || st.Predicted[0].Code != tt.code || st.Predicted[0].Fix == "" {
				t.Fatalf("step %s: %+v", tt.kind, st)
			}
			// The step is skipped by apply; the others are not blocked.
			if b := p.Blocked(); len(b) != 1 {
				t.Errorf("%d steps blocked, want 1", len(b))
			}
		})
	}
}

func TestSettingsUnmanaged(t *testing.T) {
	c := loadConfig(t, "org.yaml")
	c.BucketSettings = config.BucketSettings{Versioning: "unmanaged", PublicAccessBlock: "unmanaged", ObjectOwnership: "unmanaged", Encryption: "unmanaged", RetentionDays: -1,
		AccessLogging: "unmanaged"}
	c.Profile = config.ProfileAccelerate
	p, err := Build(c, freshWorld(c))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range p.Steps {
		switch st.Kind {
		case KindBucketPolicy, KindKeyPolicy, KindReaderRole, KindTrail:
		default:
			t.Errorf("unmanaged setting planned: %s", st.Title())
		}
	}
}

func TestEncryptionSSES3(t *testing.T) {
	c := loadConfig(t, "accounts.yaml") // no kms_key_arn
	s := freshWorld(c)
	s.Bucket.Encryption = []snapshot.EncryptionRule{{SSEAlgorithm: "AES256"}}
	p, err := Build(c, s)
	if err != nil {
		t.Fatal(err)
	}
	if st := stepOf(p, KindBucketEncryption); st == nil || st.Change != NoOp {
		t.Errorf("SSE-S3 bucket without a key: %+v", st)
	}
}

func TestMergeLifecycle(t *testing.T) {
	const root = "org/AWSLogs/"
	tests := []struct {
		name       string
		rules      []snapshot.LifecycleRule
		versioned  bool
		want       string // lifecycleText of the result
		raised     int
		overriding int
	}{
		{"no rules: current versions stay kept indefinitely", nil, true,
			"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  noncurrent expiration days: 548\n", 0, 0},
		{"unversioned: nothing expires", nil, false,
			"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  abort incomplete uploads after days: 7\n", 0, 0},
		{"a longer user retention is kept and not shortened",
			[]snapshot.LifecycleRule{{ID: "keep-3y", Status: "Enabled", Prefix: "", ExpirationDays: i32(1095)}}, true,
			"rule keep-3y (Enabled) prefix \"\"\n  expiration days: 1095\n" +
				"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  expiration days: 1095\n  noncurrent expiration days: 1095\n", 0, 0},
		{"short noncurrent expiry is raised, other settings kept",
			[]snapshot.LifecycleRule{{ID: "cleanup", Status: "Enabled", NoncurrentExpirationDays: i32(30), AbortIncompleteUploadDays: i32(7)}}, true,
			"rule cleanup (Enabled) prefix \"\"\n  noncurrent expiration days: 548\n  abort incomplete uploads after days: 7\n" +
				"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  noncurrent expiration days: 548\n", 1, 0},
		{"rules elsewhere, disabled or keeping newer versions are untouched",
			[]snapshot.LifecycleRule{
				{ID: "tmp", Status: "Enabled", Prefix: "tmp/", ExpirationDays: i32(1)},
				{ID: "off", Status: "Disabled", ExpirationDays: i32(1)},
				{ID: "newer", Status: "Enabled", NoncurrentExpirationDays: i32(1), NewerNoncurrentVersions: i32(3)},
			}, true,
			"rule tmp (Enabled) prefix \"tmp/\"\n  expiration days: 1\nrule off (Disabled) prefix \"\"\n  expiration days: 1\n" +
				"rule newer (Enabled) prefix \"\"\n  noncurrent expiration days: 1\n  newer noncurrent versions kept: 3\n" +
				"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  noncurrent expiration days: 548\n", 0, 0},
		{"a user expiry at the period is matched",
			[]snapshot.LifecycleRule{{ID: "exactly", Status: "Enabled", Prefix: "org/", ExpirationDays: i32(548)}}, true,
			"rule exactly (Enabled) prefix \"org/\"\n  expiration days: 548\n" +
				"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  expiration days: 548\n  noncurrent expiration days: 548\n", 0, 0},
		{"an earlier trailwarden rule is replaced",
			[]snapshot.LifecycleRule{{ID: "TrailwardenOld", Status: "Enabled", Prefix: root, ExpirationDays: i32(400)}}, true,
			"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  noncurrent expiration days: 548\n", 0, 0},
		{"a shorter current expiry on the logs overrides",
			[]snapshot.LifecycleRule{{ID: "short", Status: "Enabled", Prefix: "org/", ExpirationDays: i32(365)},
				{ID: "tagged", Status: "Enabled", Tags: map[string]string{"a": "b"}, ExpirationDays: i32(10)}}, true,
			"rule short (Enabled) prefix \"org/\"\n  expiration days: 365\nrule tagged (Enabled) prefix \"\" tag a=b\n  expiration days: 10\n" +
				"rule TrailwardenLogRetention (Enabled) prefix \"org/AWSLogs/\"\n  noncurrent expiration days: 548\n", 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := lifecycleText(tt.rules)
			got, raised, overriding := MergeLifecycle(tt.rules, root, 548, tt.versioned)
			if lifecycleText(got) != tt.want {
				t.Errorf("merged\n%s\nwant\n%s", lifecycleText(got), tt.want)
			}
			if len(raised) != tt.raised || len(overriding) != tt.overriding {
				t.Errorf("raised %q, overriding %q", raised, overriding)
			}
			if lifecycleText(tt.rules) != before {
				t.Error("MergeLifecycle changed its input")
			}
			// Merging the result again changes nothing.
			again, _, _ := MergeLifecycle(got, root, 548, tt.versioned)
			if lifecycleText(again) != lifecycleText(got) {
				t.Errorf("not idempotent:\n%s", lifecycleText(again))
			}
		})
	}
}

func TestAccessLogging(t *testing.T) {
	const target = "acme-org-cloudtrail-access-logs"
	denyLogs := `{"Version":"2012-10-17","Statement":[{"Sid":"NoService","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::` + target + `/*"}]}`
	keep := `{"Version":"2012-10-17","Statement":[{"Sid":"Keep","Effect":"Deny","Principal":"*","Action":"s3:DeleteBucket","Resource":"arn:aws:s3:::` + target + `"}]}`
	tests := []struct {
		name       string
		target     *snapshot.Bucket
		change     Change
		ops        string
		code       string // prediction on the target step
		loggingDep bool
	}{
		{"created when missing", &snapshot.Bucket{Name: target, Account: "222222222222", Region: "us-east-1"}, Create, "CreateBucket,PutBucketPolicy", "", false},
		{"existing policy completed", &snapshot.Bucket{Name: target, Account: "222222222222", Region: "us-east-1", Exists: true, Policy: keep}, Update, "PutBucketPolicy", "", false},
		{"another region", &snapshot.Bucket{Name: target, Account: "222222222222", Region: "eu-west-1", Exists: true}, Update, "PutBucketPolicy", "CrossLocationLoggingProhibitted", true},
		{"a Deny stops the logging service", &snapshot.Bucket{Name: target, Account: "222222222222", Region: "us-east-1", Exists: true, Policy: denyLogs}, Update, "PutBucketPolicy", "InvalidTargetBucketForLogging", true},
		{"not in the snapshot", nil, Update, "", LiveStateUnknown, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := loadConfig(t, "org.yaml")
			s := freshWorld(c)
			s.AccessLogTarget = tt.target
			p, err := Build(c, s)
			if err != nil {
				t.Fatal(err)
			}
			st, lg := stepOf(p, KindAccessLogTarget), stepOf(p, KindBucketLogging)
			if st == nil || lg == nil {
				t.Fatal("no access logging steps")
			}
			if st.Change != tt.change || ops(st.Calls) != tt.ops {
				t.Errorf("target step %s %s", st.Change, ops(st.Calls))
			}
			var codes []string
			for _, pr := range st.Predicted {
				codes = append(codes, pr.Code)
			}
			if got := strings.Join(codes, ","); got != tt.code {
				t.Errorf("target predicted %q, want %q", got, tt.code)
			}
			if blocked := len(lg.Predicted) > 0; blocked != tt.loggingDep {
				t.Errorf("logging step blocked %v: %+v", blocked, lg.Predicted)
			}
			if lg.Calls[0].Do.Logging == nil || lg.Calls[0].Do.Logging.TargetBucket != target || lg.Calls[0].Undo[0].Logging != nil {
				t.Errorf("logging calls %+v", lg.Calls)
			}
			if tt.name == "existing policy completed" && !strings.Contains(st.Calls[0].Do.Document, `"Sid":"Keep"`) {
				t.Errorf("the target's own statements were not kept: %s", st.Calls[0].Do.Document)
			}
		})
	}
}
