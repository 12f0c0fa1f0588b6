package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/aws/deploy"
	"github.com/trailwarden/trailwarden/internal/aws/inventory"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/snapshot"
)

// liveOpts say how to reach AWS.
type liveOpts struct {
	config, snapshot, profile, endpoint string
	timeout                             time.Duration
	wide                                bool
}

func (o *liveOpts) flags(f *pflag.FlagSet) {
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	f.StringVar(&o.snapshot, "snapshot", "", "use this snapshot file (trailwarden snapshot --out FILE) instead of reading AWS now")
	f.StringVar(&o.profile, "profile", "", "AWS shared-config profile of the base credentials")
	f.StringVar(&o.endpoint, "endpoint-url", "", "send every AWS call to this URL (tests)")
	_ = f.MarkHidden("endpoint-url")
	timeoutFlag(f, &o.timeout)
	addWide(f, &o.wide)
}

// load reads the config and the live state and builds the plan.
func (o liveOpts) load(ctx context.Context, a *app) (*config.Config, *plan.Plan, error) {
	c, err := loadConfig(a, o.config)
	if err != nil {
		return nil, nil, err
	}
	s, err := o.state(ctx, a, c, o.snapshot)
	if err != nil {
		return nil, nil, err
	}
	p, err := plan.Build(c, s)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// state reads the live state from the snapshot file at path, or from AWS
// when path is "".
func (o liveOpts) state(ctx context.Context, a *app, c *config.Config, path string) (*snapshot.Snapshot, error) {
	return a.liveState(ctx, c, configPath{o.config, path}, inventory.Options{Profile: o.profile, Endpoint: o.endpoint, Timeout: o.timeout},
		"take a new one with `trailwarden snapshot --out FILE`", "--profile")
}

func (o liveOpts) executor(ctx context.Context, c *config.Config) (*deploy.Writer, error) {
	w, err := deploy.New(ctx, deploy.Options{Profile: o.profile, AccessRole: c.AWS.AccessRole, Partition: c.Partition(), Endpoint: o.endpoint,
		Timeout: o.timeout})
	if err != nil {
		return nil, badInput(err, "check --profile and the AWS credentials in the environment")
	}
	return w, nil
}

func backups(c *config.Config) plan.Backups {
	dir := c.AWS.BackupDir
	if dir == "" {
		dir = config.DefaultBackupDir
	}
	return plan.Backups{Dir: dir}
}

const permissionsHelp = `Permissions. apply and rollback call, in each account through the role
aws.access_role (unless it is the caller's own account):
  log-archive account: s3:PutBucketPolicy, s3:DeleteBucketPolicy,
    iam:CreateRole, iam:UpdateAssumeRolePolicy, iam:PutRolePolicy,
    iam:DeleteRolePolicy, iam:DeleteRole
  key account: kms:PutKeyPolicy
  trail accounts (the management account for an organization trail):
    cloudtrail:CreateTrail, cloudtrail:UpdateTrail, cloudtrail:PutEventSelectors,
    cloudtrail:StartLogging, cloudtrail:StopLogging, cloudtrail:DeleteTrail;
    an organization trail also needs organizations:DescribeOrganization,
    organizations:ListAWSServiceAccessForOrganization and
    iam:CreateServiceLinkedRole, which CloudTrail uses on the caller's behalf
  the caller: sts:GetCallerIdentity and sts:AssumeRole on aws.access_role.
  trail.cloudwatch_logs also needs iam:PassRole on its role in each trail
  account; bucket_settings.object_lock needs
  s3:PutBucketObjectLockConfiguration.
plan itself changes nothing; reading the live state needs the permissions
listed in "trailwarden snapshot --help".`

func newPlanCmd(a *app) *cobra.Command {
	var o liveOpts
	var format string
	var detailed bool
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change, who gains or loses access, and the errors AWS would return",
		Long: `plan compares what trailwarden.yaml asks for with the live configuration (or
a snapshot file) and prints, in the order apply would make them:

  1. the central bucket's policy, merged into the live one (statements
     trailwarden does not own are kept),
  2. the KMS key's policy, merged the same way (when kms_key_arn is set),
  3. the reader role: its trust policy and its inline permissions policy
     ` + plan.AccessPolicyName + `,
  4. the trail: one organization trail in the management account, or one
     trail per source account (multi-region, global service events, log
     file validation, the KMS key, all management events, CloudWatch Logs
     when trail.cloudwatch_logs names it, logging on),
  5. the bucket's settings: versioning, public access block, Object
     Ownership, default encryption, lifecycle, server access logging, and
     Object Lock when bucket_settings.object_lock asks for it.

Object Lock cannot be undone: the plan says so at the top
(IRREVERSIBLE), and apply asks about it separately. MFA delete is a
manual step the notes describe: only the root user's MFA device can turn
it on.

Each step shows create, update or no-op with a diff. The access diff lists
representative requests (CloudTrail delivery, reader reads, and requests
that must stay denied: anonymous, a foreign account, plain HTTP) whose
decision changes, evaluated under the live and the desired policies.

Before any call, plan predicts the errors CreateTrail and UpdateTrail would
return: InsufficientS3BucketPolicyException and
InsufficientEncryptionPolicyException (decided by the evaluator on the
desired policies), S3BucketDoesNotExistException, KmsKeyNotFoundException,
KmsKeyDisabledException, MaximumNumberOfTrailsExceededException and the
organization prerequisites (CloudTrailAccessNotEnabledException, ...), and
those of the bucket settings: InvalidBucketAclWithObjectOwnership (ACL
grants still in use), CrossLocationLoggingProhibitted and
InvalidTargetBucketForLogging (access log bucket in another region, or
denying the logging service), InvalidBucketState (Object Lock without
versioning) and LifecycleRuleOverrides (a rule of yours expiring logs
sooner). A predicted error blocks that step in apply and comes with the fix. A resource
the snapshot could not read is blocked too (LiveStateUnknown): trailwarden
does not overwrite what it cannot see.

` + permissionsHelp + `

Exit status: 0 when the plan can be applied (with or without changes), 1
when a step is blocked by a predicted error, 2 for bad input. With
--detailed-exitcode, as Terraform's: 0 when there is nothing to change, 2
when there are changes and none is blocked, 1 for anything else (a blocked
step, an error, bad input).`,
		Example: `  trailwarden snapshot --config trailwarden.yaml --out live.json
  trailwarden plan --config trailwarden.yaml --snapshot live.json
  trailwarden plan --config trailwarden.yaml --snapshot live.json --format json | jq '.accessChanges'
  trailwarden plan --config trailwarden.yaml --detailed-exitcode; [ $? -eq 2 ] && echo "changes to apply"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			_, p, err := o.load(cmd.Context(), a)
			if err != nil {
				return err
			}
			if format == "json" {
				if err := printJSON(a.stdout, p); err != nil {
					return err
				}
			} else if err := fitted(a.stdout, o.wide, func(w io.Writer) { renderPlan(w, p) }); err != nil {
				return err
			}
			if len(p.Blocked()) > 0 {
				return &exitError{code: ExitFailure}
			}
			if detailed && p.Changes() {
				return &exitError{code: ExitChanges}
			}
			return nil
		},
	}
	o.flags(cmd.Flags())
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes, 0 when there are none, 1 for a blocked step or any error (as terraform plan -detailed-exitcode)")
	return cmd
}

func newApplyCmd(a *app) *cobra.Command {
	var o liveOpts
	var yes, dryRun, allowIrreversible bool
	var jobs int
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make the changes plan shows, with backups and automatic rollback",
		Long: `apply prints the plan, asks for confirmation, then makes the changes in
order: bucket policy, key policy, reader role, trails, bucket settings.
Steps with a predicted error are skipped (see plan --help).

Before the first call, apply saves a backup of everything it will change
(the previous policies, trust policy, inline policy and trail settings) as
one JSON file in aws.backup_dir (default ` + config.DefaultBackupDir + `),
named by the run's id, and updates it after every call. When a call fails,
the calls already made are undone in reverse order and both the failure and
the rollback are printed. "trailwarden rollback --to ID" undoes a whole run
later.

With --snapshot, apply shows the plan made from that file and, before the
first call, reads AWS again: if the live state would plan anything else, it
stops without changing anything, so backups always hold what was live.

On a terminal apply asks you to type "yes". When stdin is not a terminal
and --yes is not given, apply only prints the plan (a dry run), so a script
never changes AWS by accident.

A step that cannot be undone (Object Lock) is asked about separately, even
with --yes: type "irreversible" to make it. --allow-irreversible makes it
without asking; with no terminal and no --allow-irreversible it is not made
and apply exits 1 (every other change is made).

With per-account trails, --jobs accounts' trails are changed at once; each
account and region still gets at most CloudTrail's one change per second.

` + permissionsHelp + `

Exit status: 0 when every change was applied (or there was nothing to do,
or a dry run found nothing blocked), 1 when a step failed (rolled back or
not), was skipped or, in a dry run, would be skipped, 2 for bad input.`,
		Example: `  trailwarden apply --config trailwarden.yaml --snapshot live.json
  trailwarden apply --config trailwarden.yaml --yes
  trailwarden apply --config trailwarden.yaml --yes --jobs 8 --allow-irreversible
  trailwarden apply --config trailwarden.yaml --snapshot live.json --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runApply(cmd.Context(), o, applyOpts{yes: yes, dryRun: dryRun, allowIrreversible: allowIrreversible, jobs: jobs})
		},
	}
	o.flags(cmd.Flags())
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "apply without asking (irreversible steps are still asked separately)")
	cmd.Flags().BoolVar(&allowIrreversible, "allow-irreversible", false, "also make the steps that cannot be undone (Object Lock) without asking")
	cmd.Flags().IntVar(&jobs, "jobs", plan.DefaultJobs, "accounts whose trails are changed at once (each account and region still gets at most CloudTrail's one change per second)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the plan and change nothing (the default when stdin is not a terminal)")
	return cmd
}

type applyOpts struct {
	yes, dryRun, allowIrreversible bool
	jobs                           int
}

func (a *app) runApply(ctx context.Context, o liveOpts, ao applyOpts) error {
	yes, dryRun := ao.yes, ao.dryRun
	if ao.jobs < 1 {
		return badInput(fmt.Errorf("--jobs %d: give at least 1", ao.jobs), "--jobs 4 changes four accounts' trails at once")
	}
	c, p, err := o.load(ctx, a)
	if err != nil {
		return err
	}
	if err := fitted(a.stdout, o.wide, func(w io.Writer) { renderPlan(w, p) }); err != nil {
		return err
	}
	if !p.Changes() {
		return nil
	}
	if dryRun || (!yes && !a.interactive()) {
		fmt.Fprintln(a.stdout, "\nDry run: nothing changed. Run with --yes (or on a terminal) to apply.")
		if n := len(p.Irreversible()); n > 0 {
			fmt.Fprintf(a.stdout, "%d irreversible step(s) will be asked separately on a terminal, or made with --allow-irreversible.\n", n)
		}
		if len(p.Blocked()) > 0 {
			return &exitError{code: ExitFailure}
		}
		return nil
	}
	// Everything that can fail without changing AWS is done before the
	// question, so "yes" is never asked for a run that cannot start.
	if o.snapshot != "" {
		// The backups must hold what is live now, not what the file saw:
		// apply only the reviewed plan, and only if AWS still matches it.
		// Reading AWS also checks the credentials.
		live, err := o.state(ctx, a, c, "")
		if err != nil {
			return err
		}
		if err := plan.CheckDrift(c, p, live); errors.Is(err, plan.ErrDrifted) {
			return fmt.Errorf("the live configuration changed since %s was taken, so its plan is not what apply would do now; nothing was changed: run plan again (or take a new snapshot) and review it", o.snapshot)
		} else if err != nil {
			return err
		}
	}
	// The executor asks STS who the caller is: the credentials work.
	ex, err := o.executor(ctx, c)
	if err != nil {
		return err
	}
	if !yes && !a.confirm("Apply these changes? Type yes to continue: ") {
		fmt.Fprintln(a.stdout, "Cancelled: nothing changed.")
		return &exitError{code: ExitFailure}
	}
	fmt.Fprintln(a.stdout)
	confirmIrr := a.irreversibleConfirm(ao.allowIrreversible)
	if confirmIrr == nil && len(p.Irreversible()) > 0 {
		fmt.Fprintln(a.stdout, "Irreversible steps are not made without a terminal to ask at or --allow-irreversible.")
	}
	res, err := plan.Apply(ctx, p, ex, plan.Options{Backups: backups(c), Progress: a.progressLine, ConfirmIrreversible: confirmIrr, Jobs: ao.jobs})
	if err != nil {
		return err
	}
	renderResult(a.stdout, res, backups(c))
	if !res.OK() {
		return &exitError{code: ExitFailure}
	}
	return nil
}

// interactive reports whether someone can answer a prompt: stdin is a
// terminal (tests set a.tty).
func (a *app) interactive() bool {
	if a.tty != nil {
		return a.tty()
	}
	return isTerminal(a.stdin)
}

func (a *app) confirm(prompt string) bool { return a.answer(prompt) == "yes" }

// answer asks prompt and returns the line typed, trimmed.
func (a *app) answer(prompt string) string {
	fmt.Fprint(a.stdout, prompt)
	if a.answers == nil || a.answersOf != a.stdin {
		a.answers, a.answersOf = bufio.NewReader(a.stdin), a.stdin
	}
	line, _ := a.answers.ReadString('\n')
	return strings.TrimSpace(line)
}

// irreversibleConfirm is how apply confirms the steps that cannot be
// undone: --allow-irreversible confirms them all; on a terminal each is
// asked separately, even with --yes; otherwise none is made.
func (a *app) irreversibleConfirm(allow bool) func(plan.Step) bool {
	switch {
	case allow:
		return func(plan.Step) bool { return true }
	case a.interactive():
		return func(s plan.Step) bool {
			fmt.Fprintf(a.stdout, "\nIRREVERSIBLE: %s\n  %s.\n", s.Title(), s.Irreversible)
			return a.answer(`Make this change that cannot be undone? Type "irreversible" to continue: `) == "irreversible"
		}
	}
	return nil
}

func (a *app) progressLine(e plan.Event) {
	switch {
	case e.Skipped && e.Undo:
		fmt.Fprintf(a.stdout, "kept  %s: %s\n", e.Step, e.Reason)
	case e.Skipped:
		fmt.Fprintf(a.stdout, "skip  %s: %s\n", e.Step, e.Reason)
	case e.Err != nil && e.Undo:
		fmt.Fprintf(a.stdout, "undo  %s FAILED: %v\n", e.Action, e.Err)
	case e.Err != nil:
		fmt.Fprintf(a.stdout, "FAIL  %s: %v\n", e.Action, e.Err)
	case e.Undo:
		fmt.Fprintf(a.stdout, "undo  %s\n", e.Action)
	default:
		fmt.Fprintf(a.stdout, "ok    %s\n", e.Action)
	}
}

func newRollbackCmd(a *app) *cobra.Command {
	var o liveOpts
	var to string
	var list, yes, force bool
	var jobs int
	cmd := &cobra.Command{
		Use:   "rollback",
		Short: "Undo an apply run from its backup",
		Long: `rollback undoes the run whose backup is in aws.backup_dir (default
` + config.DefaultBackupDir + `): the calls the run made are reverted, last first,
with the previous policies and settings the backup holds. A role or trail
the run created is deleted; a policy it replaced is put back; a bucket that
had no policy has it deleted again. Object Lock cannot be undone: rollback
keeps it, says so ("kept"), and undoes everything else.

A rollback that stops on an error records how far it got; running it again
resumes there. A run that is already rolled back is refused, and so is a run
that later runs changed the same resources after (roll those back first,
newest first, or give --force to put this run's old state back over theirs).

rollback --list prints every run with its status.

` + permissionsHelp + `

Exit status: 0 when the run was rolled back (or --list), 1 when an undo call
failed or the run was already rolled back, 2 for bad input.`,
		Example: `  trailwarden rollback --config trailwarden.yaml --list
  trailwarden rollback --config trailwarden.yaml --to 20260301T120000Z-a1b2c3 --yes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if jobs < 1 {
				return badInput(fmt.Errorf("--jobs %d: give at least 1", jobs), "--jobs 4 restores four accounts' trails at once")
			}
			return a.runRollback(cmd.Context(), o, rollbackOpts{to: to, list: list, yes: yes, force: force, jobs: jobs})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.config, "config", "c", "trailwarden.yaml", "path of trailwarden.yaml")
	f.StringVar(&o.profile, "profile", "", "AWS shared-config profile of the base credentials")
	f.StringVar(&o.endpoint, "endpoint-url", "", "send every AWS call to this URL (tests)")
	_ = f.MarkHidden("endpoint-url")
	timeoutFlag(f, &o.timeout)
	f.StringVar(&to, "to", "", "the id of the run to undo (see --list)")
	f.BoolVar(&list, "list", false, "list the runs in the backup folder")
	f.BoolVarP(&yes, "yes", "y", false, "roll back without asking")
	f.BoolVar(&force, "force", false, "roll back even though later runs changed the same resources")
	f.IntVar(&jobs, "jobs", plan.DefaultJobs, "accounts whose trails are restored at once (each account and region still gets at most CloudTrail's one change per second)")
	return cmd
}

type rollbackOpts struct {
	to               string
	list, yes, force bool
	jobs             int
}

func (a *app) runRollback(ctx context.Context, o liveOpts, ro rollbackOpts) error {
	to, list, yes, force := ro.to, ro.list, ro.yes, ro.force
	if list == (to != "") {
		return badInput(errors.New("give exactly one of --to ID and --list"), "trailwarden rollback --list shows the ids")
	}
	c, err := loadConfig(a, o.config)
	if err != nil {
		return err
	}
	b := backups(c)
	if list {
		return renderBackups(a.stdout, b)
	}
	bk, err := b.Load(to)
	if err != nil {
		return badInput(err, "trailwarden rollback --list shows the ids in "+b.Dir)
	}
	later, err := b.LaterRuns(to)
	if err != nil {
		return err
	}
	if len(later) > 0 && !force {
		ids := make([]string, len(later))
		for i, l := range later {
			ids[i] = l.ID
		}
		return badInput(fmt.Errorf("later runs changed the same resources and are still in effect: %s; rolling %s back first would put its old state over theirs",
			strings.Join(ids, ", "), to), "roll them back first, newest first, or give --force")
	}
	fmt.Fprintf(a.stdout, "Run %s (%s, %s) changed:\n", bk.ID, bk.Created.Format("2006-01-02 15:04:05Z"), bk.Status)
	for _, st := range bk.Steps {
		fmt.Fprintf(a.stdout, "  %s: %s, %d of %d calls made, %d undone\n", st.Title(), st.Change, st.Done, len(st.Calls), st.Undone)
	}
	if !yes && !a.interactive() {
		fmt.Fprintln(a.stdout, "\nDry run: nothing changed. Run with --yes (or on a terminal) to roll back.")
		return nil
	}
	// The credentials are checked (the executor asks STS who the caller
	// is) before the question.
	ex, err := o.executor(ctx, c)
	if err != nil {
		return err
	}
	if !yes && !a.confirm("Roll back this run? Type yes to continue: ") {
		fmt.Fprintln(a.stdout, "Cancelled: nothing changed.")
		return &exitError{code: ExitFailure}
	}
	fmt.Fprintln(a.stdout)
	bk, err = plan.Rollback(ctx, to, ex, plan.Options{Backups: b, Progress: a.progressLine, Jobs: ro.jobs})
	if err != nil {
		if errors.Is(err, plan.ErrRolledBack) {
			return err
		}
		fmt.Fprintf(a.stdout, "\nRollback stopped: %v\nThe backup records how far it got; run the same command again to resume.\n", err)
		return &exitError{code: ExitFailure}
	}
	fmt.Fprintf(a.stdout, "\nRolled back run %s.\n", bk.ID)
	return nil
}

func renderPlan(w io.Writer, p *plan.Plan) {
	changes, blocked := 0, len(p.Blocked())
	for _, s := range p.Steps {
		if s.Change != plan.NoOp {
			changes++
		}
	}
	fmt.Fprintf(w, "Plan: %d of %d resources change, %d blocked by a predicted error.\n", changes, len(p.Steps), blocked)
	for _, s := range p.Irreversible() {
		fmt.Fprintf(w, "IRREVERSIBLE: %s cannot be undone: %s. apply asks separately, even with --yes, unless --allow-irreversible.\n", s.Title(), s.Irreversible)
	}
	for i, s := range p.Steps {
		fmt.Fprintf(w, "\n%d. %s: %s\n", i+1, s.Title(), s.Change)
		if len(s.Calls) > 0 {
			var ops []string
			for _, c := range s.Calls {
				ops = append(ops, string(c.Do.Op))
			}
			fmt.Fprintf(w, "   calls: %s\n", strings.Join(ops, ", "))
		}
		for _, pr := range s.Predicted {
			fmt.Fprintf(w, "   BLOCKED %s: %s\n     fix: %s\n", pr.Code, pr.Message, pr.Fix)
		}
		if s.Irreversible != "" && s.Change != plan.NoOp {
			fmt.Fprintf(w, "   IRREVERSIBLE: %s; rollback cannot undo it\n", s.Irreversible)
		}
		if s.Diff != "" {
			for _, line := range strings.Split(strings.TrimSuffix(s.Diff, "\n"), "\n") {
				fmt.Fprintf(w, "   %s\n", line)
			}
		}
	}
	fmt.Fprintf(w, "\nAccess changes (+ gained, - lost, ~ still denied): %d\n", len(p.Access))
	for _, ac := range p.Access {
		sign := "~" // denied before and after, for another reason
		switch {
		case ac.Gained():
			sign = "+"
		case ac.Lost():
			sign = "-"
		}
		fmt.Fprintf(w, "  %s %s: %s -> %s\n      %s %s on %s\n", sign, ac.Description, ac.Before, ac.After, ac.Principal, ac.Action, ac.Resource)
	}
	if len(p.Notes) > 0 {
		fmt.Fprintln(w, "\nNotes:")
		for _, n := range p.Notes {
			fmt.Fprintf(w, "  %s\n", n)
		}
	}
}

func renderResult(w io.Writer, res *plan.Result, b plan.Backups) {
	fmt.Fprintln(w)
	if res.BackupID == "" {
		fmt.Fprintln(w, "Nothing applied.")
	} else {
		fmt.Fprintf(w, "Backup: %s (%s)\n", res.BackupID, b.Dir)
	}
	switch {
	case res.Failure != "" && res.RolledBack:
		fmt.Fprintf(w, "Apply failed: %s\nRolled back: every change of this run was undone.\n", res.Failure)
	case res.Failure != "":
		fmt.Fprintf(w, "Apply failed: %s\nRollback INCOMPLETE: %s\nFix the cause, then run: trailwarden rollback --to %s\n", res.Failure, res.RollbackError, res.BackupID)
	default:
		fmt.Fprintf(w, "Applied %d steps.\n", res.Applied)
	}
	if n := len(res.Skipped) - len(res.Unconfirmed); n > 0 {
		fmt.Fprintf(w, "Skipped %d blocked steps; fix the predicted errors above and apply again.\n", n)
	}
	if len(res.Unconfirmed) > 0 {
		fmt.Fprintf(w, "Not made, irreversible and not confirmed: %s. Apply again on a terminal to be asked, or with --allow-irreversible.\n",
			strings.Join(res.Unconfirmed, "; "))
	}
}

func renderBackups(w io.Writer, b plan.Backups) error {
	list, err := b.List()
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintf(w, "No apply runs in %s.\n", b.Dir)
		return nil
	}
	for _, bk := range list {
		var what []string
		for _, st := range bk.Steps {
			what = append(what, st.Title())
		}
		fmt.Fprintf(w, "%s  %-20s  %s\n", bk.ID, bk.Status, strings.Join(what, "; "))
	}
	return nil
}
