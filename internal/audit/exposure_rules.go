package audit

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/access"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// probeOrg is an organization id no configuration uses.
const probeOrg = "o-0utsider000"

// onboardingFinding evaluates the AMS Accelerate onboarding guide's reads
// for a pattern role against one policy alone (identity assumed to allow):
// the statements are "present or equivalent" exactly when these are
// allowed, whatever their text.
func (e *env) onboardingFinding(d *decider, res string, ps []probe, what, fix string) []Finding {
	c, err := e.roleCaller(e.patternRole(e.rolePattern(), e.member()), true)
	if err != nil {
		return []Finding{cannotDecide(d.resAcct, res, err)}
	}
	ev, bad, _, err := runProbes(c.p.IssuerARN, c, ps)
	if err != nil {
		return []Finding{cannotDecide(d.resAcct, res, err)}
	}
	if len(bad) == 0 {
		return []Finding{{Status: Pass, Account: d.resAcct, Resource: res, Evidence: ev, Message: what + " allows the onboarding guide's reads (present or equivalent)"}}
	}
	return []Finding{{Status: Fail, Account: d.resAcct, Resource: res, Evidence: ev, Remediation: fix,
		Message: fmt.Sprintf("%s does not allow %d of the onboarding guide's %d reads", what, len(bad), len(ps))}}
}

// checkOnboardingBucket: the onboarding guide's three bucket statements, or
// equivalent ones.
func checkOnboardingBucket(e *env, _ *Rule) []Finding {
	if e.unsupportedByAccelerate() {
		return nil // TW-ORG-01 says why
	}
	d, fs := e.bucketDecider(false)
	if fs != nil {
		return fs
	}
	bucket := e.c.BucketARN()
	via := map[string][]string{"aws:CalledVia": {athenaService}}
	ps := []probe{
		{d: d, action: "s3:GetObject", res: bucket + "/" + e.sampleLogKey(e.member()), ctx: via, allow: true},
		{d: d, action: "s3:ListBucket", res: bucket, ctx: map[string][]string{"aws:CalledVia": {athenaService}, "s3:prefix": {e.logRoot() + e.member() + "/"}}, allow: true},
	}
	for _, a := range onboardingConfigReads {
		ps = append(ps, probe{d: d, action: a, res: bucket, allow: true})
	}
	return e.onboardingFinding(d, bucket, ps, "the bucket policy", "add to the bucket policy:\n"+e.generatedBucketStatements(true))
}

// checkOnboardingKey: the onboarding guide's key statement, or an
// equivalent one, in the policy of every key that encrypts log objects.
func checkOnboardingKey(e *env, _ *Rule) []Finding {
	if e.unsupportedByAccelerate() {
		return nil // TW-ORG-01 says why
	}
	var out []Finding
	keys := e.logKeys()
	for i := range keys {
		k := &keys[i]
		d, fs := e.keyDecider(k, false)
		if fs != nil {
			out = append(out, fs...)
			continue
		}
		ctx := map[string][]string{"aws:CalledVia": {athenaService}}
		ps := []probe{
			{d: d, action: "kms:Decrypt", res: k.arn, ctx: e.decryptCtx(k, ctx), allow: true},
			{d: d, action: "kms:DescribeKey", res: k.arn, ctx: ctx, allow: true},
		}
		fix := "add to the key policy of " + k.arn + ":\n" + e.generatedKeyStatements(true)
		if k.awsManaged() {
			fix = e.keyReaderFix(k.arn)
		}
		out = append(out, e.onboardingFinding(d, k.arn, ps, "the key policy of "+k.describe(), fix)...)
	}
	return out
}

// outsiders are an anonymous caller and a role of a foreign account and
// organization whose own policies allow everything.
func (e *env) outsiders() []struct {
	who string
	c   caller
} {
	anon := caller{p: access.Anonymous()}
	foreign, _ := e.roleCaller(access.OutsiderRole(e.partition()), false)
	foreign.p.OrgID = probeOrg
	return []struct {
		who string
		c   caller
	}{{"anonymous", anon}, {access.OutsiderRole(e.partition()), foreign}}
}

// checkPublic: neither the bucket policy (by evaluation), the ACL nor a
// missing public access block makes the bucket public.
func checkPublic(e *env, _ *Rule) []Finding {
	b, fs := e.bucket("GetBucketPolicy", "GetBucketAcl", "GetPublicAccessBlock")
	if fs != nil {
		return fs
	}
	d, fs := e.bucketDecider(false)
	if fs != nil {
		return fs
	}
	bucket := e.c.BucketARN()
	obj := bucket + "/" + e.sampleLogKey(e.member())
	var ps []probe
	for _, ctx := range []map[string][]string{nil, {"aws:CalledVia": {athenaService}}} {
		for _, a := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} {
			ps = append(ps, probe{d: d, action: a, res: obj, ctx: ctx})
		}
		for _, a := range []string{"s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketPolicy", "s3:PutBucketPolicy"} {
			ps = append(ps, probe{d: d, action: a, res: bucket, ctx: ctx})
		}
	}
	var ev, problems []string
	granted := 0
	for _, o := range e.outsiders() {
		_, bad, _, err := runProbes(o.who, o.c, ps)
		if err != nil {
			return []Finding{cannotDecide(e.c.LogArchiveAccount, bucket, err)}
		}
		ev = append(ev, fmt.Sprintf("%s: %d of %d requests allowed by the bucket policy", o.who, len(bad), len(ps)))
		ev = append(ev, bad...)
		granted += len(bad)
	}
	if granted > 0 {
		problems = append(problems, fmt.Sprintf("the bucket policy allows outsiders %d requests", granted))
	}
	for _, g := range b.ACLGrants {
		if strings.HasSuffix(g.GranteeURI, "/AllUsers") || strings.HasSuffix(g.GranteeURI, "/AuthenticatedUsers") {
			problems = append(problems, fmt.Sprintf("the ACL grants %s to %s", g.Permission, g.GranteeURI))
		}
	}
	ev = append(ev, fmt.Sprintf("%d ACL grants", len(b.ACLGrants)), describePAB("bucket public access block", b.PublicAccessBlock),
		describePAB("account public access block", b.AccountPublicAccessBlock))
	var fixes []string
	if !publicAccessBlockOn(b.PublicAccessBlock) && !publicAccessBlockOn(b.AccountPublicAccessBlock) {
		problems = append(problems, "no public access block with all four settings on the bucket or its account")
		fixes = append(fixes, fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true", e.c.Bucket))
	}
	if len(problems) == 0 {
		return e.bucketFinding(Pass, "the bucket is not public: outsiders are denied, no public ACL grant, public access blocked", "", ev...)
	}
	if len(fixes) == 0 || len(problems) > 1 {
		fixes = append(fixes, fmt.Sprintf("remove the public ACL grants: aws s3api put-bucket-ownership-controls --bucket %s --ownership-controls '{\"Rules\":[{\"ObjectOwnership\":\"BucketOwnerEnforced\"}]}'", e.c.Bucket),
			"remove or scope (aws:PrincipalOrgID and aws:PrincipalArn) the bucket policy statements the evidence names")
	}
	return e.bucketFinding(Fail, "the bucket is or can become public: "+strings.Join(problems, "; "), strings.Join(fixes, "\n"), ev...)
}

// checkTLS: plain-HTTP requests are explicitly denied, whoever asks.
func checkTLS(e *env, _ *Rule) []Finding {
	d, fs := e.bucketDecider(false)
	if fs != nil {
		return fs
	}
	bucket := e.c.BucketARN()
	obj := bucket + "/" + e.sampleLogKey(e.member())
	insecure := map[string][]string{"aws:SecureTransport": {"false"}}
	self, err := e.roleCaller(fmt.Sprintf("arn:%s:iam::%s:role/trailwarden-audit", e.partition(), e.c.LogArchiveAccount), true)
	if err != nil {
		return []Finding{cannotDecide(e.c.LogArchiveAccount, bucket, err)}
	}
	ps := []probe{
		{d: d, action: "s3:GetObject", res: obj, ctx: insecure, explicit: true},
		{d: d, action: "s3:PutObject", res: obj, ctx: insecure, explicit: true},
		{d: d, action: "s3:ListBucket", res: bucket, ctx: insecure, explicit: true},
	}
	ev, bad, _, err := runProbes(self.p.IssuerARN, self, ps)
	if err != nil {
		return []Finding{cannotDecide(e.c.LogArchiveAccount, bucket, err)}
	}
	if len(bad) == 0 {
		return e.bucketFinding(Pass, "plain-HTTP requests are explicitly denied", "", ev...)
	}
	return e.bucketFinding(Fail, "the bucket policy does not deny plain-HTTP (aws:SecureTransport false) requests",
		"add to the bucket policy:\n"+e.generatedStatement(generator.SidDenyInsecure), ev...)
}

// checkDeliveryScoped: CloudTrail statements carry aws:SourceArn or
// aws:SourceOrgID, and a trail outside the config cannot write.
func checkDeliveryScoped(e *env, _ *Rule) []Finding {
	d, fs := e.bucketDecider(false)
	if fs != nil {
		return fs
	}
	bucket := e.c.BucketARN()
	if d.resource == nil {
		return e.bucketFinding(Pass, "the bucket has no policy: nothing grants CloudTrail anything", "", "policy = (none)")
	}
	var ev, bad []string
	for i, st := range d.resource.Doc.Statements {
		if st.Effect != policy.Allow || st.Principal == nil || !hasService(st.Principal, "cloudtrail.amazonaws.com") || !grantsAny(st, deliveryActions) {
			continue
		}
		keys := conditionKeys(st)
		line := fmt.Sprintf("statement %s: condition keys %v", stmtName(i, st), keys)
		ev = append(ev, line)
		if !keys["aws:sourcearn"] && !keys["aws:sourceorgid"] {
			bad = append(bad, line+": neither aws:SourceArn nor aws:SourceOrgID")
		}
	}
	foreignTrail := fmt.Sprintf("arn:%s:cloudtrail:%s:%s:trail/foreign", e.partition(), e.c.HomeRegion, access.OutsiderAccount)
	ctx := map[string][]string{"aws:SourceArn": {foreignTrail}, "aws:SourceAccount": {access.OutsiderAccount}, "aws:SourceOrgID": {probeOrg},
		"s3:x-amz-acl": {"bucket-owner-full-control"}}
	ps := []probe{
		{d: d, action: "s3:PutObject", res: bucket + "/" + e.logRoot() + access.OutsiderAccount + "/CloudTrail/" + e.c.HomeRegion + "/2026/01/01/x.json.gz", ctx: ctx},
		{d: d, action: "s3:PutObject", res: bucket + "/" + e.sampleLogKey(e.member()), ctx: ctx},
	}
	pev, pbad, _, err := runProbes("cloudtrail.amazonaws.com for "+foreignTrail, caller{p: eval.Principal{Kind: eval.KindService, Service: "cloudtrail.amazonaws.com"}}, ps)
	if err != nil {
		return []Finding{cannotDecide(e.c.LogArchiveAccount, bucket, err)}
	}
	ev = append(ev, pev...)
	bad = append(bad, pbad...)
	if len(bad) == 0 {
		return e.bucketFinding(Pass, "CloudTrail's grants are scoped to the configured trails or organization", "", ev...)
	}
	return e.bucketFinding(Fail, "CloudTrail's grants are not scoped: a trail outside the configuration can write, or a statement lacks aws:SourceArn/aws:SourceOrgID",
		"replace the CloudTrail statements with:\n"+e.generatedBucketStatements(false), append(bad, ev...)...)
}

func hasService(p *policy.Principal, svc string) bool {
	for _, s := range p.Service {
		if strings.EqualFold(s, svc) {
			return true
		}
	}
	return p.Wildcard || (len(p.AWS) == 1 && p.AWS[0] == "*")
}

func conditionKeys(st policy.Statement) map[string]bool {
	out := map[string]bool{}
	for _, c := range st.Condition {
		out[strings.ToLower(c.Key)] = true
	}
	return out
}

// checkReadersNamed: a role of the organization that is not a configured
// reader cannot read logs or decrypt them with any key that encrypts them.
func checkReadersNamed(e *env, _ *Rule) []Finding {
	bd, fs := e.bucketDecider(false)
	if fs != nil {
		return fs
	}
	bucket := e.c.BucketARN()
	via := map[string][]string{"aws:CalledVia": {athenaService}}
	ps := []probe{
		{d: bd, action: "s3:GetObject", res: bucket + "/" + e.sampleLogKey(e.member()), ctx: via},
		{d: bd, action: "s3:ListBucket", res: bucket, ctx: map[string][]string{"aws:CalledVia": {athenaService}, "s3:prefix": {e.logRoot()}}},
	}
	kds, keyFs := e.keyDeciders(false)
	for _, kp := range kds {
		ps = append(ps, probe{d: kp.d, action: "kms:Decrypt", res: kp.k.arn, ctx: e.decryptCtx(kp.k, via)})
	}
	arn := fmt.Sprintf("arn:%s:iam::%s:role/trailwarden-audit-unnamed", e.partition(), e.member())
	c, err := e.roleCaller(arn, true)
	if err != nil {
		return []Finding{cannotDecide(e.c.LogArchiveAccount, bucket, err)}
	}
	ev, bad, _, err := runProbes(arn, c, ps)
	if err != nil {
		return []Finding{cannotDecide(e.c.LogArchiveAccount, bucket, err)}
	}
	if len(bad) > 0 {
		return e.bucketFinding(Fail, "a role of the organization that is not a configured reader can read the logs",
			"scope every Principal \"*\" read statement with aws:PrincipalOrgID and aws:PrincipalArn (the named readers); the reader statements trailwarden writes:\n"+e.readerStatements(), append(bad, ev...)...)
	}
	if len(keyFs) > 0 {
		f := keyFs[0]
		f.Message += " (an unnamed role is denied the bucket; decryption with that key cannot be decided)"
		f.Evidence = ev
		return []Finding{f}
	}
	return e.bucketFinding(Pass, "only named readers can read: an unnamed role of the organization is denied", "", ev...)
}

func (e *env) readerStatements() string {
	out, err := e.generate("bucket", false)
	if err != nil {
		return cannotGenerate("bucket")
	}
	return statementsJSON(out.Doc, func(sid string) bool { return strings.HasPrefix(sid, generator.SidPrefix+"Reader") })
}

// checkTrustRoot: reader role trust policies name roles, never an account
// root (which delegates to every principal of that account).
func checkTrustRoot(e *env, _ *Rule) []Finding {
	if len(e.s.Readers) == 0 {
		arn := e.c.ReaderRoleARN()
		return []Finding{unknown(e.c.LogArchiveAccount, arn, e.callErr("iam", e.c.Readers.RoleName, "", "GetRole"), "reader roles")}
	}
	var out []Finding
	for _, r := range e.s.Readers {
		if !r.Exists {
			continue
		}
		doc, err := parsePolicy("the trust policy of "+r.ARN, r.TrustPolicy)
		if err != nil {
			out = append(out, cannotDecide(r.Account, r.ARN, err))
			continue
		}
		var bad []string
		for i, st := range doc.Statements {
			if st.Effect != policy.Allow || st.Principal == nil {
				continue
			}
			for _, p := range st.Principal.AWS {
				if accountOf(p) != "" {
					bad = append(bad, fmt.Sprintf("statement %s trusts account root %s", stmtName(i, st), p))
				}
			}
		}
		if len(bad) == 0 {
			out = append(out, Finding{Status: Pass, Account: r.Account, Resource: r.ARN, Message: "the trust policy names roles, not account roots",
				Evidence: []string{fmt.Sprintf("%d trust statements, no account-root principal", len(doc.Statements))}})
			continue
		}
		out = append(out, Finding{Status: Fail, Account: r.Account, Resource: r.ARN, Evidence: bad,
			Message: "the trust policy trusts an account root: every principal that account allows can assume the reader role",
			Remediation: fmt.Sprintf("trailwarden policy reader-trust --config trailwarden.yaml > trust.json && aws iam update-assume-role-policy --role-name %s --policy-document file://trust.json\nthe trust policy for this config:\n%s",
				r.Name, e.generatedTrust())})
	}
	return out
}

// checkKey: every key that encrypts log objects is enabled and rotates.
func checkKey(e *env, _ *Rule) []Finding {
	var out []Finding
	keys := e.logKeys()
	for i := range keys {
		lk := &keys[i]
		if _, fs := e.keyDoc(lk, "DescribeKey", "GetKeyRotationStatus"); fs != nil && lk.key == nil {
			out = append(out, fs...)
			continue
		}
		if ce := e.callErr("kms", lk.ref, lk.account(), "DescribeKey", "GetKeyRotationStatus"); ce != nil {
			out = append(out, unknown(lk.account(), lk.arn, ce, "key state and rotation"))
			continue
		}
		k := lk.key
		ev := []string{"key " + lk.describe(), "keyState = " + orNone(k.State), fmt.Sprintf("rotationEnabled = %t", k.RotationEnabled), "keyManager = " + orNone(k.KeyManager)}
		var problems, fixes []string
		if k.State != "Enabled" {
			problems = append(problems, "the key is "+orNone(k.State)+": CloudTrail cannot encrypt and nobody can decrypt")
			if k.State == "PendingDeletion" {
				fixes = append(fixes, "aws kms cancel-key-deletion --key-id "+k.ARN)
			}
			fixes = append(fixes, "aws kms enable-key --key-id "+k.ARN)
		}
		if !k.RotationEnabled && k.KeyManager != "AWS" {
			problems = append(problems, "automatic rotation is off")
			fixes = append(fixes, "aws kms enable-key-rotation --key-id "+k.ARN)
		}
		if len(problems) == 0 {
			out = append(out, Finding{Status: Pass, Account: k.Account, Resource: k.ARN, Evidence: ev, Message: "the key is enabled and rotates"})
			continue
		}
		out = append(out, Finding{Status: Fail, Account: k.Account, Resource: k.ARN, Evidence: ev, Message: strings.Join(problems, "; "), Remediation: strings.Join(fixes, "\n")})
	}
	return out
}

// checkKeyPublic: no key that encrypts log objects grants anything to an
// anonymous caller or a foreign account, by evaluation (a "*" principal
// with conditions that hold for outsiders is public; one scoped to the
// organization is not).
func checkKeyPublic(e *env, _ *Rule) []Finding {
	var out []Finding
	keys := e.logKeys()
	for i := range keys {
		lk := &keys[i]
		d, fs := e.keyDecider(lk, false)
		if fs != nil {
			out = append(out, fs...)
			continue
		}
		var ps []probe
		for _, a := range []string{"kms:Decrypt", "kms:GenerateDataKey", "kms:ReEncryptFrom", "kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:DisableKey"} {
			ps = append(ps, probe{d: d, action: a, res: lk.arn})
		}
		ev := []string{"key " + lk.describe()}
		granted := 0
		var err error
		for _, o := range e.outsiders() {
			var bad []string
			if _, bad, _, err = runProbes(o.who, o.c, ps); err != nil {
				break
			}
			ev = append(ev, fmt.Sprintf("%s: %d of %d requests allowed by the key policy", o.who, len(bad), len(ps)))
			ev = append(ev, bad...)
			granted += len(bad)
		}
		switch {
		case err != nil:
			out = append(out, cannotDecide(lk.account(), lk.arn, err))
		case granted == 0:
			out = append(out, Finding{Status: Pass, Account: lk.account(), Resource: lk.arn, Evidence: ev, Message: "the key is not public: outsiders are denied"})
		default:
			out = append(out, Finding{Status: Fail, Account: lk.account(), Resource: lk.arn, Evidence: ev,
				Message:     fmt.Sprintf("the key policy allows outsiders %d requests", granted),
				Remediation: "remove or scope (aws:PrincipalOrgID, aws:PrincipalArn, kms:CallerAccount) the key policy statements the evidence names; trailwarden policy key --config trailwarden.yaml --existing current-key-policy.json writes a scoped policy"})
		}
	}
	return out
}
