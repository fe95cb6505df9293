package main

import (
	"context"
	"errors"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/usage"
)

// registryFlags are the flags only scan registry has.
type registryFlags struct {
	runningIn       []string
	kubeconfig      string
	maxRepositories int
	maxTags         int
}

func (a *app) scanRegistryCommand() *cobra.Command {
	o := &scanOptions{}
	rf := &registryFlags{}
	cmd := &cobra.Command{
		Use:   "registry HOST[:PORT][/REPOSITORY]",
		Short: "Scan every tag of a registry or repository, each digest once",
		Long: `List the repositories of a registry (catalog API), or take one repository,
list its tags, resolve each tag to its manifest digest (a multi-arch index to
one digest per platform), and scan each unique digest once. The report shows
tags -> digest -> findings; tags and images that could not be listed,
resolved or scanned are listed as FAILED, never as clean.

Registries that answer 429 or 5xx are retried a bounded number of times,
honouring Retry-After; a request that makes no progress for --idle-timeout
fails. Listing stops at --max-repositories repositories and --max-tags tags:
the registry is then reported PARTIAL with the reason. When --timeout runs
out or the scan is interrupted (SIGINT, SIGTERM), the report is still
written: what finished, and everything else as FAILED with the reason.`,
		Example: `  runlens scan registry localhost:5000 --insecure
  runlens scan registry registry.example.com/team/app --platform all -f json
  runlens scan registry localhost:5000 --running-in prod-eu,prod-us
  echo "$TOKEN" | runlens scan registry ghcr.io/org/app --username me --password-stdin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runScanRegistry(cmd.Context(), o, args[0], rf)
		},
	}
	o.registerConcurrency(cmd)
	f := cmd.Flags()
	f.StringSliceVar(&rf.runningIn, "running-in", nil, "kubeconfig contexts: mark which digests run there and which are stale")
	f.StringVar(&rf.kubeconfig, "kubeconfig", "", "kubeconfig file for --running-in")
	f.IntVar(&rf.maxRepositories, "max-repositories", registry.DefaultMaxRepositories, "stop listing the catalog after this many repositories (the registry is then reported partial)")
	f.IntVar(&rf.maxTags, "max-tags", registry.DefaultMaxTags, "stop listing tags after this many in all (the registry is then reported partial)")
	o.registerSource(cmd)
	f.Lookup("platform").Usage = `platforms to scan, os/arch[/variant], comma-separated, or "all" (default linux/<host arch>)`
	return cmd
}

func (a *app) runScanRegistry(ctx context.Context, o *scanOptions, target string, rf *registryFlags) error {
	if err := o.out.check(ctx); err != nil {
		return err
	}
	if rf.maxRepositories <= 0 || rf.maxTags <= 0 {
		return usage.Errorf("--max-repositories and --max-tags must be positive")
	}
	var running *clusterscan.RunningIn
	if len(rf.runningIn) > 0 {
		var err error
		if running, err = clusterscan.LoadRunningIn(rf.kubeconfig, rf.runningIn); err != nil {
			return err
		}
	}
	ctx, cancel := scan.WithTimeout(ctx, o.timeout)
	defer cancel()
	if o.passwordStdin {
		o.access.Password = a.stdin
	}
	opts, err := o.access.Options()
	if err != nil {
		return err
	}
	opts.MaxRepositories, opts.MaxTags = rf.maxRepositories, rf.maxTags
	opts.Platforms = registry.ParsePlatforms(o.source.Platform)

	scanner, dbInfo, closeDB, err := a.scanner(ctx, o)
	if err != nil {
		return err
	}
	defer closeDB()

	var results []*result.Image
	req := scan.RegistryRequest{Target: target, Options: opts, Concurrency: o.concurrency, Log: a.log}
	stats, err := scanner.ScanRegistry(ctx, req, func(r *result.Image) { results = append(results, r) })
	a.progress.Clear()
	if errors.Is(err, scan.ErrInvalidTarget) {
		return usage.Errorf("%v", err)
	}
	a.log.Info("registry scan", "repositories", stats.Repositories, "tags", stats.Tags, "digests", stats.Digests)
	runningErr := running.Mark(ctx, results, a.progress, a.log)
	// Without the marks it was asked for, the report is still written.
	return a.write(&o.out, result.New(header("scan registry", dbInfo), results, nil, nil), scan.Unfinished(ctx), runningErr)
}
