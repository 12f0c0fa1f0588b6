package eval_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// fuzzPolicies is a fixed policy set touching every layer and most operator
// families, so random requests exercise the whole engine.
func fuzzPolicies(t testing.TB) eval.Policies {
	t.Helper()
	p := orgBucketPolicies(t)
	p.Identity = append(p.Identity, eval.Named{Name: "wide", Doc: mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","NotAction":"iam:*","Resource":"*","Condition":{
			"IpAddressIfExists":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]},
			"NumericLessThanIfExists":{"s3:max-keys":"1000"},
			"DateGreaterThanIfExists":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},
			"BinaryEqualsIfExists":{"test:Blob":"QmluYXJ5"}}},
		{"Effect":"Deny","Action":"s3:Delete*","NotResource":"arn:aws:s3:::scratch/${aws:username}/*"}]}`)})
	p.Boundary = &eval.Named{Name: "boundary", Doc: mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":["s3:*","kms:*","sts:*"],"Resource":"*"}]}`)}
	p.SCPs = [][]eval.Named{{{Name: "full", Doc: mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)}},
		{{Name: "protect", Doc: mustParse(t, `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Effect":"Deny","Action":"cloudtrail:StopLogging","Resource":"*","Condition":{"ArnNotLike":{"aws:PrincipalArn":"arn:aws:iam::*:role/Admin*"}}}]}`)}}}
	p.RCPs = [][]eval.Named{{{Name: "org", Doc: mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"*","Condition":{
			"StringNotEqualsIfExists":{"aws:PrincipalOrgID":"o-abc123def4"},"BoolIfExists":{"aws:PrincipalIsAWSService":"false"},
			"ForAllValues:StringLike":{"aws:PrincipalOrgPaths":"o-abc123def4/*"}}}]}`)}}}
	return p
}

func FuzzEvaluate(f *testing.F) {
	for _, r := range orgBucketRequests() {
		ctxKey, ctxVal := "", ""
		for k, v := range r.Context {
			ctxKey, ctxVal = k, strings.Join(v, ",")
			break
		}
		f.Add(principalString(r.Principal), r.Action, r.Resource, r.ResourceAccount, ctxKey, ctxVal, r.Principal.OrgID)
	}
	f.Add("arn:aws:iam::111111111111:user/${aws:username}", "S3:DELETEOBJECT", "arn:aws:s3:::scratch/a/b", "", "aws:username", "a", "")
	f.Add("anonymous", "*", "*", "x", "aws:CalledVia", "", "o-")
	ev, err := eval.Compile(fuzzPolicies(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, principal, action, resource, account, key, value, org string) {
		p, err := eval.ParsePrincipal(principal)
		if err != nil {
			p = eval.Principal{Kind: eval.KindAnonymous}
		}
		p.OrgID = org
		r := eval.Request{Principal: p, Action: action, Resource: resource, ResourceAccount: account}
		if key != "" {
			r.Context = map[string][]string{key: strings.Split(value, ",")}
		}
		a, b := ev.Evaluate(r), ev.Evaluate(r)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Evaluate is not deterministic:\n%+v\n%+v", a, b)
		}
		switch a.Decision {
		case eval.Allowed:
			if a.BlockedBy != "" {
				t.Fatalf("Allowed but BlockedBy = %q", a.BlockedBy)
			}
		case eval.ExplicitlyDenied:
			if len(a.MatchedStatements()) == 0 {
				t.Fatal("ExplicitlyDenied without a matched statement")
			}
		case eval.ImplicitlyDenied:
		default:
			t.Fatalf("unknown decision %q", a.Decision)
		}
	})
}

// duals pairs each operator with its negation: on one present request
// value, exactly one of the two must hold.
var duals = map[string]string{
	"StringEquals": "StringNotEquals", "StringEqualsIgnoreCase": "StringNotEqualsIgnoreCase",
	"StringLike": "StringNotLike", "ArnLike": "ArnNotLike", "ArnEquals": "ArnNotEquals",
}

func FuzzCondition(f *testing.F) {
	seeds := []struct{ op, values, req string }{
		{"StringEquals", "a\nb", "b"},
		{"StringLike", "arn:aws:s3:::b/*", "arn:aws:s3:::b/x"},
		{"ArnLike", "arn:aws:cloudtrail:*:${aws:SourceAccount}:trail/*", "arn:aws:cloudtrail:us-east-1:1:trail/t"},
		{"ForAnyValue:StringEquals", "athena.amazonaws.com", "athena.amazonaws.com\nglue.amazonaws.com"},
		{"ForAllValues:StringNotLike", "sys:*", "a\nsys:b"},
		{"NumericLessThanEquals", "10", "9.5"},
		{"DateGreaterThan", "2024-01-01T00:00:00Z", "1717243200"},
		{"IpAddress", "10.0.0.0/8\n2001:db8::/32", "10.1.2.3"},
		{"NotIpAddressIfExists", "192.0.2.0/24", ""},
		{"Bool", "true", "TRUE"},
		{"BinaryEquals", "QmluYXJ5", "QmluYXJ5"},
		{"Null", "true", ""},
		{"StringEqualsIgnoreCase", "${aws:PrincipalTag/team, 'x'}", "X"},
	}
	for _, s := range seeds {
		f.Add(s.op, s.values, s.req, true)
	}
	f.Fuzz(func(t *testing.T, opName, values, reqValues string, present bool) {
		op, err := policy.ParseOperator(opName)
		if err != nil {
			return
		}
		vals := strings.Split(values, "\n")
		ev, err := compileCondition(op, vals)
		if err != nil {
			return // rejected values are fine; panics are not
		}
		r := eval.Request{
			Principal: eval.Principal{Kind: eval.KindUser, ARN: "arn:aws:iam::111111111111:user/alice", Account: "111111111111"},
			Action:    "s3:GetObject", Resource: "arn:aws:s3:::b/k",
		}
		var req []string
		if present {
			req = strings.Split(reqValues, "\n")
			r.Context = map[string][]string{"test:Key": req, "aws:SourceAccount": {"1"}}
		}
		a, b := ev.Evaluate(r), ev.Evaluate(r)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("Evaluate is not deterministic")
		}
		neg, ok := duals[op.Base]
		if !ok || op.Set != policy.NoSet || len(req) != 1 || req[0] == "" || strings.Contains(values, "${") {
			return
		}
		op.Base = neg
		evNeg, err := compileCondition(op, vals)
		if err != nil {
			t.Fatalf("%s compiles but %s does not: %v", opName, op, err)
		}
		c := evNeg.Evaluate(r)
		if (a.Decision == eval.Allowed) == (c.Decision == eval.Allowed) {
			t.Fatalf("%s and %s agree (%s) on %q vs %q", opName, op, a.Decision, req, vals)
		}
	})
}

// compileCondition builds an identity policy with one condition.
func compileCondition(op policy.Operator, values []string) (*eval.Evaluator, error) {
	doc := &policy.Document{Version: policy.Version2012, Statements: []policy.Statement{{
		Effect: policy.Allow, Action: []string{"s3:GetObject"}, Resource: []string{"*"},
		Condition: []policy.Condition{{Operator: op, Key: "test:Key", Values: values}},
	}}}
	return eval.Compile(eval.Policies{Identity: []eval.Named{{Name: "fuzz", Doc: doc}}})
}

func mustParse(t testing.TB, s string) *policy.Document {
	t.Helper()
	d, err := policy.Parse([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func principalString(p eval.Principal) string {
	switch p.Kind {
	case eval.KindAnonymous:
		return "anonymous"
	case eval.KindService:
		return p.Service
	}
	return p.ARN
}
