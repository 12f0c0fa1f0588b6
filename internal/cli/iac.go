package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/iac"
	"github.com/trailwarden/trailwarden/internal/proof"
	"github.com/trailwarden/trailwarden/internal/safefile"
)

type iacOpts struct {
	config, format, out string
	existing            []string
	force               bool
}

func newIaCCmd(a *app) *cobra.Command {
	var o iacOpts
	cmd := &cobra.Command{
		Use:   "iac",
		Short: "Write the desired state as Terraform or CloudFormation",
		Long: `iac writes what plan and apply manage (the bucket's policy and settings, the
access log bucket, the key policy, the reader role and the trail or trails) as
infrastructure as code, for teams that deploy only through it.

  terraform       main.tf (HCL) and policies/*.json, one aliased provider per
                  account and region, assuming aws.access_role
  terraform-json  the same as main.tf.json
  cloudformation  one template per stack; per-account trails as a stack set

The policies are the proven documents "trailwarden policy" prints; when the
proof refuses one, nothing is written. Resources that exist (--existing) are
imported, never created: Terraform import blocks and prevent_destroy,
CloudFormation resources-to-import files and DeletionPolicy Retain. The
README.md written with the files lists the commands, in order, and what no
template can do (MFA delete, Object Lock). Files are written 0600; existing
files are kept unless --force.

Exit status: 0 written, 1 refused (a policy's proof failed), 2 bad input.`,
		Example: `  trailwarden iac --config trailwarden.yaml --format terraform --out ./infra/
  trailwarden iac --config trailwarden.yaml --format cloudformation --out ./cfn/
  # the role and trail do not exist yet: create them, import only the rest
  trailwarden iac --config trailwarden.yaml --format terraform-json --existing bucket,key --out ./infra/ --force`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(o.format, iac.Formats()...); err != nil {
				return err
			}
			if o.out == "" {
				return badInput(errors.New("no output folder"), "pass --out DIR, e.g. --out ./infra/")
			}
			c, err := loadConfig(a, o.config)
			if err != nil {
				return err
			}
			out, err := iac.Generate(c, iac.Options{Format: iac.Format(o.format), Existing: o.existing})
			var ue *iac.UnprovenError
			if errors.As(err, &ue) {
				fmt.Fprintf(a.stderr, "refusing to write: the %s policy grants more (or less) than the config intends:\n", ue.Target)
				for _, f := range ue.Findings {
					writeFinding(a.stderr, f, proof.AcceptedSetting(ue.Target))
				}
				fmt.Fprintf(a.stderr, "See it with `trailwarden policy %s --config %s`, fix the config, and run again.\n", ue.Target, o.config)
				return &exitError{code: ExitFailure}
			}
			if err != nil {
				return err
			}
			return a.writeIaC(o, out)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	f.StringVar(&o.format, "format", string(iac.Terraform), "terraform (HCL), terraform-json or cloudformation")
	f.StringVarP(&o.out, "out", "o", "", "folder to write the files into (created if missing)")
	f.StringSliceVar(&o.existing, "existing", iac.DefaultExisting(), "resources that already exist and are imported, not created: "+strings.Join(iac.ImportableResources(), ", ")+" (none: --existing '')")
	f.BoolVar(&o.force, "force", false, "overwrite files that exist in --out")
	return cmd
}

// writeIaC writes every file, or none when one exists and --force is not
// given.
func (a *app) writeIaC(o iacOpts, out *iac.Output) error {
	var exist []string
	for _, f := range out.Files {
		path := filepath.Join(o.out, filepath.FromSlash(f.Path))
		if _, err := os.Lstat(path); err == nil {
			exist = append(exist, path)
		}
	}
	if len(exist) > 0 && !o.force {
		what := exist[0] + " already exists"
		if len(exist) > 1 {
			what = fmt.Sprintf("%s and %d other file(s) already exist", exist[0], len(exist)-1)
		}
		return badInput(errors.New(what), "pass --force to overwrite, or choose another --out")
	}
	for _, f := range out.Files {
		path := filepath.Join(o.out, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return fmt.Errorf("iac write: %w", err)
		}
		if err := safefile.Write(path, f.Data, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.stdout, "wrote %d files (%s) to %s:\n", len(out.Files), o.format, o.out)
	for _, f := range out.Files {
		fmt.Fprintf(a.stdout, "  %s\n", filepath.Join(o.out, filepath.FromSlash(f.Path)))
	}
	fmt.Fprintf(a.stdout, "next: follow %s\n", filepath.Join(o.out, "README.md"))
	return nil
}
