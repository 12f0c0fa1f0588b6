package textdiff_test

import (
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/textdiff"
)

func TestUnified(t *testing.T) {
	tests := []struct {
		name, a, b, want string
	}{
		{"Equal", "x\ny\n", "x\ny\n", ""},
		{"Change", "a\nb\nc\n", "a\nB\nc\n", "--- old\n+++ new\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n"},
		{"AddToEmpty", "", "a\n", "--- old\n+++ new\n@@ -0,0 +1,1 @@\n+a\n"},
		{"RemoveAll", "a\nb\n", "", "--- old\n+++ new\n@@ -1,2 +0,0 @@\n-a\n-b\n"},
		{"TwoHunks", "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n", "X\n2\n3\n4\n5\n6\n7\n8\n9\nY\n",
			"--- old\n+++ new\n@@ -1,2 +1,2 @@\n-1\n+X\n 2\n@@ -9,2 +9,2 @@\n 9\n-10\n+Y\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := textdiff.Unified("old", "new", tt.a, tt.b, 1)
			if got != tt.want {
				t.Fatalf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

// TestUnifiedReconstructs applies the diff's lines to check they describe
// the change exactly: context and removals rebuild a, context and
// additions rebuild b.
func TestUnifiedReconstructs(t *testing.T) {
	a := "v\n{\n  a\n  b\n  c\n}\nw\n"
	b := "v\n{\n  a\n  c\n  d\n}\nw\nz\n"
	d := textdiff.Unified("a", "b", a, b, 100)
	var oldLines, newLines []string
	for _, l := range strings.Split(strings.TrimSuffix(d, "\n"), "\n")[3:] {
		switch l[0] {
		case ' ':
			oldLines, newLines = append(oldLines, l[1:]), append(newLines, l[1:])
		case '-':
			oldLines = append(oldLines, l[1:])
		case '+':
			newLines = append(newLines, l[1:])
		}
	}
	if strings.Join(oldLines, "\n")+"\n" != a || strings.Join(newLines, "\n")+"\n" != b {
		t.Fatalf("diff does not describe the change:\n%s", d)
	}
}
