package difftest

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"strings"

	"github.com/trailwarden/trailwarden/internal/eval"
)

// The random source: seeded, so every run builds the same cases.
const (
	randomSeed     = 20260101
	randomSets     = 1500 // policy sets; each is asked requestsPerSet requests
	requestsPerSet = 12
)

// The random world: account A holds the callers, B the resources (or A for
// same-account cases), C is a foreign organization.
const (
	acctA = "111111111111"
	acctB = "222222222222"
	acctC = "333333333333"
	orgA  = "o-aaaaaaaaaa"
	orgC  = "o-cccccccccc"
	keyID = "1234abcd-12ab-34cd-56ef-1234567890ab"
)

var (
	aliceARN = "arn:aws:iam::" + acctA + ":user/alice"
	bobARN   = "arn:aws:iam::" + acctB + ":user/bob"
	carolARN = "arn:aws:iam::" + acctC + ":user/carol"
	devRole  = "arn:aws:iam::" + acctA + ":role/Dev"
	opsRole  = "arn:aws:iam::" + acctA + ":role/team/Ops" // a role with a path
	devSess  = "arn:aws:sts::" + acctA + ":assumed-role/Dev/s1"
	opsSess  = "arn:aws:sts::" + acctA + ":assumed-role/Ops/s2"
	bSess    = "arn:aws:sts::" + acctB + ":assumed-role/Reader/s3"
	// The federated user is named after the IAM user that federated: the
	// oracle derives that user from the name (trailwarden is told it).
	fedUser  = "arn:aws:sts::" + acctA + ":federated-user/alice"
	rootA    = "arn:aws:iam::" + acctA + ":root"
	rootB    = "arn:aws:iam::" + acctB + ":root"
	orgPathA = orgA + "/r-ab12/ou-ab12-11111111/"
)

// randomCallers are the principals of the random world.
func randomCallers() []eval.Principal {
	alice := mustPrincipal(aliceARN)
	alice.OrgID, alice.OrgPaths, alice.Tags = orgA, []string{orgPathA}, map[string]string{"team": "red", "env": "prod"}
	bob := mustPrincipal(bobARN)
	bob.OrgID, bob.OrgPaths, bob.Tags = orgA, []string{orgA + "/r-ab12/ou-ab12-22222222/"}, map[string]string{"team": "blue"}
	carol := mustPrincipal(carolARN)
	carol.OrgID, carol.Tags = orgC, map[string]string{"team": "red"}
	dev := roleSession(devRole, "s1", orgA)
	dev.OrgPaths, dev.Tags = []string{orgPathA}, map[string]string{"team": "red"}
	ops := roleSession(opsRole, "s2", orgA)
	ops.Tags = map[string]string{"team": "blue", "env": "dev"}
	devRoleP := mustPrincipal(devRole)
	devRoleP.OrgID = orgA
	b := roleSession("arn:aws:iam::"+acctB+":role/Reader", "s3", orgA)
	fed := mustPrincipal(fedUser)
	fed, err := fed.WithIssuer(aliceARN)
	if err != nil {
		panic(err)
	}
	fed.OrgID = orgA
	root := mustPrincipal(rootA)
	root.OrgID = orgA
	return []eval.Principal{alice, bob, carol, dev, ops, devRoleP, b, fed, root,
		mustPrincipal(cloudtrailSvc), mustPrincipal("anonymous")}
}

// resourceKind groups the resources of a policy set.
type resourceKind int

const (
	resS3 resourceKind = iota
	resKMS
	resRole
)

// target is one resource with the actions that take it.
type target struct {
	arn     string
	actions []string
}

func targetsFor(k resourceKind, owner string) []target {
	switch k {
	case resKMS:
		return []target{
			{"arn:aws:kms:us-east-1:" + owner + ":key/" + keyID, []string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:ScheduleKeyDeletion"}},
		}
	case resRole:
		return []target{{"arn:aws:iam::" + owner + ":role/Target", []string{"sts:AssumeRole", "sts:TagSession"}}}
	}
	obj := []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
	return []target{
		{"arn:aws:s3:::bkt/data/report.csv", obj},
		{"arn:aws:s3:::bkt/logs/alice/app.log", obj},
		{"arn:aws:s3:::bkt/AWSLogs/" + acctA + "/x.json.gz", obj},
		{"arn:aws:s3:::bkt", []string{"s3:ListBucket", "s3:GetBucketAcl", "s3:GetBucketLocation", "s3:PutBucketPolicy"}},
	}
}

// Policy vocabulary.
var (
	actionPatterns = map[resourceKind][]string{
		resS3: {"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:*", "s3:Get*", "s3:*Object", "s3:List*",
			"S3:getobject", "s3:?etObject", "s3:GetBucket*", "s3:DeleteObject", "*", "ec2:*", "kms:Decrypt"},
		resKMS:  {"kms:Decrypt", "kms:*", "kms:Encrypt", "kms:GenerateDataKey*", "kms:Describe*", "KMS:decrypt", "*", "s3:*"},
		resRole: {"sts:AssumeRole", "sts:*", "sts:TagSession", "sts:Assume*", "*", "s3:GetObject"},
	}
	resourcePatterns = map[resourceKind][]string{
		resS3: {"*", "arn:aws:s3:::bkt", "arn:aws:s3:::bkt/*", "arn:aws:s3:::bkt/data/*", "arn:aws:s3:::*/logs/*",
			"arn:aws:s3:::b?t/*", "arn:aws:s3:::bkt/logs/${aws:username}/*", "arn:aws:s3:::bkt/AWSLogs/${aws:PrincipalAccount}/*",
			"arn:aws:s3:::bkt/logs/${aws:PrincipalTag/owner, 'alice'}/*", "arn:aws:s3:::other/*", "arn:aws:s3:::BKT/*"},
		resKMS: {"*", "arn:aws:kms:*:" + acctB + ":key/*", "arn:aws:kms:us-east-1:*:key/" + keyID, "arn:aws:kms:*:*:alias/*",
			"arn:aws:kms:us-east-1:" + acctA + ":key/*"},
		resRole: {"*", "arn:aws:iam::*:role/Target", "arn:aws:iam::" + acctB + ":role/*", "arn:aws:iam::" + acctA + ":role/Target"},
	}
	awsPrincipals = []string{"*", acctA, acctB, rootA, rootB, aliceARN, bobARN, carolARN, devRole, opsRole, devSess,
		opsSess, bSess, fedUser, "arn:aws:iam::" + acctB + ":role/Reader"}
)

// keySpec describes a condition key: its family, the policy values to draw
// from, and the request values (for keys the request context carries; keys
// derived from the principal have none).
type keySpec struct {
	key     string
	family  string // string, arn, numeric, date, bool, ip
	multi   bool
	policy  []string
	request []string
	onlyFor string // action prefix the key belongs to ("" = global)
}

var keySpecs = []keySpec{
	{key: "aws:username", family: "string", policy: []string{"alice", "bob", "Alice", "al*", "*", "${aws:PrincipalTag/team}"}},
	{key: "aws:PrincipalTag/team", family: "string", policy: []string{"red", "blue", "r?d", "RED", "${aws:username}", "${aws:PrincipalTag/env, 'red'}"}},
	{key: "aws:PrincipalAccount", family: "string", policy: []string{acctA, acctB, "1111*", "${aws:ResourceAccount}"}},
	{key: "aws:ResourceAccount", family: "string", policy: []string{acctA, acctB, "${aws:PrincipalAccount}"}},
	{key: "aws:PrincipalOrgID", family: "string", policy: []string{orgA, orgC, "o-a*", "O-AAAAAAAAAA"}},
	{key: "aws:PrincipalType", family: "string", policy: []string{"User", "AssumedRole", "Account", "FederatedUser", "Anonymous"}},
	{key: "aws:userid", family: "string", policy: []string{"alice", "Dev:*", "*:s1", acctA}},
	{key: "aws:PrincipalServiceName", family: "string", policy: []string{cloudtrailSvc, "*.amazonaws.com"}},
	{key: "aws:SourceAccount", family: "string", policy: []string{acctA, acctB, "${aws:ResourceAccount}"}, request: []string{acctA, acctB}},
	{key: "aws:SourceOrgID", family: "string", policy: []string{orgA, orgC}, request: []string{orgA, orgC}},
	{key: "s3:prefix", family: "string", policy: []string{"data/", "logs/*", "", "logs/${aws:username}/*"}, request: []string{"data/", "logs/alice/", "logs/bob/", ""}, onlyFor: "s3:ListBucket"},
	{key: "s3:x-amz-acl", family: "string", policy: []string{"bucket-owner-full-control", "private"}, request: []string{"bucket-owner-full-control", "private", "public-read"}, onlyFor: "s3:PutObject"},
	{key: "sts:ExternalId", family: "string", policy: []string{"ext-123", "EXT-*"}, request: []string{"ext-123", "ext-999"}, onlyFor: "sts:"},
	{key: "kms:ViaService", family: "string", policy: []string{"s3.us-east-1.amazonaws.com", "s3.*.amazonaws.com"}, request: []string{"s3.us-east-1.amazonaws.com", "ec2.us-east-1.amazonaws.com"}, onlyFor: "kms:"},
	{key: "kms:CallerAccount", family: "string", policy: []string{acctA, acctB}},
	{key: "kms:EncryptionContext:aws:cloudtrail:arn", family: "string", policy: []string{"arn:aws:cloudtrail:*:" + acctA + ":trail/*", "arn:aws:cloudtrail:us-east-1:" + acctB + ":trail/t"},
		request: []string{"arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/t", "arn:aws:cloudtrail:us-east-1:" + acctB + ":trail/t"}, onlyFor: "kms:"},
	{key: "aws:PrincipalArn", family: "arn", policy: []string{devRole, "arn:aws:iam::*:role/Dev", "arn:aws:iam::" + acctA + ":*", aliceARN,
		"arn:aws:iam::${aws:PrincipalAccount}:role/*", "arn:aws:iam::" + acctA + ":user/${aws:username}", opsRole, "arn:aws:iam::*:role/team/*", "arn:aws:iam::*:root",
		// Five components: ARN operators compare six, so it matches no ARN.
		"arn:aws:iam::*"}},
	{key: "aws:SourceArn", family: "arn", policy: []string{"arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/t", "arn:aws:cloudtrail:*:${aws:SourceAccount}:trail/*",
		"arn:aws:cloudtrail:*:" + acctA + ":trail/*", "arn:aws:cloudtrail:us-east-1:*:trail/t-${aws:SourceAccount}"},
		request: []string{"arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/t", "arn:aws:cloudtrail:us-east-1:" + acctB + ":trail/t",
			"arn:aws:cloudtrail:us-east-1:" + acctA + ":trail/t-" + acctA}},
	{key: "aws:MultiFactorAuthAge", family: "numeric", policy: []string{"300", "3600", "0", "3600.5", "-1"}, request: []string{"100", "3600", "7200", "0.5"}},
	{key: "aws:CurrentTime", family: "date", policy: []string{"2026-01-01T00:00:00Z", "2025-06-01", "2026-03-15T12:00:00+01:00"},
		request: []string{"2026-01-01T00:00:00Z", "2026-03-15T11:00:00Z", "2024-12-31T23:59:59Z"}},
	{key: "aws:TokenIssueTime", family: "date", policy: []string{"2026-01-01T00:00:00Z", "2025-12-31T23:00:00Z"}, request: []string{"2026-01-01T00:00:00Z", "2025-01-01T00:00:00Z"}},
	{key: "aws:SecureTransport", family: "bool", policy: []string{"true", "false"}, request: []string{"true", "false"}},
	{key: "aws:MultiFactorAuthPresent", family: "bool", policy: []string{"true", "false"}, request: []string{"true", "false"}},
	{key: "aws:ViaAWSService", family: "bool", policy: []string{"true", "false"}},
	{key: "aws:PrincipalIsAWSService", family: "bool", policy: []string{"true", "false"}},
	{key: "aws:SourceIp", family: "ip", policy: []string{"10.0.0.0/8", "192.0.2.0/24", "203.0.113.7", "2001:db8::/32"},
		request: []string{"10.1.2.3", "192.0.2.10", "198.51.100.1", "2001:db8::1"}},
	{key: "aws:CalledVia", family: "string", multi: true, policy: []string{athena, glue, "*.amazonaws.com"}, request: []string{athena, glue}},
	{key: "aws:PrincipalOrgPaths", family: "string", multi: true, policy: []string{orgPathA, orgA + "/*", orgA + "/r-ab12/ou-ab12-2*"}},
	{key: "aws:TagKeys", family: "string", multi: true, policy: []string{"team", "env", "t*"}, request: []string{"team", "env", "cost"}},
}

var operatorsByFamily = map[string][]string{
	"string":  {"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"},
	"arn":     {"ArnLike", "ArnEquals", "ArnNotLike", "ArnNotEquals", "StringLike", "StringEquals"},
	"numeric": {"NumericEquals", "NumericNotEquals", "NumericLessThan", "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals"},
	"date":    {"DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals", "DateGreaterThan", "DateGreaterThanEquals"},
	"bool":    {"Bool"},
	"ip":      {"IpAddress", "NotIpAddress"},
}

// unknownOperators are misspellings AWS rejects.
var unknownOperators = []string{"StringEqualz", "NumericEq", "ArnLikeIfExist", "BoolIfExist"}

type gen struct {
	r *rand.Rand
}

func (g *gen) pick(xs []string) string { return xs[g.r.Intn(len(xs))] }
func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }

// some returns 1..max distinct picks, as a JSON string or list.
func (g *gen) some(xs []string, maxN int) any {
	n := 1 + g.r.Intn(maxN)
	var out []string
	for range n {
		x := g.pick(xs)
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	if len(out) == 1 && g.chance(0.6) {
		return out[0]
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// layer is where a random policy goes; it decides the allowed elements.
type layer int

const (
	lIdentity layer = iota
	lResource
	lSCP
	lRCP
)

// condition returns one random Condition block.
func (g *gen) condition(l layer, unknownOp bool) map[string]any {
	block := map[string]any{}
	n := 1 + g.r.Intn(2)
	for range n {
		ks := keySpecs[g.r.Intn(len(keySpecs))]
		var op string
		if g.chance(0.12) {
			op = "Null"
		} else {
			op = g.pick(operatorsByFamily[ks.family])
			switch {
			case ks.multi && g.chance(0.85):
				op = g.pick([]string{"ForAnyValue:", "ForAllValues:"}) + op
			case !ks.multi && g.chance(0.08):
				op = g.pick([]string{"ForAnyValue:", "ForAllValues:"}) + op
			}
			if g.chance(0.2) {
				op += "IfExists"
			}
		}
		if unknownOp {
			op, unknownOp = g.pick(unknownOperators), false
		}
		var val any
		switch {
		case op == "Null":
			val = g.pick([]string{"true", "false"})
		case ks.family == "bool" && g.chance(0.3):
			val = g.chance(0.5) // a JSON boolean
		default:
			vals := ks.policy
			if !strings.Contains(op, "Like") && !strings.HasPrefix(strings.TrimPrefix(strings.TrimPrefix(op, "ForAnyValue:"), "ForAllValues:"), "Arn") {
				// Wildcards are literal outside Like/Arn operators; keep them rare.
				vals = filter(vals, func(v string) bool { return !strings.ContainsAny(v, "*?") || g.chance(0.2) })
				if len(vals) == 0 {
					vals = ks.policy
				}
			}
			if ks.family == "numeric" || ks.family == "date" || ks.family == "ip" {
				vals = filter(vals, func(v string) bool { return !strings.Contains(v, "${") })
			}
			val = g.some(vals, 2)
		}
		inner, _ := block[op].(map[string]any)
		if inner == nil {
			inner = map[string]any{}
			block[op] = inner
		}
		inner[ks.key] = val
	}
	return block
}

func filter(xs []string, keep func(string) bool) []string {
	var out []string
	for _, x := range xs {
		if keep(x) {
			out = append(out, x)
		}
	}
	return out
}

// statement returns one random statement for layer l over resources of kind k.
func (g *gen) statement(l layer, k resourceKind, unknownOp bool) map[string]any {
	st := map[string]any{}
	switch {
	case l == lRCP:
		st["Effect"] = "Deny"
	case l == lSCP && g.chance(0.5):
		st["Effect"] = "Deny"
	case g.chance(0.2):
		st["Effect"] = "Deny"
	default:
		st["Effect"] = "Allow"
	}
	if g.chance(0.3) {
		st["Sid"] = fmt.Sprintf("S%d", g.r.Intn(100))
	}
	switch l {
	case lResource:
		var p any
		switch x := g.r.Float64(); {
		case x < 0.15:
			p = "*"
		case x < 0.25:
			p = map[string]any{"Service": cloudtrailSvc}
		default:
			p = map[string]any{"AWS": g.some(awsPrincipals, 2)}
		}
		if g.chance(0.1) {
			// NotPrincipal, with the account listed too most of the time, as
			// the AWS documentation recommends.
			arns := []string{g.pick(awsPrincipals[5:])}
			if g.chance(0.7) {
				arns = append(arns, rootA)
			}
			st["NotPrincipal"] = map[string]any{"AWS": arns}
		} else {
			st["Principal"] = p
		}
	case lRCP:
		st["Principal"] = "*"
	}
	actions := actionPatterns[k]
	if l == lRCP {
		actions = filter(actions, func(a string) bool { return a != "*" })
	}
	if l != lRCP && g.chance(0.1) {
		st["NotAction"] = g.some(actions, 2)
	} else {
		st["Action"] = g.some(actions, 2)
	}
	if k != resRole || l != lResource { // trust policies have no Resource
		if g.chance(0.1) {
			st["NotResource"] = g.some(resourcePatterns[k], 2)
		} else {
			st["Resource"] = g.some(resourcePatterns[k], 2)
		}
	}
	if unknownOp || g.chance(0.45) {
		st["Condition"] = g.condition(l, unknownOp)
	}
	return st
}

func (g *gen) policy(l layer, k resourceKind, unknownOp bool) doc {
	n := 1 + g.r.Intn(3)
	var stmts []any
	for i := range n {
		stmts = append(stmts, g.statement(l, k, unknownOp && i == 0))
	}
	if (l == lIdentity || l == lResource) && g.chance(0.4) {
		// A broad grant, so that enough requests get past the allow checks
		// and the other layers decide.
		st := map[string]any{"Effect": "Allow", "Action": g.pick(actionPatterns[k][:4])}
		if l == lResource {
			st["Principal"] = map[string]any{"AWS": g.pick(awsPrincipals)}
		}
		if k != resRole || l != lResource {
			st["Resource"] = "*"
		}
		stmts = append(stmts, st)
	}
	if l == lSCP && g.chance(0.85) {
		stmts = append([]any{map[string]any{"Effect": "Allow", "Action": "*", "Resource": "*"}}, stmts...)
	}
	version := "2012-10-17"
	if l != lRCP && g.chance(0.05) {
		version = "2008-10-17" // policy variables are literal text there
	}
	text, err := json.Marshal(map[string]any{"Version": version, "Statement": stmts})
	if err != nil {
		panic(err)
	}
	return fromJSON(string(text))
}

// randomSet builds one policy set. The set holds every layer; randomView
// removes the layers a given caller cannot have.
func (g *gen) randomSet(k resourceKind) *policySet {
	unknownOp := g.chance(0.02)
	ps := &policySet{kind: eval.Generic}
	switch k {
	case resKMS:
		ps.kind = eval.KMSKey
	case resRole:
		ps.kind = eval.RoleTrust
	}
	for range g.r.Intn(3) {
		ps.identity = append(ps.identity, g.policy(lIdentity, k, unknownOp))
		unknownOp = false
	}
	if k != resS3 || g.chance(0.7) {
		d := g.policy(lResource, k, unknownOp)
		ps.resource = &d
	}
	if g.chance(0.25) {
		d := g.policy(lIdentity, k, false)
		ps.boundary = &d
	}
	if g.chance(0.25) {
		d := g.policy(lIdentity, k, false)
		ps.session = &d
	}
	if g.chance(0.35) {
		for range 1 + g.r.Intn(3) {
			lv := []doc{g.policy(lSCP, k, false)}
			if g.chance(0.3) {
				lv = append(lv, g.policy(lSCP, k, false))
			}
			ps.scps = append(ps.scps, lv)
		}
	}
	if g.chance(0.3) {
		for range 1 + g.r.Intn(2) {
			var lv []doc
			if g.chance(0.8) {
				lv = append(lv, g.policy(lRCP, k, false))
			}
			ps.rcps = append(ps.rcps, lv)
		}
	}
	return ps
}

// view is the set as it applies to a caller: identity policies and
// boundaries attach only to IAM users and roles, session policies only to
// role sessions and federated users. SCPs stay for every caller: trailwarden
// must ignore them for services and anonymous callers, and internal/testkit/oracle
// does not send them (known difference oracle-defect-4, adapted). Views are
// built once per kind of caller.
func view(ps *policySet, p eval.Principal) *policySet {
	iam := p.Kind == eval.KindUser || p.Kind == eval.KindRole || p.Kind == eval.KindAssumedRoleSession || p.Kind == eval.KindFederatedUser
	session := p.Kind == eval.KindRole || p.Kind == eval.KindAssumedRoleSession || p.Kind == eval.KindFederatedUser
	v, _ := ps.variant(fmt.Sprintf("view:%t:%t", iam, session), func(ps *policySet) (*policySet, bool) {
		c := ps.clone()
		if !iam {
			c.identity, c.boundary = nil, nil
		}
		if !session {
			c.session = nil
		}
		return c, true
	})
	return v
}

// randomCases builds sets random policy sets and asks each requestsPerSet
// random requests.
func randomCases(seed int64, sets int) []*tcase {
	g := &gen{r: rand.New(rand.NewSource(seed))} //nolint:gosec // deterministic test data
	callers := randomCallers()
	b := &caseBuilder{source: "random"}
	for range sets {
		k := resourceKind(g.r.Intn(10))
		switch {
		case k < 6:
			k = resS3
		case k < 9:
			k = resKMS
		default:
			k = resRole
		}
		owner := acctB
		if g.chance(0.5) {
			owner = acctA
		}
		ps := g.randomSet(k)
		targets := targetsFor(k, owner)
		for range requestsPerSet {
			p := callers[g.r.Intn(len(callers))]
			t := targets[g.r.Intn(len(targets))]
			action := g.pick(t.actions)
			b.add(view(ps, p), eval.Request{Principal: p, Action: action, Resource: t.arn, ResourceAccount: owner,
				Context: g.requestContext(ps, action)})
		}
	}
	return b.cases
}

// requestContext draws the context keys a request carries: for each key a
// policy of the set uses (and a few others), absent or one of its request
// values. Service keys appear only on their service's actions; keys derived
// from the principal are left to eval.DeriveContext.
func (g *gen) requestContext(ps *policySet, action string) map[string][]string {
	used := ps.referencedKeys()
	ctx := map[string][]string{}
	for _, ks := range keySpecs {
		if len(ks.request) == 0 {
			continue
		}
		if ks.onlyFor != "" && !strings.HasPrefix(action, ks.onlyFor) {
			continue
		}
		p := 0.15
		if used[strings.ToLower(ks.key)] {
			p = 0.75
		}
		if !g.chance(p) {
			continue
		}
		if ks.multi {
			n := 1 + g.r.Intn(2)
			var vs []string
			for range n {
				if v := g.pick(ks.request); !contains(vs, v) {
					vs = append(vs, v)
				}
			}
			ctx[ks.key] = vs
			continue
		}
		ctx[ks.key] = []string{g.pick(ks.request)}
	}
	return ctx
}
