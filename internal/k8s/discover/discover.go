// Package discover finds what really runs in Kubernetes clusters: every
// pod (init and ephemeral containers included) grouped into its top-level
// workload through ReplicaSets and Jobs, and the digest each container
// runs, from status.containerStatuses[].imageID rather than the tag, with
// sha256-only image IDs resolved against the registry through the pods'
// pull secrets. It reads the API only (agentless); nothing is installed.
package discover

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/fanout"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/workload"
)

// WorkloadKey identifies a workload within a Discovery (and across clusters,
// through Cluster). Its fields equal the Workload's.
type WorkloadKey struct {
	Cluster, Namespace, Kind, Name string
}

// KeyOf returns the key of w.
func KeyOf(w *workload.Workload) WorkloadKey {
	return WorkloadKey{Cluster: w.Cluster, Namespace: w.Namespace, Kind: w.Kind, Name: w.Name}
}

// PodInfo is what the posture stage (exposure, sensitivity, RBAC) needs
// from a workload's pods, kept compactly: one representative pod rather
// than every pod object, so memory stays bounded for 100k pods.
type PodInfo struct {
	// Namespace of the pods.
	Namespace string
	// Labels are the full labels of the representative pod (including
	// generated ones such as pod-template-hash), for matching Service and
	// NetworkPolicy selectors. Workload.Labels is the template-level subset.
	Labels map[string]string
	// Spec is the representative pod's spec (the first pod seen). Pods of
	// one workload share their template except mid-rollout.
	Spec *corev1.PodSpec
}

// NamespaceInfo is one namespace's metadata, for criticality selectors.
type NamespaceInfo struct {
	Labels      map[string]string
	Annotations map[string]string
}

// Discovery is one cluster's Snapshot plus what the posture stage works
// from. Only the Snapshot is serialised.
type Discovery struct {
	workload.Snapshot
	// Pods maps every workload of Snapshot.Workloads to its representative
	// pod.
	Pods map[WorkloadKey]*PodInfo `json:"-"`
	// Namespaces holds the labels and annotations of every namespace seen
	// (empty when namespaces could not be listed; see Snapshot.Problems).
	Namespaces map[string]NamespaceInfo `json:"-"`
	// Shared are the Namespaces and ServiceAccounts as listed, for the
	// posture stage to use instead of listing them again (nil when the
	// cluster could not be read at all).
	Shared *k8s.Shared `json:"-"`
}

// Options narrow and tune Cluster.
type Options struct {
	// Namespaces limits discovery to these namespaces; empty means all.
	Namespaces []string
	// LabelSelector filters pods (Kubernetes selector syntax).
	LabelSelector string
	// PageSize is the list page size; 0 means k8s.DefaultPageSize.
	PageSize int64
	// Registry is used to resolve sha256-only image IDs (images imported
	// into the runtime without a repository digest) by the pod's image
	// reference. Pull-secret credentials are added per pod.
	Registry registry.Options
	// NoRegistry disables those registry lookups: such containers are
	// counted unresolved.
	NoRegistry bool
	// Keychains, when set, is the pull-secret keychain cache of the whole
	// run, shared with whoever pulls the images later; its Problem about
	// unreadable pull secrets is then the caller's to add once the pulls
	// are done. When nil, Cluster uses a cache of its own and adds that
	// Problem itself.
	Keychains *Keychains
}

// Errors Cluster returns alongside a partial Discovery.
var (
	// ErrClusterUnavailable: the context could not be used or reached.
	ErrClusterUnavailable = errors.New("cluster unavailable")
	// ErrPodsUnavailable: pods could not be listed (forbidden, failed).
	ErrPodsUnavailable = errors.New("pods not listable")
)

// Problem kinds Cluster reports, besides the kinds it could not list.
const (
	ProblemConnect = "connect"
	ProblemPods    = "pods"
	ProblemImageID = "imageID"
	ProblemSecrets = "secrets"
)

// preflightTimeout bounds the first request to a context, so an
// unreachable (blackholed) cluster is reported quickly.
const preflightTimeout = 15 * time.Second

// Cluster lists what runs in one cluster: pods (paginated, in
// opts.Namespaces or all), grouped into their top-level workloads through
// ReplicaSets and Jobs, each container with the digest it really runs,
// plus the Namespaces and ServiceAccounts (listed once, kept in
// Discovery.Shared) and one representative pod per workload
// (Discovery.Pods) for the posture stage.
//
// It always returns a Discovery whose Problems say what could not be seen.
// Listing ReplicaSets, Jobs, Namespaces, ServiceAccounts or reading pull
// secrets is optional: when forbidden, a Problem is recorded and discovery
// goes on (owners then stop at the pod's own owner reference). The error is
// non-nil only when the cluster's pods could not be listed at all (an
// unreachable or unusable context, pods forbidden, ctx cancelled): the
// Discovery is then empty or partial and must not be read as "nothing runs".
//
// Memory stays bounded: each page of pods is reduced to per-workload counts,
// container digests and one pod spec per workload before the next is read.
func Cluster(ctx context.Context, c k8s.ClusterClient, opts Options) (*Discovery, error) {
	d := &Discovery{
		Snapshot:   workload.Snapshot{Cluster: c.Name, Workloads: []workload.Workload{}},
		Pods:       map[WorkloadKey]*PodInfo{},
		Namespaces: map[string]NamespaceInfo{},
	}
	fail := func(kind string, err error, sentinel error) (*Discovery, error) {
		d.Problems = append(d.Problems, workload.Problem{Cluster: c.Name, Kind: kind, Reason: err.Error()})
		return d, fmt.Errorf("context %s: %w: %w", c.Name, sentinel, err)
	}
	podsFailed := func(err error) (*Discovery, error) {
		p := k8s.ListProblem(c.Name, ProblemPods, err, "what runs in this cluster is unknown or incomplete")
		return fail(ProblemPods, errors.New(p.Reason), ErrPodsUnavailable)
	}
	if c.Err != nil {
		return fail(ProblemConnect, c.Err, ErrClusterUnavailable)
	}
	if c.API == nil {
		return fail(ProblemConnect, errors.New("no client"), ErrClusterUnavailable)
	}
	scopes := k8s.Scopes(opts.Namespaces)
	// One cheap pods request first: it tells "unreachable" from "forbidden"
	// before the other lists would each fail the same way. Its answer is
	// the first page of the pod list below.
	pctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	probe, probeNext, err := c.API.ListPods(pctx, scopes[0], metav1.ListOptions{Limit: 1, LabelSelector: opts.LabelSelector})
	cancel()
	if err != nil {
		// An answer from the API server (forbidden, 5xx after retries) is
		// about pods; anything else means the server was not reached.
		if errors.As(err, new(apierrors.APIStatus)) {
			return podsFailed(err)
		}
		if ctx.Err() != nil {
			return fail(ProblemConnect, ctx.Err(), ctx.Err())
		}
		return fail(ProblemConnect, fmt.Errorf("cluster unreachable: %w", err), ErrClusterUnavailable)
	}

	var (
		owners *ownerIndex
		oerrs  map[string]error
	)
	fanout.Do(
		func() { owners, oerrs = listOwners(ctx, c.API, opts.Namespaces, opts.PageSize) },
		func() { d.Shared = k8s.ListShared(ctx, c.API, opts.Namespaces, opts.PageSize) },
	)
	for _, kind := range []string{kindReplicaSets, kindJobs} {
		if err := oerrs[kind]; err != nil {
			d.Problems = append(d.Problems, k8s.ListProblem(c.Name, kind, err, "workloads stop at the pod's owner"))
		}
	}
	d.Problems = append(d.Problems, d.Shared.Problems(c.Name)...)
	for i := range d.Shared.Namespaces {
		n := &d.Shared.Namespaces[i]
		d.Namespaces[n.Name] = NamespaceInfo{Labels: n.Labels, Annotations: n.Annotations}
	}

	keychains, own := opts.Keychains, false
	if keychains == nil {
		keychains, own = NewKeychains(c), true
	}
	b := newBuilder(ctx, c, opts, owners, pullSecretsOf(d.Shared.ServiceAccounts), keychains)
	for i, ns := range scopes {
		first := i == 0
		pods := func(ctx context.Context, o metav1.ListOptions) ([]corev1.Pod, string, error) {
			if first && o.Continue == "" {
				first = false
				return probe, probeNext, nil
			}
			o.LabelSelector = opts.LabelSelector
			return c.API.ListPods(ctx, ns, o)
		}
		err := k8s.ListPages(ctx, opts.PageSize, pods, func(items []corev1.Pod, _ bool) {
			for i := range items {
				b.addPod(&items[i])
			}
		})
		if err != nil {
			b.finish(d)
			return podsFailed(err)
		}
	}
	b.finish(d)
	if own {
		d.Problems = append(d.Problems, keychains.Problems(c.Name)...)
	}
	return d, nil
}

// pullSecretsOf returns, for "namespace/name" of every service account
// that has imagePullSecrets, their names.
func pullSecretsOf(sas []corev1.ServiceAccount) map[string][]string {
	out := map[string][]string{}
	for i := range sas {
		sa := &sas[i]
		var names []string
		for _, r := range sa.ImagePullSecrets {
			if r.Name != "" {
				names = append(names, r.Name)
			}
		}
		if len(names) > 0 {
			out[sa.Namespace+"/"+sa.Name] = names
		}
	}
	return out
}

// All runs Cluster for every client, at most parallel at a time (0 means
// all at once). Results are in the clients' order and never nil; the error
// joins the per-context errors.
func All(ctx context.Context, clients []k8s.ClusterClient, opts Options, parallel int) ([]*Discovery, error) {
	out := make([]*Discovery, len(clients))
	errs := make([]error, len(clients))
	fanout.Each(parallel, len(clients), func(i int) {
		out[i], errs[i] = Cluster(ctx, clients[i], opts)
	})
	return out, errors.Join(errs...)
}
