// Command trailwarden generates, proves, applies and audits the policies of a
// centralized CloudTrail pipeline, and verifies and queries its logs.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/trailwarden/trailwarden/internal/cli"
)

func main() {
	// The first SIGINT or SIGTERM cancels ctx: the command stops cleanly
	// and exits 130. A second one ends the process at once.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	context.AfterFunc(ctx, stop)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
