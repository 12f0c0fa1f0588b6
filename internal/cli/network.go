package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/aws/session"
	"github.com/trailwarden/trailwarden/internal/objstore"
)

// timeoutFlag registers --timeout, the one network limit of every command
// that calls AWS or an S3-compatible endpoint, bound to d (set to the
// default here).
func timeoutFlag(f *pflag.FlagSet, d *time.Duration) {
	*d = session.DefaultTimeout
	f.Var((*timeoutValue)(d), "timeout", "how long a network call may go without progress (connect, first byte, each read or write) "+
		"before it is retried, then fails; a download that keeps moving is never cut")
}

// timeoutValue is a positive duration.
type timeoutValue time.Duration

func (v *timeoutValue) String() string { return time.Duration(*v).String() }
func (v *timeoutValue) Type() string   { return "duration" }

func (v *timeoutValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return fmt.Errorf("%q is not a positive duration such as 30s or 2m", s)
	}
	*v = timeoutValue(d)
	return nil
}

// stallHint is the advice for an endpoint that stopped answering, or ""
// when err is not that.
func stallHint(err error) string {
	if !errors.Is(err, objstore.ErrStalled) && !errors.Is(err, session.ErrStalled) {
		return ""
	}
	return "the endpoint stopped answering: check the network, a proxy or the endpoint, then run the command again " +
		"(a pull resumes where it stopped); give a slow endpoint more time with --timeout, e.g. --timeout 2m"
}
