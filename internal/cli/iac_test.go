package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIaCWritesTheProvenPolicies: iac writes its files 0600, and each
// policy file is byte for byte what `trailwarden policy <kind>` prints.
func TestIaCWritesTheProvenPolicies(t *testing.T) {
	dir := t.TempDir()
	out, stderr, code := run("iac", "--config", "testdata/input/org.yaml", "--format", "terraform", "--out", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(out, filepath.Join(dir, "main.tf")) || !strings.Contains(out, "README.md") {
		t.Errorf("stdout does not list what was written:\n%s", out)
	}
	for kind, file := range map[string]string{"bucket": "bucket-policy.json", "key": "key-policy.json", "reader-trust": "reader-trust.json", "reader-access": "reader-access.json"} {
		want, stderr, code := run("policy", kind, "--config", "testdata/input/org.yaml")
		if code != 0 {
			t.Fatalf("policy %s: exit %d: %s", kind, code, stderr)
		}
		path := filepath.Join(dir, "policies", file)
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != want {
			t.Errorf("%s is not what `trailwarden policy %s` prints", file, kind)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v (%v), want 0600", file, fi.Mode().Perm(), err)
		}
	}
}

// TestIaCBadInput: a wrong --format or --existing, no --out, and files
// that exist without --force are bad input (exit 2) and write nothing.
func TestIaCBadInput(t *testing.T) {
	dir := t.TempDir()
	cfg := "testdata/input/org.yaml"
	for _, args := range [][]string{
		{"iac", "--config", cfg, "--format", "pulumi", "--out", filepath.Join(dir, "a")},
		{"iac", "--config", cfg, "--existing", "bucket,vpc", "--out", filepath.Join(dir, "b")},
		{"iac", "--config", cfg},
	} {
		_, stderr, code := run(args...)
		if code != ExitBadInput || !strings.Contains(stderr, "Try:") {
			t.Errorf("%v: exit %d, want 2 with a hint:\n%s", args, code, stderr)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("bad input wrote %d entries", len(entries))
	}
	out := filepath.Join(dir, "cfn")
	if _, stderr, code := run("iac", "--config", cfg, "--format", "cloudformation", "--out", out); code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	readme := filepath.Join(out, "README.md")
	if err := os.WriteFile(readme, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, stderr, code := run("iac", "--config", cfg, "--format", "cloudformation", "--out", out); code != ExitBadInput || !strings.Contains(stderr, "--force") {
		t.Errorf("second run without --force: exit %d, want 2 naming --force:\n%s", code, stderr)
	}
	if b, _ := os.ReadFile(readme); string(b) != "mine" {
		t.Error("a file was overwritten without --force")
	}
	if _, stderr, code := run("iac", "--config", cfg, "--format", "cloudformation", "--out", out, "--force"); code != 0 {
		t.Errorf("--force: exit %d: %s", code, stderr)
	}
	if b, _ := os.ReadFile(readme); string(b) == "mine" {
		t.Error("--force did not overwrite")
	}
}
