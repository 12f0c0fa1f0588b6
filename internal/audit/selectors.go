package audit

import (
	"fmt"
	"slices"
	"strings"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// Event sources the AMS Accelerate onboarding guide requires in the management events.
const (
	sourceKMS    = "kms.amazonaws.com"
	sourceRDSAPI = "rdsdata.amazonaws.com"
)

// coverage says whether a trail logs read and write management events of
// one event source (source "" means every source: no exclusion at all).
type coverage struct {
	read, write bool
	// why explains each selector's contribution, for evidence.
	why []string
}

// managementCoverage decides from the trail's basic or advanced selectors.
// A trail with no selectors at all logs every management event, which is
// CloudTrail's default for a new trail.
func managementCoverage(t *snapshot.Trail, source string) coverage {
	if len(t.AdvancedEventSelectors) > 0 {
		return advancedCoverage(t.AdvancedEventSelectors, source)
	}
	if len(t.EventSelectors) == 0 {
		return coverage{read: true, write: true, why: []string{"no event selectors: CloudTrail's default logs all management events"}}
	}
	var c coverage
	for i, s := range t.EventSelectors {
		desc := fmt.Sprintf("eventSelectors[%d]: ReadWriteType=%s IncludeManagementEvents=%t ExcludeManagementEventSources=%v",
			i, s.ReadWriteType, s.IncludeManagementEvents, s.ExcludeManagementEventSources)
		c.why = append(c.why, desc)
		if !s.IncludeManagementEvents {
			continue
		}
		excluded := len(s.ExcludeManagementEventSources) > 0
		if source != "" {
			excluded = slices.Contains(s.ExcludeManagementEventSources, source)
		}
		if excluded {
			continue
		}
		switch s.ReadWriteType {
		case "All", "":
			c.read, c.write = true, true
		case "ReadOnly":
			c.read = true
		case "WriteOnly":
			c.write = true
		}
	}
	return c
}

// advancedCoverage evaluates advanced selectors: an event is logged when
// some selector's field selectors all admit it. A management selector has
// eventCategory = Management; readOnly absent admits both values. Fields
// audit cannot know the value of (eventName, ...) make the selector
// partial: it is not counted.
func advancedCoverage(sels []snapshot.AdvancedEventSelector, source string) coverage {
	var c coverage
	for i, s := range sels {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("#%d", i)
		}
		cat, ok := field(s.FieldSelectors, "eventCategory")
		if !ok || !admits(cat, "Management") {
			c.why = append(c.why, fmt.Sprintf("advancedEventSelectors[%q]: not a management events selector", name))
			continue
		}
		partial := ""
		for _, f := range s.FieldSelectors {
			switch f.Field {
			case "eventCategory", "readOnly", "eventSource":
			default:
				partial = f.Field
			}
		}
		if partial != "" {
			c.why = append(c.why, fmt.Sprintf("advancedEventSelectors[%q]: filters on %s, so it logs only some management events", name, partial))
			continue
		}
		src, hasSrc := field(s.FieldSelectors, "eventSource")
		switch {
		case hasSrc && source == "":
			c.why = append(c.why, fmt.Sprintf("advancedEventSelectors[%q]: limits eventSource (%s)", name, describeField(src)))
			continue
		case hasSrc && !admits(src, source):
			c.why = append(c.why, fmt.Sprintf("advancedEventSelectors[%q]: eventSource %s excludes %s", name, describeField(src), source))
			continue
		}
		ro, hasRO := field(s.FieldSelectors, "readOnly")
		r := !hasRO || admits(ro, "true")
		w := !hasRO || admits(ro, "false")
		c.read, c.write = c.read || r, c.write || w
		c.why = append(c.why, fmt.Sprintf("advancedEventSelectors[%q]: management events, read=%t write=%t", name, r, w))
	}
	return c
}

func field(fs []snapshot.FieldSelector, name string) (snapshot.FieldSelector, bool) {
	for _, f := range fs {
		if strings.EqualFold(f.Field, name) {
			return f, true
		}
	}
	return snapshot.FieldSelector{}, false
}

// admits applies one field selector to a value: the operators of one field
// are ANDed, the values of one operator ORed.
func admits(f snapshot.FieldSelector, v string) bool {
	anyOf := func(vals []string, match func(string) bool) bool {
		return slices.ContainsFunc(vals, match)
	}
	eq := func(x string) bool { return x == v }
	pre := func(x string) bool { return strings.HasPrefix(v, x) }
	suf := func(x string) bool { return strings.HasSuffix(v, x) }
	switch {
	case len(f.Equals) > 0 && !anyOf(f.Equals, eq),
		len(f.StartsWith) > 0 && !anyOf(f.StartsWith, pre),
		len(f.EndsWith) > 0 && !anyOf(f.EndsWith, suf),
		anyOf(f.NotEquals, eq), anyOf(f.NotStartsWith, pre), anyOf(f.NotEndsWith, suf):
		return false
	}
	return true
}

func describeField(f snapshot.FieldSelector) string {
	var parts []string
	add := func(op string, vals []string) {
		if len(vals) > 0 {
			parts = append(parts, op+" "+strings.Join(vals, ","))
		}
	}
	add("Equals", f.Equals)
	add("NotEquals", f.NotEquals)
	add("StartsWith", f.StartsWith)
	add("NotStartsWith", f.NotStartsWith)
	add("EndsWith", f.EndsWith)
	add("NotEndsWith", f.NotEndsWith)
	return strings.Join(parts, "; ")
}

// s3DataCoverage says whether a trail logs S3 object-level events of every
// bucket, for writes (write) or reads (!write). Basic selectors need an
// AWS::S3::Object data resource covering all buckets ("arn:aws:s3",
// "arn:aws:s3:::" or "arn:aws:s3:::*/*") with a matching ReadWriteType;
// advanced selectors need eventCategory = Data and resources.type =
// AWS::S3::Object, readOnly absent or admitting the wanted value, and no
// other filter, except one that leaves out only the central bucket itself
// (a trail logging its own bucket's reads would log its own deliveries).
func s3DataCoverage(t *snapshot.Trail, partition, centralBucket string, write bool) (bool, []string) {
	kind, want := "read", "true"
	if write {
		kind, want = "write", "false"
	}
	var why []string
	if len(t.AdvancedEventSelectors) > 0 {
		ok := false
		for i, s := range t.AdvancedEventSelectors {
			name := s.Name
			if name == "" {
				name = fmt.Sprintf("#%d", i)
			}
			cat, hasCat := field(s.FieldSelectors, "eventCategory")
			typ, hasType := field(s.FieldSelectors, "resources.type")
			if !hasCat || !admits(cat, "Data") || !hasType || len(typ.Equals) == 0 || !admits(typ, "AWS::S3::Object") {
				why = append(why, fmt.Sprintf("advancedEventSelectors[%q]: not an S3 object data events selector", name))
				continue
			}
			if ro, hasRO := field(s.FieldSelectors, "readOnly"); hasRO && !admits(ro, want) {
				why = append(why, fmt.Sprintf("advancedEventSelectors[%q]: S3 data events, readOnly %s: no %s events", name, describeField(ro), kind))
				continue
			}
			partial := ""
			for _, f := range s.FieldSelectors {
				switch f.Field {
				case "eventCategory", "resources.type", "readOnly":
				case "resources.ARN":
					if !onlyExcludes(f, "arn:"+partition+":s3:::"+centralBucket) {
						partial = "resources.ARN (" + describeField(f) + ")"
					}
				default:
					partial = f.Field + " (" + describeField(f) + ")"
				}
			}
			if partial != "" {
				why = append(why, fmt.Sprintf("advancedEventSelectors[%q]: S3 data events filtered on %s, so not every bucket's %s events", name, partial, kind))
				continue
			}
			ok = true
			why = append(why, fmt.Sprintf("advancedEventSelectors[%q]: S3 object %s events of every bucket", name, kind))
		}
		return ok, why
	}
	ok := false
	all := map[string]bool{"arn:" + partition + ":s3": true, "arn:" + partition + ":s3:::": true, "arn:" + partition + ":s3:::*/*": true}
	for i, s := range t.EventSelectors {
		rw := s.ReadWriteType == "All" || s.ReadWriteType == "" || (write && s.ReadWriteType == "WriteOnly") || (!write && s.ReadWriteType == "ReadOnly")
		for _, d := range s.DataResources {
			if d.Type != "AWS::S3::Object" {
				continue
			}
			every := false
			for _, v := range d.Values {
				every = every || all[v]
			}
			why = append(why, fmt.Sprintf("eventSelectors[%d]: ReadWriteType=%s AWS::S3::Object %v", i, s.ReadWriteType, d.Values))
			if every && rw {
				ok = true
			}
		}
	}
	if len(why) == 0 {
		why = append(why, "no S3 object data events selector")
	}
	return ok, why
}

// onlyExcludes reports whether a field selector only leaves out ARNs under
// prefix (NotStartsWith or NotEquals values there, nothing else).
func onlyExcludes(f snapshot.FieldSelector, prefix string) bool {
	if len(f.Equals) > 0 || len(f.StartsWith) > 0 || len(f.EndsWith) > 0 || len(f.NotEndsWith) > 0 {
		return false
	}
	for _, v := range append(append([]string{}, f.NotStartsWith...), f.NotEquals...) {
		if !strings.HasPrefix(v, prefix) {
			return false
		}
	}
	return len(f.NotStartsWith)+len(f.NotEquals) > 0
}
