package audit

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/trailwarden/trailwarden/internal/snapshot"
)

func TestShortestRetention(t *testing.T) {
	at := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	date := at.AddDate(0, 0, 100)
	root := "org/AWSLogs/"
	tests := []struct {
		name       string
		versioning string
		rules      []snapshot.LifecycleRule
		days       int
		rule       string
		cond       string
		evidence   string
	}{
		{"no rules", "Enabled", nil, math.MaxInt, "", "", ""},
		{"legacy prefix above the log root", "", []snapshot.LifecycleRule{{ID: "all-org", Status: "Enabled", Prefix: "org/", ExpirationDays: i32(400)}}, 400, "all-org", "", ""},
		{"filter prefix below the log root applies to some logs", "", []snapshot.LifecycleRule{{ID: "one-account", Status: "Enabled", Prefix: "org/AWSLogs/o-a1b2c3d4e5/333333333333/", ExpirationDays: i32(30)}}, 30, "one-account", "", ""},
		{"empty prefix applies to everything", "", []snapshot.LifecycleRule{{ID: "bucket-wide", Status: "Enabled", ExpirationDays: i32(90)}}, 90, "bucket-wide", "", ""},
		{"non-overlapping prefix ignored", "", []snapshot.LifecycleRule{{ID: "tmp", Status: "Enabled", Prefix: "tmp/", ExpirationDays: i32(1)}}, math.MaxInt, "", "", "does not overlap"},
		{"sibling prefix ignored", "", []snapshot.LifecycleRule{{ID: "other", Status: "Enabled", Prefix: "org2/", ExpirationDays: i32(1)}}, math.MaxInt, "", "", "does not overlap"},
		{"disabled rule ignored", "", []snapshot.LifecycleRule{{ID: "off", Status: "Disabled", ExpirationDays: i32(1)}}, math.MaxInt, "", "", "status Disabled"},
		{"And with tags counts as possibly applying", "", []snapshot.LifecycleRule{{ID: "tagged", Status: "Enabled", Prefix: "org/", Tags: map[string]string{"class": "scratch"}, ExpirationDays: i32(60)}}, 60, "tagged", "tag filter", ""},
		{"size filter counts as possibly applying", "", []snapshot.LifecycleRule{{ID: "small", Status: "Enabled", ObjectSizeLessThan: new(int64), ExpirationDays: i32(10)}}, 10, "small", "size filter", ""},
		{"noncurrent versions with versioning enabled", "Enabled", []snapshot.LifecycleRule{{ID: "nc", Status: "Enabled", ExpirationDays: i32(3650), NoncurrentExpirationDays: i32(30)}}, 30, "nc", "", ""},
		{"noncurrent versions ignored without versioning", "Suspended", []snapshot.LifecycleRule{{ID: "nc", Status: "Enabled", ExpirationDays: i32(3650), NoncurrentExpirationDays: i32(30)}}, 3650, "nc", "", "versioning is Suspended"},
		{"noncurrent expiration keeping newer versions spares the only copy", "Enabled", []snapshot.LifecycleRule{{ID: "nc", Status: "Enabled", NoncurrentExpirationDays: i32(30), NewerNoncurrentVersions: i32(1)}}, math.MaxInt, "", "", "stays"},
		{"expiration date", "", []snapshot.LifecycleRule{{ID: "dated", Status: "Enabled", ExpirationDate: &date}}, 100, "dated", "", ""},
		{"shortest of several rules wins", "Enabled", []snapshot.LifecycleRule{
			{ID: "long", Status: "Enabled", Prefix: "org/AWSLogs/", ExpirationDays: i32(2555)},
			{ID: "short", Status: "Enabled", Prefix: "org/AWSLogs/o-a1b2c3d4e5/", ExpirationDays: i32(500)},
			{ID: "off", Status: "Disabled", ExpirationDays: i32(1)},
		}, 500, "short", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ev := shortestRetention(&snapshot.Bucket{Versioning: tt.versioning, Lifecycle: tt.rules}, root, at)
			if got.days != tt.days || got.rule != tt.rule || got.conditional != tt.cond {
				t.Fatalf("got %+v, want %d days by %q (%q)", got, tt.days, tt.rule, tt.cond)
			}
			if tt.evidence != "" && !strings.Contains(strings.Join(ev, "\n"), tt.evidence) {
				t.Fatalf("evidence %q lacks %q", ev, tt.evidence)
			}
		})
	}
}

func TestCheckLifecycle_BoundaryIs548Days(t *testing.T) {
	for _, tc := range []struct {
		days int32
		want Status
	}{{547, Fail}, {548, Pass}} {
		s := mutated(t, "good.json", func(s *snapshot.Snapshot) {
			s.Bucket.Lifecycle = []snapshot.LifecycleRule{{ID: "r", Status: "Enabled", ExpirationDays: i32(tc.days)}}
		})
		fs := byRule(audit(t, s, "accelerate"), "TW-BKT-03")
		if len(fs) != 1 || fs[0].Status != tc.want {
			t.Errorf("%d days: %+v, want %s", tc.days, fs, tc.want)
		}
	}
}
