package difftest

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/awsid"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/generator"
)

// Accounts and organizations outside every golden config.
const (
	foreignAccount = "999999999999"
	foreignOrg     = "o-zzzzzzzzzz"
	athena         = "athena.amazonaws.com"
	glue           = "glue.amazonaws.com"
	cloudtrailSvc  = "cloudtrail.amazonaws.com"
)

func loadConfig(t testing.TB, path string) *config.Config {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, path)
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return c
}

// caller is one principal of the enumeration; iam says whether identity
// policies can be attached to it (so the allow-all variant makes sense).
type caller struct {
	label string
	p     eval.Principal
	iam   bool
}

func mustPrincipal(s string) eval.Principal {
	p, err := eval.ParsePrincipal(s)
	if err != nil {
		panic(err)
	}
	return p
}

// roleSession is a session of roleARN in org ("" for none).
func roleSession(roleARN, name, org string) eval.Principal {
	a, err := awsid.RoleARN(roleARN)
	if err != nil {
		panic(err)
	}
	role := roleARN[strings.LastIndex(roleARN, "/")+1:]
	p := mustPrincipal(fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", a.Partition, a.Account, role, name))
	if p, err = p.WithIssuer(roleARN); err != nil {
		panic(err)
	}
	p.OrgID = org
	return p
}

func withOrg(p eval.Principal, org string) eval.Principal {
	p.OrgID = org
	return p
}

// configCallers are the principals that matter for a config: every reader in
// and out of the organization, the pattern reader, other roles and users,
// account roots, anonymous and CloudTrail.
func configCallers(c *config.Config) []caller {
	org := c.OrganizationID
	if org == "" {
		org = "o-a1b2c3d4e5"
	}
	var out []caller
	for i, arn := range c.Readers.Roles {
		out = append(out,
			caller{"reader " + arn + " in org", roleSession(arn, "proof", org), true},
			caller{"reader " + arn + " in a foreign org", roleSession(arn, "proof", foreignOrg), true})
		if i == 0 {
			out = append(out,
				caller{"reader " + arn + " outside any org", roleSession(arn, "proof", ""), true},
				caller{"reader role " + arn + " (any session)", withOrg(mustPrincipal(arn), org), true})
			acct := strings.Split(arn, ":")[4]
			out = append(out,
				caller{"other role in the reader's account", roleSession("arn:aws:iam::"+acct+":role/not-a-reader", "s", org), true},
				caller{"reader account root", withOrg(mustPrincipal("arn:aws:iam::"+acct+":root"), org), false})
		}
	}
	if c.Readers.RolePattern != "" {
		name := strings.NewReplacer("*", "reader", "?", "x").Replace(c.Readers.RolePattern)
		member := c.LogArchiveAccount
		if len(c.SourceAccounts) > 0 {
			member = c.SourceAccounts[0]
		}
		arn := fmt.Sprintf("arn:aws:iam::%s:role/%s", member, name)
		out = append(out,
			caller{"pattern reader in org", roleSession(arn, "athena", org), true},
			caller{"pattern reader in a foreign org", roleSession(arn, "athena", foreignOrg), true},
			caller{"pattern-named role in a foreign account", roleSession("arn:aws:iam::"+foreignAccount+":role/"+name, "x", foreignOrg), true})
	}
	out = append(out,
		caller{"log-archive reader role", roleSession(c.ReaderRoleARN(), "proof", org), true},
		caller{"log-archive admin user", withOrg(mustPrincipal("arn:aws:iam::"+c.LogArchiveAccount+":user/admin"), org), true},
		caller{"log-archive root", withOrg(mustPrincipal("arn:aws:iam::"+c.LogArchiveAccount+":root"), org), false},
		caller{"foreign user", withOrg(mustPrincipal("arn:aws:iam::"+foreignAccount+":user/mallory"), foreignOrg), true},
		caller{"anonymous", mustPrincipal("anonymous"), false},
		caller{"other service", mustPrincipal("s3.amazonaws.com"), false},
	)
	return out
}

// Fixed policies used around the generated ones.
var (
	allowAll = mustJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	fullSCP  = mustJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
	// denySCP guards destructive actions, except for the log-archive admin.
	denySCP = mustJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny",
	  "Action":["s3:DeleteObject","s3:PutBucketPolicy","kms:ScheduleKeyDeletion"],"Resource":"*",
	  "Condition":{"StringNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:user/admin"}}}]}`)
)

// perimeterRCP is AWS's data-perimeter RCP shape: identities from the
// organization, confused-deputy protection for services, TLS only.
func perimeterRCP(org string) doc {
	return mustJSON(`{"Version":"2012-10-17","Statement":[
	 {"Sid":"EnforceOrgIdentities","Effect":"Deny","Principal":"*","Action":["s3:*","sts:*","kms:*"],"Resource":"*",
	  "Condition":{"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"` + org + `"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"}}},
	 {"Sid":"EnforceConfusedDeputyProtection","Effect":"Deny","Principal":"*","Action":["s3:*","sts:*","kms:*"],"Resource":"*",
	  "Condition":{"StringNotEqualsIfExists":{"aws:SourceOrgID":"` + org + `"},"Null":{"aws:SourceAccount":"false"},"Bool":{"aws:PrincipalIsAWSService":"true"}}},
	 {"Sid":"EnforceSecureTransport","Effect":"Deny","Principal":"*","Action":["s3:*","sts:*","kms:*"],"Resource":"*",
	  "Condition":{"BoolIfExists":{"aws:SecureTransport":"false"}}}]}`)
}

// ctxDim is one dimension of request context: each option sets the key to
// the values, or leaves it out when values is nil.
type ctxDim struct {
	key     string
	options [][]string
}

// product enumerates every combination of the dimensions.
func product(dims []ctxDim) []map[string][]string {
	out := []map[string][]string{{}}
	for _, d := range dims {
		var next []map[string][]string
		for _, base := range out {
			for _, opt := range d.options {
				m := make(map[string][]string, len(base)+1)
				for k, v := range base {
					m[k] = v
				}
				if opt != nil {
					m[d.key] = opt
				}
				next = append(next, m)
			}
		}
		out = next
	}
	return out
}

func one(s string) []string { return []string{s} }

// caseBuilder collects cases, dropping exact duplicates.
type caseBuilder struct {
	source string
	seen   map[string]bool
	cases  []*tcase
}

func (b *caseBuilder) add(set *policySet, r eval.Request) {
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	j, err := json.Marshal(r)
	if err != nil {
		panic(err)
	}
	k := fmt.Sprintf("%p|%s", set, j)
	if b.seen[k] {
		return
	}
	b.seen[k] = true
	b.cases = append(b.cases, &tcase{id: fmt.Sprintf("%s#%d", b.source, len(b.cases)), source: b.source, set: set, req: r})
}

// generatedCases enumerates requests against the policies trailwarden
// generates for every golden config.
func generatedCases(t testing.TB) []*tcase {
	t.Helper()
	dirs, err := filepath.Glob("../../generator/testdata/golden/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden configs: %v", err)
	}
	var out []*tcase
	for _, dir := range dirs {
		name := filepath.Base(dir)
		c := loadConfig(t, filepath.Join(dir, "config.yaml"))
		out = append(out, configCases(t, name, c)...)
	}
	return out
}

func configCases(t testing.TB, name string, c *config.Config) []*tcase {
	t.Helper()
	org := c.OrganizationID
	if org == "" {
		org = "o-a1b2c3d4e5"
	}
	bucketOut, err := generator.Bucket(c, nil)
	if err != nil {
		t.Fatalf("%s: bucket: %v", name, err)
	}
	trustOut, err := generator.ReaderTrust(c)
	if err != nil {
		t.Fatalf("%s: trust: %v", name, err)
	}
	accessOut, err := generator.ReaderAccess(c)
	if err != nil {
		t.Fatalf("%s: access: %v", name, err)
	}
	bucketDoc, trustDoc, accessDoc := fromDoc(bucketOut.Doc), fromDoc(trustOut.Doc), fromDoc(accessOut.Doc)
	var keyDoc *doc
	keyAccount := c.LogArchiveAccount
	if c.KMSKeyARN != "" {
		keyOut, err := generator.Key(c, nil)
		if err != nil {
			t.Fatalf("%s: key: %v", name, err)
		}
		d := fromDoc(keyOut.Doc)
		keyDoc = &d
		k, err := awsid.KeyARN(c.KMSKeyARN)
		if err != nil {
			t.Fatal(err)
		}
		keyAccount = k.Account
	}
	orgLevels := func(ps *policySet) *policySet {
		o := ps.clone()
		o.scps = [][]doc{{fullSCP}, {fullSCP, denySCP}}
		o.rcps = [][]doc{{perimeterRCP(org)}, {}}
		return o
	}
	callers := configCallers(c)
	bucket := c.BucketARN()

	// Object keys: each delivering account's own prefix, with and without
	// the organization id segment, another account's prefix, and outside
	// AWSLogs/.
	delivering := c.SourceAccounts
	if len(delivering) == 0 {
		delivering = []string{c.ManagementAccount, c.LogArchiveAccount}
	}
	logKey := func(withOrgID bool, acct string) string {
		root := c.LogRoot() + "AWSLogs/"
		if withOrgID {
			root += org + "/"
		}
		return fmt.Sprintf("%s/%s%s/CloudTrail/%s/2026/01/01/%s_CloudTrail_%s_20260101T0005Z_a1b2.json.gz",
			bucket, root, acct, c.HomeRegion, acct, c.HomeRegion)
	}
	var keys []string
	for _, a := range append(append([]string{}, delivering...), foreignAccount) {
		if a == "" {
			continue
		}
		keys = append(keys, logKey(c.Trail.Organization, a))
	}
	keys = append(keys, logKey(!c.Trail.Organization, delivering[0]), bucket+"/other/readme.txt")

	trailOwner := func(acct string) string {
		if c.Trail.Organization {
			return c.ManagementAccount
		}
		return acct
	}
	rightTrail := c.TrailARN(trailOwner(delivering[0]))
	wrongTrail := c.TrailARN(foreignAccount)
	secure := ctxDim{"aws:SecureTransport", [][]string{one("true"), one("false")}}
	calledVia := ctxDim{"aws:CalledVia", [][]string{nil, one(athena), {glue, athena}}}

	// ---- bucket policy ----
	bb := &caseBuilder{source: "generated/" + name + "/bucket"}
	bucketSet := &policySet{resource: &bucketDoc, kind: eval.Generic}
	bucketWithID := &policySet{resource: &bucketDoc, identity: []doc{allowAll}, kind: eval.Generic}
	orgBucket, orgBucketWithID := orgLevels(bucketSet), orgLevels(bucketWithID)
	n := 0
	addBucket := func(cl caller, action, resource string, ctx map[string][]string) {
		n++
		r := eval.Request{Principal: cl.p, Action: action, Resource: resource, ResourceAccount: c.LogArchiveAccount, Context: ctx}
		set, orgSet := bucketSet, orgBucket
		if cl.iam {
			bb.add(bucketSet, r)
			set, orgSet = bucketWithID, orgBucketWithID
		}
		bb.add(set, r)
		if n%4 == 0 {
			bb.add(orgSet, r)
		}
	}
	ct := caller{"CloudTrail", mustPrincipal(cloudtrailSvc), false}
	sourceDims := []ctxDim{
		{"aws:SourceArn", [][]string{one(rightTrail), one(wrongTrail), nil}},
		{"aws:SourceAccount", [][]string{one(trailOwner(delivering[0])), one(foreignAccount), nil}},
		{"aws:SourceOrgID", [][]string{one(org), one(foreignOrg), nil}},
		secure,
	}
	for _, ctx := range product(sourceDims) {
		addBucket(ct, "s3:GetBucketAcl", bucket, ctx)
		addBucket(ct, "s3:PutBucketPolicy", bucket, ctx)
	}
	putDims := append(append([]ctxDim{}, sourceDims...), ctxDim{"s3:x-amz-acl", [][]string{one("bucket-owner-full-control"), one("private"), nil}})
	for i, key := range keys {
		for _, ctx := range product(putDims) {
			// The full product on the first key; the others vary the acl and
			// transport with the right source.
			if i > 0 && (ctx["aws:SourceArn"] == nil || ctx["aws:SourceArn"][0] != rightTrail || ctx["aws:SourceOrgID"] == nil) {
				continue
			}
			addBucket(ct, "s3:PutObject", key, ctx)
		}
	}
	readerKey := logKey(c.Trail.Organization, delivering[0])
	for _, cl := range callers {
		for _, ctx := range product([]ctxDim{calledVia, secure}) {
			addBucket(cl, "s3:GetObject", readerKey, ctx)
			addBucket(cl, "s3:GetObject", bucket+"/other/readme.txt", ctx)
			addBucket(cl, "s3:GetBucketLocation", bucket, ctx)
			addBucket(cl, "s3:DeleteObject", readerKey, ctx)
			addBucket(cl, "s3:PutObject", readerKey, ctx)
			for _, prefix := range [][]string{one(c.LogRoot() + "AWSLogs/"), one("private/"), nil} {
				lctx := maps1(ctx, "s3:prefix", prefix)
				addBucket(cl, "s3:ListBucket", bucket, lctx)
			}
		}
	}
	out := bb.cases

	// ---- key policy ----
	if keyDoc != nil {
		kb := &caseBuilder{source: "generated/" + name + "/key"}
		keySet := &policySet{resource: keyDoc, kind: eval.KMSKey}
		keyWithID := &policySet{resource: keyDoc, identity: []doc{allowAll}, kind: eval.KMSKey}
		orgKey, orgKeyWithID := orgLevels(keySet), orgLevels(keyWithID)
		m := 0
		addKey := func(cl caller, action string, ctx map[string][]string) {
			m++
			r := eval.Request{Principal: cl.p, Action: action, Resource: c.KMSKeyARN, ResourceAccount: keyAccount, Context: ctx}
			set, orgSet := keySet, orgKey
			if cl.iam {
				kb.add(keySet, r)
				set, orgSet = keyWithID, orgKeyWithID
			}
			kb.add(set, r)
			if m%4 == 0 {
				kb.add(orgSet, r)
			}
		}
		ecKey := "kms:EncryptionContext:aws:cloudtrail:arn"
		for _, ctx := range product([]ctxDim{
			{"aws:SourceArn", [][]string{one(rightTrail), one(wrongTrail), nil}},
			{"aws:SourceAccount", [][]string{one(trailOwner(delivering[0])), nil}},
			{ecKey, [][]string{one(rightTrail), one(wrongTrail), nil}},
			secure,
		}) {
			for _, a := range []string{"kms:GenerateDataKey", "kms:DescribeKey", "kms:Decrypt", "kms:ScheduleKeyDeletion"} {
				addKey(ct, a, ctx)
			}
		}
		via := "s3." + c.EffectiveBucketRegion() + ".amazonaws.com"
		for _, cl := range callers {
			for _, ctx := range product([]ctxDim{calledVia,
				{"kms:ViaService", [][]string{one(via), one("ec2." + c.EffectiveBucketRegion() + ".amazonaws.com"), nil}},
				{ecKey, [][]string{one(rightTrail), nil}},
			}) {
				addKey(cl, "kms:Decrypt", ctx)
				if ctx[ecKey] != nil {
					addKey(cl, "kms:GenerateDataKey", ctx)
					addKey(cl, "kms:ScheduleKeyDeletion", ctx)
				}
			}
		}
		out = append(out, kb.cases...)
	}

	// ---- reader role trust policy ----
	tb := &caseBuilder{source: "generated/" + name + "/reader-trust"}
	trustSet := &policySet{resource: &trustDoc, kind: eval.RoleTrust}
	trustWithID := &policySet{resource: &trustDoc, identity: []doc{allowAll}, kind: eval.RoleTrust}
	ext := [][]string{nil, one("wrong-id")}
	if c.Readers.ExternalID != "" {
		ext = append(ext, one(c.Readers.ExternalID))
	}
	for _, cl := range append(callers, ct) {
		for _, ctx := range product([]ctxDim{{"sts:ExternalId", ext}, secure}) {
			for _, a := range []string{"sts:AssumeRole", "sts:TagSession"} {
				r := eval.Request{Principal: cl.p, Action: a, Resource: c.ReaderRoleARN(), ResourceAccount: c.LogArchiveAccount, Context: ctx}
				tb.add(trustSet, r)
				if cl.iam {
					tb.add(trustWithID, r)
				}
			}
		}
	}
	out = append(out, tb.cases...)

	// ---- reader role permissions, alone and with the resource policies ----
	ab := &caseBuilder{source: "generated/" + name + "/reader-access"}
	reader := roleSession(c.ReaderRoleARN(), "proof", org)
	accessSet := &policySet{identity: []doc{accessDoc}, kind: eval.Generic}
	accessBucket := &policySet{identity: []doc{accessDoc}, resource: &bucketDoc, kind: eval.Generic}
	kmsKeys := []string{"arn:aws:kms:us-east-1:" + c.LogArchiveAccount + ":key/00000000-1111-2222-3333-444444444444"}
	if c.KMSKeyARN != "" {
		kmsKeys = append(kmsKeys, c.KMSKeyARN)
	}
	kmsSets := []*policySet{{identity: []doc{accessDoc}, kind: eval.KMSKey}}
	if keyDoc != nil {
		kmsSets = append(kmsSets, &policySet{identity: []doc{accessDoc}, resource: keyDoc, kind: eval.KMSKey})
	}
	for _, ctx := range product([]ctxDim{calledVia, secure}) {
		for _, s := range []*policySet{accessSet, accessBucket} {
			for _, res := range []struct{ action, resource string }{
				{"s3:GetObject", readerKey}, {"s3:GetObject", bucket + "/other/readme.txt"},
				{"s3:GetObject", "arn:aws:s3:::some-other-bucket/AWSLogs/x.json.gz"},
				{"s3:GetBucketLocation", bucket}, {"s3:DeleteObject", readerKey}, {"s3:PutObject", readerKey},
			} {
				ab.add(s, eval.Request{Principal: reader, Action: res.action, Resource: res.resource, ResourceAccount: c.LogArchiveAccount, Context: ctx})
			}
			for _, prefix := range [][]string{one(c.LogRoot() + "AWSLogs/"), one("private/"), nil} {
				ab.add(s, eval.Request{Principal: reader, Action: "s3:ListBucket", Resource: bucket, ResourceAccount: c.LogArchiveAccount,
					Context: maps1(ctx, "s3:prefix", prefix)})
			}
		}
		for _, s := range kmsSets {
			for _, k := range kmsKeys {
				for _, v := range [][]string{one("s3." + c.EffectiveBucketRegion() + ".amazonaws.com"), one("sqs.us-east-1.amazonaws.com"), nil} {
					ab.add(s, eval.Request{Principal: reader, Action: "kms:Decrypt", Resource: k, ResourceAccount: keyAccount,
						Context: maps1(ctx, "kms:ViaService", v)})
				}
			}
		}
	}
	return append(out, ab.cases...)
}

// maps1 returns a copy of m with key set (or left out when v is nil).
func maps1(m map[string][]string, key string, v []string) map[string][]string {
	out := make(map[string][]string, len(m)+1)
	for k, val := range m {
		out[k] = val
	}
	if v != nil {
		out[key] = v
	}
	return out
}
