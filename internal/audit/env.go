package audit

import (
	"fmt"
	"sort"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// env is what every check reads: the config, the snapshot and the parsed
// policies, parsed once, with the evaluators compiled once per policy set.
type env struct {
	c       *config.Config
	s       *snapshot.Snapshot
	profile string

	bucketDoc *policy.Document
	bucketErr error
	// keyDocs are the parsed key policies by key ARN.
	keyDocs map[string]parsedDoc
	// accounts indexes the snapshot's accounts by id.
	accounts map[string]*snapshot.Account

	// Caches of the evaluation (see evaluate.go).
	evals     *access.Cache
	generated map[string]generated
	orgDocs   map[string]parsedDoc
	levels    map[string]orgPath
	keys      []logKey
	keysOK    bool
	trailsC   []trailRef
	trailsOK  bool
}

type parsedDoc struct {
	doc *policy.Document
	err error
}

func newEnv(c *config.Config, s *snapshot.Snapshot, profile string) *env {
	e := &env{c: c, s: s, profile: profile, keyDocs: map[string]parsedDoc{}, accounts: map[string]*snapshot.Account{},
		evals: access.NewCache(), generated: map[string]generated{}, orgDocs: map[string]parsedDoc{}, levels: map[string]orgPath{}}
	if b := s.Bucket; b != nil && b.Policy != "" {
		e.bucketDoc, e.bucketErr = policy.Parse([]byte(b.Policy))
	}
	for _, k := range s.Keys {
		if k.Policy != "" {
			doc, err := policy.Parse([]byte(k.Policy))
			e.keyDocs[k.ARN] = parsedDoc{doc, err}
		}
	}
	for i := range s.Accounts {
		e.accounts[s.Accounts[i].ID] = &s.Accounts[i]
	}
	return e
}

// callErr returns the snapshot error of a failed call to one of ops on
// service, for the named resource or account when the error names one.
func (e *env) callErr(service, resource, account string, ops ...string) *snapshot.CallError {
	for i := range e.s.Errors {
		ce := &e.s.Errors[i]
		if ce.Service != service || notConfigured[ce.Code] {
			continue
		}
		match := false
		for _, op := range ops {
			if strings.EqualFold(ce.Operation, op) {
				match = true
			}
		}
		if !match {
			continue
		}
		if resource != "" && ce.Resource != "" && !strings.Contains(ce.Resource, resource) && !strings.Contains(resource, ce.Resource) {
			continue
		}
		if account != "" && ce.Account != "" && ce.Account != account {
			continue
		}
		return ce
	}
	return nil
}

// notConfigured are the error codes S3 returns for a setting that is simply
// absent; they are answers, not failed reads.
var notConfigured = map[string]bool{
	"NoSuchLifecycleConfiguration":                   true,
	"ServerSideEncryptionConfigurationNotFoundError": true,
	"OwnershipControlsNotFoundError":                 true,
	"NoSuchPublicAccessBlockConfiguration":           true,
	"NoSuchBucketPolicy":                             true,
	"ObjectLockConfigurationNotFoundError":           true,
}

// unknown is a finding for data the snapshot lacks.
func unknown(account, resource string, ce *snapshot.CallError, what string) Finding {
	f := Finding{Status: Unknown, Account: account, Resource: resource, Error: ce}
	if ce != nil {
		f.Message = fmt.Sprintf("cannot decide: %s %s failed (%s: %s)", ce.Service, ce.Operation, ce.Code, ce.Message)
		f.Remediation = fmt.Sprintf("allow %s:%s to the role that takes the snapshot, then take it again: trailwarden snapshot --config trailwarden.yaml", ce.Service, ce.Operation)
	} else {
		f.Message = "cannot decide: the snapshot has no " + what
		f.Remediation = "take the snapshot again with `trailwarden snapshot --config trailwarden.yaml`"
	}
	return f
}

// bucket returns the central bucket, or an unknown or failing finding
// when the snapshot cannot answer bucket questions.
func (e *env) bucket(ops ...string) (*snapshot.Bucket, []Finding) {
	arn := e.c.BucketARN()
	b := e.s.Bucket
	if ce := e.callErr("s3", e.c.Bucket, e.c.LogArchiveAccount, ops...); ce != nil {
		return nil, []Finding{unknown(e.c.LogArchiveAccount, arn, ce, "bucket data")}
	}
	if b == nil {
		return nil, []Finding{unknown(e.c.LogArchiveAccount, arn, e.callErr("s3", e.c.Bucket, "", "HeadBucket", "GetBucketLocation"), "bucket "+e.c.Bucket)}
	}
	if !b.Exists {
		return nil, []Finding{{Status: Fail, Account: e.c.LogArchiveAccount, Resource: arn,
			Message:     "the central bucket " + b.Name + " does not exist",
			Evidence:    []string{"bucket.exists = false"},
			Remediation: fmt.Sprintf("aws s3api create-bucket --bucket %s --region %s%s", b.Name, e.c.EffectiveBucketRegion(), locationConstraint(e.c.EffectiveBucketRegion()))}}
	}
	return b, nil
}

func locationConstraint(region string) string {
	if region == "us-east-1" {
		return ""
	}
	return " --create-bucket-configuration LocationConstraint=" + region
}

// bucketPolicy returns the parsed bucket policy (nil when the bucket has
// none), or findings when it cannot be read or parsed.
func (e *env) bucketPolicy() (*policy.Document, []Finding) {
	if _, fs := e.bucket("GetBucketPolicy"); fs != nil {
		return nil, fs
	}
	if e.bucketErr != nil {
		return nil, []Finding{{Status: Unknown, Account: e.c.LogArchiveAccount, Resource: e.c.BucketARN(),
			Message:     "cannot decide: the bucket policy " + plain(e.bucketErr),
			Remediation: fmt.Sprintf("aws s3api get-bucket-policy --bucket %s --query Policy --output text", e.c.Bucket)}}
	}
	return e.bucketDoc, nil
}

// logKey is a KMS key that encrypts, or is meant to encrypt, log objects.
type logKey struct {
	// ref is the key as first named (the config, a trail, the bucket's
	// default encryption); arn is its ARN when the snapshot resolves it.
	ref, arn string
	key      *snapshot.Key
	// uses say who names the key, for messages.
	uses []string
	// cloudTrail is set when CloudTrail encrypts with it (the config's or a
	// trail's key): the objects carry the aws:cloudtrail:arn encryption
	// context. bucketDefault is set for the bucket's default encryption.
	cloudTrail, bucketDefault bool
	trailARN                  string // a trail that encrypts with it, for the context
}

// account is the key's account, from the snapshot or its ARN.
func (k *logKey) account() string {
	if k.key != nil {
		return k.key.Account
	}
	return keyAccount(k.arn)
}

// awsManaged reports whether the key is an AWS managed key (aws/s3), whose
// policy nobody can change.
func (k *logKey) awsManaged() bool {
	return (k.key != nil && k.key.KeyManager == "AWS") || strings.HasSuffix(k.ref, "alias/aws/s3")
}

func (k *logKey) describe() string {
	return k.arn + " (" + strings.Join(k.uses, "; ") + ")"
}

// logKeys lists every key that encrypts log objects, once each: the
// config's kms_key_arn, every delivering trail's key and the bucket's
// default-encryption key, in that order.
func (e *env) logKeys() []logKey {
	if e.keysOK {
		return e.keys
	}
	e.keysOK = true
	index := map[string]int{}
	add := func(ref, use string, cloudTrail, bucketDefault bool, trail string) {
		if ref == "" {
			return
		}
		arn := ref
		k := e.s.KeyFor(ref)
		if k != nil {
			arn = k.ARN
		}
		i, ok := index[arn]
		if !ok {
			i = len(e.keys)
			index[arn] = i
			e.keys = append(e.keys, logKey{ref: ref, arn: arn, key: k})
		}
		lk := &e.keys[i]
		lk.uses = append(lk.uses, use)
		lk.cloudTrail = lk.cloudTrail || cloudTrail
		lk.bucketDefault = lk.bucketDefault || bucketDefault
		if lk.trailARN == "" {
			lk.trailARN = trail
		}
	}
	if e.c.KMSKeyARN != "" {
		add(e.c.KMSKeyARN, "kms_key_arn in the config", true, false, "")
	}
	for _, tr := range e.trails() {
		if tr.t.KMSKeyID != "" {
			add(tr.t.KMSKeyID, "trail "+tr.t.ARN, true, false, tr.t.ARN)
		}
	}
	for _, ref := range e.s.Bucket.EncryptionKeys() {
		add(ref, "the bucket's default encryption", false, true, "")
	}
	for i := range e.keys {
		if e.keys[i].trailARN == "" {
			e.keys[i].trailARN = e.expectedTrailARN(e.member())
		}
	}
	return e.keys
}

// keyDoc returns a log key's parsed policy, or the finding that says why
// it cannot be used.
func (e *env) keyDoc(k *logKey, ops ...string) (*policy.Document, []Finding) {
	account := k.account()
	if ce := e.callErr("kms", k.ref, account, ops...); ce != nil {
		return nil, []Finding{unknown(account, k.arn, ce, "key data")}
	}
	if k.arn != k.ref {
		if ce := e.callErr("kms", k.arn, account, ops...); ce != nil {
			return nil, []Finding{unknown(account, k.arn, ce, "key data")}
		}
	}
	if k.key == nil {
		return nil, []Finding{unknown(account, k.arn, e.callErr("kms", k.ref, "", "DescribeKey", "GetKeyPolicy"), "KMS key "+k.ref)}
	}
	pd, ok := e.keyDocs[k.key.ARN]
	if !ok {
		f := unknown(account, k.arn, e.callErr("kms", k.ref, "", "GetKeyPolicy", "DescribeKey"), "policy of KMS key "+k.arn)
		return nil, []Finding{f}
	}
	if pd.err != nil {
		return nil, []Finding{{Status: Unknown, Account: account, Resource: k.arn,
			Message:     "cannot decide: the key policy " + plain(pd.err),
			Remediation: fmt.Sprintf("aws kms get-key-policy --key-id %s --policy-name default --query Policy --output text", k.arn)}}
	}
	return pd.doc, nil
}

// keyAccount is the account of a key ARN ("" when it is not one).
func keyAccount(arn string) string {
	parts := strings.Split(arn, ":")
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

// trailRef is one trail delivering to the central bucket, once per ARN,
// with the accounts whose trail list shows it.
type trailRef struct {
	t        *snapshot.Trail
	owner    string
	accounts []string
}

// trails lists the trails that deliver to the central bucket, each once,
// sorted by ARN. An organization trail appears in every member's list.
func (e *env) trails() []trailRef {
	if e.trailsOK {
		return e.trailsC
	}
	e.trailsOK = true
	byARN := map[string]*trailRef{}
	for ai := range e.s.Accounts {
		a := &e.s.Accounts[ai]
		for ti := range a.Trails {
			t := &a.Trails[ti]
			if t.S3BucketName != e.c.Bucket {
				continue
			}
			r := byARN[t.ARN]
			if r == nil {
				r = &trailRef{t: t, owner: keyAccount(t.ARN)}
				byARN[t.ARN] = r
			}
			r.accounts = append(r.accounts, a.ID)
		}
	}
	out := make([]trailRef, 0, len(byARN))
	for _, r := range byARN {
		out = append(out, *r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].t.ARN < out[j].t.ARN })
	e.trailsC = out
	return out
}

// findTrail is the trail with this ARN in any account's list, or nil.
func (e *env) findTrail(arn string) *snapshot.Trail {
	for ai := range e.s.Accounts {
		for ti := range e.s.Accounts[ai].Trails {
			if e.s.Accounts[ai].Trails[ti].ARN == arn {
				return &e.s.Accounts[ai].Trails[ti]
			}
		}
	}
	return nil
}

// expectedTrailARN is the trail that should cover account.
func (e *env) expectedTrailARN(account string) string {
	if e.c.Trail.Organization && e.c.ManagementAccount != "" {
		return e.c.TrailARN(e.c.ManagementAccount)
	}
	return e.c.TrailARN(account)
}

// orgID is the organization id: the snapshot's, else the config's.
func (e *env) orgID() string {
	if o := e.s.Organization; o != nil && o.ID != "" {
		return o.ID
	}
	return e.c.OrganizationID
}

// orgMember reports whether account is an active member of the
// organization; known is false when the snapshot has no account list.
func (e *env) orgMember(account string) (member, known bool) {
	o := e.s.Organization
	if o == nil || len(o.Accounts) == 0 {
		return false, false
	}
	if o.ManagementAccount == account {
		return true, true
	}
	for _, a := range o.Accounts {
		if a.ID == account {
			return a.Status == "" || a.Status == "ACTIVE", true
		}
	}
	return false, true
}

// expectedAccounts are the accounts whose logs should reach the central
// bucket: source_accounts (with the management account for an
// organization trail), else every active account of the organization. When
// the organization's accounts could not be listed, the accounts the
// snapshot holds are used and gap says the set is incomplete.
func (e *env) expectedAccounts() (ids []string, gap *Finding) {
	set := map[string]bool{}
	switch {
	case len(e.c.SourceAccounts) > 0:
		for _, a := range e.c.SourceAccounts {
			set[a] = true
		}
		if e.c.Trail.Organization && e.c.ManagementAccount != "" {
			set[e.c.ManagementAccount] = true
		}
	case e.s.Organization != nil && len(e.s.Organization.Accounts) > 0:
		for _, a := range e.s.Organization.Accounts {
			if a.Status == "" || a.Status == "ACTIVE" {
				set[a.ID] = true
			}
		}
	default:
		for _, a := range e.s.Accounts {
			set[a.ID] = true
		}
		if e.c.Trail.Organization || e.c.OrganizationID != "" {
			ce := e.callErr("organizations", "", "", "ListAccounts", "DescribeOrganization")
			f := unknown(e.c.ManagementAccount, "organization "+orNone(e.c.OrganizationID)+" accounts", ce, "list of the organization's accounts")
			f.Message += ": the accounts whose logs should arrive are not known, so an account without a trail would go unnoticed"
			f.Evidence = []string{fmt.Sprintf("checked the %d accounts the snapshot holds", len(set))}
			gap = &f
		}
	}
	ids = make([]string, 0, len(set))
	for a := range set {
		ids = append(ids, a)
	}
	sort.Strings(ids)
	return ids, gap
}

// cover is what the snapshot says about one account's delivery: the trails
// that deliver its logs to the central bucket, and why that may be
// incomplete.
type cover struct {
	account string
	// trails deliver the account's logs to the central bucket.
	trails []*snapshot.Trail
	// listed are the other trails visible in the account, for evidence.
	listed []*snapshot.Trail
	// unread is the failed call that hid (part of) the account's trail
	// list; missing is set when the account is not in the snapshot at all.
	unread  *snapshot.CallError
	missing bool
}

// coverage is the delivery of one account. Its own trail list, when read,
// is what is deployed: it shows the organization trail that applies to it.
// When the list is missing or could not be read, an organization trail
// delivering to the bucket still covers an active member of the
// organization.
func (e *env) coverage(account string) cover {
	cv := cover{account: account}
	seen := map[string]bool{}
	a := e.accounts[account]
	if a == nil {
		cv.missing = true
	} else {
		for i := range a.Trails {
			t := &a.Trails[i]
			if t.S3BucketName == e.c.Bucket {
				cv.trails = append(cv.trails, t)
				seen[t.ARN] = true
			} else {
				cv.listed = append(cv.listed, t)
			}
		}
	}
	cv.unread = e.callErr("cloudtrail", "", account, "DescribeTrails")
	if cv.unread == nil {
		cv.unread = e.callErr("sts", "", account, "AssumeRole")
	}
	if cv.missing || cv.unread != nil {
		if member, _ := e.orgMember(account); member {
			for _, tr := range e.trails() {
				if tr.t.IsOrganization && !seen[tr.t.ARN] {
					cv.trails = append(cv.trails, tr.t)
					seen[tr.t.ARN] = true
				}
			}
		}
	}
	return cv
}

// logRoot is where CloudTrail writes in the bucket: "<prefix>/AWSLogs/".
func (e *env) logRoot() string { return e.c.LogRoot() + "AWSLogs/" }

// trailLogRoot is where a deployed trail writes: its own prefix, then
// AWSLogs/.
func trailLogRoot(t *snapshot.Trail) string {
	if t.S3KeyPrefix == "" {
		return "AWSLogs/"
	}
	return strings.TrimSuffix(t.S3KeyPrefix, "/") + "/AWSLogs/"
}

func quoteJSON(st policy.Statement) string {
	b, err := st.MarshalJSON()
	if err != nil {
		return ""
	}
	return string(b)
}
