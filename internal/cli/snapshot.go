package cli

import (
	"errors"

	"github.com/spf13/cobra"
)

// Placeholder: replaced by the snapshot command's implementation.
func newSnapshotCmd(_ *app) *cobra.Command {
	return &cobra.Command{Use: "snapshot", Hidden: true, RunE: func(*cobra.Command, []string) error { return errors.New("snapshot: not built yet") }}
}
