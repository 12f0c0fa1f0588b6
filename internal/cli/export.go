package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/query/duckdb"
)

func newExportCmd(a *app) *cobra.Command {
	var db, out, format string
	cmd := &cobra.Command{
		Use:     "export",
		Short:   "Export the pulled events as Parquet, partitioned by account, region and day",
		Example: "  trailwarden export --db ./trail.duckdb --format parquet --out ./events-parquet",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return badInput(errors.New("--out is required: the folder to write"), "e.g. trailwarden export --db "+db+" --out ./events-parquet")
			}
			if format != "parquet" {
				return badInput(fmt.Errorf("unknown --format %q", format), "only parquet is supported")
			}
			// Opened for export: unlike a query's, its DuckDB may write
			// files, and runs only the export's own SQL.
			st, err := duckdb.OpenWith(cmd.Context(), db, duckdb.Options{ReadOnly: true, Export: true})
			if err != nil {
				return storeError(err, db)
			}
			defer func() { _ = st.Close() }()
			if err := st.ExportParquet(cmd.Context(), out); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "exported %s to %s (account=/region=/event_date= folders of Parquet files)\n", db, out)
			return a.warnLost(st)
		},
	}
	f := cmd.Flags()
	f.StringVar(&db, "db", "trail.duckdb", "the DuckDB store")
	f.StringVarP(&out, "out", "o", "", "folder to write (must not exist, or be empty); required")
	f.StringVar(&format, "format", "parquet", "parquet")
	return cmd
}
