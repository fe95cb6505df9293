package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/report"
)

func (a *app) reportCommand() *cobra.Command {
	var o outputOptions
	var input string
	cmd := &cobra.Command{
		Use:   "report --input RESULT.json",
		Short: "Render a saved JSON result in another format",
		Long: `Render a result saved with --format json in any output format, applying
the same filters and exit-code policy as a live scan.`,
		Example: `  runlens scan image --archive app.tar -f json -o result.json
  runlens report --input result.json --severity CRITICAL`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if input == "" {
				return &usageError{"--input is required"}
			}
			filters, err := o.filters()
			if err != nil {
				return err
			}
			f, err := os.Open(input)
			if err != nil {
				return fmt.Errorf("opening saved result: %w", err)
			}
			defer f.Close()
			c := &collector{}
			if err := report.Replay(f, c); err != nil {
				return err
			}
			c.header.Filters = filters
			for _, r := range c.images {
				filters.Apply(r)
			}
			recountWorkloads(c.workloads, c.images)
			sum := report.Summarize(c.images)
			sum.Clusters = c.summary.Clusters
			return a.write(&o, c.header, c.images, c.workloads, sum)
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "a JSON result written by runlens")
	o.register(cmd)
	return cmd
}

// recountWorkloads recomputes workload finding counts after filtering.
func recountWorkloads(wls []*report.WorkloadResult, images []*report.ImageResult) {
	byDigest := map[string]*report.ImageResult{}
	for _, r := range images {
		byDigest[r.Target.Digest] = r
	}
	for _, w := range wls {
		w.FindingsBySeverity = report.CountWorkload(&w.Workload, byDigest)
	}
}

// collector is a Handler that keeps what it is given.
type collector struct {
	header    report.Header
	images    []*report.ImageResult
	workloads []*report.WorkloadResult
	summary   report.Summary
}

func (c *collector) Start(h report.Header) error { c.header = h; return nil }

func (c *collector) Image(r *report.ImageResult) error {
	c.images = append(c.images, r)
	return nil
}

func (c *collector) Workload(w *report.WorkloadResult) error {
	c.workloads = append(c.workloads, w)
	return nil
}

func (c *collector) End(s report.Summary) error { c.summary = s; return nil }
