package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the plan, apply and rollback commands.
func newPlanCmd(_ *app) *cobra.Command {
	return &cobra.Command{Use: "plan", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("plan: not built yet") }}
}

func newApplyCmd(_ *app) *cobra.Command {
	return &cobra.Command{Use: "apply", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("apply: not built yet") }}
}

func newRollbackCmd(_ *app) *cobra.Command {
	return &cobra.Command{Use: "rollback", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("rollback: not built yet") }}
}
