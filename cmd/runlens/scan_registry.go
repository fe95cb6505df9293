package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/report"
	"github.com/runlens/runlens/internal/scan"
)

func (a *app) scanRegistryCommand() *cobra.Command {
	o := &scanOptions{}
	var runningIn []string
	var kubeconfig string
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
  runlens scan registry localhost:5000 --running-in prod-eu,prod-us
  echo "$TOKEN" | runlens scan registry ghcr.io/org/app --username me --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runScanRegistry(cmd.Context(), o, args[0], kubeconfig, runningIn)
		},
	}
	cmd.Flags().IntVar(&o.concurrency, "concurrency", 4, "images scanned in parallel")
	cmd.Flags().StringSliceVar(&runningIn, "running-in", nil, "kubeconfig contexts: mark which digests run there and which are stale")
	cmd.Flags().StringVar(&kubeconfig, "kubeconfig", "", "kubeconfig file for --running-in")
	o.registerSource(cmd)
	cmd.Flags().Lookup("platform").Usage = `platforms to scan, os/arch[/variant], comma-separated, or "all" (default linux/<host arch>)`
	o.out.register(cmd)
	return cmd
}

func (a *app) runScanRegistry(ctx context.Context, o *scanOptions, target, kubeconfig string, runningIn []string) error {
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
	if len(runningIn) > 0 {
		if err := a.markRunning(ctx, kubeconfig, runningIn, results); err != nil {
			return err
		}
	}
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

// markRunning discovers what runs in the given contexts and marks each
// registry digest as running (with its workloads) or stale.
func (a *app) markRunning(ctx context.Context, kubeconfig string, contexts []string, results []*report.ImageResult) error {
	discs, _, err := clusterscan.Discover(ctx, clusterscan.Options{Kubeconfig: kubeconfig, Contexts: contexts, Progress: a.progress})
	a.progress.Clear()
	if err != nil {
		return fmt.Errorf("--running-in: %w", err)
	}
	where := map[string][]string{}
	for _, d := range discs {
		for _, p := range d.Problems {
			a.log.Warn("--running-in: cluster view incomplete; digests may be marked stale wrongly", "cluster", p.Cluster, "kind", p.Kind, "reason", p.Reason)
		}
		for i := range d.Workloads {
			w := &d.Workloads[i]
			for _, c := range w.Containers {
				if c.Digest != "" {
					where[c.Digest] = appendOnce(where[c.Digest], report.WorkloadRef(w))
				}
			}
		}
	}
	for _, r := range results {
		if r.Target.Digest == "" {
			continue
		}
		running := len(where[r.Target.Digest]) > 0
		r.Running = &running
		r.RunningIn = where[r.Target.Digest]
	}
	return nil
}

func appendOnce(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}
