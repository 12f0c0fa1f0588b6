package iac

import (
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"golang.org/x/text/unicode/norm"
)

// FuzzStringsSurviveHCL: any literal the output writes reads back as the
// same string in HCL and in Terraform JSON (where every string is a
// template): "${" and "%{" never start an interpolation, quotes and control
// characters are escaped as HCL escapes them. HCL reads every string in
// Unicode normal form C (its specification says so, and Terraform reads
// what HCL reads), so a string that is not in NFC reads back as its NFC
// form in both: the one change the output cannot avoid, and the reason
// the output's names are ASCII.
func FuzzStringsSurviveHCL(f *testing.F) {
	for _, s := range []string{"", "acme-org-cloudtrail", "${aws:username}", "%{ if x }", "$${x}", `a"b\c`, "line\nnext\ttab\r",
		"bell\a", "nul\x00", "ünïcødé ✓", "$", "%", "${", "}", "arn:aws:iam::*:role/ams-access-*"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			t.Skip("the output holds config values, which are UTF-8")
		}
		expr, diags := hclsyntax.ParseExpression([]byte(hclString(s)), "x.tf", hcl.InitialPos)
		if diags.HasErrors() {
			t.Fatalf("%q: HCL %s does not parse: %s", s, hclString(s), diags.Error())
		}
		v, diags := expr.Value(&hcl.EvalContext{})
		want := norm.NFC.String(s)
		if diags.HasErrors() || v.AsString() != want {
			t.Fatalf("%q: HCL %s reads back as %#v (%s)", s, hclString(s), v, diags.Error())
		}
		doc, err := marshal(map[string]any{"a": jsonString(s)})
		if err != nil {
			t.Fatal(err)
		}
		file, diags := hcljson.Parse(doc, "x.tf.json")
		if diags.HasErrors() {
			t.Fatalf("%q: JSON does not parse: %s", s, diags.Error())
		}
		attrs, diags := file.Body.JustAttributes()
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		jv, diags := attrs["a"].Expr.Value(&hcl.EvalContext{})
		if diags.HasErrors() || (jv.AsString() != s && jv.AsString() != want) {
			t.Fatalf("%q: Terraform JSON %s reads back as %#v (%s)", s, doc, jv, diags.Error())
		}
	})
}
