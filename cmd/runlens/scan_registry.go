package main

import (
	"context"
	"strings"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/scan"
)

func (a *app) scanRegistryCommand() *cobra.Command {
	o := &scanOptions{}
	cmd := &cobra.Command{
		Use:   "registry HOST[:PORT][/REPOSITORY]",
		Short: "Scan every tag of a registry or repository, each digest once",
		Long: `List the repositories of a registry (catalog API), or take one repository,
list its tags, resolve each tag to its manifest digest (a multi-arch index to
one digest per platform), and scan each unique digest once. The report shows
tags -> digest -> findings; tags and images that could not be listed,
resolved or scanned are listed as FAILED, never as clean.

Registries that answer 429 or 5xx are retried a bounded number of times,
honouring Retry-After.`,
		Example: `  runlens scan registry localhost:5000 --insecure
  runlens scan registry registry.example.com/team/app --platform all -f json
  echo "$TOKEN" | runlens scan registry ghcr.io/org/app --username me --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runScanRegistry(cmd.Context(), o, args[0])
		},
	}
	cmd.Flags().IntVar(&o.concurrency, "concurrency", 4, "images scanned in parallel")
	o.registerSource(cmd)
	cmd.Flags().Lookup("platform").Usage = `platforms to scan, os/arch[/variant], comma-separated, or "all" (default linux/<host arch>)`
	o.out.register(cmd)
	return cmd
}

func (a *app) runScanRegistry(ctx context.Context, o *scanOptions, target string) error {
	filters, err := o.out.filters()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	ro, err := a.registryOptions(o)
	if err != nil {
		return err
	}
	opts := ro.Options
	switch o.platform {
	case "all":
	case "":
		opts.Platforms = []string{registry.DefaultPlatform()}
	default:
		opts.Platforms = splitList(o.platform)
	}

	scanner, dbInfo, closeDB, err := a.scanner(ctx, o)
	if err != nil {
		return err
	}
	defer closeDB()

	var results []*report.ImageResult
	stats, err := scanner.ScanRegistry(ctx, scan.RegistryRequest{Target: target, Options: opts, Concurrency: o.concurrency},
		func(r *report.ImageResult) { results = append(results, r) })
	a.progress.Clear()
	if err != nil {
		return err
	}
	a.log.Info("registry scan", "repositories", stats.Repositories, "tags", stats.Tags, "digests", stats.Digests)
	return a.emit(&o.out, "scan registry", filters, dbInfo, results)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
