package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/trailwarden/trailwarden/internal/config"
	"github.com/trailwarden/trailwarden/internal/policy"
	"github.com/trailwarden/trailwarden/internal/store"
)

// Exit codes, documented in the README.
const (
	ExitOK       = 0
	ExitFailure  = 1 // the command ran and found a problem (e.g. a conflict)
	ExitBadInput = 2 // bad flags, config or input files
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
// process, some other file, or (for reading) not created yet.
func storeError(err error, db string) error {
	if errors.Is(err, store.ErrLocked) {
		return badInput(err, "another process has "+db+" open (a pull keeps it until it ends): wait for it to finish, or use a copy of the file")
	}
	if errors.Is(err, store.ErrNotStore) {
		return badInput(err, db+" is some other file, not a trailwarden store: check --db (pull creates a new store at a path that does not exist yet)")
	}
	return badInput(err, "pull logs first: trailwarden pull --source ... --db "+db)
}
