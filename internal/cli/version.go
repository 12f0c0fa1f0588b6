package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/trailwarden/trailwarden/internal/query/duckdb"
)

// buildInfo is what "trailwarden version" prints.
type buildInfo struct {
	Version   string   `json:"version"`
	Go        string   `json:"go"`
	DuckDB    string   `json:"duckdb"`
	BuildTags []string `json:"build_tags"`
	Platform  string   `json:"platform"`
}

func newVersionCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print trailwarden's version, and the Go, DuckDB and build tags it was built with",
		Long: `version prints the build's version (set at build time with -ldflags
"-X github.com/trailwarden/trailwarden/internal/cli.version=v1.2.3", else the
module version "go install" records, else "dev"), the Go toolchain, the
DuckDB library linked in, the build tags (duckdb_arrow is required;
nolibdeflate means the pure-Go inflate) and the platform. Quote it in a bug
report.`,
		Example: `  trailwarden version
  trailwarden version --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(format, "text", "json"); err != nil {
				return err
			}
			v := buildInfo{Version: buildVersion(), Go: runtime.Version(), BuildTags: buildTags(),
				Platform: runtime.GOOS + "/" + runtime.GOARCH}
			d, err := duckdb.DuckDBVersion(cmd.Context())
			if err != nil {
				return err
			}
			v.DuckDB = d
			if format == "json" {
				return printJSON(a.stdout, v)
			}
			tags := strings.Join(v.BuildTags, ",")
			if tags == "" {
				tags = "(none)"
			}
			fmt.Fprintf(a.stdout, "trailwarden %s\ngo: %s\nduckdb: %s\nbuild tags: %s\nplatform: %s\n", v.Version, v.Go, v.DuckDB, tags, v.Platform)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

// buildTags are the -tags the binary was built with.
func buildTags() []string {
	tags := []string{}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-tags" && s.Value != "" {
				tags = append(tags, strings.Split(s.Value, ",")...)
			}
		}
	}
	return tags
}
