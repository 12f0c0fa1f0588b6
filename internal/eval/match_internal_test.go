package eval

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestGlob_Match(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"Exact", "abc", "abc", true},
		{"ExactMismatch", "abc", "abd", false},
		{"Star", "*", "", true},
		{"Prefix", "s3:get*", "s3:getobject", true},
		{"PrefixMismatch", "s3:get*", "s3:put", false},
		{"Suffix", "*object", "s3:getobject", true},
		{"Middle", "a*c*e", "abcde", true},
		{"MiddleBacktrack", "a*bc", "abbbc", true},
		{"QuestionOne", "a?c", "abc", true},
		{"QuestionNotEmpty", "a?c", "ac", false},
		{"QuestionRune", "a?c", "aéc", true},
		{"StarThenQuestion", "*?", "", false},
		{"TrailingLiteral", "*.json", "a.json.gz", false},
		{"Empty", "", "", true},
		{"EmptyMismatch", "", "a", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := compileGlob(parseTemplate(tt.pattern, false, true))
			if got := g.match(tt.s); got != tt.want {
				t.Fatalf("glob %q match %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

// TestARNPattern_Match is the Resource element's matching: a pattern with
// fewer than six segments lets its last segment absorb the rest.
func TestARNPattern_Match(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"Segments", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k", true},
		{"LastSegmentColons", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k:1:2", true},
		{"StarStaysInSegment", "arn:aws:sqs:*:1:q", "arn:aws:sqs:r:2:1:q", false},
		{"TooFewSegments", "arn:aws:sqs:r:1:q", "arn:aws:sqs", false},
		{"LoneStar", "*", "anything:at:all", true},
		{"ShortPatternAbsorbs", "arn:aws:iam::*", "arn:aws:iam::1:role/x", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compileARN(parseTemplate(tt.pattern, false, true))
			if got := p.match(tt.s); got != tt.want {
				t.Fatalf("arn %q match %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

// TestARNPattern_MatchComponents is the ARN condition operators' matching:
// "each of the six colon-delimited components of the ARN is checked
// separately" [doc: condition operators].
func TestARNPattern_MatchComponents(t *testing.T) {
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"SixComponents", "arn:aws:iam::*:user/*", "arn:aws:iam::111111111111:user/alice", true},
		{"FiveComponentsNeverMatch", "arn:aws:iam::*", "arn:aws:iam::111111111111:user/alice", false},
		{"FiveComponentsNotEvenFive", "arn:aws:iam::*", "arn:aws:iam::111111111111", false},
		{"LoneStarIsNotAnARN", "*", "arn:aws:iam::111111111111:user/alice", false},
		{"LoneStarAgainstNonARN", "*", "alice", false},
		{"StarStaysInAccount", "arn:aws:iam::1*:user/alice", "arn:aws:iam::111111111111:user/alice", true},
		{"StarDoesNotSpanColon", "arn:aws:someservice:*:111122223333:finance/*",
			"arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/document.txt", false},
		{"ResourceKeepsColons", "arn:aws:s3:::b/*", "arn:aws:s3:::b/k:1:2", true},
		{"ResourceColonsInPattern", "arn:aws:logs:*:1:log-group:g:*", "arn:aws:logs:us-east-1:1:log-group:g:log-stream:s", true},
		{"ValueTooShort", "arn:aws:iam::*:*", "arn:aws:iam::1", false},
		{"EmptyComponentsMatchEmpty", "arn:aws:s3:::*", "arn:aws:s3:::bucket", true},
		{"EmptyRegionPatternRejectsRegion", "arn:aws:sqs::1:q", "arn:aws:sqs:us-east-1:1:q", false},
		{"QuestionWithinComponent", "arn:aws:iam::11111111111?:root", "arn:aws:iam::111111111111:root", true},
		{"QuestionNeedsACharacter", "arn:aws:iam:?:111111111111:root", "arn:aws:iam::111111111111:root", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := compileARN(parseTemplate(tt.pattern, false, true))
			if got := p.matchComponents(tt.s); got != tt.want {
				t.Fatalf("ARN condition %q match %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}

// FuzzGlob checks the matcher against an equivalent regular expression.
func FuzzGlob(f *testing.F) {
	for _, s := range [][2]string{{"a*b?c", "axxbyc"}, {"*a*a*a*", "aaaa"}, {"?*?", "é"}, {"s3:*", "s3:GetObject"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 256 || !utf8.ValidString(pattern) || !utf8.ValidString(s) {
			return // the regexp oracle needs valid UTF-8
		}
		toks := parseTemplate(pattern, false, true)
		var re strings.Builder
		re.WriteString(`(?s)^`)
		for _, tk := range toks {
			switch tk.kind {
			case tokStar:
				re.WriteString(`.*`)
			case tokQuest:
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(tk.text))
			}
		}
		re.WriteString(`$`)
		want := regexp.MustCompile(re.String()).MatchString(s)
		g := compileGlob(toks)
		if got := g.match(s); got != want {
			t.Fatalf("glob %q match %q = %v, regexp says %v", pattern, s, got, want)
		}
	})
}
