package eval_test

import (
	"os"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/eval"
)

// TestDocs_JudgementCallsDocumented checks that docs/evaluator.md gives
// every judgement call the evaluator can make its own section under
// "Judgement calls", and that the judgement's basis points there.
func TestDocs_JudgementCallsDocumented(t *testing.T) {
	data, err := os.ReadFile("../../docs/evaluator.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(data)
	_, calls, ok := strings.Cut(doc, "\n## Judgement calls\n")
	if !ok {
		t.Fatal(`docs/evaluator.md has no "## Judgement calls" section`)
	}
	if next := strings.Index(calls, "\n## "); next >= 0 {
		calls = calls[:next]
	}
	classes := eval.JudgementClasses()
	if len(classes) == 0 {
		t.Fatal("the evaluator lists no judgement calls")
	}
	for _, j := range classes {
		if !strings.Contains(calls, "\n### "+j.ID+"\n") {
			t.Errorf("docs/evaluator.md, Judgement calls: no section ### %s", j.ID)
		}
		if !strings.Contains(j.Basis, "docs/evaluator.md") || !strings.Contains(j.Basis, "IAM User Guide") {
			t.Errorf("judgement %s: basis does not cite the IAM User Guide and docs/evaluator.md: %s", j.ID, j.Basis)
		}
	}
}
