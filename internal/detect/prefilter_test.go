package detect

import (
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
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

// TestEventNamesNeverDropAMatch: over random rules (searches on
// eventName, with and without modifiers, and on eventSource; conditions
// of and, or, not and parentheses) and random events, every event a rule
// matches has one of the event names the scan tests first. A name left
// out would be a missed detection.
func TestEventNamesNeverDropAMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(17, 4))
	names := []string{"StopLogging", "DeleteTrail", "PutBucketPolicy", "stoplogging", "ListUsers"}
	sources := []string{"cloudtrail.amazonaws.com", "s3.amazonaws.com"}
	pick := func(xs []string) string { return xs[r.IntN(len(xs))] }
	search := func() string {
		switch r.IntN(5) {
		case 0:
			return "{eventName: " + pick(names) + "}"
		case 1:
			return "{eventName: [" + pick(names) + ", " + pick(names) + "], eventSource: " + pick(sources) + "}"
		case 2:
			return "{eventName|startswith: Delete}"
		case 3:
			return "[{eventName: " + pick(names) + "}, {eventSource: " + pick(sources) + "}]"
		default:
			return "{eventSource: " + pick(sources) + "}"
		}
	}
	var cond func(depth int) string
	cond = func(depth int) string {
		if depth == 0 || r.IntN(3) == 0 {
			return []string{"a", "b", "c"}[r.IntN(3)]
		}
		switch r.IntN(4) {
		case 0:
			return cond(depth-1) + " and " + cond(depth-1)
		case 1:
			return cond(depth-1) + " or " + cond(depth-1)
		case 2:
			return "not " + cond(depth-1)
		default:
			return "(" + cond(depth-1) + ")"
		}
	}
	checked := 0
	for i := 0; i < 400; i++ {
		y := "title: t\nid: 0b7a4a8e-5a43-4a52-9a4f-1f1f7e0c3b99\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n" +
			"  a: " + search() + "\n  b: " + search() + "\n  c: " + search() + "\n  condition: " + cond(3) + "\nlevel: low\n"
		rs, err := sigma.Parse([]byte(y), "t.yml")
		if err != nil {
			t.Fatalf("%s: %v", y, err)
		}
		got := eventNames(rs[0])
		if got == nil {
			continue
		}
		for j := 0; j < 20; j++ {
			ev := map[string]any{"eventName": pick(append(names, "DeleteBucket", "GetObject")), "eventSource": pick(sources)}
			ok, err := rs[0].Match(ev, nil)
			if err != nil {
				t.Fatal(err)
			}
			checked++
			if ok && !slices.Contains(got, strings.ToLower(ev["eventName"].(string))) {
				t.Fatalf("rule\n%s\nmatches %v, but its event names are %v", y, ev, got)
			}
		}
	}
	if checked < 1000 {
		t.Errorf("only %d rule and event pairs checked", checked)
	}
}
