package audit_test

import (
	"flag"
	"os"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/audit"
)

var update = flag.Bool("update", false, "rewrite docs/audit.md from the catalogue")

const docPath = "../../docs/audit.md"

// TestDocs_AuditMarkdownIsCurrent fails when docs/audit.md no longer says
// what the catalogue says (go test ./internal/audit -run TestDocs -update).
func TestDocs_AuditMarkdownIsCurrent(t *testing.T) {
	want := audit.Markdown()
	if *update {
		if err := os.WriteFile(docPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/audit -run TestDocs -update)", err)
	}
	if string(got) != want {
		t.Fatal("docs/audit.md is stale: run go test ./internal/audit -run TestDocs -update")
	}
	for _, r := range audit.Rules("") {
		if !strings.Contains(want, "## "+r.ID+"\n") || !strings.Contains(want, r.Fix) {
			t.Errorf("%s: not documented", r.ID)
		}
	}
}
