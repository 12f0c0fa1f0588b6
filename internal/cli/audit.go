package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the audit command's implementation.
func newAuditCmd(_ *app) *cobra.Command {
	return &cobra.Command{Use: "audit", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("audit: not built yet") }}
}
