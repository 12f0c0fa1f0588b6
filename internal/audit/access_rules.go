package audit

import (
	"fmt"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func parsePolicy(name, text string) (*policy.Document, error) {
	doc, err := policy.Parse([]byte(text))
	if err != nil {
		return nil, fmt.Errorf("policy %s: %w", name, err)
	}
	return doc, nil
}

const athenaService = "athena.amazonaws.com"

// seedConfigReads are the four bucket-configuration reads of seed 003.
var seedConfigReads = []string{"s3:GetBucketLogging", "s3:GetBucketObjectLockConfiguration", "s3:GetLifecycleConfiguration", "s3:GetEncryptionConfiguration"}

func (e *env) bucketDecider(orgLayers bool) (*decider, []Finding) {
	doc, fs := e.bucketPolicy()
	if fs != nil {
		return nil, fs
	}
	d := &decider{e: e, kind: eval.Generic, resAcct: e.c.LogArchiveAccount, orgLayers: orgLayers}
	if doc != nil {
		d.resource = &eval.Named{Name: "bucket policy", Doc: doc}
	}
	return d, nil
}

func (e *env) keyDecider(orgLayers bool) (*decider, []Finding) {
	_, doc, fs := e.key("GetKeyPolicy")
	if fs != nil {
		return nil, fs
	}
	d := &decider{e: e, kind: eval.KMSKey, resAcct: keyAccount(e.c.KMSKeyARN), orgLayers: orgLayers}
	if doc != nil {
		d.resource = &eval.Named{Name: "key policy", Doc: doc}
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

func errFinding(account, resource string, err error) []Finding {
	return []Finding{{Status: Unknown, Account: account, Resource: resource, Message: "cannot decide: " + err.Error()}}
}

// checkDelivery: the evaluator allows CloudTrail's ACL check and write for
// every delivering account (and its encryption, with SSE-KMS), over the
// live bucket and key policies with the RCPs of their accounts.
func checkDelivery(e *env, _ *Rule) []Finding {
	bd, fs := e.bucketDecider(true)
	if fs != nil {
		return fs
	}
	intents, err := proof.Intended(e.c, proof.TargetBucket)
	if err != nil {
		return errFinding(e.c.LogArchiveAccount, e.c.BucketARN(), err)
	}
	var kd *decider
	var keyIntents []proof.Intent
	var keyFs []Finding
	if e.c.KMSKeyARN != "" {
		if kd, keyFs = e.keyDecider(true); keyFs == nil {
			ki, err := proof.Intended(e.c, proof.TargetKey)
			if err != nil {
				return errFinding(keyAccount(e.c.KMSKeyARN), e.c.KMSKeyARN, err)
			}
			keyIntents = services(ki)
		}
	}
	var acls, puts []proof.Intent
	for _, in := range services(intents) {
		if strings.EqualFold(in.Request.Action, "s3:PutObject") {
			puts = append(puts, in)
		} else {
			acls = append(acls, in)
		}
	}
	var out []Finding
	for i, put := range puts {
		acct, prefix := e.splitLogKey(put.Request.Resource)
		res := e.c.BucketARN() + "/" + prefix
		if keyFs != nil {
			f := keyFs[0]
			f.Account, f.Resource = acct, res
			out = append(out, f)
			continue
		}
		var ps []probe
		if i < len(acls) {
			ps = append(ps, probe{d: bd, action: acls[i].Request.Action, res: acls[i].Request.Resource, ctx: acls[i].Request.Context, allow: true})
		}
		ps = append(ps, probe{d: bd, action: put.Request.Action, res: put.Request.Resource, ctx: put.Request.Context, allow: true})
		if kd != nil && i < len(keyIntents) {
			k := keyIntents[i].Request
			ps = append(ps, probe{d: kd, action: k.Action, res: k.Resource, ctx: k.Context, allow: true})
		}
		ev, bad, _, err := runProbes("cloudtrail.amazonaws.com", caller{p: put.Request.Principal}, ps)
		if err != nil {
			out = append(out, errFinding(acct, res, err)...)
			continue
		}
		if len(bad) == 0 {
			out = append(out, Finding{Status: Pass, Account: acct, Resource: res, Evidence: ev,
				Message: "CloudTrail can deliver account " + acct + "'s logs to " + prefix})
			continue
		}
		fix := "add to the bucket policy:\n" + e.generatedBucketStatements(false)
		if kd != nil {
			fix += "\nand to the key policy:\n" + e.generatedKeyStatements(false)
		}
		out = append(out, Finding{Status: Fail, Account: acct, Resource: res, Evidence: ev, Remediation: fix,
			Message: fmt.Sprintf("CloudTrail cannot deliver account %s's logs: %d of %d required requests denied", acct, len(bad), len(ps))})
	}
	return out
}

func services(in []proof.Intent) []proof.Intent {
	var out []proof.Intent
	for _, i := range in {
		if i.Request.Principal.Kind == eval.KindService {
			out = append(out, i)
		}
	}
	return out
}

// splitLogKey returns the account of a log object key's ARN and its
// prefix up to and including the account ("org/AWSLogs/o-x/333.../").
func (e *env) splitLogKey(objectARN string) (account, prefix string) {
	key := strings.TrimPrefix(objectARN, e.c.BucketARN()+"/")
	rest := strings.TrimPrefix(key, e.logRoot())
	parts := strings.Split(rest, "/")
	n := 1
	if len(parts) > 1 && strings.HasPrefix(parts[0], "o-") {
		n = 2
	}
	if len(parts) < n {
		return "", key
	}
	return parts[n-1], e.logRoot() + strings.Join(parts[:n], "/") + "/"
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

// readerProbes are the reads a reader needs: a log object, the log prefix,
// seed 003's configuration reads (accelerate), and decryption.
func (e *env) readerProbes(bd, kd *decider) []probe {
	bucket := e.c.BucketARN()
	member := e.member()
	ps := []probe{
		{d: bd, action: "s3:GetObject", res: bucket + "/" + e.sampleLogKey(member), ctx: e.athenaCtx(), allow: true},
		{d: bd, action: "s3:ListBucket", res: bucket, ctx: e.athenaCtx("s3:prefix", e.logRoot()), allow: true},
	}
	if e.profile == config.ProfileAccelerate {
		for _, a := range seedConfigReads {
			ps = append(ps, probe{d: bd, action: a, res: bucket, allow: true})
		}
	}
	if kd != nil {
		ps = append(ps, probe{d: kd, action: "kms:Decrypt", res: e.c.KMSKeyARN, allow: true,
			ctx: e.athenaCtx("kms:ViaService", "s3."+e.c.EffectiveBucketRegion()+".amazonaws.com",
				"kms:EncryptionContext:aws:cloudtrail:arn", e.expectedTrailARN(member))})
		if e.profile == config.ProfileAccelerate {
			ps = append(ps, probe{d: kd, action: "kms:DescribeKey", res: e.c.KMSKeyARN, ctx: e.athenaCtx(), allow: true})
		}
	}
	return ps
}

// rolePattern is the reader pattern the profile audits ("" for none).
func (e *env) rolePattern() string {
	if e.c.Readers.RolePattern == "" && e.profile == config.ProfileAccelerate {
		return config.AccelerateRolePattern
	}
	return e.c.Readers.RolePattern
}

// checkReaders: every configured reader can actually read the logs, with
// the bucket policy, key policy, the reader's own identity policies (when
// the snapshot has them), its account's SCPs and the resources' RCPs.
func checkReaders(e *env, _ *Rule) []Finding {
	bd, fs := e.bucketDecider(true)
	if fs != nil {
		return fs
	}
	var kd *decider
	if e.c.KMSKeyARN != "" {
		if kd, fs = e.keyDecider(true); fs != nil {
			return fs
		}
	}
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
		c, err := e.roleCaller(arn, e.c.OrganizationID != "")
		if err != nil {
			out = append(out, errFinding(acct, arn, err)...)
			continue
		}
		note, missing, err := e.withIdentity(&c, arn)
		if err != nil {
			out = append(out, errFinding(acct, arn, err)...)
			continue
		}
		if missing != nil {
			out = append(out, *missing)
			continue
		}
		ps := e.readerProbes(bd, kd)
		ev, bad, results, err := runProbes(arn, c, ps)
		if err != nil {
			out = append(out, errFinding(acct, arn, err)...)
			continue
		}
		ev = append([]string{note}, ev...)
		if len(bad) == 0 {
			out = append(out, Finding{Status: Pass, Account: acct, Resource: arn, Evidence: ev, Message: "the reader can read the logs" + e.viaAthena()})
			continue
		}
		if judged := judgedAllows(results); judged == len(bad) {
			out = append(out, Finding{Status: Unknown, Account: acct, Resource: arn, Evidence: ev,
				Message: fmt.Sprintf("cannot tell whether the reader can read the logs%s: %d of %d required requests are allowed only through a judgement call "+
					"(a case AWS's documentation does not settle; see docs/evaluator.md)", e.viaAthena(), judged, len(ps)),
				Remediation: "grant the reader by its own role ARN in the bucket and key policies (or let its permissions boundary allow the reads), " +
					"so that its access does not rest on a judgement call"})
			continue
		}
		out = append(out, Finding{Status: Fail, Account: acct, Resource: arn, Evidence: ev,
			Message:     fmt.Sprintf("the reader cannot read the logs%s: %d of %d required requests denied", e.viaAthena(), len(bad), len(ps)),
			Remediation: e.readerFix(results)})
	}
	return out
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
		for _, p := range append(append([]snapshot.NamedPolicy{}, r.Inline...), r.Attached...) {
			doc, err := parsePolicy(p.Name, p.Document)
			if err != nil {
				return "", nil, err
			}
			c.identity = append(c.identity, eval.Named{Name: p.Name, Doc: doc})
		}
		if r.Boundary != nil {
			doc, err := parsePolicy(r.Boundary.Name, r.Boundary.Document)
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

// readerFix names the layer to change: an SCP or RCP exception, the
// reader's identity policy, or the bucket and key statements.
func (e *env) readerFix(results []eval.Result) string {
	var fixes []string
	seen := map[string]bool{}
	add := func(s string) {
		if !seen[s] {
			seen[s] = true
			fixes = append(fixes, s)
		}
	}
	for _, r := range results {
		switch r.BlockedBy {
		case eval.LayerSCP, eval.LayerRCP:
			add(fmt.Sprintf("the %s %s denies the read: exempt the readers in it, e.g. add to its Deny statement the condition \"ArnNotLike\": {\"aws:PrincipalArn\": [\"%s\"]}",
				strings.ToUpper(string(r.BlockedBy)), deciding(r), e.readerARNPattern()))
		case eval.LayerIdentity, eval.LayerBoundary:
			add("the reader's identity policy does not allow the read: trailwarden policy reader-access --config trailwarden.yaml prints the permissions to attach")
		case eval.LayerResource:
			if e.profile == config.ProfileAccelerate {
				add("add to the bucket policy:\n" + e.generatedBucketStatements(true))
				if e.c.KMSKeyARN != "" {
					add("add to the key policy:\n" + e.generatedKeyStatements(true))
				}
			} else {
				add("regenerate the bucket and key policies: trailwarden policy bucket --config trailwarden.yaml --existing current-bucket-policy.json; trailwarden policy key --config trailwarden.yaml --existing current-key-policy.json")
			}
		}
	}
	return strings.Join(fixes, "\n")
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
