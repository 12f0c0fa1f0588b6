package eval

import (
	"reflect"
	"testing"
)

func TestParseTemplate(t *testing.T) {
	lit := func(s string) token { return token{kind: tokLit, text: s} }
	v := func(name string) token { return token{kind: tokVar, text: name} }
	tests := []struct {
		name       string
		in         string
		vars, wild bool
		want       []token
	}{
		{"Literal", "abc", true, true, []token{lit("abc")}},
		{"Variable", "home/${aws:username}/*", true, true, []token{lit("home/"), v("aws:username"), lit("/"), {kind: tokStar}}},
		{"NameLowerCased", "${AWS:UserName}", true, false, []token{v("aws:username")}},
		{"Default", "${aws:PrincipalTag/team, 'company-wide'}", true, false, []token{{kind: tokVar, text: "aws:principaltag/team", def: "company-wide", hasDef: true}}},
		{"DefaultWithBrace", "${x, 'a}b'}", true, false, []token{{kind: tokVar, text: "x", def: "a}b", hasDef: true}}},
		{"Escapes", "a${*}b${?}c${$}", true, true, []token{lit("a*b?c$")}},
		{"VariablesOff", "${aws:username}", false, false, []token{lit("${aws:username}")}},
		{"Unterminated", "a${b", true, false, []token{lit("a${b")}},
		{"BadDefault", "${x, nope}", true, false, []token{lit("${x, nope}")}},
		{"ColonsInName", "${kms:EncryptionContext:aws:cloudtrail:arn}", true, false, []token{v("kms:encryptioncontext:aws:cloudtrail:arn")}},
		{"WildOffStarIsText", "a*b", false, false, []token{lit("a*b")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseTemplate(tt.in, tt.vars, tt.wild); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("parseTemplate(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestResolve(t *testing.T) {
	ctx := reqContext{"aws:username": {"alice"}, "aws:calledvia": {"athena.amazonaws.com"}, "multi": {"a", "b"}}
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"Value", "home/${aws:username}", "home/alice", true},
		{"Default", "${aws:userid, 'anonymous'}", "anonymous", true},
		{"Missing", "${aws:userid}", "", false},
		{"KnownMultivalued", "${aws:CalledVia}", "", false},
		{"SeveralValues", "${multi}", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			toks, _, ok := resolve(parseTemplate(tt.in, true, false), ctx)
			if ok != tt.ok {
				t.Fatalf("resolve(%q) ok = %v, want %v", tt.in, ok, tt.ok)
			}
			if ok && literal(toks) != tt.want {
				t.Fatalf("resolve(%q) = %q, want %q", tt.in, literal(toks), tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	for _, s := range []string{"2024-06-01T12:00:00Z", "2024-06-01T14:00:00+02:00", "2024-06-01T12:00:00.000Z", "1717243200", "2024-06-01T12:00Z"} {
		t.Run(s, func(t *testing.T) {
			d, ok := parseDate(s)
			if !ok || d.Unix() != 1717243200 {
				t.Fatalf("parseDate(%q) = %v, %v; want 2024-06-01T12:00:00Z", s, d, ok)
			}
		})
	}
	for _, s := range []string{"", "tomorrow", "2024-13-01", "1e9"} {
		if _, ok := parseDate(s); ok {
			t.Errorf("parseDate(%q) accepted", s)
		}
	}
}

func TestParseNumber(t *testing.T) {
	for _, s := range []string{"1", "-1.5", "+2", ".5", "1e3", "10.0"} {
		if _, ok := parseNumber(s); !ok {
			t.Errorf("parseNumber(%q) rejected", s)
		}
	}
	for _, s := range []string{"", "NaN", "Inf", "0x10", "1_000", "1e", "-", "1.2.3"} {
		if _, ok := parseNumber(s); ok {
			t.Errorf("parseNumber(%q) accepted", s)
		}
	}
}
