package policy_test

import (
	"testing"

	"github.com/trailwarden/trailwarden/internal/policy"
)

func mustParse(t testing.TB, src string) *policy.Document {
	t.Helper()
	doc, err := policy.Parse([]byte(src))
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	return doc
}

// st wraps statement members in a 2012-10-17 document.
func st(members ...string) string {
	s := `{"Version":"2012-10-17","Statement":[`
	for i, m := range members {
		if i > 0 {
			s += ","
		}
		s += "{" + m + "}"
	}
	return s + "]}"
}

const (
	getObj  = `"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`
	putObj  = `"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::b/*"`
	trailSv = `"Effect":"Allow","Action":"s3:PutObject","Resource":"*","Principal":`
	cond    = `"Effect":"Allow","Action":"*","Resource":"*","Condition":`
)

func TestEqual(t *testing.T) {
	tests := []struct {
		name  string
		a, b  string
		equal bool
	}{
		{"Identical", st(getObj), st(getObj), true},
		{"VersionAbsentIs2008",
			`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
			`{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, true},
		{"VersionAbsentIsNot2012",
			`{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`,
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`, false},
		{"IdDiffers",
			`{"Id":"a","Statement":{"Effect":"Allow","Action":"*"}}`,
			`{"Id":"b","Statement":{"Effect":"Allow","Action":"*"}}`, false},
		{"StatementOrder", st(getObj, putObj), st(putObj, getObj), true},
		{"StatementMultiset", st(getObj, getObj, putObj), st(getObj, putObj, putObj), false},
		{"StatementCount", st(getObj, getObj), st(getObj), false},
		{"SidIgnored", st(`"Sid":"A",` + getObj), st(`"Sid":"B",` + getObj), true},
		{"StringIsOneElementList", st(getObj),
			st(`"Effect":"Allow","Action":["s3:GetObject"],"Resource":["arn:aws:s3:::b/*"]`), true},
		{"ValueOrderAndDuplicates",
			st(`"Effect":"Allow","Action":["s3:GetObject","s3:PutObject","s3:GetObject"],"Resource":"*"`),
			st(`"Effect":"Allow","Action":["s3:PutObject","s3:GetObject"],"Resource":"*"`), true},
		{"ActionCaseInsensitive", st(getObj),
			st(`"Effect":"Allow","Action":"S3:getobject","Resource":"arn:aws:s3:::b/*"`), true},
		{"ResourceCaseSensitive", st(getObj),
			st(`"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::B/*"`), false},
		{"EffectDiffers", st(getObj),
			st(`"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"`), false},
		{"ActionVsNotAction", st(`"Effect":"Deny","Action":"s3:*","Resource":"*"`),
			st(`"Effect":"Deny","NotAction":"s3:*","Resource":"*"`), false},
		{"ResourceAbsentVsStar", st(`"Effect":"Allow","Action":"*"`),
			st(`"Effect":"Allow","Action":"*","Resource":"*"`), false},
		{"PrincipalWildcardIsAWSStar", st(trailSv + `"*"`), st(trailSv + `{"AWS":"*"}`), true},
		{"PrincipalVsNotPrincipal", st(trailSv + `"*"`),
			st(`"Effect":"Allow","Action":"s3:PutObject","Resource":"*","NotPrincipal":"*"`), false},
		{"AccountIDIsRootARN", st(trailSv + `{"AWS":["111122223333","arn:aws:iam::444455556666:root"]}`),
			st(trailSv + `{"AWS":["arn:aws:iam::111122223333:root","444455556666"]}`), true},
		{"AccountIDIsNotRole", st(trailSv + `{"AWS":"111122223333"}`),
			st(trailSv + `{"AWS":"arn:aws:iam::111122223333:role/x"}`), false},
		{"ServicePrincipalCaseInsensitive", st(trailSv + `{"Service":"cloudtrail.amazonaws.com"}`),
			st(trailSv + `{"Service":"CloudTrail.AmazonAWS.com"}`), true},
		{"FederatedCaseSensitive", st(trailSv + `{"Federated":"accounts.google.com"}`),
			st(trailSv + `{"Federated":"Accounts.Google.com"}`), false},
		{"PrincipalTypeDiffers", st(trailSv + `{"AWS":"x"}`), st(trailSv + `{"CanonicalUser":"x"}`), false},
		{"ConditionKeyCaseInsensitive", st(cond + `{"StringEquals":{"aws:SourceArn":"x"}}`),
			st(cond + `{"StringEquals":{"AWS:sourcearn":"x"}}`), true},
		{"ConditionValueCaseSensitive", st(cond + `{"StringEquals":{"aws:SourceArn":"x"}}`),
			st(cond + `{"StringEquals":{"aws:SourceArn":"X"}}`), false},
		{"ConditionOperatorExact", st(cond + `{"StringEquals":{"k":"x"}}`),
			st(cond + `{"StringEqualsIfExists":{"k":"x"}}`), false},
		{"ConditionOperatorSetQualifier", st(cond + `{"StringEquals":{"k":"x"}}`),
			st(cond + `{"ForAnyValue:StringEquals":{"k":"x"}}`), false},
		{"BoolValueCaseInsensitive", st(cond + `{"Bool":{"aws:SecureTransport":false}}`),
			st(cond + `{"Bool":{"aws:SecureTransport":"False"}}`), true},
		{"IgnoreCaseValues", st(cond + `{"StringEqualsIgnoreCase":{"k":"Bob"}}`),
			st(cond + `{"StringEqualsIgnoreCase":{"k":["bob","BOB"]}}`), true},
		{"ConditionNumberIsString", st(cond + `{"NumericLessThan":{"s3:max-keys":10}}`),
			st(cond + `{"NumericLessThan":{"s3:max-keys":"10"}}`), true},
		{"ConditionOrder", st(cond + `{"StringEquals":{"a":"1","b":"2"},"Null":{"c":"true"}}`),
			st(cond + `{"Null":{"c":"true"},"StringEquals":{"b":"2","a":"1"}}`), true},
		{"ConditionValueSet", st(cond + `{"StringEquals":{"a":["1","2"]}}`),
			st(cond + `{"StringEquals":{"a":["2","1","2"]}}`), true},
		{"ExtraCondition", st(cond + `{"StringEquals":{"a":"1"}}`),
			st(cond + `{"StringEquals":{"a":"1","b":"1"}}`), false},
		{"EmptyConditionIsAbsent", st(cond + `{}`), st(`"Effect":"Allow","Action":"*","Resource":"*"`), true},
		{"EmptyValueListIsNotAbsent", st(cond + `{"StringEquals":{"a":[]}}`),
			st(`"Effect":"Allow","Action":"*","Resource":"*"`), false},
	}
	if len(tests) < 15 {
		t.Fatal("too few cases")
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := mustParse(t, tt.a), mustParse(t, tt.b)
			if got := policy.Equal(a, b); got != tt.equal {
				t.Errorf("Equal = %v, want %v\na: %s\nb: %s", got, tt.equal, policy.Compact(a), policy.Compact(b))
			}
			if got := policy.Equal(b, a); got != tt.equal {
				t.Errorf("Equal is not symmetric")
			}
			if len(a.Statements) == 1 && len(b.Statements) == 1 && a.ID == b.ID &&
				(a.Version == "") == (b.Version == "") {
				if got := policy.EqualStatement(a.Statements[0], b.Statements[0]); got != tt.equal {
					t.Errorf("EqualStatement = %v, want %v", got, tt.equal)
				}
			}
		})
	}
}

func TestEqualNil(t *testing.T) {
	doc := mustParse(t, st(getObj))
	if !policy.Equal(nil, nil) || policy.Equal(doc, nil) || policy.Equal(nil, doc) {
		t.Fatal("nil handling")
	}
}

func TestEqualStatementIgnoresPosAndSid(t *testing.T) {
	a := policy.Statement{Sid: "A", Effect: policy.Allow, Action: []string{"*"}, Pos: policy.Position{Line: 1, Column: 2}}
	b := policy.Statement{Sid: "B", Effect: policy.Allow, Action: []string{"*"}}
	if !policy.EqualStatement(a, b) {
		t.Fatal("Sid or Pos not ignored")
	}
}

func TestClone(t *testing.T) {
	orig := mustParse(t, st(
		`"Sid":"A","Effect":"Allow","Principal":{"AWS":["1","2"],"Service":"s"},"Action":["a:b","c:d"],"Resource":"*",`+
			`"Condition":{"StringEquals":{"k":["v1","v2"]},"Null":{"n":[]}}`,
		`"Effect":"Deny","NotPrincipal":"*","NotAction":"x:y","NotResource":"*"`))
	snapshot := policy.Canonical(orig)
	c := orig.Clone()
	if !deepEqual(c, orig) {
		t.Fatal("clone differs")
	}
	s := &c.Statements[0]
	s.Principal.AWS[0] = "changed"
	s.Principal.Service = append(s.Principal.Service, "more")
	s.Action[0] = "changed:x"
	s.Resource[0] = "arn:changed:::::"
	s.Condition[0].Values[0] = "changed"
	s.Condition[1].Values = append(s.Condition[1].Values, "x")
	c.Statements[1].NotPrincipal.Wildcard = false
	c.Statements[1].NotAction[0] = "changed:y"
	c.Statements = append(c.Statements, policy.Statement{})
	if got := policy.Canonical(orig); string(got) != string(snapshot) {
		t.Fatalf("mutating the clone changed the original:\n%s", got)
	}
	if (orig.Clone().Statements[1].Action != nil) || (orig.Clone().Statements[0].Condition[1].Values == nil) {
		t.Fatal("Clone does not keep nil and empty slices apart")
	}
	if (*policy.Document)(nil).Clone() != nil {
		t.Fatal("nil Clone")
	}
}
