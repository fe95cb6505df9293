package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/workload"
)

// clusterOptions are the flags that select clusters and describe them.
type clusterOptions struct {
	kubeconfig  string
	contexts    []string
	allContexts bool
	namespaces  []string
	selector    string
	internal    []string
	external    []string
	critical    []string
}

func (c *clusterOptions) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default $KUBECONFIG or ~/.kube/config)")
	f.StringSliceVar(&c.contexts, "context", nil, "kubeconfig contexts to scan, comma-separated (default the current context)")
	f.BoolVar(&c.allContexts, "all-contexts", false, "scan every context in the kubeconfig")
	f.StringSliceVarP(&c.namespaces, "namespace", "n", nil, "only these namespaces (default all)")
	f.StringVarP(&c.selector, "selector", "l", "", "only pods matching this label selector")
	f.StringSliceVar(&c.internal, "internal-registries", nil, `registries or repository prefixes whose images are "ours" (e.g. registry.example.com/team)`)
	f.StringSliceVar(&c.external, "external-registries", nil, "more vendor registries or prefixes (e.g. a mirror of public images)")
	f.StringSliceVar(&c.critical, "critical-namespaces", nil, `label selectors marking critical namespaces (e.g. "env=prod")`)
}

func (c *clusterOptions) options() (clusterscan.Options, error) {
	o := clusterscan.Options{
		Kubeconfig: c.kubeconfig, Contexts: c.contexts, AllContexts: c.allContexts,
		Namespaces: c.namespaces, LabelSelector: c.selector,
		Owner: workload.OwnerOptions{Internal: c.internal, External: c.external},
	}
	if c.selector != "" {
		if _, err := labels.Parse(c.selector); err != nil {
			return o, &usageError{fmt.Sprintf("--selector: %v", err)}
		}
	}
	for _, s := range c.critical {
		sel, err := labels.Parse(s)
		if err != nil {
			return o, &usageError{fmt.Sprintf("--critical-namespaces %q: %v", s, err)}
		}
		o.CriticalNamespaces = append(o.CriticalNamespaces, sel)
	}
	return o, nil
}

func (a *app) scanClusterCommand() *cobra.Command {
	o := &scanOptions{}
	co := &clusterOptions{}
	var view string
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
			return a.runScanCluster(cmd.Context(), o, co, view)
		},
	}
	co.register(cmd)
	f := cmd.Flags()
	f.StringVar(&view, "view", "", "table sections: workloads, images, or both (default)")
	f.IntVar(&o.concurrency, "concurrency", 4, "images scanned in parallel")
	o.registerCommon(cmd)
	o.out.register(cmd)
	return cmd
}

func (a *app) runScanCluster(ctx context.Context, o *scanOptions, co *clusterOptions, view string) error {
	switch view {
	case "", "workloads", "images":
	default:
		return &usageError{fmt.Sprintf("--view: want workloads or images, got %q", view)}
	}
	if err := o.out.check(); err != nil {
		return err
	}
	copts, err := co.options()
	if err != nil {
		return err
	}
	if copts.Registry, err = o.registryAccess(); err != nil {
		return err
	}
	if copts.Clients, err = loadClusters("--context", co.kubeconfig, co.contexts, co.allContexts); err != nil {
		return err
	}
	ctx, cancel := scanContext(ctx, o.timeout)
	defer cancel()
	scanner, dbInfo, closeDB, err := a.scanner(ctx, o)
	if err != nil {
		return err
	}
	defer closeDB()
	copts.Concurrency = o.concurrency
	copts.Progress = a.progress
	res, err := clusterscan.Run(ctx, scanner, copts)
	a.progress.Clear()
	if err != nil {
		why := scan.Interrupted(ctx)
		if why == nil {
			return err
		}
		if res == nil {
			// Interrupted before any image was known: say so in the report
			// rather than write one that looks clean.
			res = &clusterscan.Result{Images: []*result.Image{result.Incomplete(image.Descriptor{Reference: "cluster discovery"},
				result.StatusFailed, fmt.Errorf("discovering workloads: %w", why))}}
		}
	}
	for _, c := range res.Clusters {
		for _, p := range c.Problems {
			a.log.Warn("cluster scan incomplete", "cluster", c.Name, "kind", p.Kind, "reason", p.Reason)
		}
	}
	o.out.view = view
	return a.write(&o.out, result.New(header("scan cluster", dbInfo), res.Images, res.Workloads, res.Clusters), interrupted(ctx))
}

// loadClusters loads the kubeconfig contexts named by flag; a context the
// kubeconfig does not define is bad usage (exit 64), and the message lists
// the ones it does.
func loadClusters(flag, kubeconfig string, names []string, all bool) ([]k8s.ClusterClient, error) {
	clients, err := k8s.LoadContexts(kubeconfig, names, all)
	var uc *k8s.UnknownContextError
	if errors.As(err, &uc) {
		return nil, &usageError{flag + ": " + uc.Error()}
	}
	return clients, err
}
