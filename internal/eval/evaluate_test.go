package eval_test

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

// conditionExplanation evaluates one identity statement and returns the
// rendered explanation of its only condition.
func conditionExplanation(t *testing.T, cond string, ctx map[string][]string, p eval.Principal) eval.ConditionResult {
	t.Helper()
	doc := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":`+cond+`}]}`)
	ev, err := eval.Compile(eval.Policies{Identity: []eval.Named{{Name: "p", Doc: doc}}})
	if err != nil {
		t.Fatal(err)
	}
	res := ev.Evaluate(eval.Request{Principal: p, Action: "s3:GetObject", Resource: "arn:aws:s3:::b/k", Context: ctx})
	if len(res.Reasons) != 1 || len(res.Reasons[0].Conditions) != 1 {
		t.Fatalf("want one reason with one condition, got %+v", res.Reasons)
	}
	return res.Reasons[0].Conditions[0]
}

func TestEvaluator_ConditionExplanations(t *testing.T) {
	alice := eval.Principal{Kind: eval.KindUser, ARN: "arn:aws:iam::111111111111:user/alice", Account: "111111111111"}
	tests := []struct {
		name, cond string
		ctx        map[string][]string
		want       string
		matched    bool
	}{
		{"NoneOf", `{"StringEquals":{"aws:SourceArn":"y"}}`, map[string][]string{"aws:SourceArn": {"x"}},
			`StringEquals aws:SourceArn: request value "x" matches none of ["y"]`, false},
		{"Matches", `{"StringLike":{"s3:prefix":["a/*","b/*"]}}`, map[string][]string{"s3:prefix": {"b/c"}},
			`StringLike s3:prefix: request value "b/c" matches "b/*"`, true},
		{"KeyAbsent", `{"StringEquals":{"aws:SourceArn":"y"}}`, nil, `StringEquals aws:SourceArn: key absent`, false},
		{"NegatedAbsent", `{"StringNotEquals":{"aws:SourceVpce":"v"}}`, nil, `StringNotEquals aws:SourceVpce: key absent: a negated operator matches`, true},
		{"IfExistsAbsent", `{"StringEqualsIfExists":{"aws:SourceVpce":"v"}}`, nil, `StringEqualsIfExists aws:SourceVpce: key absent: IfExists matches`, true},
		{"Multivalued", `{"StringEquals":{"aws:CalledVia":"athena.amazonaws.com"}}`, map[string][]string{"aws:CalledVia": {"athena.amazonaws.com", "glue.amazonaws.com"}},
			`StringEquals aws:CalledVia: key is multivalued (2 values): a single-valued operator does not match; use ForAnyValue: or ForAllValues:`, false},
		{"BadNumber", `{"NumericLessThan":{"s3:max-keys":"10"}}`, map[string][]string{"s3:max-keys": {"ten"}},
			`NumericLessThan s3:max-keys: request value "ten" is not a valid number`, false},
		{"Relational", `{"NumericLessThan":{"s3:max-keys":"10"}}`, map[string][]string{"s3:max-keys": {"10"}},
			`NumericLessThan s3:max-keys: request value "10" is not less than any of ["10"]`, false},
		{"IPRange", `{"IpAddress":{"aws:SourceIp":["10.0.0.0/8"]}}`, map[string][]string{"aws:SourceIp": {"10.1.2.3"}},
			`IpAddress aws:SourceIp: request value "10.1.2.3" is in "10.0.0.0/8"`, true},
		{"UnresolvedVariable", `{"StringEquals":{"aws:ResourceTag/owner":"${aws:username}"}}`, map[string][]string{"aws:ResourceTag/owner": {"x"}},
			`StringEquals aws:ResourceTag/owner: policy variable ${aws:username} has no value`, false},
		{"NullAbsent", `{"Null":{"aws:TokenIssueTime":"true"}}`, nil, `Null aws:TokenIssueTime: key absent`, true},
		{"ForAllVacuous", `{"ForAllValues:StringEquals":{"aws:TagKeys":"a"}}`, nil, `ForAllValues:StringEquals aws:TagKeys: key absent or empty: ForAllValues matches vacuously`, true},
		{"ShortARNPattern", `{"ArnLike":{"aws:PrincipalArn":"arn:aws:iam::*"}}`, nil,
			`ArnLike aws:PrincipalArn: request value "arn:aws:iam::111111111111:user/alice" matches none of ["arn:aws:iam::*"]; "arn:aws:iam::*" has fewer than the six colon-separated components of an ARN, and ARN operators compare component by component, so it matches no ARN`, false},
		{"ARNValueNotAnARN", `{"ArnNotEquals":{"aws:SourceArn":"arn:aws:cloudtrail:*:111111111111:trail/*"}}`, map[string][]string{"aws:SourceArn": {"trail/t"}},
			`ArnNotEquals aws:SourceArn: request value "trail/t" matches none of ["arn:aws:cloudtrail:*:111111111111:trail/*"]; the request value is not an ARN (an ARN has six colon-separated components)`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := alice
			if tt.name == "UnresolvedVariable" {
				p, _ = eval.ParsePrincipal("arn:aws:sts::111111111111:assumed-role/R/s")
			}
			c := conditionExplanation(t, tt.cond, tt.ctx, p)
			if got := c.String(); got != tt.want {
				t.Fatalf("explanation = %q\nwant          %q", got, tt.want)
			}
			if c.Matched != tt.matched {
				t.Fatalf("Matched = %v, want %v", c.Matched, tt.matched)
			}
		})
	}
}

func TestEvaluator_Result(t *testing.T) {
	ev, err := eval.Compile(orgBucketPolicies(t))
	if err != nil {
		t.Fatal(err)
	}
	reader, _ := eval.ParsePrincipal("arn:aws:sts::444444444444:assumed-role/ams-access-ro/alice")
	reader.OrgID = "o-abc123def4"
	res := ev.Evaluate(eval.Request{Principal: reader, Action: "s3:GetObject", ResourceAccount: "111111111111",
		Resource: "arn:aws:s3:::org-trail-logs/AWSLogs/o-abc123def4/222222222222/x", Context: map[string][]string{"aws:CalledVia": {"athena.amazonaws.com"}}})
	if res.Decision != eval.Allowed {
		t.Fatalf("Decision = %s, want Allowed", res.Decision)
	}
	t.Run("Layers", func(t *testing.T) {
		want := map[eval.Layer]eval.Outcome{eval.LayerIdentity: eval.OutcomeAllowed, eval.LayerResource: eval.OutcomeAllowed}
		for _, l := range res.Layers {
			if w, ok := want[l.Layer]; ok && l.Outcome != w {
				t.Errorf("layer %s outcome = %s, want %s", l.Layer, l.Outcome, w)
			}
		}
	})
	t.Run("OneReasonPerStatement", func(t *testing.T) {
		if len(res.Reasons) != 7 { // 1 identity + 6 bucket statements
			t.Fatalf("len(Reasons) = %d, want 7", len(res.Reasons))
		}
		if got := res.Reasons[1].Note; got != "principal not matched; action not matched; resource not matched" {
			t.Errorf("AclCheck note = %q", got)
		}
	})
	t.Run("JSON", func(t *testing.T) {
		b, err := json.Marshal(res)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`"decision":"Allowed"`, `"sid":"ReadersGetViaAthena"`, `"principal_match":"WildcardMatch"`, `"explanation":"ForAnyValue: request value \"athena.amazonaws.com\" matches \"athena.amazonaws.com\""`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("JSON lacks %s", want)
			}
		}
		var back eval.Result
		if err := json.Unmarshal(b, &back); err != nil || back.Decision != res.Decision || len(back.Reasons) != len(res.Reasons) {
			t.Errorf("JSON round-trip: %v %+v", err, back.Decision)
		}
	})
}

func TestCompile_Errors(t *testing.T) {
	t.Run("CompileErrorLocatesStatement", func(t *testing.T) {
		doc := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},
			{"Sid":"Bad","Effect":"Allow","Action":"*","Resource":"*","Condition":{"NumericEquals":{"s3:max-keys":"x"}}}]}`)
		_, err := eval.Compile(eval.Policies{Identity: []eval.Named{{Name: "ops", Doc: doc}}})
		var ce *eval.CompileError
		if !errors.As(err, &ce) {
			t.Fatalf("error %v is not a *CompileError", err)
		}
		if ce.Policy != "ops" || ce.Statement != 1 || ce.Sid != "Bad" || ce.Pos.Line != 2 {
			t.Fatalf("CompileError = %+v", ce)
		}
		if !strings.HasPrefix(err.Error(), `compile policy "ops" statement 1 (Bad) at 2:`) {
			t.Fatalf("message = %q", err.Error())
		}
	})
	t.Run("AllPoliciesReported", func(t *testing.T) {
		bad := &policy.Document{Statements: []policy.Statement{{Effect: "Maybe", Action: []string{"*"}}}}
		_, err := eval.Compile(eval.Policies{Identity: []eval.Named{{Name: "a", Doc: bad}, {Name: "b", Doc: bad}}})
		if err == nil || !strings.Contains(err.Error(), `"a"`) || !strings.Contains(err.Error(), `"b"`) {
			t.Fatalf("error = %v, want both policies named", err)
		}
	})
	t.Run("ResourcePolicyNeedsPrincipal", func(t *testing.T) {
		doc := &policy.Document{Statements: []policy.Statement{{Effect: policy.Allow, Action: []string{"s3:*"}, Resource: []string{"*"}}}}
		if _, err := eval.Compile(eval.Policies{Resource: &eval.Named{Name: "r", Doc: doc}}); err == nil {
			t.Fatal("resource policy without Principal compiled")
		}
	})
	t.Run("NilDocument", func(t *testing.T) {
		if _, err := eval.Compile(eval.Policies{Session: &eval.Named{Name: "s"}}); err == nil {
			t.Fatal("nil document compiled")
		}
	})
	t.Run("UnknownResourceKind", func(t *testing.T) {
		if _, err := eval.Compile(eval.Policies{ResourceKind: "Bucket"}); err == nil {
			t.Fatal("unknown resource kind compiled")
		}
	})
}

// TestEvaluator_Concurrent runs Evaluate from several goroutines; with -race
// it proves the compiled evaluator is read-only.
func TestEvaluator_Concurrent(t *testing.T) {
	ev, err := eval.Compile(fuzzPolicies(t))
	if err != nil {
		t.Fatal(err)
	}
	reqs := orgBucketRequests()
	want := make([]eval.Decision, len(reqs))
	for i, r := range reqs {
		want[i] = ev.Evaluate(r).Decision
	}
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Go(func() {
			for i, r := range reqs {
				if got := ev.Evaluate(r).Decision; got != want[i] {
					t.Errorf("request %d: %s, want %s", i, got, want[i])
				}
			}
		})
	}
	wg.Wait()
}
