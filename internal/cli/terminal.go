package cli

import (
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether v is a terminal: an *os.File whose descriptor
// the terminal driver answers for. A character device is not enough:
// /dev/null is one, and a command run from cron, `ssh -n` or CI with stdin
// from /dev/null has no one to answer a prompt.
func isTerminal(v any) bool {
	f, ok := v.(*os.File)
	if !ok || f == nil {
		return false
	}
	return term.IsTerminal(int(f.Fd())) //nolint:gosec // a descriptor fits an int
}
