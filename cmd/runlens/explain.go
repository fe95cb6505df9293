package main

import (
	"fmt"

	"github.com/spf13/cobra"

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

The result is ranked again to derive every input's basis: pass the --policy
and --vex the scan used (a different tier than the saved one is noted).`,
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
			doc, err := readResult(input)
			if err != nil {
				return err
			}
			saved := map[string]string{}
			for _, e := range doc.Risks {
				saved[e.ID] = e.Tier
			}
			// The saved entries hold each input's value and source; the
			// derivation (every basis) is made again from the result.
			if err := o.rank(doc); err != nil {
				return err
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
				if was, ok := saved[e.ID]; ok && was != e.Tier {
					fmt.Fprintf(a.stdout, "\nnote: the saved result has this entry in tier %s; rank with the --policy and --vex the scan used to explain that one\n", was)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "a JSON result written by runlens")
	cmd.Flags().StringArrayVar(&o.vexPaths, "vex", nil, "VEX documents to rank with, as the scan did (repeatable)")
	cmd.Flags().StringVar(&o.policyFile, "policy", "", "policy file to rank with, as the scan did")
	cmd.Flags().StringArrayVar(&o.evidence, "evidence", nil, "node agent evidence to rank with, as the scan did (repeatable)")
	return cmd
}
