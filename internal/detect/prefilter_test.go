package detect

import (
	"reflect"
	"testing"

	"github.com/trailwarden/trailwarden/internal/sigma"
)

func TestEventNames(t *testing.T) {
	for _, tc := range []struct {
		det  string
		want []string
	}{
		{"selection: {eventName: StopLogging}\n  condition: selection", []string{"stoplogging"}},
		{"selection: {eventName: [A, B]}\n  filter: {eventName: C}\n  condition: selection and not filter", []string{"a", "b"}},
		{"a: {eventName: A}\n  b: {eventName: B}\n  condition: a or b", []string{"a", "b"}},
		{"a: {eventName: A}\n  b: {errorCode: x}\n  condition: a or b", nil},
		{"a: {eventSource: s}\n  b: {eventName: B}\n  c: {eventName: C}\n  condition: a and (b or c)", []string{"b", "c"}},
		{"a: {eventName: A}\n  condition: not a", nil},
		{"a: {eventName|contains: A}\n  condition: a", nil},
		{"a: {eventName: 'Put*'}\n  condition: a", nil},
		{"a: [{eventName: A}, {eventSource: s}]\n  condition: a", nil},
		{"a: [{eventName: A}, {eventName: B, eventSource: s}]\n  condition: a", []string{"a", "b"}},
		{"sel_a: {eventName: A}\n  condition: 1 of sel_*", nil},
		{"a: {eventName: A}\n  b: {eventName: B}\n  condition: a and b", []string{"a"}},
	} {
		y := "title: t\nid: 0b7a4a8e-5a43-4a52-9a4f-1f1f7e0c3b99\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  " + tc.det + "\nlevel: low\n"
		rs, err := sigma.Parse([]byte(y), "t.yml")
		if err != nil {
			t.Fatalf("%s: %v", tc.det, err)
		}
		if got := eventNames(rs[0]); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.det, got, tc.want)
		}
	}
}
