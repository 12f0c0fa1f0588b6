// Package cli wires trailwarden's commands with cobra. It holds no logic of
// its own: each command parses its flags, makes one call into a library
// package and renders the result. It is the only package that prints.
package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/aws/session"
)

// version is set at build time with -ldflags "-X ...cli.version=v1.2.3".
var version = ""

// app carries the process's streams to every command; commands never touch
// os.Stdout or os.Stdin directly, so tests can run them in-process.
type app struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	// tty, when set, says whether a person is at the terminal (tests);
	// nil asks the terminal driver about stdin.
	tty func() bool
	// answers reads the answers to prompts; one reader for all of them,
	// so that a buffered line is not lost between two questions.
	answers   *bufio.Reader
	answersOf io.Reader
}

// Execute runs trailwarden with args and returns the process exit code.
func Execute(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	return execute(ctx, &app{stdin: stdin, stdout: stdout, stderr: stderr}, args)
}

func execute(ctx context.Context, a *app, args []string) int {
	root := newRootCmd(a)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil {
		// SIGINT or SIGTERM (see cmd/trailwarden): the command stopped
		// because it was asked to, and its error (a cancelled context,
		// or whatever the cancellation broke) says nothing more.
		fmt.Fprintln(a.stderr, "interrupted")
		return ExitInterrupted
	}
	code := report(a.stderr, err)
	var ee *exitError
	if code == ExitBadInput && !errors.As(err, &ee) && detailedExitCode(cmd, args) {
		// plan --detailed-exitcode: 2 means "changes", so an error,
		// bad input included, is 1 (as Terraform's).
		code = ExitFailure
	}
	return code
}

func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "trailwarden",
		Short: "Centralized, least-privilege, provably intact CloudTrail logging for many accounts",
		Long: `trailwarden takes an AWS Organization (or any set of accounts) to a central
CloudTrail log bucket with least-privilege policies it generates, merges and
proves, and verifies every account's logs against CloudTrail's signed digests.

Start with a config file, then generate the policies:

  trailwarden init --org o-a1b2c3d4e5 --management-account 111111111111 \
    --log-archive-account 222222222222 --bucket acme-org-cloudtrail \
    --region us-east-1 --trail org-trail > trailwarden.yaml
  trailwarden policy bucket --config trailwarden.yaml

Or try it offline on a synthetic organization:

  trailwarden demo --out ./demo-bucket
  trailwarden verify --source ./demo-bucket`,
		Version:       buildVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	var debug bool
	root.PersistentFlags().BoolVar(&debug, "debug", false, "write the AWS SDK's log (credential lookups, retries, responses) to stderr")
	root.PersistentPreRun = func(cmd *cobra.Command, _ []string) {
		if debug {
			cmd.SetContext(session.WithDebugLog(cmd.Context(), a.stderr))
		}
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return badInput(err, "run the command with --help to see its flags")
	})
	root.AddCommand(newInitCmd(a), newPolicyCmd(a), newCanCmd(a), newDemoCmd(a), newVerifyCmd(a), newCoverageCmd(a),
		newPullCmd(a), newQueryCmd(a), newDetectCmd(a), newQueriesCmd(a), newAthenaCmd(a), newExportCmd(a),
		newSnapshotCmd(a), newAuditCmd(a), newPlanCmd(a), newApplyCmd(a), newRollbackCmd(a), newIaCCmd(a), newServeCmd(a), newReportCmd(a),
		newVersionCmd(a))
	argsAreInput(root)
	completions(root)
	return root
}

// argsAreInput makes every wrong command line bad input (exit 2): an
// unknown command, under the root or a group such as "policy" (which would
// otherwise print its help and exit 0), and arguments a command does not
// take.
func argsAreInput(c *cobra.Command) {
	if c.HasSubCommands() && c.Run == nil && c.RunE == nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return nil
			}
			msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
			cmd.SuggestionsMinimumDistance = 2
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += "; did you mean " + strings.Join(s, " or ") + "?"
			}
			return badInput(errors.New(msg), "run "+cmd.CommandPath()+" --help to see its commands")
		}
		c.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	} else if check := c.Args; check != nil {
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return badInput(err, "see "+cmd.CommandPath()+" --help for what it takes")
			}
			return nil
		}
	}
	for _, sub := range c.Commands() {
		argsAreInput(sub)
	}
}

// detailedExitCode says whether the command ran with --detailed-exitcode
// (also when a flag error stopped the parsing before it).
func detailedExitCode(cmd *cobra.Command, args []string) bool {
	if cmd != nil {
		if f := cmd.Flags().Lookup("detailed-exitcode"); f != nil && f.Changed {
			return true
		}
	}
	return cmd != nil && cmd.Name() == "plan" && slices.Contains(args, "--detailed-exitcode")
}

func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}
