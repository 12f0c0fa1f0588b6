package iac_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/iac"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/proof"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/golden")

// configs are the configs under testdata/configs, by name.
var configs = []string{"demo", "per-account", "sse-s3"}

func loadConfig(t *testing.T, name string) *config.Config {
	t.Helper()
	path := filepath.Join("testdata", "configs", name+".yaml")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	c, err := config.Parse(f, path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return c
}

// cache holds generated outputs by config and format: proving is slow.
var cache sync.Map

// generated is generate for a config of testdata/configs with the default
// existing resources, once per test binary.
func generated(t *testing.T, name string, format iac.Format) map[string][]byte {
	t.Helper()
	key := name + "/" + string(format)
	if v, ok := cache.Load(key); ok {
		return v.(map[string][]byte)
	}
	files := generate(t, loadConfig(t, name), format, iac.DefaultExisting())
	cache.Store(key, files)
	return files
}

func generate(t *testing.T, c *config.Config, format iac.Format, existing []string) map[string][]byte {
	t.Helper()
	out, err := iac.Generate(c, iac.Options{Format: format, Existing: existing})
	if err != nil {
		t.Fatalf("Generate %s: %v", format, err)
	}
	files := map[string][]byte{}
	for _, f := range out.Files {
		if _, dup := files[f.Path]; dup {
			t.Fatalf("%s written twice", f.Path)
		}
		files[f.Path] = f.Data
	}
	return files
}

// TestGolden compares every file of every format, for each config, with
// testdata/golden/<config>/<format>/ (go test -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range configs {
		for _, format := range iac.Formats() {
			t.Run(name+"/"+format, func(t *testing.T) {
				files := generated(t, name, iac.Format(format))
				dir := filepath.Join("testdata", "golden", name, format)
				if *update {
					if err := os.RemoveAll(dir); err != nil {
						t.Fatal(err)
					}
					for p, data := range files {
						path := filepath.Join(dir, filepath.FromSlash(p))
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, data, 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
				var onDisk []string
				err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					rel, _ := filepath.Rel(dir, path)
					onDisk = append(onDisk, filepath.ToSlash(rel))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				var want []string
				for p := range files {
					want = append(want, p)
				}
				sort.Strings(want)
				sort.Strings(onDisk)
				if !slices.Equal(want, onDisk) {
					t.Fatalf("files %v; golden has %v", want, onDisk)
				}
				for p, data := range files {
					golden, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(p)))
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(data, golden) {
						t.Errorf("%s differs from its golden file (go test ./internal/iac/ -update)", p)
					}
				}
			})
		}
	}
}

// provenPolicies are the documents `trailwarden policy` prints for c.
func provenPolicies(t *testing.T, c *config.Config) map[proof.Target][]byte {
	t.Helper()
	out := map[proof.Target][]byte{}
	for _, target := range generator.Targets(c) {
		pr, err := generator.Prove(c, target, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(pr.Refused) > 0 {
			t.Fatalf("%s: the proof refuses it", target)
		}
		out[target] = policy.Canonical(pr.Doc)
	}
	return out
}

// canonicalOf parses a policy embedded in a template and renders it as
// `trailwarden policy` does.
func canonicalOf(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	d, err := policy.Parse(raw)
	if err != nil {
		t.Fatalf("embedded policy does not parse: %v", err)
	}
	return policy.Canonical(d)
}

// TestPoliciesAreTheProvenDocuments: every policy in every format is, byte
// for byte after canonical JSON, what `trailwarden policy` prints, and no
// policy the config has is missing.
func TestPoliciesAreTheProvenDocuments(t *testing.T) {
	for _, name := range configs {
		c := loadConfig(t, name)
		want := provenPolicies(t, c)
		for _, format := range []iac.Format{iac.Terraform, iac.TerraformJSON} {
			files := generated(t, name, format)
			for target, doc := range want {
				got, ok := files[iac.PolicyFiles[target]]
				if !ok {
					t.Errorf("%s %s: no %s", name, format, iac.PolicyFiles[target])
					continue
				}
				if !bytes.Equal(got, doc) {
					t.Errorf("%s %s: %s is not the proven %s policy", name, format, iac.PolicyFiles[target], target)
				}
			}
			main := string(files["main.tf"]) + string(files["main.tf.json"])
			refs := regexp.MustCompile(`file\(\\?"\$\{path\.module\}/([^"\\]+)\\?"\)`).FindAllStringSubmatch(main, -1)
			seen := map[string]bool{}
			for _, r := range refs {
				seen[r[1]] = true
				if _, ok := files[r[1]]; !ok {
					t.Errorf("%s %s: main refers to %s, which is not written", name, format, r[1])
				}
			}
			for p := range files {
				if strings.HasPrefix(p, "policies/") && !seen[p] {
					t.Errorf("%s %s: %s is written but nothing uses it", name, format, p)
				}
			}
		}

		files := generated(t, name, iac.CloudFormation)
		found := map[proof.Target][]byte{}
		for p, data := range files {
			if !strings.HasSuffix(p, ".template.json") || strings.HasSuffix(p, ".import.template.json") {
				continue
			}
			for _, tpl := range templatesIn(t, data) {
				for _, r := range resourcesOf(tpl) {
					props, _ := r["Properties"].(map[string]any)
					switch r["Type"] {
					case "AWS::S3::BucketPolicy":
						if props["Bucket"].(map[string]any)["Ref"] == "CentralBucket" {
							found[proof.TargetBucket] = canonicalOf(t, props["PolicyDocument"])
						}
					case "AWS::KMS::Key":
						found[proof.TargetKey] = canonicalOf(t, props["KeyPolicy"])
					case "AWS::IAM::Role":
						found[proof.TargetTrust] = canonicalOf(t, props["AssumeRolePolicyDocument"])
						found[proof.TargetAccess] = canonicalOf(t, props["Policies"].([]any)[0].(map[string]any)["PolicyDocument"])
					}
				}
			}
		}
		for target, doc := range want {
			if !bytes.Equal(found[target], doc) {
				t.Errorf("%s cloudformation: the %s policy is not the proven document:\n%s\nwant\n%s", name, target, found[target], doc)
			}
		}
		if len(found) != len(want) {
			t.Errorf("%s cloudformation: %d policies, want %d", name, len(found), len(want))
		}
	}
}

// templatesIn returns a template and the templates its stack sets carry.
func templatesIn(t *testing.T, data []byte) []map[string]any {
	t.Helper()
	var tpl map[string]any
	if err := json.Unmarshal(data, &tpl); err != nil {
		t.Fatalf("template does not parse: %v", err)
	}
	out := []map[string]any{tpl}
	for _, r := range resourcesOf(tpl) {
		if r["Type"] == "AWS::CloudFormation::StackSet" {
			body, _ := r["Properties"].(map[string]any)["TemplateBody"].(string)
			out = append(out, templatesIn(t, []byte(body))...)
		}
	}
	return out
}

func resourcesOf(tpl map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	res, _ := tpl["Resources"].(map[string]any)
	for id, r := range res {
		out[id], _ = r.(map[string]any)
	}
	return out
}

// TestRefusesUnprovenPolicy: when the proof refuses a policy (as it does
// for `trailwarden policy`), nothing is emitted.
func TestRefusesUnprovenPolicy(t *testing.T) {
	c := loadConfig(t, "demo")
	for i, refused := range generator.Targets(c) {
		t.Run(string(refused), func(t *testing.T) {
			defer iac.SetProve(func(c *config.Config, target proof.Target, existing *policy.Document) (*generator.Proved, error) {
				pr, err := generator.Prove(c, target, existing)
				if err != nil || target != refused {
					return pr, err
				}
				owned := proof.Finding{Target: target, Kind: proof.KindUnintended, Grants: []proof.Grant{{Statement: 0, Sid: "TrailwardenX", Owned: true}}}
				return generator.Judge(pr.Output, &proof.Report{Findings: append(pr.Report.Findings, owned)}), nil
			})()
			// One format per target keeps the test short; each format is
			// refused at least once.
			for _, format := range []string{iac.Formats()[i%len(iac.Formats())]} {
				out, err := iac.Generate(c, iac.Options{Format: iac.Format(format), Existing: iac.DefaultExisting()})
				var ue *iac.UnprovenError
				if !errors.As(err, &ue) || ue.Target != refused || out != nil {
					t.Fatalf("%s: got %v, %v; want no output and an UnprovenError for %s", format, out, err, refused)
				}
			}
		})
	}
}

func TestBadOptions(t *testing.T) {
	c := loadConfig(t, "demo")
	if _, err := iac.Generate(c, iac.Options{Format: "pulumi"}); !errors.Is(err, iac.ErrFormat) {
		t.Errorf("format pulumi: %v, want ErrFormat", err)
	}
	if _, err := iac.Generate(c, iac.Options{Format: iac.Terraform, Existing: []string{"bucket", "vpc"}}); !errors.Is(err, iac.ErrResource) {
		t.Errorf("existing vpc: %v, want ErrResource", err)
	}
}
