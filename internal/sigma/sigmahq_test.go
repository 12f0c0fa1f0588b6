package sigma_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/trailwarden/trailwarden/internal/sigma"
)

// TestSigmaHQRules loads the vendored SigmaHQ CloudTrail rules (see
// testdata/sigmahq/README.md): every one is a CloudTrail rule, and each
// compiles for both dialects or is refused with a reason naming it.
func TestSigmaHQRules(t *testing.T) {
	set, err := sigma.Load(os.DirFS("testdata"), "sigmahq")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Rules) != 57 || len(set.Skipped) != 0 {
		t.Fatalf("loaded %d rules and skipped %d, want 57 and 0: %+v", len(set.Rules), len(set.Skipped), set.Skipped)
	}
	compiled := map[sigma.Dialect]int{}
	refused := map[string]string{}
	for _, r := range set.Rules {
		for _, d := range []sigma.Dialect{sigma.DuckDB, sigma.Athena} {
			c, err := sigma.Compile(r, d, nil)
			var u *sigma.UnsupportedError
			switch {
			case err == nil:
				compiled[d]++
				if err := sigma.CheckSQL(c.SQL, d); err != nil {
					t.Errorf("%s %s: %v", r.Source, d, err)
				}
			case errors.As(err, &u):
				if u.RuleID != r.ID || u.Reason == "" {
					t.Errorf("%s: refusal %+v does not name the rule and a reason", r.Source, u)
				}
				refused[d.String()+" "+r.Source] = u.Reason
			default:
				t.Errorf("%s %s: %v", r.Source, d, err)
			}
		}
	}
	// One rule tests a field named status, which no CloudTrail record
	// has: the store keeps unknown fields (extra), the Athena table has
	// no column for it.
	if compiled[sigma.DuckDB] != 57 || compiled[sigma.Athena] != 56 {
		t.Errorf("compiled %d for DuckDB and %d for Athena, want 57 and 56; refused: %v", compiled[sigma.DuckDB], compiled[sigma.Athena], refused)
	}
	if r := refused["athena sigmahq/aws_delete_saml_provider.yml"]; !strings.Contains(r, "field status") {
		t.Errorf("aws_delete_saml_provider on Athena: refused with %q, want the status field named", r)
	}
}

// TestLoadSkips: a file that is not a rule and a rule for another log
// source are skipped with reasons; a correlation refers across files.
func TestLoadSkips(t *testing.T) {
	set, err := sigma.Load(os.DirFS("testdata"), "load")
	if err != nil {
		t.Fatal(err)
	}
	var reasons []string
	for _, s := range set.Skipped {
		reasons = append(reasons, s.Source+": "+s.Reason)
	}
	if len(set.Skipped) != 2 || !strings.Contains(strings.Join(reasons, "\n"), "not a Sigma rule") ||
		!strings.Contains(strings.Join(reasons, "\n"), "log source is not CloudTrail") {
		t.Errorf("skipped %v, want a broken file and a Windows rule", reasons)
	}
	if len(set.Rules) != 2 {
		t.Fatalf("loaded %d rules, want 2", len(set.Rules))
	}
	var corr *sigma.Rule
	for _, r := range set.Rules {
		if r.Correlation != nil {
			corr = r
		}
	}
	if corr == nil || corr.Correlation.Refs[0] == nil || !corr.Correlation.Refs[0].ReferencedOnly {
		t.Fatal("the correlation does not refer to the rule of the other file")
	}
	if _, err := sigma.Compile(corr, sigma.DuckDB, nil); err != nil {
		t.Error(err)
	}
}

// TestPlaceholderNames lists what a rule needs filled, and nothing it
// uses as a plain value.
func TestPlaceholderNames(t *testing.T) {
	rules, err := sigma.Parse([]byte(`title: p
logsource: {product: aws, service: cloudtrail}
detection:
  a:
    requestParameters.bucketName|expand: ['%central_bucket%', 'x-%suffix%']
  b:
    requestParameters.name: '%not_a_placeholder%'
  c:
    requestParameters.keyId|expand: '\%plain%key_arn%'
  condition: a or b or c
`), "p.yml")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(rules[0].PlaceholderNames(), ",")
	if got != "central_bucket,key_arn,suffix" {
		t.Errorf("PlaceholderNames = %s, want central_bucket,key_arn,suffix", got)
	}
}

// TestLoadNamedFile: a file named as a root that is not YAML is skipped
// with a reason, not passed over.
func TestLoadNamedFile(t *testing.T) {
	set, err := sigma.Load(os.DirFS("testdata"), "load/notes.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Skipped) != 1 || !strings.Contains(set.Skipped[0].Reason, "not a .yml or .yaml file") {
		t.Errorf("skipped %+v, want notes.txt named", set.Skipped)
	}
}
