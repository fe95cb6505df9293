package k8s

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/fanout"
	"github.com/runlens/runlens/internal/registry"
)

// WorkloadKey identifies a workload within a Discovery (and across clusters,
// through Cluster). Its fields equal the Workload's.
type WorkloadKey struct {
	Cluster, Namespace, Kind, Name string
}

// KeyOf returns the key of w.
func KeyOf(w *Workload) WorkloadKey {
	return WorkloadKey{Cluster: w.Cluster, Namespace: w.Namespace, Kind: w.Kind, Name: w.Name}
}

// PodInfo is what the context stage (exposure, sensitivity, RBAC) needs from
// a workload's pods, kept compactly: one representative pod rather than
// every pod object, so memory stays bounded for 100k pods.
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

// Discovery is one cluster's Snapshot plus the per-workload pod records the
// context stage works from. Pods and Namespaces are not serialised.
type Discovery struct {
	Snapshot
	// Pods maps every workload of Snapshot.Workloads to its representative
	// pod.
	Pods map[WorkloadKey]*PodInfo `json:"-"`
	// Namespaces holds the labels and annotations of every namespace seen
	// (empty when namespaces could not be listed; see Snapshot.Problems).
	Namespaces map[string]NamespaceInfo `json:"-"`
}

// DiscoverOptions narrow and tune Discover.
type DiscoverOptions struct {
	// Namespaces limits discovery to these namespaces; empty means all.
	Namespaces []string
	// LabelSelector filters pods (Kubernetes selector syntax).
	LabelSelector string
	// PageSize is the list page size; 0 means 500.
	PageSize int64
	// Registry is used to resolve sha256-only image IDs (images imported
	// into the runtime without a repository digest) by the pod's image
	// reference. Pull-secret credentials are added per pod.
	Registry registry.Options
	// NoRegistry disables those registry lookups: such containers are
	// counted unresolved.
	NoRegistry bool
}

// Errors Discover returns alongside a partial Discovery.
var (
	// ErrClusterUnavailable: the context could not be used or reached.
	ErrClusterUnavailable = errors.New("cluster unavailable")
	// ErrPodsUnavailable: pods could not be listed (forbidden, failed).
	ErrPodsUnavailable = errors.New("pods not listable")
)

// Problem kinds Discover reports.
const (
	ProblemConnect = "connect"
	ProblemPods    = "pods"
	ProblemImageID = "imageID"
	ProblemSecrets = "secrets"
)

// preflightTimeout bounds the first request to a context, so an
// unreachable (blackholed) cluster is reported quickly.
const preflightTimeout = 15 * time.Second

// Discover lists what runs in one cluster: pods (paginated, in
// opts.Namespaces or all), grouped into their top-level workloads through
// ReplicaSets and Jobs, each container with the digest it really runs, plus
// namespace metadata and one representative pod per workload (Discovery.Pods)
// for the context stage.
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
func Discover(ctx context.Context, c ClusterClient, opts DiscoverOptions) (*Discovery, error) {
	d := &Discovery{
		Snapshot:   Snapshot{Cluster: c.Name, Workloads: []Workload{}},
		Pods:       map[WorkloadKey]*PodInfo{},
		Namespaces: map[string]NamespaceInfo{},
	}
	fail := func(kind string, err error, sentinel error) (*Discovery, error) {
		d.Problems = append(d.Problems, Problem{Cluster: c.Name, Kind: kind, Reason: err.Error()})
		return d, fmt.Errorf("context %s: %w: %w", c.Name, sentinel, err)
	}
	if c.Err != nil {
		return fail(ProblemConnect, c.Err, ErrClusterUnavailable)
	}
	if c.Client == nil {
		return fail(ProblemConnect, errors.New("no client"), ErrClusterUnavailable)
	}
	pageSize := opts.PageSize
	if pageSize <= 0 {
		pageSize = 500
	}
	// One cheap pods request first: it tells "unreachable" from "forbidden"
	// before the owner lists would each fail the same way.
	pctx, cancel := context.WithTimeout(ctx, preflightTimeout)
	_, err := c.Client.CoreV1().Pods(scopes(opts.Namespaces)[0]).List(pctx, metav1.ListOptions{Limit: 1, LabelSelector: opts.LabelSelector})
	cancel()
	if err != nil {
		// An answer from the API server (forbidden, 5xx after retries) is
		// about pods; anything else means the server was not reached.
		if _, ok := err.(apierrors.APIStatus); ok || errors.As(err, new(apierrors.APIStatus)) {
			return fail(ProblemPods, errors.New(problemReason("pods", err)), ErrPodsUnavailable)
		}
		if ctx.Err() != nil {
			return fail(ProblemConnect, ctx.Err(), ctx.Err())
		}
		return fail(ProblemConnect, fmt.Errorf("cluster unreachable: %w", err), ErrClusterUnavailable)
	}

	var (
		owners *ownerIndex
		oerrs  map[string]error
		nsErr  error
		saPull map[string][]string
		saErr  error
	)
	fanout.Do(
		func() { owners, oerrs = listOwners(ctx, c.Client, opts.Namespaces, pageSize) },
		func() { d.Namespaces, nsErr = listNamespaces(ctx, c.Client, opts.Namespaces, pageSize) },
		func() { saPull, saErr = listServiceAccountPullSecrets(ctx, c.Client, opts.Namespaces, pageSize) },
	)
	for _, kind := range []string{"replicasets", "jobs"} {
		if err := oerrs[kind]; err != nil {
			d.Problems = append(d.Problems, Problem{Cluster: c.Name, Kind: kind, Reason: problemReason(kind, err) + " (workloads stop at the pod's owner)"})
		}
	}
	if nsErr != nil {
		d.Problems = append(d.Problems, Problem{Cluster: c.Name, Kind: "namespaces", Reason: problemReason("namespaces", nsErr) + " (no namespace labels)"})
	}
	if saErr != nil {
		d.Problems = append(d.Problems, Problem{Cluster: c.Name, Kind: "serviceaccounts", Reason: problemReason("serviceaccounts", saErr) + " (their imagePullSecrets are unknown)"})
	}

	b := newBuilder(ctx, c, opts, owners, saPull)
	for _, ns := range scopes(opts.Namespaces) {
		err := pagedList(ctx, pageSize, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Pod, string, error) {
			o.LabelSelector = opts.LabelSelector
			l, err := c.Client.CoreV1().Pods(ns).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}, func(items []corev1.Pod) {
			for i := range items {
				b.addPod(&items[i])
			}
		})
		if err != nil {
			b.finish(d)
			return fail(ProblemPods, errors.New(problemReason("pods", err)), ErrPodsUnavailable)
		}
	}
	b.finish(d)
	return d, nil
}

// DiscoverAll runs Discover for every client, at most parallel at a time
// (0 means all at once). Results are in the clients' order and never nil;
// the error joins the per-context errors.
func DiscoverAll(ctx context.Context, clients []ClusterClient, opts DiscoverOptions, parallel int) ([]*Discovery, error) {
	if parallel <= 0 || parallel > len(clients) {
		parallel = len(clients)
	}
	out := make([]*Discovery, len(clients))
	errs := make([]error, len(clients))
	fanout.Each(parallel, len(clients), func(i int) {
		out[i], errs[i] = Discover(ctx, clients[i], opts)
	})
	return out, errors.Join(errs...)
}
