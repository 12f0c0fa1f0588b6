package iac_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/trailwarden/trailwarden/internal/iac"
)

// tfTrails returns, for each aws_cloudtrail of main.tf, the account its
// provider alias names, and the import blocks' targets.
func tfTrails(t *testing.T, src []byte) (trails map[string]string, imports []string) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL(src, "main.tf")
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	trails = map[string]string{}
	for _, b := range f.Body.(*hclsyntax.Body).Blocks {
		switch {
		case b.Type == "resource" && b.Labels[0] == "aws_cloudtrail":
			p, ok := b.Body.Attributes["provider"]
			if !ok {
				t.Fatalf("trail %s has no provider", b.Labels[1])
			}
			r := p.Expr.Range()
			trails[b.Labels[1]] = strings.Split(strings.TrimPrefix(string(src[r.Start.Byte:r.End.Byte]), "aws.acct_"), "_")[0]
		case b.Type == "import":
			to := b.Body.Attributes["to"].Expr.Range()
			imports = append(imports, string(src[to.Start.Byte:to.End.Byte]))
		}
	}
	return trails, imports
}

// TestTrailInEveryOwner: a trail exists for the whole set of owners,
// in each owner's own account: every source account for per-account
// trails (each with its provider, and the stack set deploying to exactly
// them), the management account alone for an organization trail.
func TestTrailInEveryOwner(t *testing.T) {
	for _, name := range configs {
		t.Run(name, func(t *testing.T) {
			c := loadConfig(t, name)
			owners := c.TrailOwners()
			trails, _ := tfTrails(t, generated(t, name, iac.Terraform)["main.tf"])
			var accounts []string
			for _, acct := range trails {
				accounts = append(accounts, acct)
			}
			slices.Sort(accounts)
			want := slices.Clone(owners)
			slices.Sort(want)
			if !slices.Equal(accounts, want) || len(want) == 0 {
				t.Errorf("terraform trails in %v, want one in each of %v", accounts, want)
			}

			files := generated(t, name, iac.CloudFormation)
			_, hasSet := files["trail-stackset.template.json"]
			if hasSet == c.Trail.Organization {
				t.Fatalf("organization trail %v, stack set written %v", c.Trail.Organization, hasSet)
			}
			if !hasSet {
				return
			}
			var tpl map[string]any
			if err := json.Unmarshal(files["trail-stackset.template.json"], &tpl); err != nil {
				t.Fatal(err)
			}
			props := resourcesOf(tpl)["TrailStackSet"]["Properties"].(map[string]any)
			var got []string
			for _, g := range props["StackInstancesGroup"].([]any) {
				g := g.(map[string]any)
				for _, a := range g["DeploymentTargets"].(map[string]any)["Accounts"].([]any) {
					got = append(got, a.(string))
				}
				if r := g["Regions"].([]any); len(r) != 1 || r[0] != c.HomeRegion {
					t.Errorf("stack instances in %v, want %s", r, c.HomeRegion)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("stack set deploys to %v, want %v", got, want)
			}
		})
	}
}

// TestExistingDecidesImports: with nothing existing there is no import
// block or file; with the default, each existing resource is imported.
func TestExistingDecidesImports(t *testing.T) {
	c := loadConfig(t, "per-account")
	files := generate(t, c, iac.Terraform, nil)
	if _, imports := tfTrails(t, files["main.tf"]); len(imports) != 0 {
		t.Errorf("nothing exists, yet imports %v", imports)
	}
	for p := range generate(t, c, iac.CloudFormation, []string{}) {
		if strings.Contains(p, "import") {
			t.Errorf("nothing exists, yet %s is written", p)
		}
	}
	_, imports := tfTrails(t, generated(t, "per-account", iac.Terraform)["main.tf"])
	want := []string{"aws_s3_bucket.central", "aws_kms_key_policy.central", "aws_iam_role.reader",
		"aws_cloudtrail.account_333333333333", "aws_cloudtrail.account_555555555555"}
	if !slices.Equal(imports, want) {
		t.Errorf("imports %v, want %v", imports, want)
	}
	files = generate(t, c, iac.Terraform, []string{iac.ResourceAccessLog})
	if _, imports := tfTrails(t, files["main.tf"]); !slices.Equal(imports, []string{"aws_s3_bucket.access_logs"}) {
		t.Errorf("--existing access-log-bucket imports %v", imports)
	}
}
