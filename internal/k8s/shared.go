package k8s

import (
	"context"

	corev1 "k8s.io/api/core/v1"

	"github.com/runlens/runlens/internal/fanout"
	"github.com/runlens/runlens/internal/workload"
)

// Kinds listed for both discovery and posture, as resource names (also
// Problem.Kind).
const (
	KindNamespaces      = "namespaces"
	KindServiceAccounts = "serviceaccounts"
)

// Shared holds the kinds that discovery and posture both read, listed
// once per cluster and handed to both: Namespaces (labels and annotations)
// and ServiceAccounts (image pull secrets, token automount, cloud
// identity). A kind that could not be listed has its error set and no
// items.
type Shared struct {
	Namespaces         []corev1.Namespace
	NamespacesErr      error
	ServiceAccounts    []corev1.ServiceAccount
	ServiceAccountsErr error
}

// ListShared lists the Namespaces and ServiceAccounts of namespaces (all
// when empty), both at once, pageSize per page.
func ListShared(ctx context.Context, api API, namespaces []string, pageSize int64) *Shared {
	s := &Shared{}
	fanout.Do(
		func() { s.Namespaces, s.NamespacesErr = listNamespaces(ctx, api, namespaces, pageSize) },
		func() {
			s.ServiceAccounts, s.ServiceAccountsErr = listServiceAccounts(ctx, api, namespaces, pageSize)
		},
	)
	return s
}

// Problems says, once per kind that could not be listed, what that leaves
// unknown.
func (s *Shared) Problems(cluster string) []workload.Problem {
	var out []workload.Problem
	if s.NamespacesErr != nil {
		out = append(out, ListProblem(cluster, KindNamespaces, s.NamespacesErr, "namespace labels and criticality unknown"))
	}
	if s.ServiceAccountsErr != nil {
		out = append(out, ListProblem(cluster, KindServiceAccounts, s.ServiceAccountsErr,
			"imagePullSecrets, token automount and cloud identity unknown"))
	}
	return out
}

// listNamespaces lists every namespace, keeping the chosen ones.
func listNamespaces(ctx context.Context, api API, chosen []string, pageSize int64) ([]corev1.Namespace, error) {
	want := map[string]bool{}
	for _, n := range chosen {
		want[n] = true
	}
	var out []corev1.Namespace
	err := ListPages(ctx, pageSize, api.ListNamespaces, func(items []corev1.Namespace, fromStart bool) {
		if fromStart {
			out = out[:0]
		}
		for i := range items {
			if len(want) == 0 || want[items[i].Name] {
				items[i].ManagedFields = nil
				out = append(out, items[i])
			}
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listServiceAccounts lists the service accounts of each namespace (or of
// all).
func listServiceAccounts(ctx context.Context, api API, namespaces []string, pageSize int64) ([]corev1.ServiceAccount, error) {
	var out []corev1.ServiceAccount
	for _, ns := range Scopes(namespaces) {
		items, err := ListAll(ctx, pageSize, In(api.ListServiceAccounts, ns))
		if err != nil {
			return nil, err
		}
		for i := range items {
			items[i].ManagedFields = nil
		}
		out = append(out, items...)
	}
	return out, nil
}
