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
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Execute(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
