package sigma

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/testkit/sigmacorpus"
)

// seeds are the corpus's rules and the vendored SigmaHQ rules.
func seeds(f *testing.F) {
	cases, err := sigmacorpus.Load()
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		f.Add([]byte(c.Rule))
	}
	files, _ := filepath.Glob("testdata/sigmahq/*.yml")
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzParse: Parse never panics, and whatever it accepts either compiles
// to SQL that passes the syntax check or is refused with a reason; Match
// agrees with Compile on what is refused.
func FuzzParse(f *testing.F) {
	seeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := Parse(data, "fuzz.yml")
		if err != nil {
			return
		}
		for _, r := range rules {
			compileChecked(t, r)
		}
	})
}

// FuzzCompile builds a rule from a field, modifiers and a value and a
// condition, the parts where the compiler's escaping and grammar live.
func FuzzCompile(f *testing.F) {
	f.Add("requestParameters.bucketName", "contains", "a'b%c_d\\*", "selection")
	f.Add("eventName", "re|i", "^(Put|Delete)Bucket.*$", "not selection")
	f.Add("sourceIPAddress", "cidr", "10.0.0.0/9", "1 of sel*")
	f.Add("userIdentity.arn", "startswith|cased", "arn:aws:iam::", "all of them")
	f.Add("additionalEventData.MFAUsed", "", "No", "selection and (selection or not selection)")
	f.Fuzz(func(t *testing.T, field, mods, value, cond string) {
		key := field
		if mods != "" {
			key += "|" + mods
		}
		rule := "title: fuzz\nid: f\nlogsource: {product: aws, service: cloudtrail}\ndetection:\n  selection:\n    " +
			yamlQuote(key) + ": " + yamlQuote(value) + "\n  condition: " + yamlQuote(cond) + "\n"
		rules, err := Parse([]byte(rule), "fuzz.yml")
		if err != nil {
			return
		}
		compileChecked(t, rules[0])
	})
}

func yamlQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

func compileChecked(t *testing.T, r *Rule) {
	t.Helper()
	for _, d := range []Dialect{DuckDB, Athena} {
		c, err := Compile(r, d, Placeholders{"p": {"x"}})
		if err != nil {
			var u *UnsupportedError
			if !errors.As(err, &u) {
				t.Fatalf("%s: Compile returned %T %v, want *UnsupportedError", d, err, err)
			}
			continue
		}
		if err := checkSQL(c.SQL, d); err != nil {
			t.Fatalf("%s: %v\n%s", d, err, c.SQL)
		}
	}
	if r.Correlation == nil {
		_, errM := r.Match(map[string]any{"eventName": "x"}, Placeholders{"p": {"x"}})
		_, errC := Compile(r, DuckDB, Placeholders{"p": {"x"}})
		if (errM == nil) != (errC == nil) {
			t.Fatalf("Match error %v, Compile error %v: they must refuse the same rules", errM, errC)
		}
	}
}

// FuzzGlobRoundTrip: a literal escaped as a Sigma string parses back to
// the same literal, and matches itself (in any case) and nothing longer.
func FuzzGlobRoundTrip(f *testing.F) {
	for _, s := range []string{"a*b", `c:\dir\*`, `\\`, "50%_off", "?", "it's", `\*\?`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, lit string) {
		var b strings.Builder
		for _, c := range []byte(lit) {
			if c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(c)
		}
		toks := parseGlob(b.String())
		got, plain := literal(toks)
		if !plain || got != lit {
			t.Fatalf("escaped %q parsed to %q (plain %v)", lit, got, plain)
		}
		pt := pattern{kind: patGlob, glob: toks, cased: true}
		if !pt.match(lit, true) || pt.match(lit+"x", true) {
			t.Fatalf("pattern of %q does not match exactly itself", lit)
		}
	})
}
