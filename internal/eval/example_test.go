package eval_test

import (
	"fmt"

	"github.com/trailwarden/trailwarden/internal/eval"
	"github.com/trailwarden/trailwarden/internal/policy"
)

func ExampleEvaluator_Evaluate() {
	bucket, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[
	  {"Sid":"CloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},
	   "Action":"s3:PutObject","Resource":"arn:aws:s3:::logs/AWSLogs/${aws:SourceAccount}/*",
	   "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`))
	if err != nil {
		panic(err)
	}
	ev, err := eval.Compile(eval.Policies{Resource: &eval.Named{Name: "logs", Doc: bucket}})
	if err != nil {
		panic(err)
	}
	ct, _ := eval.ParsePrincipal("cloudtrail.amazonaws.com")
	res := ev.Evaluate(eval.Request{
		Principal: ct, Action: "s3:PutObject", ResourceAccount: "111111111111",
		Resource: "arn:aws:s3:::logs/AWSLogs/222222222222/CloudTrail/x.json.gz",
		Context:  map[string][]string{"aws:SourceAccount": {"222222222222"}},
	})
	fmt.Println(res.Decision, res.BlockedBy)
	for _, c := range res.Reasons[0].Conditions {
		fmt.Println(c)
	}
	// Output:
	// ImplicitlyDenied resource
	// StringEquals s3:x-amz-acl: key absent
}
