// Package k8stest helps tests of the cluster packages: it adapts
// client-go's clientsets (the fake one with its reactors, or a real typed
// one) to k8s.API, and counts the requests a rest.Config's clients make.
// Only test binaries link it, so the typed clientset stays out of runlens.
package k8stest

import (
	"context"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/internal/k8s"
)

// Clientset adapts cs to k8s.API; custom kinds are listed through dyn, and
// are not served when dyn is nil.
func Clientset(cs kubernetes.Interface, dyn dynamic.Interface) k8s.API {
	return &clientset{cs: cs, dyn: dyn}
}

type clientset struct {
	cs  kubernetes.Interface
	dyn dynamic.Interface
}

func (c *clientset) ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.Pod, string, error) {
	l, err := c.cs.CoreV1().Pods(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) ([]appsv1.ReplicaSet, string, error) {
	l, err := c.cs.AppsV1().ReplicaSets(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListJobs(ctx context.Context, namespace string, opts metav1.ListOptions) ([]batchv1.Job, string, error) {
	l, err := c.cs.BatchV1().Jobs(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListNamespaces(ctx context.Context, opts metav1.ListOptions) ([]corev1.Namespace, string, error) {
	l, err := c.cs.CoreV1().Namespaces().List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
	l, err := c.cs.CoreV1().ServiceAccounts(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListServices(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.Service, string, error) {
	l, err := c.cs.CoreV1().Services(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListIngresses(ctx context.Context, namespace string, opts metav1.ListOptions) ([]networkingv1.Ingress, string, error) {
	l, err := c.cs.NetworkingV1().Ingresses(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListNetworkPolicies(ctx context.Context, namespace string, opts metav1.ListOptions) ([]networkingv1.NetworkPolicy, string, error) {
	l, err := c.cs.NetworkingV1().NetworkPolicies(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListRoles(ctx context.Context, namespace string, opts metav1.ListOptions) ([]rbacv1.Role, string, error) {
	l, err := c.cs.RbacV1().Roles(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListRoleBindings(ctx context.Context, namespace string, opts metav1.ListOptions) ([]rbacv1.RoleBinding, string, error) {
	l, err := c.cs.RbacV1().RoleBindings(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListClusterRoles(ctx context.Context, opts metav1.ListOptions) ([]rbacv1.ClusterRole, string, error) {
	l, err := c.cs.RbacV1().ClusterRoles().List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListClusterRoleBindings(ctx context.Context, opts metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error) {
	l, err := c.cs.RbacV1().ClusterRoleBindings().List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.Continue, nil
}

func (c *clientset) ListCustom(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) ([]unstructured.Unstructured, string, error) {
	if c.dyn == nil {
		return nil, "", apierrors.NewNotFound(gvr.GroupResource(), "")
	}
	l, err := c.dyn.Resource(gvr).Namespace(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.GetContinue(), nil
}

func (c *clientset) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	return c.cs.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

func (c *clientset) ServerGroups(context.Context) (*metav1.APIGroupList, error) {
	return c.cs.Discovery().ServerGroups()
}

func (c *clientset) ServerResources(_ context.Context, groupVersion string) (*metav1.APIResourceList, error) {
	return c.cs.Discovery().ServerResourcesForGroupVersion(groupVersion)
}
