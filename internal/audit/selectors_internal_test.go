package audit

import (
	"testing"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func TestManagementCoverage(t *testing.T) {
	mgmt := snapshot.FieldSelector{Field: "eventCategory", Equals: []string{"Management"}}
	adv := func(fs ...snapshot.FieldSelector) snapshot.AdvancedEventSelector {
		return snapshot.AdvancedEventSelector{Name: "m", FieldSelectors: append([]snapshot.FieldSelector{mgmt}, fs...)}
	}
	tests := []struct {
		name        string
		trail       snapshot.Trail
		source      string
		read, write bool
	}{
		{"no selectors is CloudTrail's default", snapshot.Trail{}, "", true, true},
		{"basic All", snapshot.Trail{EventSelectors: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}}, sourceKMS, true, true},
		{"basic without management events", snapshot.Trail{EventSelectors: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: false,
			DataResources: []snapshot.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3"}}}}}}, "", false, false},
		{"basic ReadOnly and WriteOnly together", snapshot.Trail{EventSelectors: []snapshot.EventSelector{
			{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}, {ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}}, "", true, true},
		{"basic WriteOnly", snapshot.Trail{EventSelectors: []snapshot.EventSelector{{ReadWriteType: "WriteOnly", IncludeManagementEvents: true}}}, "", false, true},
		{"basic excluding KMS, asked about KMS", snapshot.Trail{EventSelectors: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
			ExcludeManagementEventSources: []string{sourceKMS}}}}, sourceKMS, false, false},
		{"basic excluding KMS, asked about RDS Data", snapshot.Trail{EventSelectors: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
			ExcludeManagementEventSources: []string{sourceKMS}}}}, sourceRDSAPI, true, true},
		{"basic excluding KMS, asked about no exclusion", snapshot.Trail{EventSelectors: []snapshot.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
			ExcludeManagementEventSources: []string{sourceKMS}}}}, "", false, false},
		{"advanced, readOnly absent", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv()}}, "", true, true},
		{"advanced, readOnly true only", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv(snapshot.FieldSelector{Field: "readOnly", Equals: []string{"true"}})}}, sourceKMS, true, false},
		{"advanced, readOnly both values", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv(snapshot.FieldSelector{Field: "readOnly", Equals: []string{"true", "false"}})}}, sourceKMS, true, true},
		{"advanced, two selectors split read and write", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{
			adv(snapshot.FieldSelector{Field: "readOnly", Equals: []string{"true"}}), adv(snapshot.FieldSelector{Field: "readOnly", NotEquals: []string{"true"}})}}, sourceRDSAPI, true, true},
		{"advanced, eventSource NotEquals KMS", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv(snapshot.FieldSelector{Field: "eventSource", NotEquals: []string{sourceKMS}})}}, sourceKMS, false, false},
		{"advanced, eventSource NotEquals KMS, asked about RDS Data", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv(snapshot.FieldSelector{Field: "eventSource", NotEquals: []string{sourceKMS}})}}, sourceRDSAPI, true, true},
		{"advanced, eventSource NotStartsWith rds", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv(snapshot.FieldSelector{Field: "eventSource", NotStartsWith: []string{"rds"}})}}, sourceRDSAPI, false, false},
		{"advanced, any eventSource filter fails the no-exclusion question", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv(snapshot.FieldSelector{Field: "eventSource", NotEquals: []string{"s3.amazonaws.com"}})}}, "", false, false},
		{"advanced, eventName filter logs only some events", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{adv(snapshot.FieldSelector{Field: "eventName", Equals: []string{"ConsoleLogin"}})}}, sourceKMS, false, false},
		{"advanced data-event selector only", snapshot.Trail{AdvancedEventSelectors: []snapshot.AdvancedEventSelector{{Name: "data", FieldSelectors: []snapshot.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}}}}}, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := managementCoverage(&tt.trail, tt.source)
			if got.read != tt.read || got.write != tt.write {
				t.Fatalf("read %t write %t, want %t %t (%v)", got.read, got.write, tt.read, tt.write, got.why)
			}
		})
	}
}
