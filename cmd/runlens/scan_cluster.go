package main

import (
	"context"

	"github.com/spf13/cobra"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/usage"
)

// clusterOptions are the flags that select clusters and describe them.
type clusterOptions struct {
	clusterscan.Options
	critical []string
	view     string
}

func (c *clusterOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.Kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	f.StringSliceVar(&c.Contexts, "context", nil, "kubeconfig contexts to scan, comma-separated (default the current context)")
	f.BoolVar(&c.AllContexts, "all-contexts", false, "scan every context in the kubeconfig")
	f.StringSliceVarP(&c.Namespaces, "namespace", "n", nil, "only these namespaces (default all)")
	f.StringVarP(&c.LabelSelector, "selector", "l", "", "only pods matching this label selector")
	f.StringSliceVar(&c.Owner.Internal, "internal-registries", nil, `registries or repository prefixes whose images are "ours" (e.g. registry.example.com/team)`)
	f.StringSliceVar(&c.Owner.External, "external-registries", nil, "more vendor registries or prefixes (e.g. a mirror of public images)")
	f.StringSliceVar(&c.critical, "critical-namespaces", nil, `label selectors marking critical namespaces (e.g. "env=prod")`)
	f.StringVar(&c.view, "view", "", "table sections: workloads, images, or both (default)")
}

func (a *app) scanClusterCommand() *cobra.Command {
	o := &scanOptions{}
	co := &clusterOptions{}
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Scan what actually runs in one or many Kubernetes clusters (agentless)",
		Long: `Find every running pod through the Kubernetes API (init and ephemeral
containers included), resolve each container to the digest it really runs
(status.containerStatuses[].imageID, not the tag), scan each unique digest
once across all clusters, and report every finding with its workloads'
context: network exposure (internet / cluster / isolated, with the path),
privileges (privileged, host namespaces and paths, secrets, service-account
RBAC power, cloud identity) and who fixes the image (ours or a vendor's).

Needs only read access: deploy/rbac/runlens-scanner.yaml is the ClusterRole.
Kinds the role cannot read, and clusters that cannot be reached, are listed
as problems; everything else is still scanned. Image pulls use the pods'
imagePullSecrets when the role may read them, then ~/.docker/config.json.`,
		Example: `  runlens scan cluster
  runlens scan cluster --context prod-eu,prod-us --fail-on CRITICAL
  runlens scan cluster --all-contexts -n shop --internal-registries registry.example.com
  runlens scan cluster --critical-namespaces env=prod --view workloads`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runScanCluster(cmd.Context(), o, co)
		},
	}
	co.register(cmd)
	o.registerConcurrency(cmd)
	o.registerCommon(cmd)
	return cmd
}

func (a *app) runScanCluster(ctx context.Context, o *scanOptions, co *clusterOptions) error {
	switch co.view {
	case "", "workloads", "images":
	default:
		return usage.Errorf("--view: want workloads or images, got %q", co.view)
	}
	if err := o.out.check(ctx); err != nil {
		return err
	}
	copts := co.Options
	var err error
	if copts.CriticalNamespaces, err = clusterscan.ParseSelectors(co.LabelSelector, co.critical); err != nil {
		return err
	}
	if copts.Registry, err = o.access.Shared(); err != nil {
		return err
	}
	if copts.Clients, err = clusterscan.LoadContexts("--context", co.Kubeconfig, co.Contexts, co.AllContexts); err != nil {
		return err
	}
	ctx, cancel := scan.WithTimeout(ctx, o.timeout)
	defer cancel()
	scanner, dbInfo, closeDB, err := a.scanner(ctx, o)
	if err != nil {
		return err
	}
	defer closeDB()
	copts.Concurrency, copts.Progress = o.concurrency, a.progress
	res, err := clusterscan.Run(ctx, scanner, copts)
	a.progress.Clear()
	if res, err = clusterscan.Finish(ctx, res, err, a.log); err != nil {
		return err
	}
	o.out.view = co.view
	return a.write(&o.out, result.New(header("scan cluster", dbInfo), res.Images, res.Workloads, res.Clusters), scan.Unfinished(ctx))
}
