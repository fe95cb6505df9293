package k8s

import (
	corev1 "k8s.io/api/core/v1"

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
