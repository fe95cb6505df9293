package discover

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/k8s"
)

// The owner kinds discovery lists, as resource names (also Problem.Kind).
const (
	kindReplicaSets = "replicasets"
	kindJobs        = "jobs"
)

// ownerRef is a workload's owner by kind and name (same namespace).
type ownerRef struct{ kind, name string }

// ownerIndex maps "namespace/name" of ReplicaSets and Jobs to their own
// controller (Deployment, CronJob, or any other kind), so pods can be walked
// to the top-level workload without keeping the objects.
type ownerIndex struct {
	replicaSets map[string]ownerRef
	jobs        map[string]ownerRef
}

// controllerOf returns the controller owner reference (or the first one
// when none is marked controller); ok is false without owners.
func controllerOf(refs []metav1.OwnerReference) (ownerRef, bool) {
	for _, r := range refs {
		if r.Controller != nil && *r.Controller && r.Kind != "" && r.Name != "" {
			return ownerRef{r.Kind, r.Name}, true
		}
	}
	for _, r := range refs {
		if r.Kind != "" && r.Name != "" {
			return ownerRef{r.Kind, r.Name}, true
		}
	}
	return ownerRef{}, false
}

// top walks a pod's owners to its top-level workload: Pod → ReplicaSet →
// Deployment, Pod → Job → CronJob, other kinds as they are; a bare pod is
// its own workload. When the ReplicaSet or Job is unknown (not listed,
// forbidden, or created after the list) the walk stops there.
func (ix *ownerIndex) top(namespace, podName string, refs []metav1.OwnerReference) ownerRef {
	o, ok := controllerOf(refs)
	if !ok {
		return ownerRef{"Pod", podName}
	}
	var next map[string]ownerRef
	switch o.kind {
	case "ReplicaSet":
		next = ix.replicaSets
	case "Job":
		next = ix.jobs
	}
	if up, ok := next[namespace+"/"+o.name]; ok {
		return up
	}
	return o
}

// listOwners fills the index from ReplicaSets and Jobs. Only those with an
// owner are kept. A failure (forbidden, say) is returned for the kind; the
// other kind and discovery go on.
func listOwners(ctx context.Context, api k8s.API, namespaces []string, pageSize int64) (*ownerIndex, map[string]error) {
	ix := &ownerIndex{replicaSets: map[string]ownerRef{}, jobs: map[string]ownerRef{}}
	errs := map[string]error{}
	add := func(m map[string]ownerRef, meta *metav1.ObjectMeta) {
		if o, ok := controllerOf(meta.OwnerReferences); ok {
			m[meta.Namespace+"/"+meta.Name] = o
		}
	}
	// Pages are folded into maps keyed by name, so a restarted list may
	// simply see an object again.
	for _, ns := range k8s.Scopes(namespaces) {
		err := k8s.ListPages(ctx, pageSize, k8s.In(api.ListReplicaSets, ns), func(items []appsv1.ReplicaSet, _ bool) {
			for i := range items {
				add(ix.replicaSets, &items[i].ObjectMeta)
			}
		})
		if err != nil {
			errs[kindReplicaSets] = err
			break
		}
	}
	for _, ns := range k8s.Scopes(namespaces) {
		err := k8s.ListPages(ctx, pageSize, k8s.In(api.ListJobs, ns), func(items []batchv1.Job, _ bool) {
			for i := range items {
				add(ix.jobs, &items[i].ObjectMeta)
			}
		})
		if err != nil {
			errs[kindJobs] = err
			break
		}
	}
	return ix, errs
}
