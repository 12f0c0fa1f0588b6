package difftest

import (
	"slices"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
)

// repro is a minimal case for one known difference, written from the AWS
// documentation sentence the class cites.
type repro struct {
	class       string
	set         *policySet
	req         eval.Request
	trailwarden eval.Decision
	oracle      eval.Decision
}

func identityOnly(docs ...string) *policySet {
	ps := &policySet{kind: eval.Generic}
	for _, d := range docs {
		ps.identity = append(ps.identity, fromJSON(d))
	}
	return ps
}

func withResource(ps *policySet, d string) *policySet {
	r := fromJSON(d)
	ps.resource = &r
	return ps
}

// reproductions pins every known difference with its smallest case, so that
// the data file cannot outlive the behaviour it describes: an oracle upgrade
// that fixes a defect, or a trailwarden change, fails TestKnownDifferences.
func reproductions() []repro {
	alice := mustPrincipal(aliceARN)
	dev := roleSession(devRole, "s1", orgA)
	dev.Tags = map[string]string{"team": "red"}
	devRoleP := mustPrincipal(devRole)
	fed, err := mustPrincipal(fedUser).WithIssuer(aliceARN)
	if err != nil {
		panic(err)
	}
	const obj = "arn:aws:s3:::bkt/data/report.csv"
	get := func(p eval.Principal, ctx map[string][]string) eval.Request {
		return eval.Request{Principal: p, Action: "s3:GetObject", Resource: obj, ResourceAccount: acctA, Context: ctx}
	}
	allowGet := func(cond string) string {
		return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"` + cond + `}]}`
	}
	key := "arn:aws:kms:us-east-1:" + acctA + ":key/" + keyID
	trail := "arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/t"
	keyPolicy := &policySet{kind: eval.KMSKey}
	kp := fromJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + devRole + `"},
	  "Action":"kms:Decrypt","Resource":"*","Condition":{"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:` + acctA + `:trail/*"}}}]}`)
	keyPolicy.resource = &kp
	boundary := fromJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)
	session := fromJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}`)
	sessionGrant := withResource(&policySet{kind: eval.Generic, session: &session},
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"`+devSess+`"},"Action":"s3:GetObject","Resource":"*"}]}`)
	notPrincipalGrant := withResource(&policySet{kind: eval.Generic, boundary: &boundary},
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"`+bobARN+`"},"Action":"s3:GetObject","Resource":"*"}]}`)
	denyAllButAccount := withResource(identityOnly(allowGet("")),
		`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","NotPrincipal":{"AWS":"`+rootA+`"},"Action":"s3:*","Resource":"*"}]}`)
	allowAllButAccount := withResource(&policySet{kind: eval.Generic},
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"`+rootA+`"},"Action":"s3:GetObject","Resource":"*"}]}`)
	starGrant := withResource(&policySet{kind: eval.Generic, session: &session},
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}]}`)
	starGrantByArn := withResource(&policySet{kind: eval.Generic, session: &session},
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*",
		  "Condition":{"ArnEquals":{"aws:PrincipalArn":"`+devRole+`"}}}]}`)
	scp := &policySet{kind: eval.Generic, scps: [][]doc{{mustJSON(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"*","Resource":"*"}]}`)}}}
	scp = withResource(scp, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"*"}]}`)

	return []repro{
		{"oracle-defect-2-encryption-context", keyPolicy,
			eval.Request{Principal: dev, Action: "kms:Decrypt", Resource: key, ResourceAccount: acctA,
				Context: map[string][]string{"kms:EncryptionContext:aws:cloudtrail:arn": {trail}}},
			eval.Allowed, eval.ImplicitlyDenied},
		{"oracle-defect-5-ignored-key", identityOnly(allowGet(`,"Condition":{"StringEquals":{"s3:x-amz-acl":"private"}}`)),
			get(alice, map[string][]string{"s3:x-amz-acl": {"private"}}), eval.Allowed, eval.ImplicitlyDenied},
		{"unknown-operator", identityOnly(`{"Version":"2012-10-17","Statement":[
		   {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"StringEqualz":{"aws:username":"alice"}}},
		   {"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`),
			get(alice, nil), "", eval.Allowed},
		{"policy-variables-version-2008", identityOnly(`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::bkt/${aws:username}/*"}]}`),
			eval.Request{Principal: alice, Action: "s3:GetObject", Resource: "arn:aws:s3:::bkt/alice/x", ResourceAccount: acctA},
			eval.ImplicitlyDenied, eval.Allowed},
		{"oracle-defect-1-arn-variable", identityOnly(allowGet(`,"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:cloudtrail:*:${aws:SourceAccount}:trail/*"}}`)),
			get(alice, map[string][]string{"aws:SourceAccount": {acctA}, "aws:SourceArn": {trail}}), eval.Allowed, eval.ImplicitlyDenied},
		{"oracle-notprincipal-deny-names-account", denyAllButAccount, get(alice, nil), eval.ExplicitlyDenied, eval.Allowed},
		{"judgement-notprincipal-partial-chain", allowAllButAccount, get(alice, nil), eval.Allowed, eval.ImplicitlyDenied},
		{"federated-user-without-session-policy", identityOnly(allowGet("")), get(fed, nil), eval.ImplicitlyDenied, eval.Allowed},
		{"oracle-session-policy-limits-session-grant", sessionGrant, get(dev, nil), eval.Allowed, eval.ImplicitlyDenied},
		{"oracle-session-policy-limits-principalarn-grant", starGrantByArn, get(dev, nil), eval.Allowed, eval.ImplicitlyDenied},
		{"judgement-wildcard-grant-session-policy", starGrant, get(dev, nil), eval.Allowed, eval.ImplicitlyDenied},
		{"judgement-role-caller-notprincipal-grant", notPrincipalGrant, get(devRoleP, nil), eval.Allowed, eval.ImplicitlyDenied},
		{"oracle-notipaddress-bare-address-family", identityOnly(allowGet(`,"Condition":{"NotIpAddress":{"aws:SourceIp":"203.0.113.7"}}`)),
			get(alice, map[string][]string{"aws:SourceIp": {"2001:db8::1"}}), eval.Allowed, eval.ImplicitlyDenied},
		{"oracle-foranyvalue-ifexists", identityOnly(allowGet(`,"Condition":{"ForAnyValue:StringEqualsIfExists":{"aws:CalledVia":"athena.amazonaws.com"}}`)),
			get(alice, nil), eval.Allowed, eval.ImplicitlyDenied},
		{"negated-arn-condition-unresolved-variable", identityOnly(allowGet(`,"Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::222222222222:user/${aws:username}"}}`)),
			get(dev, nil), eval.ImplicitlyDenied, eval.Allowed},
		// Adapted inputs: both must agree.
		{"root-user-full-access", &policySet{kind: eval.Generic}, get(mustPrincipal(rootA), nil), eval.Allowed, eval.Allowed},
		{"oracle-defect-4-scp-service-principal", scp,
			eval.Request{Principal: mustPrincipal(cloudtrailSvc), Action: "s3:PutObject", Resource: obj, ResourceAccount: acctA},
			eval.Allowed, eval.Allowed},
	}
}

// TestKnownDifferences checks that every class of known_differences.yaml
// still reproduces on its minimal case and that the classification assigns
// that case to exactly that class.
func TestKnownDifferences(t *testing.T) {
	known := loadKnown(t)
	o := startOracle(t)
	rs := reproductions()
	seen := map[string]bool{}
	var cases []*tcase
	for _, r := range rs {
		seen[r.class] = true
		cases = append(cases, &tcase{id: "repro/" + r.class, source: "repro", set: r.set, req: r.req})
	}
	for _, c := range known.Classes {
		if !seen[c.ID] {
			t.Errorf("class %s has no reproduction", c.ID)
		}
	}
	kinds := map[string]knownClass{}
	for _, c := range known.Classes {
		kinds[c.ID] = c
	}
	vs := compare(t, o, cases, known)
	for i, v := range vs {
		r := rs[i]
		tw := v.tw.Decision
		if v.twErr != nil {
			tw = ""
		}
		want := r.class
		if r.trailwarden == r.oracle {
			want = classAgree
			if !rules[r.class].adapted(v.c) {
				t.Errorf("%s: the adapted rule does not recognize its case", r.class)
			}
		}
		if tw != r.trailwarden || eval.Decision(v.ans.Decision) != r.oracle || v.class != want {
			t.Errorf("%s: trailwarden %q (want %q), oracle %q (want %q), class %q (want %q)\n%s",
				r.class, tw, r.trailwarden, v.ans.Decision, r.oracle, v.class, want, v.printout())
		}
		// A judgement-call class is one where trailwarden says its decision
		// rests on that judgement, and the oracle decides as the other
		// reading would.
		var judged []string
		for _, j := range v.tw.Judgements {
			judged = append(judged, j.ID)
			if j.Otherwise != eval.Decision(v.ans.Decision) {
				t.Errorf("%s: judgement %s would otherwise decide %s, the oracle decides %s", r.class, j.ID, j.Otherwise, v.ans.Decision)
			}
		}
		if jc := kinds[r.class]; jc.Kind == "judgement-call" && !slices.Contains(judged, jc.Judgement) {
			t.Errorf("%s: trailwarden's result rests on judgements %v, want %s\n%s", r.class, judged, jc.Judgement, v.printout())
		} else if jc.Kind != "judgement-call" && len(judged) > 0 {
			t.Errorf("%s: trailwarden's result rests on judgements %v, but the class is %s", r.class, judged, jc.Kind)
		}
	}
}
