package k8s

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// maxListRestarts bounds how often a list whose continue token expired
// (410 Gone, a list slower than etcd's compaction window) starts over.
const maxListRestarts = 3

// pagedList runs a paginated list: list returns one page's items and its
// continue token, each consumes the items (and must tolerate seeing an item
// twice: an expired token restarts the list from the start).
func pagedList[T any](ctx context.Context, pageSize int64, list func(context.Context, metav1.ListOptions) ([]T, string, error), each func([]T)) error {
	opts := metav1.ListOptions{Limit: pageSize}
	restarts := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		items, cont, err := list(ctx, opts)
		if apierrors.IsResourceExpired(err) && restarts < maxListRestarts {
			restarts++
			opts.Continue = ""
			continue
		}
		if err != nil {
			return err
		}
		each(items)
		if cont == "" {
			return nil
		}
		opts.Continue = cont
	}
}

// scopes returns the namespaces to list in: "" (all) or the chosen ones.
func scopes(namespaces []string) []string {
	if len(namespaces) == 0 {
		return []string{metav1.NamespaceAll}
	}
	return namespaces
}

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
func listOwners(ctx context.Context, cs kubernetes.Interface, namespaces []string, pageSize int64) (*ownerIndex, map[string]error) {
	ix := &ownerIndex{replicaSets: map[string]ownerRef{}, jobs: map[string]ownerRef{}}
	errs := map[string]error{}
	add := func(m map[string]ownerRef, meta *metav1.ObjectMeta) {
		if o, ok := controllerOf(meta.OwnerReferences); ok {
			m[meta.Namespace+"/"+meta.Name] = o
		}
	}
	for _, ns := range scopes(namespaces) {
		err := pagedList(ctx, pageSize, func(ctx context.Context, o metav1.ListOptions) ([]appsv1.ReplicaSet, string, error) {
			l, err := cs.AppsV1().ReplicaSets(ns).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}, func(items []appsv1.ReplicaSet) {
			for i := range items {
				add(ix.replicaSets, &items[i].ObjectMeta)
			}
		})
		if err != nil {
			errs["replicasets"] = err
			break
		}
	}
	for _, ns := range scopes(namespaces) {
		err := pagedList(ctx, pageSize, func(ctx context.Context, o metav1.ListOptions) ([]batchv1.Job, string, error) {
			l, err := cs.BatchV1().Jobs(ns).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}, func(items []batchv1.Job) {
			for i := range items {
				add(ix.jobs, &items[i].ObjectMeta)
			}
		})
		if err != nil {
			errs["jobs"] = err
			break
		}
	}
	return ix, errs
}

// listNamespaces returns the labels and annotations of every namespace (or
// of the chosen ones).
func listNamespaces(ctx context.Context, cs kubernetes.Interface, chosen []string, pageSize int64) (map[string]NamespaceInfo, error) {
	want := map[string]bool{}
	for _, n := range chosen {
		want[n] = true
	}
	out := map[string]NamespaceInfo{}
	err := pagedList(ctx, pageSize, func(ctx context.Context, o metav1.ListOptions) ([]corev1.Namespace, string, error) {
		l, err := cs.CoreV1().Namespaces().List(ctx, o)
		if err != nil {
			return nil, "", err
		}
		return l.Items, l.Continue, nil
	}, func(items []corev1.Namespace) {
		for i := range items {
			n := &items[i]
			if len(want) > 0 && !want[n.Name] {
				continue
			}
			out[n.Name] = NamespaceInfo{Labels: n.Labels, Annotations: n.Annotations}
		}
	})
	return out, err
}

// listServiceAccountPullSecrets returns, for "namespace/name" of every
// service account that has imagePullSecrets, their names.
func listServiceAccountPullSecrets(ctx context.Context, cs kubernetes.Interface, namespaces []string, pageSize int64) (map[string][]string, error) {
	out := map[string][]string{}
	for _, ns := range scopes(namespaces) {
		err := pagedList(ctx, pageSize, func(ctx context.Context, o metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
			l, err := cs.CoreV1().ServiceAccounts(ns).List(ctx, o)
			if err != nil {
				return nil, "", err
			}
			return l.Items, l.Continue, nil
		}, func(items []corev1.ServiceAccount) {
			for i := range items {
				sa := &items[i]
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
		})
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// problemReason words an API error for a Problem without echoing bodies.
func problemReason(kind string, err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Sprintf("listing %s is forbidden for this identity; results are partial", kind)
	case apierrors.IsNotFound(err):
		return fmt.Sprintf("%s are not served by this cluster", kind)
	default:
		return fmt.Sprintf("listing %s failed: %v", kind, err)
	}
}
