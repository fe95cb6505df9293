package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/usage"
)

func (a *app) reportCommand() *cobra.Command {
	var o outputOptions
	var input string
	cmd := &cobra.Command{
		Use:   "report --input RESULT.json",
		Short: "Render a saved JSON result in another format",
		Long: `Render a result saved with --format json in any output format, applying
the same filters and exit-code policy as a live scan. The findings are
ranked again (a result saved by an older runlens gains the ranking): pass
the --vex and --policy the scan used to keep what they suppressed.`,
		Example: `  runlens scan image --archive app.tar -f json -o result.json
  runlens report --input result.json --severity CRITICAL`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if input == "" {
				return usage.Errorf("--input is required")
			}
			if err := o.check(cmd.Context()); err != nil {
				return err
			}
			doc, err := readResult(input)
			if err != nil {
				return err
			}
			return a.write(&o, doc)
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "a JSON result written by runlens")
	o.register(cmd)
	return cmd
}

// readResult reads a JSON result saved with --format json.
func readResult(path string) (*result.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening saved result: %w", err)
	}
	defer f.Close()
	return result.Read(f)
}
