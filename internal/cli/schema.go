package cli

import (
	"github.com/spf13/cobra"
	"github.com/surgeload/surge/internal/scenario"
)

func newSchemaCmd(env Env) *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files",
		Long: `Print the JSON Schema (draft 2020-12) of scenario files, for editors and
other tools. The schema checks a file's shape; surge validate also checks
variables, feeder files, URLs, regexps, checks and thresholds.

Example:
  surge schema > scenario.schema.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := env.Stdout.Write(scenario.Schema())
			return err
		},
	}
}
