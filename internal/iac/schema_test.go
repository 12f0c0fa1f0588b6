package iac_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/trailwarden/trailwarden/internal/iac"
)

// tfSchema is the names of a block's arguments and nested blocks, as
// testdata/schemas/terraform/*.json describe them.
type tfSchema struct {
	Attributes    []string             `json:"attributes"`
	Blocks        map[string]*tfSchema `json:"blocks"`
	AnyAttributes bool                 `json:"any_attributes"`
}

type tfSchemas struct {
	Provider  *tfSchema            `json:"provider"`
	Resources map[string]*tfSchema `json:"resources"`
	// The language's own blocks.
	Terraform, Variable, Import, ResourceMeta *tfSchema
}

func loadTFSchemas(t *testing.T) *tfSchemas {
	t.Helper()
	var s tfSchemas
	var lang struct {
		Terraform    *tfSchema `json:"terraform"`
		Variable     *tfSchema `json:"variable"`
		Import       *tfSchema `json:"import"`
		ResourceMeta *tfSchema `json:"resource_meta"`
	}
	for file, v := range map[string]any{"aws-provider.json": &s, "language.json": &lang} {
		data, err := os.ReadFile(filepath.Join("testdata", "schemas", "terraform", file))
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(data, v); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
	}
	s.Terraform, s.Variable, s.Import, s.ResourceMeta = lang.Terraform, lang.Variable, lang.Import, lang.ResourceMeta
	return &s
}

// withMeta is a resource's schema with the meta-arguments every resource takes.
func withMeta(r, meta *tfSchema) *tfSchema {
	out := &tfSchema{Attributes: append(slices.Clone(r.Attributes), meta.Attributes...), Blocks: map[string]*tfSchema{}}
	for k, v := range r.Blocks {
		out.Blocks[k] = v
	}
	for k, v := range meta.Blocks {
		out.Blocks[k] = v
	}
	return out
}

// tfWalker checks every argument and block name against the schemas and
// records the path of each, so the HCL and JSON outputs can be compared.
type tfWalker struct {
	s      *tfSchemas
	paths  []string
	errors []string
}

func (w *tfWalker) fail(format string, args ...any) {
	w.errors = append(w.errors, fmt.Sprintf(format, args...))
}

// top returns the schema of a top-level block and the path it starts.
func (w *tfWalker) top(typ string, labels []string) (*tfSchema, string) {
	path := strings.Join(append([]string{typ}, labels...), ".")
	switch typ {
	case "terraform":
		return w.s.Terraform, path
	case "variable":
		return w.s.Variable, path
	case "import":
		return w.s.Import, path
	case "provider":
		if len(labels) != 1 || labels[0] != "aws" {
			w.fail("provider %v: only aws is described", labels)
			return nil, path
		}
		p := *w.s.Provider
		p.Attributes = append(slices.Clone(p.Attributes), "alias")
		return &p, path
	case "resource":
		if len(labels) != 2 {
			w.fail("resource %v: want a type and a name", labels)
			return nil, path
		}
		r, ok := w.s.Resources[labels[0]]
		if !ok {
			w.fail("resource type %s is not in the provider schema", labels[0])
			return nil, path
		}
		return withMeta(r, w.s.ResourceMeta), labels[0] + "." + labels[1]
	}
	w.fail("top-level block %s is not expected", typ)
	return nil, path
}

func (w *tfWalker) attr(s *tfSchema, path, name string) {
	if !s.AnyAttributes && !slices.Contains(s.Attributes, name) {
		w.fail("%s: argument %q is not in the schema", path, name)
	}
	w.paths = append(w.paths, path+"."+name)
}

// block resolves a nested block (a dynamic block by its label).
func (w *tfWalker) block(s *tfSchema, path, typ string) (*tfSchema, bool) {
	b, ok := s.Blocks[typ]
	if !ok {
		w.fail("%s: block %q is not in the schema", path, typ)
	}
	return b, ok
}

// bareArgs are the arguments Terraform reads as references or type
// keywords, never as templates: bare in HCL, "${" nowhere in JSON.
var bareArgs = []string{"provider", "depends_on", "to", "type"}

func (w *tfWalker) bare(path, name string, ok bool) {
	if slices.Contains(bareArgs, name) && !strings.Contains(path, ".data_resource") && !ok {
		w.fail("%s.%s: written as a template or string, not a bare reference", path, name)
	}
}

func isTraversal(e hclsyntax.Expression) bool {
	switch e := e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return true
	case *hclsyntax.TupleConsExpr:
		for _, x := range e.Exprs {
			if !isTraversal(x) {
				return false
			}
		}
		return true
	}
	return false
}

func (w *tfWalker) native(s *tfSchema, path string, body *hclsyntax.Body) {
	for name, a := range body.Attributes {
		w.attr(s, path, name)
		w.bare(path, name, isTraversal(a.Expr))
	}
	for _, b := range body.Blocks {
		if b.Type == "dynamic" && len(b.Labels) == 1 {
			inner, ok := w.block(s, path, b.Labels[0])
			if !ok {
				continue
			}
			p := path + "." + b.Labels[0]
			for name := range b.Body.Attributes {
				if name != "for_each" && name != "iterator" {
					w.fail("%s: dynamic argument %q", p, name)
				}
			}
			for _, c := range b.Body.Blocks {
				if c.Type != "content" {
					w.fail("%s: dynamic block %q", p, c.Type)
					continue
				}
				w.native(inner, p, c.Body)
			}
			continue
		}
		if inner, ok := w.block(s, path, b.Type); ok {
			w.native(inner, path+"."+b.Type, b.Body)
		}
	}
}

// checkHCL parses main.tf with the HCL parser and walks it.
func checkHCL(t *testing.T, s *tfSchemas, src []byte) *tfWalker {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL(src, "main.tf")
	if diags.HasErrors() {
		t.Fatalf("main.tf does not parse: %s", diags.Error())
	}
	w := &tfWalker{s: s}
	body := f.Body.(*hclsyntax.Body)
	if len(body.Attributes) > 0 {
		w.fail("top-level arguments in main.tf")
	}
	for _, b := range body.Blocks {
		if schema, path := w.top(b.Type, b.Labels); schema != nil {
			w.native(schema, path, b.Body)
		}
	}
	return w
}

// objects is a JSON block value: one object or an array of them.
func objects(v any) []map[string]any {
	switch v := v.(type) {
	case map[string]any:
		return []map[string]any{v}
	case []any:
		var out []map[string]any
		for _, e := range v {
			if m, ok := e.(map[string]any); ok {
				out = append(out, m)
			}
		}
		return out
	}
	return nil
}

func (w *tfWalker) jsonBody(s *tfSchema, path string, body map[string]any) {
	for k, v := range body {
		switch {
		case k == "//":
		case k == "dynamic":
			for label, dv := range v.(map[string]any) {
				inner, ok := w.block(s, path, label)
				if !ok {
					continue
				}
				for _, d := range objects(dv) {
					for dk, content := range d {
						switch dk {
						case "for_each", "iterator":
						case "content":
							for _, c := range objects(content) {
								w.jsonBody(inner, path+"."+label, c)
							}
						default:
							w.fail("%s.%s: dynamic argument %q", path, label, dk)
						}
					}
				}
			}
		case s.Blocks[k] != nil:
			for _, o := range objects(v) {
				w.jsonBody(s.Blocks[k], path+"."+k, o)
			}
		default:
			w.attr(s, path, k)
			raw, _ := json.Marshal(v)
			w.bare(path, k, !strings.Contains(string(raw), "${"))
		}
	}
}

// checkTFJSON parses main.tf.json with HCL's JSON parser, and walks it
// as Terraform reads JSON: blocks nested under their type and labels.
func checkTFJSON(t *testing.T, s *tfSchemas, src []byte) *tfWalker {
	t.Helper()
	f, diags := hclparse.NewParser().ParseJSON(src, "main.tf.json")
	if diags.HasErrors() {
		t.Fatalf("main.tf.json does not parse: %s", diags.Error())
	}
	// The JSON body answers a schema of Terraform's top-level blocks.
	content, diags := f.Body.Content(&hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
		{Type: "terraform"}, {Type: "variable", LabelNames: []string{"name"}}, {Type: "provider", LabelNames: []string{"name"}},
		{Type: "resource", LabelNames: []string{"type", "name"}}, {Type: "import"},
	}, Attributes: []hcl.AttributeSchema{{Name: "//"}}})
	if diags.HasErrors() {
		t.Fatalf("main.tf.json is not a Terraform JSON configuration: %s", diags.Error())
	}
	if len(content.Blocks) == 0 {
		t.Fatal("main.tf.json has no blocks")
	}
	var doc map[string]any
	if err := json.Unmarshal(src, &doc); err != nil {
		t.Fatal(err)
	}
	w := &tfWalker{s: s}
	for typ, v := range doc {
		switch typ {
		case "//":
		case "terraform", "import":
			for _, o := range objects(v) {
				if schema, path := w.top(typ, nil); schema != nil {
					w.jsonBody(schema, path, o)
				}
			}
		case "variable", "provider":
			for label, lv := range v.(map[string]any) {
				for _, o := range objects(lv) {
					if schema, path := w.top(typ, []string{label}); schema != nil {
						w.jsonBody(schema, path, o)
					}
				}
			}
		case "resource":
			for rtype, names := range v.(map[string]any) {
				for name, rv := range names.(map[string]any) {
					for _, o := range objects(rv) {
						if schema, path := w.top(typ, []string{rtype, name}); schema != nil {
							w.jsonBody(schema, path, o)
						}
					}
				}
			}
		default:
			w.fail("top-level key %q", typ)
		}
	}
	return w
}

// TestTerraformSchema: main.tf and main.tf.json parse with the HCL
// parser, every argument and block they use is in the provider's (or the
// language's) schema, and both describe the same arguments.
func TestTerraformSchema(t *testing.T) {
	s := loadTFSchemas(t)
	for _, name := range configs {
		t.Run(name, func(t *testing.T) {
			native := checkHCL(t, s, generated(t, name, iac.Terraform)["main.tf"])
			js := checkTFJSON(t, s, generated(t, name, iac.TerraformJSON)["main.tf.json"])
			for _, w := range []*tfWalker{native, js} {
				for _, e := range w.errors {
					t.Error(e)
				}
				sort.Strings(w.paths)
			}
			if !slices.Equal(native.paths, js.paths) {
				t.Errorf("HCL and JSON differ:\nHCL  %v\nJSON %v", native.paths, js.paths)
			}
			if len(native.paths) < 50 {
				t.Errorf("only %d arguments walked", len(native.paths))
			}
		})
	}
}

// TestTerraformSchemaCatches: the walk reports a misspelt argument, an
// unknown block and an unknown resource type (so a pass means something).
func TestTerraformSchemaCatches(t *testing.T) {
	s := loadTFSchemas(t)
	src := generated(t, "demo", iac.Terraform)["main.tf"]
	for _, bad := range []struct{ from, to string }{
		{"enable_log_file_validation", "enable_log_validation"},
		{"versioning_configuration {", "versioning {"},
		{`resource "aws_s3_bucket_policy"`, `resource "aws_s3_policy"`},
		{"prevent_destroy = true", "prevent_delete = true"},
		{"type        = string", `type        = "string"`},
		{"depends_on = [aws_s3_bucket_policy.central,", `depends_on = ["aws_s3_bucket_policy.central",`},
	} {
		mutated := bytes.Replace(src, []byte(bad.from), []byte(bad.to), 1)
		if bytes.Equal(mutated, src) {
			t.Fatalf("%q is not in main.tf", bad.from)
		}
		if w := checkHCL(t, s, mutated); len(w.errors) == 0 {
			t.Errorf("%s -> %s: no error", bad.from, bad.to)
		}
	}
}

// cfnSchemas compiles the vendored CloudFormation resource provider
// schemas, by type name.
func cfnSchemas(t *testing.T) (map[string]*jsonschema.Schema, map[string][]string) {
	t.Helper()
	dir := filepath.Join("testdata", "schemas", "cloudformation")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, ids := map[string]*jsonschema.Schema{}, map[string][]string{}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), ".json") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var raw map[string]any
		if err := json.Unmarshal(data, &raw); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		// The meta-schema is not vendored: the schemas are read as JSON
		// Schema draft 7, which the provider definition schema extends.
		delete(raw, "$schema")
		typ := raw["typeName"].(string)
		for _, p := range raw["primaryIdentifier"].([]any) {
			ids[typ] = append(ids[typ], strings.TrimPrefix(p.(string), "/properties/"))
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft7)
		c.UseRegexpEngine(perlRegexp)
		url := "file:///" + e.Name()
		if err := c.AddResource(url, raw); err != nil {
			t.Fatal(err)
		}
		if out[typ], err = c.Compile(url); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
	}
	return out, ids
}

// unsupported is a pattern Go's regexp cannot compile (a lookahead, in
// the Tags definitions): it matches nothing, so a value it would judge
// fails rather than passes unchecked. The output has no such value.
type unsupported string

func (u unsupported) String() string          { return string(u) }
func (u unsupported) MatchString(string) bool { return false }

func perlRegexp(s string) (jsonschema.Regexp, error) {
	if re, err := regexp.Compile(s); err == nil {
		return re, nil
	}
	return unsupported(s), nil
}

// resolveIntrinsics replaces {"Ref": ...} and {"Fn::...": ...} with the
// string they resolve to at deploy time, so the schema sees a value.
func resolveIntrinsics(v any) any {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 1 {
			for k := range v {
				if k == "Ref" || strings.HasPrefix(k, "Fn::") {
					return "resolved-" + k
				}
			}
		}
		out := map[string]any{}
		for k, e := range v {
			out[k] = resolveIntrinsics(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = resolveIntrinsics(e)
		}
		return out
	}
	return v
}

// checkTemplate validates every resource of tpl against its schema and
// the template's own rules; it returns the problems.
func checkTemplate(schemas map[string]*jsonschema.Schema, tpl map[string]any) []string {
	var errs []string
	res := resourcesOf(tpl)
	if len(res) == 0 {
		errs = append(errs, "no resources")
	}
	for id, r := range res {
		for k := range r {
			if !slices.Contains([]string{"Type", "Properties", "DeletionPolicy", "UpdateReplacePolicy", "DependsOn"}, k) {
				errs = append(errs, fmt.Sprintf("%s: resource attribute %q", id, k))
			}
		}
		if r["DeletionPolicy"] != "Retain" || r["UpdateReplacePolicy"] != "Retain" {
			errs = append(errs, id+": not retained on deletion and replacement")
		}
		if deps, ok := r["DependsOn"].([]any); ok {
			for _, d := range deps {
				if _, ok := res[d.(string)]; !ok {
					errs = append(errs, fmt.Sprintf("%s depends on %v, which is not in the template", id, d))
				}
			}
		}
		typ, _ := r["Type"].(string)
		schema, ok := schemas[typ]
		if !ok {
			errs = append(errs, fmt.Sprintf("%s: no vendored schema for %s", id, typ))
			continue
		}
		props, _ := json.Marshal(r["Properties"])
		for _, ref := range refsIn(r["Properties"]) {
			if _, ok := res[ref]; !ok {
				errs = append(errs, fmt.Sprintf("%s: Ref %s is not in the template", id, ref))
			}
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(props))
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if err := schema.Validate(resolveIntrinsics(v)); err != nil {
			errs = append(errs, fmt.Sprintf("%s (%s): %v", id, typ, err))
		}
	}
	return errs
}

func refsIn(v any) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		if r, ok := v["Ref"].(string); ok && len(v) == 1 {
			return []string{r}
		}
		for _, e := range v {
			out = append(out, refsIn(e)...)
		}
	case []any:
		for _, e := range v {
			out = append(out, refsIn(e)...)
		}
	}
	return out
}

// TestCloudFormationSchema: every resource of every template (and of the
// stack set's template body) validates against CloudFormation's resource
// provider schema; every resource to import names its type's primary
// identifier and is exactly what the import template holds.
func TestCloudFormationSchema(t *testing.T) {
	schemas, ids := cfnSchemas(t)
	for _, name := range configs {
		t.Run(name, func(t *testing.T) {
			files := generated(t, name, iac.CloudFormation)
			for p, data := range files {
				if !strings.HasSuffix(p, ".template.json") {
					continue
				}
				for _, tpl := range templatesIn(t, data) {
					for _, e := range checkTemplate(schemas, tpl) {
						t.Errorf("%s: %s", p, e)
					}
				}
				if !strings.HasSuffix(p, ".import.template.json") {
					continue
				}
				stack := strings.TrimSuffix(p, ".import.template.json")
				var imports []struct {
					ResourceType       string
					LogicalResourceID  string `json:"LogicalResourceId"`
					ResourceIdentifier map[string]string
				}
				if err := json.Unmarshal(files[stack+".resources-to-import.json"], &imports); err != nil {
					t.Fatalf("%s.resources-to-import.json: %v", stack, err)
				}
				var tpl map[string]any
				_ = json.Unmarshal(data, &tpl)
				res := resourcesOf(tpl)
				if len(res) != len(imports) {
					t.Errorf("%s: %d resources in the import template, %d to import", stack, len(res), len(imports))
				}
				full := resourcesOf(templatesIn(t, files[stack+".template.json"])[0])
				for _, imp := range imports {
					r, ok := res[imp.LogicalResourceID]
					if !ok || r["Type"] != imp.ResourceType {
						t.Errorf("%s: %s (%s) is not in the import template", stack, imp.LogicalResourceID, imp.ResourceType)
						continue
					}
					// The import template states no more than the full one:
					// a setting stated at import is never applied after.
					fullProps, _ := full[imp.LogicalResourceID]["Properties"].(map[string]any)
					props, _ := r["Properties"].(map[string]any)
					for k, v := range props {
						if string(must(json.Marshal(fullProps[k]))) != string(must(json.Marshal(v))) {
							t.Errorf("%s: %s.%s differs between the import and the full template", stack, imp.LogicalResourceID, k)
						}
					}
					if len(props) >= len(fullProps) && len(fullProps) > 3 {
						t.Errorf("%s: the import template states all %d properties of %s; the deploy after it would apply none", stack, len(props), imp.LogicalResourceID)
					}
					var keys []string
					for k, v := range imp.ResourceIdentifier {
						keys = append(keys, k)
						if v == "" {
							t.Errorf("%s: %s has an empty identifier", stack, imp.LogicalResourceID)
						}
					}
					if !slices.Equal(keys, ids[imp.ResourceType]) {
						t.Errorf("%s: %s identified by %v; the schema's primary identifier is %v", stack, imp.LogicalResourceID, keys, ids[imp.ResourceType])
					}
				}
			}
		})
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

// TestCloudFormationSchemaCatches: an unknown property, a wrong type and a
// missing DeletionPolicy are reported.
func TestCloudFormationSchemaCatches(t *testing.T) {
	schemas, _ := cfnSchemas(t)
	files := generated(t, "demo", iac.CloudFormation)
	for _, bad := range []struct{ from, to string }{
		{`"IsLogging": true`, `"IsLoging": true`},
		{`"IsMultiRegionTrail": true`, `"IsMultiRegionTrail": "yes"`},
		{`"ReadWriteType": "All"`, `"ReadWriteType": "Everything"`},
		{`"DeletionPolicy": "Retain"`, `"DeletionPolicy": "Delete"`},
	} {
		src := files["trail.template.json"]
		mutated := bytes.Replace(src, []byte(bad.from), []byte(bad.to), 1)
		if bytes.Equal(mutated, src) {
			t.Fatalf("%q is not in trail.template.json", bad.from)
		}
		var tpl map[string]any
		if err := json.Unmarshal(mutated, &tpl); err != nil {
			t.Fatal(err)
		}
		if errs := checkTemplate(schemas, tpl); len(errs) == 0 {
			t.Errorf("%s -> %s: no error", bad.from, bad.to)
		}
	}
}
