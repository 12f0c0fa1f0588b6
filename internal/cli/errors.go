package cli

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/trailwarden/trailwarden/internal/aws/s3"
	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/demo"
	"github.com/trailwarden/trailwarden/internal/generator"
	"github.com/trailwarden/trailwarden/internal/iac"
	"github.com/trailwarden/trailwarden/internal/plan"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/query/duckdb"
	"github.com/trailwarden/trailwarden/internal/safefile"
	"github.com/trailwarden/trailwarden/internal/verify"
)

// Exit codes, documented in the README.
const (
	ExitOK       = 0
	ExitFailure  = 1 // the command ran and found a problem (e.g. a conflict)
	ExitBadInput = 2 // bad flags, config or input files
	// ExitInterrupted is for a command stopped by SIGINT or SIGTERM, as
	// shells report a process ended by SIGINT (128+2).
	ExitInterrupted = 130
	// ExitChanges is plan --detailed-exitcode's "there are changes".
	ExitChanges = 2
)

// usageError is bad input from the user, with an optional hint.
type usageError struct {
	err  error
	hint string
}

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func badInput(err error, hint string) error { return &usageError{err: err, hint: hint} }

// exitError carries a non-zero exit code for a result that was already
// printed (e.g. conflicts found), so nothing more is shown.
type exitError struct{ code int }

func (e *exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// report prints err once, with a hint when there is one, and returns the
// exit code. It is the only place trailwarden prints errors.
func report(w io.Writer, err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	code := ExitFailure
	var hint string
	var ue *usageError
	if errors.As(err, &ue) {
		code, hint = ExitBadInput, ue.hint
	}
	var pe *policy.ParseError
	var fe *config.FieldError
	if errors.As(err, &pe) || errors.As(err, &fe) {
		code = ExitBadInput
	}
	if c, h := libraryHint(err); h != "" {
		if c != 0 {
			code = c
		}
		if hint == "" {
			hint = h
		}
	}
	// No credentials: every live command says how to give them, the same
	// way, whatever it was doing when the SDK looked for them.
	if session.IsCredentialError(err) {
		code, hint = ExitBadInput, credentialHint
	}
	// A stalled endpoint is a problem found while running, whatever step
	// met it (even one that blames bad input for its other failures).
	if h := stallHint(err); h != "" {
		code, hint = ExitFailure, h
	}
	// Joined errors (one per config field) print one per line.
	msg := strings.ReplaceAll(err.Error(), "\n", "\n  ")
	fmt.Fprintf(w, "Error: %s\n", msg)
	if hint != "" {
		fmt.Fprintf(w, "Try: %s\n", hint)
	}
	return code
}

// regionHint says how to give the bucket's region.
const regionHint = "give the bucket's region: --region, AWS_REGION, or the profile's region"

// libraryHint is the hint, naming flags, for an error of a library (which
// names none), and the exit code it calls for (0: as the caller says).
func libraryHint(err error) (int, string) {
	var nf *verify.NothingFoundError
	var de *demo.OptionError
	switch {
	case errors.Is(err, verify.ErrNoKeys):
		return ExitBadInput, "pass --public-keys FILE (the JSON `aws cloudtrail list-public-keys` prints), or, for pull, --no-verify to load unverified"
	case errors.As(err, &nf):
		return 0, "check --source, --prefix, --accounts and --regions"
	case errors.Is(err, s3.ErrNoRegion):
		return ExitBadInput, regionHint
	case errors.Is(err, s3.ErrWrongRegion):
		return 0, regionHint
	case errors.As(err, &de):
		flag := map[string]string{"Accounts": "--accounts 2", "Days": "--days 1", "Regions": "--regions us-east-1"}[de.Option]
		return ExitBadInput, "give at least " + flag
	case errors.Is(err, demo.ErrOptions):
		return ExitBadInput, "trailwarden demo --help lists what --accounts, --days, --regions and --tamper take"
	case errors.Is(err, duckdb.ErrEmptyStore):
		return 0, "it holds no events: pull again to the same --db (the pull replaces the empty file)"
	case errors.Is(err, plan.ErrNoBackup):
		return ExitBadInput, "trailwarden rollback --list shows the ids"
	case errors.Is(err, generator.ErrNoKey):
		return ExitBadInput, "set kms_key_arn in the config (or leave out the key policy: an SSE-S3 trail needs none)"
	case errors.Is(err, generator.ErrNoReaders):
		return ExitBadInput, "set readers.roles or readers.role_pattern in the config"
	case errors.Is(err, iac.ErrResource):
		return ExitBadInput, "--existing takes " + strings.Join(iac.ImportableResources(), ", ")
	case errors.Is(err, iac.ErrFormat):
		return ExitBadInput, "--format takes " + strings.Join(iac.Formats(), ", ")
	case errors.Is(err, safefile.ErrDirectory):
		return ExitBadInput, "give -o/--out a file name, e.g. -o ./policy.json, not a folder"
	}
	return 0, ""
}

// credentialHint is how to give AWS credentials, for every command that
// calls AWS (or an S3-compatible endpoint) and found none.
const credentialHint = "give AWS credentials: --profile NAME (a profile of ~/.aws/config), AWS_PROFILE, " +
	"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (also for an S3-compatible endpoint), or aws sso login / aws configure; " +
	"--debug shows where the SDK looked"

// checkFormat refuses an --format value the command does not print.
func checkFormat(format string, allowed ...string) error {
	for _, a := range allowed {
		if format == a {
			return nil
		}
	}
	return badInput(fmt.Errorf("unknown --format %q", format), "use one of: "+strings.Join(allowed, ", "))
}

// checkJobs refuses a --jobs value below one.
func checkJobs(n int) error {
	if n < 1 {
		return badInput(fmt.Errorf("--jobs must be at least 1, not %d", n), "leave --jobs out for the default, or give e.g. --jobs 8")
	}
	return nil
}

// storeError explains why a store could not be opened: held by another
// process (nothing wrong with the input: exit 1, naming the process to
// wait for), some other file, or (for reading) not created yet.
func storeError(err error, db string) error {
	var le *duckdb.LockedError
	if errors.As(err, &le) {
		return lockedError(le, db)
	}
	if errors.Is(err, duckdb.ErrLocked) {
		return fmt.Errorf("another process has %s open (a pull keeps it until it ends): wait for it to finish, or use a copy of the file", db)
	}
	if errors.Is(err, duckdb.ErrEmptyStore) {
		return err // not bad input: libraryHint says to pull again
	}
	if errors.Is(err, duckdb.ErrNotStore) {
		return badInput(err, db+" is some other file, not a trailwarden store: check --db (pull creates a new store at a path that does not exist yet)")
	}
	return badInput(err, "pull logs first: trailwarden pull --source ... --db "+db)
}

// lockedError says who holds a store and whom to wait for.
func lockedError(le *duckdb.LockedError, db string) error {
	if le.PID == 0 {
		return fmt.Errorf("another process has %s open (a pull keeps it until it ends): wait for it to finish, or use a copy of the file", db)
	}
	who := fmt.Sprintf("another program (%s, process %d)", filepath.Base(le.Program), le.PID)
	if strings.HasPrefix(filepath.Base(le.Program), "trailwarden") {
		who = fmt.Sprintf("another trailwarden (process %d)", le.PID)
	}
	if le.Pulling {
		return fmt.Errorf("%s is pulling into %s: wait for process %d to finish", who, db, le.PID)
	}
	return fmt.Errorf("%s has %s open (a pull keeps it until it ends, a query until it returns): wait for process %d to finish, or use a copy of the file",
		who, db, le.PID)
}
