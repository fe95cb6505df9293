// Package clusterscan runs an agentless scan of what actually runs: it
// discovers the workloads of one or many clusters through the Kubernetes
// API, adds their exposure, privileges and ownership, scans each unique
// running digest once (across all clusters), and fans the results back out
// to every workload that runs it.
package clusterscan

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/runlens/runlens/internal/fanout"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/discover"
	"github.com/runlens/runlens/internal/progress"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/workload"
)

// Options select the clusters and tune the scan.
type Options struct {
	// Kubeconfig is the kubeconfig path ("" = KUBECONFIG or ~/.kube/config).
	Kubeconfig string
	// Contexts names kubeconfig contexts; empty means the current one
	// unless AllContexts.
	Contexts    []string
	AllContexts bool
	// Clients, when set, are used instead of loading a kubeconfig.
	Clients []k8s.ClusterClient
	// Namespaces limits discovery (empty = all); LabelSelector filters pods.
	Namespaces    []string
	LabelSelector string
	// Owner classifies images as ours or a vendor's.
	Owner workload.OwnerOptions
	// CriticalNamespaces mark namespaces whose labels match as critical.
	CriticalNamespaces []labels.Selector
	// Registry is the base registry access (transport, insecure HTTP);
	// pull secrets of the pods are added per image.
	Registry registry.Options
	// Concurrency bounds parallel image scans (default 4).
	Concurrency int
	// Progress shows what is happening on a terminal.
	Progress *progress.Line
}

// Result is a whole cluster scan, the parts of a result.Document.
type Result struct {
	Images    []*result.Image
	Workloads []*result.Workload
	Clusters  []result.Cluster
	// ScanRequests is the number of unique digests handed to the scanner.
	ScanRequests int
}

// Discover finds what runs in every selected cluster: workloads, their
// containers and the digests they run, and nothing more (no exposure,
// privileges or ownership: Run adds those). A cluster that cannot be
// reached, or a kind that cannot be read, becomes a Problem in its
// Snapshot; the other clusters go on.
func Discover(ctx context.Context, opts Options) ([]*discover.Discovery, error) {
	_, keychains, discs, err := discoverAll(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, d := range discs {
		d.Problems = append(d.Problems, keychains.Problems(d.Cluster)...)
	}
	return discs, nil
}

// clientsOf returns opts.Clients, or the clients of the kubeconfig
// contexts opts selects.
func clientsOf(opts Options) ([]k8s.ClusterClient, error) {
	if opts.Clients != nil {
		return opts.Clients, nil
	}
	return k8s.LoadContexts(opts.Kubeconfig, opts.Contexts, opts.AllContexts)
}

// discoverAll runs discovery in every cluster opts selects, pull secrets
// read through one keychain cache, and returns the clients, that cache and
// a Discovery per client.
func discoverAll(ctx context.Context, opts Options) ([]k8s.ClusterClient, *discover.Keychains, []*discover.Discovery, error) {
	clients, err := clientsOf(opts)
	if err != nil {
		return nil, nil, nil, err
	}
	keychains := discover.NewKeychains(clients...)
	opts.Progress.Printf("discovering workloads in %d cluster(s)", len(clients))
	dopts := discover.Options{Namespaces: opts.Namespaces, LabelSelector: opts.LabelSelector, Registry: opts.Registry, Keychains: keychains}
	// Per-context failures are Problems in each Snapshot.
	discs, _ := discover.All(ctx, clients, dopts, 0)
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	return clients, keychains, discs, nil
}

// Run discovers, scans each unique digest once, and joins the results.
// When ctx ends during the scans, the result is still returned, with the
// images not finished marked failed, along with the reason from
// scan.Interrupted.
func Run(ctx context.Context, s *scan.Scanner, opts Options) (*Result, error) {
	clients, keychains, discs, err := discoverAll(ctx, opts)
	if err != nil {
		return nil, err
	}
	fanout.Each(0, len(discs), func(i int) { assess(ctx, discs[i], clients[i], opts) })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	targets := collectTargets(discs)
	res := &Result{ScanRequests: len(targets)}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = 4
	}
	var mu sync.Mutex
	done := 0
	byDigest := map[string]*result.Image{}
	err = fanout.EachContext(ctx, workers, len(targets), func(i int) {
		t := targets[i]
		ropts := opts.Registry
		ropts.Keychain = t.keychain(ctx, keychains)
		r, err := s.ScanDigest(ctx, t.ref, t.digest, func(ctx context.Context) (image.Image, error) {
			return image.OpenRegistry(ctx, t.ref, image.RegistryOptions{Options: ropts})
		})
		if err != nil || r == nil {
			return // cancelled
		}
		if r.Status == result.StatusFailed {
			t.notPulled(ctx, keychains)
		}
		r.RunningIn = t.runningIn
		mu.Lock()
		defer mu.Unlock()
		byDigest[t.digest] = r
		res.Images = append(res.Images, r)
		done++
		opts.Progress.Printf("scanning images: %d/%d", done, len(targets))
	})
	why := scan.Interrupted(ctx)
	if err != nil && why == nil {
		return nil, err
	}
	if why != nil {
		// Cancelled (deadline or signal): keep what finished and mark the
		// rest failed with the reason, so the report can still be written.
		for _, t := range targets {
			if byDigest[t.digest] == nil {
				r := result.Incomplete(image.Descriptor{Reference: t.ref, Digest: t.digest}, result.StatusFailed, why)
				r.RunningIn = t.runningIn
				byDigest[t.digest] = r
				res.Images = append(res.Images, r)
			}
		}
	}
	for _, d := range discs {
		d.Problems = append(d.Problems, keychains.Problems(d.Cluster)...)
	}
	res.Workloads, res.Clusters = join(discs, byDigest)
	return res, why
}
