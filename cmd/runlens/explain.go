package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/risk"
	"github.com/runlens/runlens/internal/usage"
)

func (a *app) explainCommand() *cobra.Command {
	var input string
	var o rankOptions
	cmd := &cobra.Command{
		Use:   "explain ID --input RESULT.json",
		Short: "Show how one ranked risk was decided",
		Long: `Print the whole derivation of a risk entry of a saved JSON result: every
input of the SSVC Deployer decision with its value and where it came from,
the table row that gave the tier, the parts of the score, the facts and the
reasons. ID is an entry's id (r-…, or a unique prefix of at least 4
characters), or a vulnerability id (CVE-…, GHSA-…) to explain every entry of
it.

Without --vex or --policy the saved ranking is explained as it was written;
with them (or for a result saved before ranking existed) it is ranked again
first.`,
		Example: `  runlens scan cluster -f json -o result.json
  runlens explain r-3f9c2a1b7d40 --input result.json
  runlens explain CVE-2021-44228 --input result.json --policy policy.yaml`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if input == "" {
				return usage.Errorf("--input is required")
			}
			if err := o.load(cmd.Context()); err != nil {
				return err
			}
			f, err := os.Open(input)
			if err != nil {
				return fmt.Errorf("opening saved result: %w", err)
			}
			defer f.Close()
			doc, err := result.Read(f)
			if err != nil {
				return err
			}
			if len(doc.Risks) == 0 || o.policyFile != "" || len(o.vexPaths) > 0 {
				if err := o.rank(doc); err != nil {
					return err
				}
			}
			entries := risk.Find(doc, args[0])
			if len(entries) == 0 {
				return fmt.Errorf("no risk %q in %s: give an entry id (r-…, see -f json or the table) or a vulnerability id", args[0], input)
			}
			for i, e := range entries {
				if i > 0 {
					fmt.Fprintln(a.stdout)
				}
				if err := risk.Explain(a.stdout, e); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "a JSON result written by runlens")
	cmd.Flags().StringArrayVar(&o.vexPaths, "vex", nil, "VEX documents to apply before explaining (repeatable)")
	cmd.Flags().StringVar(&o.policyFile, "policy", "", "policy file to rank with before explaining")
	return cmd
}
