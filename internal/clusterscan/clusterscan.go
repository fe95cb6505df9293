// Package clusterscan runs an agentless scan of what actually runs: it
// discovers the workloads of one or many clusters through the Kubernetes
// API, adds their exposure, privileges and ownership, scans each unique
// running digest once (across all clusters), and fans the results back out
// to every workload that runs it.
package clusterscan

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/google/go-containerregistry/pkg/authn"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/dynamic"

	"github.com/runlens/runlens/internal/fanout"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/progress"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/report"
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

// Result is a whole cluster scan, ready for a report.Handler.
type Result struct {
	Images    []*report.ImageResult
	Workloads []*report.WorkloadResult
	Clusters  []report.ClusterResult
	// ScanRequests is the number of unique digests handed to the scanner.
	ScanRequests int
}

// Discover finds the workloads of every selected cluster and fills in
// their exposure, sensitivity and image ownership. A cluster that cannot be
// reached, or a kind that cannot be read, becomes a Problem in its Snapshot;
// the other clusters go on.
func Discover(ctx context.Context, opts Options) ([]*k8s.Discovery, []k8s.ClusterClient, error) {
	clients := opts.Clients
	if clients == nil {
		var err error
		clients, err = k8s.LoadContexts(opts.Kubeconfig, opts.Contexts, opts.AllContexts)
		if err != nil {
			return nil, nil, err
		}
	}
	opts.Progress.Printf("discovering workloads in %d cluster(s)", len(clients))
	dopts := k8s.DiscoverOptions{Namespaces: opts.Namespaces, LabelSelector: opts.LabelSelector, Registry: opts.Registry}
	discs, err := k8s.DiscoverAll(ctx, clients, dopts, 0)
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	_ = err // per-context failures are Problems in each Snapshot
	fanout.Each(0, len(discs), func(i int) { addContext(ctx, discs[i], clients[i], opts) })
	return discs, clients, ctx.Err()
}

// addContext loads one cluster's Services, policies and RBAC and judges each
// workload's exposure and sensitivity; images are classified by owner.
func addContext(ctx context.Context, d *k8s.Discovery, c k8s.ClusterClient, opts Options) {
	for i := range d.Workloads {
		w := &d.Workloads[i]
		for j := range w.Containers {
			ct := &w.Containers[j]
			ct.Owner, ct.OwnerReason = workload.ClassifyImage(ct.Image, w.Namespace, opts.Owner)
		}
	}
	if c.Err != nil || c.Client == nil || len(d.Workloads) == 0 {
		return
	}
	var dyn dynamic.Interface
	if c.Config != nil {
		if dc, err := dynamic.NewForConfig(c.Config); err == nil {
			dyn = dc
		}
	}
	cc, problems, err := k8s.LoadContext(ctx, c.Client, dyn, k8s.ContextOptions{Cluster: d.Cluster})
	d.Problems = append(d.Problems, problems...)
	if err != nil {
		d.Problems = append(d.Problems, k8s.Problem{Cluster: d.Cluster, Kind: "context", Reason: "exposure and privileges not evaluated: " + err.Error()})
		return
	}
	sopts := k8s.SensitivityOptions{CriticalNamespaces: opts.CriticalNamespaces}
	for i := range d.Workloads {
		w := &d.Workloads[i]
		pi := d.Pods[k8s.KeyOf(w)]
		if pi == nil || pi.Spec == nil {
			continue
		}
		var nsLabels map[string]string
		if ns, ok := d.Namespaces[pi.Namespace]; ok {
			nsLabels = ns.Labels
		}
		w.Exposure = cc.Exposure(pi.Namespace, pi.Labels, pi.Spec)
		w.Sensitivity = cc.Sensitivity(pi.Namespace, pi.Labels, pi.Spec, nsLabels, sopts)
	}
}

// Run discovers, scans each unique digest once, and joins the results.
// When ctx ends during the scans, the result is still returned, with the
// images not finished marked failed, along with the reason from
// scan.Interrupted.
func Run(ctx context.Context, s *scan.Scanner, opts Options) (*Result, error) {
	discs, clients, err := Discover(ctx, opts)
	if err != nil {
		return nil, err
	}
	targets := collectTargets(discs)
	keychains := newKeychains(clients)
	res := &Result{ScanRequests: len(targets)}
	workers := opts.Concurrency
	if workers <= 0 {
		workers = 4
	}
	var mu sync.Mutex
	done := 0
	byDigest := map[string]*report.ImageResult{}
	err = fanout.EachContext(ctx, workers, len(targets), func(i int) {
		t := targets[i]
		ropts := opts.Registry
		ropts.Keychain = keychains.forTarget(ctx, t)
		r, err := s.ScanDigest(ctx, t.ref, t.digest, func(ctx context.Context) (image.Image, error) {
			return image.OpenRegistry(ctx, t.ref, image.RegistryOptions{Options: ropts})
		})
		if err != nil || r == nil {
			return // cancelled
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
				r := &report.ImageResult{Target: image.Descriptor{Reference: t.ref, Digest: t.digest}, Status: report.StatusFailed,
					Error: why.Error(), Findings: []match.Finding{}, RunningIn: t.runningIn}
				byDigest[t.digest] = r
				res.Images = append(res.Images, r)
			}
		}
	}
	for _, d := range discs {
		d.Problems = append(d.Problems, keychains.problems(d.Cluster)...)
	}
	res.Workloads, res.Clusters = join(discs, byDigest)
	return res, why
}

// target is one unique digest and where it runs.
type target struct {
	digest, ref string
	runningIn   []string
	// pulls are (cluster, namespace, pull secrets) that may authenticate it.
	pulls []pullRef
}

type pullRef struct {
	cluster, namespace string
	secrets            []string
}

// collectTargets deduplicates running digests across clusters.
func collectTargets(discs []*k8s.Discovery) []*target {
	by := map[string]*target{}
	for _, d := range discs {
		for i := range d.Workloads {
			w := &d.Workloads[i]
			ref := report.WorkloadRef(w)
			for _, c := range w.Containers {
				if c.Digest == "" || c.Repository == "" {
					continue
				}
				t := by[c.Digest]
				if t == nil {
					t = &target{digest: c.Digest, ref: c.Repository + "@" + c.Digest}
					by[c.Digest] = t
				}
				if n := len(t.runningIn); n == 0 || t.runningIn[n-1] != ref {
					t.runningIn = append(t.runningIn, ref)
				}
				if len(c.PullSecrets) > 0 {
					t.pulls = append(t.pulls, pullRef{cluster: w.Cluster, namespace: w.Namespace, secrets: c.PullSecrets})
				}
			}
		}
	}
	out := make([]*target, 0, len(by))
	for _, t := range by {
		sort.Strings(t.runningIn)
		out = append(out, t)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].ref < out[b].ref })
	return out
}

// keychains builds pull-secret keychains once per (cluster, namespace,
// secrets) and remembers which clusters would not let us read them.
type keychains struct {
	mu       sync.Mutex
	clients  map[string]k8s.ClusterClient
	cache    map[string]authn.Keychain
	failures map[string]string // cluster -> reason
}

func newKeychains(clients []k8s.ClusterClient) *keychains {
	k := &keychains{clients: map[string]k8s.ClusterClient{}, cache: map[string]authn.Keychain{}, failures: map[string]string{}}
	for _, c := range clients {
		k.clients[c.Name] = c
	}
	return k
}

// forTarget returns a keychain of every pull secret that may serve t, or
// nil (default keychain only) when it has none.
func (k *keychains) forTarget(ctx context.Context, t *target) authn.Keychain {
	var kcs []authn.Keychain
	for _, p := range t.pulls {
		if kc := k.get(ctx, p); kc != nil {
			kcs = append(kcs, kc)
		}
	}
	if len(kcs) == 0 {
		return nil
	}
	return authn.NewMultiKeychain(kcs...)
}

func (k *keychains) get(ctx context.Context, p pullRef) authn.Keychain {
	key := p.cluster + "\x00" + p.namespace + "\x00" + strings.Join(p.secrets, ",")
	k.mu.Lock()
	defer k.mu.Unlock()
	if kc, ok := k.cache[key]; ok {
		return kc
	}
	c, ok := k.clients[p.cluster]
	if !ok || c.Client == nil {
		return nil
	}
	kc, err := k8s.PullKeychain(ctx, c.Client, p.namespace, p.secrets)
	if err != nil {
		k.failures[p.cluster] = fmt.Sprintf("pull secrets not readable (%v); private images may fail to scan", err)
	}
	k.cache[key] = kc
	return kc
}

func (k *keychains) problems(cluster string) []k8s.Problem {
	k.mu.Lock()
	defer k.mu.Unlock()
	if r, ok := k.failures[cluster]; ok {
		return []k8s.Problem{{Cluster: cluster, Kind: "secrets", Reason: r}}
	}
	return nil
}
