package audit

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func parsePolicy(name, text string) (*policy.Document, error) {
	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return nil, &policyError{what: name, err: err}
	}
	return doc, nil
}

const athenaService = "athena.amazonaws.com"

// onboardingConfigReads are the four bucket-configuration reads of the AMS
// Accelerate onboarding guide's bucket statements.
var onboardingConfigReads = []string{"s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetLifecycleConfiguration", "s3:GetEncryptionConfiguration"}

func (e *env) bucketDecider(orgLayers bool) (*decider, []Finding) {
	doc, fs := e.bucketPolicy()
	if fs != nil {
		return nil, fs
	}
	d := &decider{e: e, kind: eval.Generic, resAcct: e.c.LogArchiveAccount, orgLayers: orgLayers, id: "bucket"}
	if doc != nil {
		d.resource = &eval.Named{Name: "bucket policy", Doc: doc}
	}
	return d, nil
}

// keyDecider decides requests on one log key over its own policy.
func (e *env) keyDecider(k *logKey, orgLayers bool) (*decider, []Finding) {
	doc, fs := e.keyDoc(k, "GetKeyPolicy")
	if fs != nil {
		return nil, fs
	}
	d := &decider{e: e, kind: eval.KMSKey, resAcct: k.account(), orgLayers: orgLayers, id: "key " + k.arn}
	if doc != nil {
		d.resource = &eval.Named{Name: "key policy of " + k.arn, Doc: doc}
	}
	return d, nil
}

// probe is one request a check evaluates.
type probe struct {
	d      *decider
	action string
	res    string
	ctx    map[string][]string
	// want is the decision the check needs: allowed, or denied (explicitly
	// when explicit is set).
	allow, explicit bool
}

// runProbes evaluates probes for one caller and returns the evidence and
// the probes whose decision was not the wanted one.
func runProbes(who string, c caller, ps []probe) (ev, bad []string, results []eval.Result, err error) {
	for _, p := range ps {
		r, err := p.d.decide(c, p.action, p.res, p.ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		line := decision(who, p.action, p.res, p.ctx, r)
		ev = append(ev, line)
		results = append(results, r)
		ok := r.Decision == eval.Allowed
		switch {
		// An allow that rests on a judgement call of the evaluator cannot
		// show that access works: AWS may read the case the other way.
		case p.allow && (!ok || len(r.Judgements) > 0), !p.allow && ok, !p.allow && p.explicit && r.Decision != eval.ExplicitlyDenied:
			bad = append(bad, line)
		}
	}
	return ev, bad, results, nil
}

// judgedAllows counts the allowed results that rest on a judgement call.
func judgedAllows(results []eval.Result) int {
	n := 0
	for _, r := range results {
		if r.Decision == eval.Allowed && len(r.Judgements) > 0 {
			n++
		}
	}
	return n
}

// checkDelivery: for every account whose logs should reach the central
// bucket, every trail that delivers them (or should) is checked as
// deployed: its bucket, key prefix, KMS key, ARN (aws:SourceArn), owner
// and organization flag build CloudTrail's requests, decided over the live
// bucket and key policies with the RCPs of their accounts, and the trail's
// own reported delivery errors count too.
func checkDelivery(e *env, _ *Rule) []Finding {
	expected, gap := e.expectedAccounts()
	var out []Finding
	if gap != nil {
		out = append(out, *gap)
	}
	bd, fs := e.bucketDecider(true)
	if fs != nil {
		return append(out, fs...)
	}
	for _, acct := range expected {
		cv := e.coverage(acct)
		if len(cv.trails) == 0 {
			out = append(out, e.noDelivery(cv))
			continue
		}
		for _, t := range cv.trails {
			out = append(out, e.deliveryFinding(bd, acct, t))
		}
	}
	return out
}

// noDelivery is the finding of an account no trail delivers to the central
// bucket: unknown when its trail list could not be read, a failure naming
// the account otherwise.
func (e *env) noDelivery(cv cover) Finding {
	want := e.expectedTrailARN(cv.account)
	res := e.c.BucketARN() + "/" + e.intendedPrefix(cv.account)
	ev := []string{fmt.Sprintf("intended: trail %s delivering to s3://%s/%s", want, e.c.Bucket, e.intendedPrefix(cv.account))}
	for _, t := range cv.listed {
		ev = append(ev, fmt.Sprintf("deployed: trail %s delivers to s3://%s/%s, not the central bucket", t.ARN, t.S3BucketName, trailLogRoot(t)))
	}
	switch {
	case cv.unread != nil:
		f := unknown(cv.account, res, cv.unread, "trail list of account "+cv.account)
		f.Message += ": no trail delivering account " + cv.account + "'s logs is known"
		f.Evidence = ev
		return f
	case cv.missing:
		f := unknown(cv.account, res, nil, "trails of account "+cv.account)
		f.Evidence = ev
		return f
	}
	if len(cv.listed) == 0 {
		ev = append(ev, "deployed: no trail in account "+cv.account)
	}
	return Finding{Status: Fail, Account: cv.account, Resource: res, Evidence: ev,
		Message:     fmt.Sprintf("no trail delivers account %s's logs to %s", cv.account, e.c.Bucket),
		Remediation: e.createTrailFix(cv.account)}
}

// intendedPrefix is where the config means account's logs to go.
func (e *env) intendedPrefix(account string) string {
	root := e.logRoot()
	if e.c.Trail.Organization && e.c.OrganizationID != "" {
		root += e.c.OrganizationID + "/"
	}
	return root + account + "/"
}

// deliveryFinding decides whether CloudTrail can deliver account's logs for
// trail t as deployed.
func (e *env) deliveryFinding(bd *decider, acct string, t *snapshot.Trail) Finding {
	owner := keyAccount(t.ARN)
	orgID := e.orgID()
	root := trailLogRoot(t)
	if t.IsOrganization {
		if orgID == "" {
			f := unknown(acct, t.ARN, e.callErr("organizations", "", "", "DescribeOrganization"), "organization id, which an organization trail's log path contains")
			return f
		}
		root += orgID + "/"
	}
	prefix := root + acct + "/"
	res := e.c.BucketARN() + "/" + prefix
	region := t.HomeRegion
	obj := fmt.Sprintf("%s/%sCloudTrail/%s/2026/01/01/%s_CloudTrail_%s_20260101T0005Z_a1b2c3d4e5f6a7b8.json.gz", e.c.BucketARN(), prefix, region, acct, region)
	ctx := map[string][]string{"aws:SourceArn": {t.ARN}, "aws:SourceAccount": {owner}}
	if member, known := e.orgMember(owner); orgID != "" && (member || !known) {
		ctx["aws:SourceOrgID"] = []string{orgID}
	}
	withCtx := func(k, v string) map[string][]string {
		out := make(map[string][]string, len(ctx)+1)
		for a, b := range ctx {
			out[a] = b
		}
		out[k] = []string{v}
		return out
	}
	ev := []string{
		fmt.Sprintf("deployed: trail %s (home %s, organization %t) delivers to s3://%s/%s with KMS key %s",
			t.ARN, t.HomeRegion, t.IsOrganization, t.S3BucketName, prefix, orNone(t.KMSKeyID)),
		fmt.Sprintf("intended: trail %s (home %s, organization %t) delivers to s3://%s/%s with KMS key %s",
			e.expectedTrailARN(acct), e.c.HomeRegion, e.c.Trail.Organization, e.c.Bucket, e.intendedPrefix(acct), orNone(e.c.KMSKeyARN)),
	}
	ps := []probe{
		{d: bd, action: "s3:GetBucketAcl", res: e.c.BucketARN(), ctx: ctx, allow: true},
		{d: bd, action: "s3:PutObject", res: obj, ctx: withCtx("s3:x-amz-acl", "bucket-owner-full-control"), allow: true},
	}
	var problems, fixes []string
	var undecided *Finding
	if t.KMSKeyID != "" {
		lk := e.logKeyFor(t.KMSKeyID)
		kd, kfs := e.keyDecider(lk, true)
		switch {
		case kfs != nil:
			undecided = &kfs[0]
		default:
			ps = append(ps, probe{d: kd, action: "kms:GenerateDataKey", res: lk.arn, ctx: withCtx("kms:EncryptionContext:aws:cloudtrail:arn", t.ARN), allow: true})
			if k := lk.key; k != nil {
				if k.State != "" && k.State != "Enabled" {
					problems = append(problems, "the trail's KMS key is "+k.State)
					fixes = append(fixes, "aws kms enable-key --key-id "+k.ARN)
				}
				if b := e.s.Bucket; b != nil && b.Region != "" && k.Region != "" && k.Region != b.Region {
					problems = append(problems, fmt.Sprintf("the trail's KMS key is in %s but the bucket is in %s", k.Region, b.Region))
					fixes = append(fixes, "use a key in "+b.Region+": "+updateTrail(t, "--kms-key-id <key ARN in "+b.Region+">"))
				}
			}
		}
	}
	pev, bad, _, err := runProbes("cloudtrail.amazonaws.com", caller{p: eval.Principal{Kind: eval.KindService, Service: "cloudtrail.amazonaws.com"}}, ps)
	if err != nil {
		return cannotDecide(acct, res, err)
	}
	ev = append(ev, pev...)
	if len(bad) > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d required requests denied", len(bad), len(ps)))
		fixes = append(fixes, e.deliveryPolicyFix(t, len(ps) > 2)...)
	}
	st := t.Status
	if st != nil {
		ev = append(ev, "status: latestDeliveryError = "+orNone(st.LatestDeliveryError)+", latestDigestDeliveryError = "+orNone(st.LatestDigestDeliveryError))
		if st.LatestDeliveryError != "" {
			problems = append(problems, "CloudTrail reports the latest log delivery failed ("+st.LatestDeliveryError+")")
		}
		if st.LatestDigestDeliveryError != "" {
			problems = append(problems, "CloudTrail reports the latest digest delivery failed ("+st.LatestDigestDeliveryError+")")
		}
		if (st.LatestDeliveryError != "" || st.LatestDigestDeliveryError != "") && len(bad) == 0 {
			fixes = append(fixes, "the policies trailwarden can see allow delivery: check the bucket's Object Ownership, Requester Pays and the key's state, then watch the error clear: aws cloudtrail get-trail-status --name "+t.ARN+" --region "+t.HomeRegion)
		}
	}
	if len(problems) > 0 {
		return Finding{Status: Fail, Account: acct, Resource: res, Evidence: ev,
			Message:     fmt.Sprintf("CloudTrail cannot deliver account %s's logs for trail %s: %s", acct, t.ARN, strings.Join(problems, "; ")),
			Remediation: strings.Join(dedupe(fixes), "\n")}
	}
	if undecided != nil {
		f := *undecided
		f.Account, f.Resource = acct, res
		f.Evidence = append(ev, f.Evidence...)
		return f
	}
	if st == nil {
		f := unknown(acct, res, e.callErr("cloudtrail", t.ARN, "", "GetTrailStatus"), "status of trail "+t.ARN)
		f.Message += ": the policies allow delivery, but the trail's own delivery errors are not known"
		f.Evidence = ev
		return f
	}
	return Finding{Status: Pass, Account: acct, Resource: res, Evidence: ev,
		Message: fmt.Sprintf("CloudTrail can deliver account %s's logs for trail %s to %s", acct, t.ARN, prefix)}
}

// deliveryPolicyFix says how to let CloudTrail deliver for trail t: point
// the trail back at the config when it drifted, or add the statements.
func (e *env) deliveryPolicyFix(t *snapshot.Trail, withKey bool) []string {
	var out []string
	if t.S3KeyPrefix != e.c.KeyPrefix {
		out = append(out, fmt.Sprintf("the trail writes under prefix %q but the config says %q: point it back with %s\n(or set key_prefix: %q in trailwarden.yaml and regenerate the bucket policy)",
			t.S3KeyPrefix, e.c.KeyPrefix, updateTrail(t, "--s3-key-prefix "+orEmptyFlag(e.c.KeyPrefix)), t.S3KeyPrefix))
	}
	if t.KMSKeyID != "" && e.s.KeyFor(t.KMSKeyID) != e.s.KeyFor(e.c.KMSKeyARN) {
		if e.c.KMSKeyARN != "" {
			out = append(out, fmt.Sprintf("the trail encrypts with %s but the config names %s: %s", t.KMSKeyID, e.c.KMSKeyARN, updateTrail(t, "--kms-key-id "+e.c.KMSKeyARN)))
		} else {
			out = append(out, fmt.Sprintf("the trail encrypts with %s, which the config does not name: add the CloudTrail statements of `trailwarden policy key` to that key's policy (set kms_key_arn to it)", t.KMSKeyID))
		}
	}
	out = append(out, "add to the bucket policy:\n"+e.generatedBucketStatements(false))
	if withKey {
		out = append(out, "and to the key policy:\n"+e.generatedKeyStatements(false))
	}
	return out
}

func orEmptyFlag(s string) string {
	if s == "" {
		return `""`
	}
	return s
}

// logKeyFor is the log key a trail or bucket names.
func (e *env) logKeyFor(ref string) *logKey {
	keys := e.logKeys()
	arn := ref
	if k := e.s.KeyFor(ref); k != nil {
		arn = k.ARN
	}
	for i := range keys {
		if keys[i].arn == arn || keys[i].ref == ref {
			return &keys[i]
		}
	}
	return &logKey{ref: ref, arn: arn, key: e.s.KeyFor(ref), cloudTrail: true}
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// athenaCtx is the context of a reader's request: through Athena when the
// profile or config wants reads only through Athena.
func (e *env) athenaCtx(extra ...string) map[string][]string {
	ctx := map[string][]string{}
	if e.profile == config.ProfileAccelerate || e.c.Readers.AthenaOnly {
		ctx["aws:CalledVia"] = []string{athenaService}
	}
	for i := 0; i+1 < len(extra); i += 2 {
		ctx[extra[i]] = []string{extra[i+1]}
	}
	return ctx
}

// decryptCtx is the context of decrypting a log object encrypted with k
// through S3: CloudTrail's encryption context for a trail key, S3's alone
// for the bucket's default key.
func (e *env) decryptCtx(k *logKey, base map[string][]string) map[string][]string {
	ctx := map[string][]string{"kms:ViaService": {"s3." + e.c.EffectiveBucketRegion() + ".amazonaws.com"}}
	for a, b := range base {
		ctx[a] = b
	}
	if k.cloudTrail {
		ctx["kms:EncryptionContext:aws:cloudtrail:arn"] = []string{k.trailARN}
	} else {
		ctx["kms:EncryptionContext:aws:s3:arn"] = []string{e.c.BucketARN() + "/" + e.sampleLogKey(e.member())}
	}
	return ctx
}

// readerProbes are the reads a reader needs: a log object, the log prefix,
// the onboarding guide's configuration reads (accelerate), and decryption
// with every key that encrypts log objects.
func (e *env) readerProbes(bd *decider, kds []keyProbe) []probe {
	bucket := e.c.BucketARN()
	member := e.member()
	ps := []probe{
		{d: bd, action: "s3:GetObject", res: bucket + "/" + e.sampleLogKey(member), ctx: e.athenaCtx(), allow: true},
		{d: bd, action: "s3:ListBucket", res: bucket, ctx: e.athenaCtx("s3:prefix", e.logRoot()), allow: true},
	}
	if e.profile == config.ProfileAccelerate {
		for _, a := range onboardingConfigReads {
			ps = append(ps, probe{d: bd, action: a, res: bucket, allow: true})
		}
	}
	for _, kp := range kds {
		ps = append(ps, probe{d: kp.d, action: "kms:Decrypt", res: kp.k.arn, allow: true, ctx: e.decryptCtx(kp.k, e.athenaCtx())})
		if e.profile == config.ProfileAccelerate {
			ps = append(ps, probe{d: kp.d, action: "kms:DescribeKey", res: kp.k.arn, ctx: e.athenaCtx(), allow: true})
		}
	}
	return ps
}

// keyProbe is a log key with the decider of its policy.
type keyProbe struct {
	k *logKey
	d *decider
}

// keyDeciders returns a decider for every log key, or the findings of the
// keys that cannot be decided.
func (e *env) keyDeciders(orgLayers bool) ([]keyProbe, []Finding) {
	var out []keyProbe
	var fs []Finding
	keys := e.logKeys()
	for i := range keys {
		d, kfs := e.keyDecider(&keys[i], orgLayers)
		if kfs != nil {
			fs = append(fs, kfs...)
			continue
		}
		out = append(out, keyProbe{k: &keys[i], d: d})
	}
	return out, fs
}

// rolePattern is the reader pattern the profile audits ("" for none).
func (e *env) rolePattern() string {
	if e.c.Readers.RolePattern == "" && e.profile == config.ProfileAccelerate {
		return config.AccelerateRolePattern
	}
	return e.c.Readers.RolePattern
}

// checkReaders: every configured reader can actually read the logs, with
// the bucket policy, the policy of every key that encrypts log objects, the
// reader's own identity policies (when the snapshot has them), its
// account's SCPs and the resources' RCPs.
func checkReaders(e *env, _ *Rule) []Finding {
	if e.unsupportedByAccelerate() {
		return nil // TW-ORG-01 says why
	}
	bd, fs := e.bucketDecider(true)
	if fs != nil {
		return fs
	}
	kds, keyFs := e.keyDeciders(true)
	var roles []string
	roles = append(roles, e.c.Readers.Roles...)
	if p := e.rolePattern(); p != "" {
		roles = append(roles, e.patternRole(p, e.member()))
	}
	if e.profile != config.ProfileAccelerate && e.c.Readers.RoleName != "" {
		roles = append(roles, e.c.ReaderRoleARN())
	}
	var out []Finding
	for _, arn := range roles {
		acct := keyAccount(arn)
		c, err := e.roleCaller(arn, e.orgID() != "")
		if err != nil {
			out = append(out, cannotDecide(acct, arn, err))
			continue
		}
		note, missing, err := e.withIdentity(&c, arn)
		if err != nil {
			out = append(out, cannotDecide(acct, arn, err))
			continue
		}
		if missing != nil {
			out = append(out, *missing)
			continue
		}
		ps := e.readerProbes(bd, kds)
		ev, bad, results, err := runProbes(arn, c, ps)
		if err != nil {
			out = append(out, cannotDecide(acct, arn, err))
			continue
		}
		ev = append([]string{note}, ev...)
		if judged := judgedAllows(results); len(bad) > 0 && judged == len(bad) {
			out = append(out, Finding{Status: Unknown, Account: acct, Resource: arn, Evidence: ev,
				Message: fmt.Sprintf("cannot tell whether the reader can read the logs%s: %d of %d required requests are allowed only through a judgement call "+
					"(a case AWS's documentation does not settle; see docs/evaluator.md)", e.viaAthena(), judged, len(ps)),
				Remediation: "grant the reader by its own role ARN in the bucket and key policies (or let its permissions boundary allow the reads), " +
					"so that its access does not rest on a judgement call"})
			continue
		}
		if len(bad) > 0 {
			out = append(out, Finding{Status: Fail, Account: acct, Resource: arn, Evidence: ev,
				Message:     fmt.Sprintf("the reader cannot read the logs%s: %d of %d required requests denied", e.viaAthena(), len(bad), len(ps)),
				Remediation: e.readerFix(ps, results)})
			continue
		}
		if len(keyFs) > 0 {
			f := keyFs[0]
			f.Account, f.Resource = acct, arn
			f.Message += " (the reader's bucket reads are allowed; decryption with that key cannot be decided)"
			f.Evidence = ev
			out = append(out, f)
			continue
		}
		out = append(out, Finding{Status: Pass, Account: acct, Resource: arn, Evidence: ev, Message: "the reader can read the logs" + e.viaAthena() + e.keysNote(kds)})
	}
	return out
}

// keysNote names the keys the readers were checked against when there is
// more than one.
func (e *env) keysNote(kds []keyProbe) string {
	if len(kds) < 2 {
		return ""
	}
	return fmt.Sprintf(", and decrypt with all %d keys that encrypt log objects", len(kds))
}

func (e *env) viaAthena() string {
	if len(e.athenaCtx()) > 0 {
		return " through Athena"
	}
	return ""
}

// withIdentity replaces the assumed identity with the role's own policies
// when the snapshot has the role.
func (e *env) withIdentity(c *caller, arn string) (note string, missing *Finding, err error) {
	for _, r := range e.s.Readers {
		if r.ARN != arn {
			continue
		}
		if !r.Exists {
			return "", &Finding{Status: Fail, Account: r.Account, Resource: arn, Message: "the reader role does not exist",
				Evidence: []string{"readers[" + arn + "].exists = false"}, Remediation: e.createRoleFix(arn)}, nil
		}
		c.identity = nil
		c.id = "role " + arn
		for _, p := range append(append([]snapshot.NamedPolicy{}, r.Inline...), r.Attached...) {
			doc, err := parsePolicy("the identity policy "+p.Name+" of "+arn, p.Document)
			if err != nil {
				return "", nil, err
			}
			c.identity = append(c.identity, eval.Named{Name: p.Name, Doc: doc})
		}
		if r.Boundary != nil {
			doc, err := parsePolicy("the permissions boundary "+r.Boundary.Name+" of "+arn, r.Boundary.Document)
			if err != nil {
				return "", nil, err
			}
			c.boundary = &eval.Named{Name: "boundary " + r.Boundary.Name, Doc: doc}
		}
		return fmt.Sprintf("identity: %d inline and %d attached policies of %s from the snapshot", len(r.Inline), len(r.Attached), arn), nil, nil
	}
	return "identity: " + arn + " is not in the snapshot; its own policies are assumed to allow", nil, nil
}

func (e *env) createRoleFix(arn string) string {
	name := arn[strings.LastIndex(arn, "/")+1:]
	return fmt.Sprintf("trailwarden policy reader-trust --config trailwarden.yaml > trust.json && aws iam create-role --role-name %s --assume-role-policy-document file://trust.json\n"+
		"trailwarden policy reader-access --config trailwarden.yaml > access.json && aws iam put-role-policy --role-name %s --policy-name trailwarden-log-access --policy-document file://access.json", name, name)
}

// readerFix names the layer to change for each denied read: an SCP or RCP
// exception, the reader's identity policy, the bucket statements, or the
// policy of the key that denies (or, for AWS's managed key, another key).
func (e *env) readerFix(ps []probe, results []eval.Result) string {
	var fixes []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			fixes = append(fixes, s)
		}
	}
	for i, r := range results {
		if r.Decision == eval.Allowed {
			continue
		}
		switch r.BlockedBy {
		case eval.LayerSCP, eval.LayerRCP:
			add(fmt.Sprintf("the %s %s denies the read: exempt the readers in it, e.g. add to its Deny statement the condition \"ArnNotLike\": {\"aws:PrincipalArn\": [\"%s\"]}",
				strings.ToUpper(string(r.BlockedBy)), deciding(r), e.readerARNPattern()))
		case eval.LayerIdentity, eval.LayerBoundary:
			add("the reader's identity policy does not allow the read: trailwarden policy reader-access --config trailwarden.yaml prints the permissions to attach")
		default:
			if ps[i].d.kind == eval.KMSKey {
				add(e.keyReaderFix(ps[i].res))
				continue
			}
			if e.profile == config.ProfileAccelerate {
				add("add to the bucket policy:\n" + e.generatedBucketStatements(true))
			} else {
				add("regenerate the bucket policy: trailwarden policy bucket --config trailwarden.yaml --existing current-bucket-policy.json")
			}
		}
	}
	return strings.Join(fixes, "\n")
}

// keyReaderFix is the fix for a key whose policy does not let the readers
// decrypt.
func (e *env) keyReaderFix(arn string) string {
	k := e.logKeyFor(arn)
	if k.awsManaged() {
		return fmt.Sprintf("%s is AWS's managed key for S3, whose policy cannot be changed and never lets another account decrypt: "+
			"set the bucket's default encryption to a customer managed key readers may use: aws s3api put-bucket-encryption --bucket %s "+
			"--server-side-encryption-configuration '{\"Rules\":[{\"ApplyServerSideEncryptionByDefault\":{\"SSEAlgorithm\":\"aws:kms\",\"KMSMasterKeyID\":\"%s\"},\"BucketKeyEnabled\":true}]}'",
			k.describe(), e.c.Bucket, orPlaceholder(e.c.KMSKeyARN, "<customer managed key ARN>"))
	}
	if k.arn != e.c.KMSKeyARN && e.c.KMSKeyARN != "" {
		return fmt.Sprintf("the key %s does not let the readers decrypt: add to its policy the reader statements of the config's key:\n%s",
			k.describe(), e.generatedKeyStatements(e.profile == config.ProfileAccelerate))
	}
	if e.profile == config.ProfileAccelerate {
		return "add to the key policy of " + k.arn + ":\n" + e.generatedKeyStatements(true)
	}
	return "regenerate the key policy: trailwarden policy key --config trailwarden.yaml --existing current-key-policy.json"
}

func orPlaceholder(s, placeholder string) string {
	if s == "" {
		return placeholder
	}
	return s
}

func (e *env) readerARNPattern() string {
	if p := e.rolePattern(); p != "" {
		return fmt.Sprintf("arn:%s:iam::*:role/%s", e.partition(), p)
	}
	if len(e.c.Readers.Roles) > 0 {
		return e.c.Readers.Roles[0]
	}
	return e.c.ReaderRoleARN()
}
