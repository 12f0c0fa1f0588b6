package texttable

import (
	"bytes"
	"strings"
	"testing"
)

func maxWidth(s string) int {
	m := 0
	for _, l := range strings.Split(s, "\n") {
		m = max(m, StringWidth(l))
	}
	return m
}

func TestTableFits(t *testing.T) {
	long := strings.Repeat("arn:aws:iam::444444444444:role/security-analytics/", 3)
	tab := Table{Columns: []Column{{Name: "ACCOUNT", Min: 12}, {Name: "WHO"}, {Name: "RESOURCE"}, {Name: "N", Right: true}}, Rule: true, Prefix: "  "}
	tab.Add("111111111111", long, "a log file of account 111111111111", "5/69")
	tab.Add("222222222222", "reader", "the bucket", "56/69")
	for _, tc := range []struct {
		limit int
		cut   bool
	}{{80, true}, {40, true}, {0, false}} {
		var b bytes.Buffer
		if err := tab.Render(&b, tc.limit); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if tc.limit > 0 && maxWidth(out) > tc.limit {
			t.Errorf("limit %d: a line is %d wide:\n%s", tc.limit, maxWidth(out), out)
		}
		if !strings.Contains(out, "111111111111") || !strings.Contains(out, "222222222222") {
			t.Errorf("limit %d: an account ID (Min width) was cut:\n%s", tc.limit, out)
		}
		if got := strings.Contains(out, long); got == tc.cut {
			t.Errorf("limit %d: full value shown = %v, want %v:\n%s", tc.limit, got, !tc.cut, out)
		}
		if got := strings.Contains(out, Ellipsis); got != tc.cut {
			t.Errorf("limit %d: ellipsis = %v, want %v", tc.limit, got, tc.cut)
		}
		if tc.limit == 40 {
			// The floors of four columns do not fit 40: the last are left out, and named.
			if !strings.Contains(out, "RESOURCE, N)") || strings.Contains(out, "56/69") {
				t.Errorf("limit 40: want the last columns left out and named:\n%s", out)
			}
		} else if !strings.Contains(out, "56/69") {
			t.Errorf("limit %d: the right-aligned count is missing:\n%s", tc.limit, out)
		}
	}
}

func TestTruncateAndClean(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		n        int
	}{
		{"abcdef", "abcdef", 6},
		{"abcdef", "abcd…", 5},
		{"日本語テキスト", "日本…", 5},
		{"a\x1b[31mb", "a [31mb", 10},
		{"x\u202ey", "x y", 10},
	} {
		if got := Truncate(Clean(tc.in), tc.n); got != tc.want {
			t.Errorf("Truncate(Clean(%q), %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

func TestWrap(t *testing.T) {
	arn := "arn:aws:kms:us-east-1:222222222222:key/5f1e1c1a-7d2b-4c3e-9a8b-1c2d3e4f5a6b-and-some-more-to-overflow"
	in := "    fix: run aws s3api put-bucket-versioning --bucket demo-bucket --versioning-configuration Status=Enabled on " + arn + " then check"
	lines := Wrap(in, 80)
	if len(lines) < 2 {
		t.Fatalf("not wrapped: %q", lines)
	}
	var words []string
	for i, l := range lines {
		if StringWidth(l) > 80 {
			t.Errorf("line %d is %d wide: %q", i, StringWidth(l), l)
		}
		if i > 0 && !strings.HasPrefix(l, "      ") {
			t.Errorf("continuation %d lost the hanging indent: %q", i, l)
		}
		words = append(words, strings.TrimSpace(l))
	}
	// Nothing dropped: the words (the cut ARN rejoined) are the input's.
	joined := strings.Join(strings.Fields(strings.Join(words, " ")), " ")
	if strings.ReplaceAll(joined, " ", "") != strings.ReplaceAll(strings.TrimSpace(in), " ", "") {
		t.Errorf("wrapping lost text:\n got %q\nwant %q", joined, strings.TrimSpace(in))
	}
	if got := Wrap(in, 0); len(got) != 1 || got[0] != in {
		t.Errorf("limit 0 changed the line: %q", got)
	}
	if got := Wrap(strings.Repeat(" ", 90)+"x", 80); len(got) == 0 {
		t.Errorf("deep indent: %q", got)
	}
}

func TestWriterWrapsEachLine(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, 20)
	_, _ = w.Write([]byte("short\none two three four five six seven\npart"))
	_, _ = w.Write([]byte("ial"))
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "short\none two three four\n  five six seven\npartial"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}
