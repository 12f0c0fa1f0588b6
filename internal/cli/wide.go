package cli

import (
	"io"

	"github.com/spf13/pflag"

	"github.com/trailwarden/trailwarden/internal/texttable"
)

// wideUsage is the help of every command's --wide.
const wideUsage = "text: every column and every value in full (by default text fits 80 columns: long cells end in …, long lines wrap)"

func addWide(f *pflag.FlagSet, p *bool) { f.BoolVar(p, "wide", false, wideUsage) }

// textWidth is the width text output fits: 80, or no limit with --wide.
func textWidth(wide bool) int {
	if wide {
		return 0
	}
	return texttable.Width
}

// fitted runs render on a writer that wraps its lines to fit the terminal
// (unless wide), then writes what is left.
func fitted(w io.Writer, wide bool, render func(w io.Writer)) error {
	tw := texttable.NewWriter(w, textWidth(wide))
	render(tw)
	return tw.Flush()
}
