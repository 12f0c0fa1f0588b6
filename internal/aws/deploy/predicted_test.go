package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/aws/deploy"
	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/testkit/awsfake"
)

const s3ns = `xmlns="http://s3.amazonaws.com/doc/2006-03-01/"`

// publicReadACL grants AllUsers READ besides the owner's FULL_CONTROL.
const publicReadACL = `<AccessControlPolicy ` + s3ns + `><Owner><ID>` + awsfake.OwnerCanonicalID + `</ID></Owner><AccessControlList>` +
	`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>` + awsfake.OwnerCanonicalID + `</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>` +
	`<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>` +
	`</AccessControlList></AccessControlPolicy>`

// denyLogging is an access log bucket policy whose owner denies every
// service write, the logging service's included.
const denyLogging = `{"Version":"2012-10-17","Statement":[{"Sid":"NoWrites","Effect":"Deny","Principal":"*","Action":"s3:PutObject","Resource":"arn:aws:s3:::acme-org-cloudtrail-access-logs/*"}]}`

// TestPredictedErrorsAreWhatAWSReturns: for each refusal plan predicts
// from the live state (read through the SDK from the fake), forcing the
// step's calls anyway gets that very error code from the fake, which
// refuses as AWS does; and apply skips the step, changing nothing there.
func TestPredictedErrorsAreWhatAWSReturns(t *testing.T) {
	tests := []struct {
		name  string
		world func(w *awsfake.World)
		// kind is the step with the prediction; force are the kinds
		// whose calls are made anyway, the last one refused with code.
		kind  plan.Kind
		code  string
		force []plan.Kind
	}{
		{"ownership while ACL grants exist", func(w *awsfake.World) { w.SetBucketConfig(bucket, "BucketAcl", publicReadACL) },
			plan.KindObjectOwnership, "InvalidBucketAclWithObjectOwnership", []plan.Kind{plan.KindObjectOwnership}},
		{"logging target in another region", func(w *awsfake.World) {
			w.SetBucketPolicy(bucket+"-access-logs", "")
			w.Record(awsfake.Key{Account: archive, Region: "us-east-1", Service: "s3", Operation: "GetBucketLocation", Resource: bucket + "-access-logs"},
				awsfake.Response{Body: `<LocationConstraint ` + s3ns + `>eu-west-1</LocationConstraint>`})
		}, plan.KindAccessLogTarget, "CrossLocationLoggingProhibitted", []plan.Kind{plan.KindAccessLogTarget, plan.KindBucketLogging}},
		{"logging target denies the logging service", func(w *awsfake.World) { w.SetBucketPolicy(bucket+"-access-logs", denyLogging) },
			plan.KindAccessLogTarget, "InvalidTargetBucketForLogging", []plan.Kind{plan.KindAccessLogTarget, plan.KindBucketLogging}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := setup(t)
			tt.world(srv.World)
			c := loadConfig(t)
			ctx := context.Background()
			live, err := inventory.Read(ctx, c, inventory.Options{Endpoint: srv.URL, MaxBackoff: time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			p, err := plan.Build(c, live)
			if err != nil {
				t.Fatal(err)
			}
			steps := map[plan.Kind]plan.Step{}
			for _, st := range p.Steps {
				steps[st.Kind] = st
			}
			st := steps[tt.kind]
			if len(st.Predicted) == 0 || st.Predicted[0].Code != tt.code {
				t.Fatalf("step %s predicts %+v, want %s", st.Title(), st.Predicted, tt.code)
			}
			ex := writer(t, srv, time.Millisecond)
			var last error
			for _, k := range tt.force {
				for _, call := range steps[k].Calls {
					if last = ex.Do(ctx, call.Do); last != nil {
						break
					}
				}
			}
			var ae *deploy.APIError
			if !errors.As(last, &ae) || ae.Code != tt.code {
				t.Errorf("forcing the step: %v, want AWS's %s", last, tt.code)
			}
		})
	}
}
