package k8s

import (
	"context"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/flowcontrol"
)

// API is the part of the Kubernetes API runlens reads: one page of each
// kind it lists, the image pull secrets it may get, the API groups served,
// and custom kinds (the Gateway API) through the dynamic client. Every
// list method returns a page's items and its continue token ("" after the
// last page), so it plugs into ListPages. Client implements it over REST;
// tests may implement it over client-go's fake clientset.
type API interface {
	ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.Pod, string, error)
	ListReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) ([]appsv1.ReplicaSet, string, error)
	ListJobs(ctx context.Context, namespace string, opts metav1.ListOptions) ([]batchv1.Job, string, error)
	ListNamespaces(ctx context.Context, opts metav1.ListOptions) ([]corev1.Namespace, string, error)
	ListServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.ServiceAccount, string, error)
	ListServices(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.Service, string, error)
	ListIngresses(ctx context.Context, namespace string, opts metav1.ListOptions) ([]networkingv1.Ingress, string, error)
	ListNetworkPolicies(ctx context.Context, namespace string, opts metav1.ListOptions) ([]networkingv1.NetworkPolicy, string, error)
	ListRoles(ctx context.Context, namespace string, opts metav1.ListOptions) ([]rbacv1.Role, string, error)
	ListRoleBindings(ctx context.Context, namespace string, opts metav1.ListOptions) ([]rbacv1.RoleBinding, string, error)
	ListClusterRoles(ctx context.Context, opts metav1.ListOptions) ([]rbacv1.ClusterRole, string, error)
	ListClusterRoleBindings(ctx context.Context, opts metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error)
	// ListCustom lists a kind outside the built-in groups, as unstructured
	// objects.
	ListCustom(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) ([]unstructured.Unstructured, string, error)
	// GetSecret reads one secret; runlens reads image pull secrets only.
	GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error)
	// ServerGroups lists the API groups the server serves.
	ServerGroups(ctx context.Context) (*metav1.APIGroupList, error)
	// ServerResources lists the resources of one group version
	// ("gateway.networking.k8s.io/v1").
	ServerResources(ctx context.Context, groupVersion string) (*metav1.APIResourceList, error)
}

// scheme knows only the kinds runlens reads (and the meta types every
// answer may carry), so a process does not register the whole API at
// start as client-go's generated clientset does.
var (
	scheme         = newScheme()
	codecs         = serializer.NewCodecFactory(scheme)
	parameterCodec = runtime.NewParameterCodec(scheme)
)

func newScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	metav1.AddToGroupVersion(s, schema.GroupVersion{Version: "v1"})
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme, networkingv1.AddToScheme, rbacv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			panic(fmt.Sprintf("k8s: registering API types: %v", err)) // a programming error, caught by every test
		}
	}
	return s
}

// discoveryTimeout bounds an API discovery request, as client-go's
// discovery client does.
const discoveryTimeout = 32 * time.Second

// Client reads a cluster through REST clients for the groups runlens
// lists (core, apps, batch, networking.k8s.io, rbac.authorization.k8s.io),
// an unversioned one for API discovery and the dynamic client for custom
// kinds. All of them share one HTTP client and one rate limiter.
type Client struct {
	core, apps, batch, networking, rbac *rest.RESTClient
	discovery                           *rest.RESTClient
	dynamic                             dynamic.Interface
}

// NewClient builds a Client from cfg, which it does not modify.
func NewClient(cfg *rest.Config) (*Client, error) {
	base := rest.CopyConfig(cfg)
	if base.UserAgent == "" {
		base.UserAgent = rest.DefaultKubernetesUserAgent()
	}
	if base.RateLimiter == nil && base.QPS > 0 {
		if base.Burst <= 0 {
			return nil, fmt.Errorf("client config: burst must be positive when QPS is set")
		}
		base.RateLimiter = flowcontrol.NewTokenBucketRateLimiter(base.QPS, base.Burst)
	}
	httpClient, err := rest.HTTPClientFor(base)
	if err != nil {
		return nil, fmt.Errorf("client config: %w", err)
	}
	c := &Client{}
	for _, g := range []struct {
		into    **rest.RESTClient
		gv      schema.GroupVersion
		apiPath string
	}{
		{&c.core, corev1.SchemeGroupVersion, "/api"},
		{&c.apps, appsv1.SchemeGroupVersion, "/apis"},
		{&c.batch, batchv1.SchemeGroupVersion, "/apis"},
		{&c.networking, networkingv1.SchemeGroupVersion, "/apis"},
		{&c.rbac, rbacv1.SchemeGroupVersion, "/apis"},
	} {
		gc := rest.CopyConfig(base)
		gv := g.gv
		gc.GroupVersion, gc.APIPath = &gv, g.apiPath
		gc.NegotiatedSerializer = rest.CodecFactoryForGeneratedClient(scheme, codecs).WithoutConversion()
		if *g.into, err = rest.RESTClientForConfigAndClient(gc, httpClient); err != nil {
			return nil, fmt.Errorf("client for %s: %w", gv, err)
		}
	}
	dc := rest.CopyConfig(base)
	dc.APIPath, dc.GroupVersion = "", nil
	dc.AcceptContentTypes, dc.ContentType = "application/json", "application/json"
	dc.NegotiatedSerializer = codecs.WithoutConversion()
	if c.discovery, err = rest.UnversionedRESTClientForConfigAndClient(dc, httpClient); err != nil {
		return nil, fmt.Errorf("discovery client: %w", err)
	}
	if c.dynamic, err = dynamic.NewForConfigAndClient(base, httpClient); err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	return c, nil
}

// list reads one page of resource in namespace ("" for all namespaces or
// a cluster-scoped kind) into into.
func list(ctx context.Context, rc *rest.RESTClient, resource, namespace string, opts metav1.ListOptions, into runtime.Object) error {
	return rc.Get().Namespace(namespace).Resource(resource).VersionedParams(&opts, parameterCodec).Do(ctx).Into(into)
}

// ListPods implements API.
func (c *Client) ListPods(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.Pod, string, error) {
	var l corev1.PodList
	err := list(ctx, c.core, "pods", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListReplicaSets implements API.
func (c *Client) ListReplicaSets(ctx context.Context, namespace string, opts metav1.ListOptions) ([]appsv1.ReplicaSet, string, error) {
	var l appsv1.ReplicaSetList
	err := list(ctx, c.apps, "replicasets", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListJobs implements API.
func (c *Client) ListJobs(ctx context.Context, namespace string, opts metav1.ListOptions) ([]batchv1.Job, string, error) {
	var l batchv1.JobList
	err := list(ctx, c.batch, "jobs", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListNamespaces implements API.
func (c *Client) ListNamespaces(ctx context.Context, opts metav1.ListOptions) ([]corev1.Namespace, string, error) {
	var l corev1.NamespaceList
	err := list(ctx, c.core, "namespaces", "", opts, &l)
	return l.Items, l.Continue, err
}

// ListServiceAccounts implements API.
func (c *Client) ListServiceAccounts(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.ServiceAccount, string, error) {
	var l corev1.ServiceAccountList
	err := list(ctx, c.core, "serviceaccounts", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListServices implements API.
func (c *Client) ListServices(ctx context.Context, namespace string, opts metav1.ListOptions) ([]corev1.Service, string, error) {
	var l corev1.ServiceList
	err := list(ctx, c.core, "services", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListIngresses implements API.
func (c *Client) ListIngresses(ctx context.Context, namespace string, opts metav1.ListOptions) ([]networkingv1.Ingress, string, error) {
	var l networkingv1.IngressList
	err := list(ctx, c.networking, "ingresses", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListNetworkPolicies implements API.
func (c *Client) ListNetworkPolicies(ctx context.Context, namespace string, opts metav1.ListOptions) ([]networkingv1.NetworkPolicy, string, error) {
	var l networkingv1.NetworkPolicyList
	err := list(ctx, c.networking, "networkpolicies", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListRoles implements API.
func (c *Client) ListRoles(ctx context.Context, namespace string, opts metav1.ListOptions) ([]rbacv1.Role, string, error) {
	var l rbacv1.RoleList
	err := list(ctx, c.rbac, "roles", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListRoleBindings implements API.
func (c *Client) ListRoleBindings(ctx context.Context, namespace string, opts metav1.ListOptions) ([]rbacv1.RoleBinding, string, error) {
	var l rbacv1.RoleBindingList
	err := list(ctx, c.rbac, "rolebindings", namespace, opts, &l)
	return l.Items, l.Continue, err
}

// ListClusterRoles implements API.
func (c *Client) ListClusterRoles(ctx context.Context, opts metav1.ListOptions) ([]rbacv1.ClusterRole, string, error) {
	var l rbacv1.ClusterRoleList
	err := list(ctx, c.rbac, "clusterroles", "", opts, &l)
	return l.Items, l.Continue, err
}

// ListClusterRoleBindings implements API.
func (c *Client) ListClusterRoleBindings(ctx context.Context, opts metav1.ListOptions) ([]rbacv1.ClusterRoleBinding, string, error) {
	var l rbacv1.ClusterRoleBindingList
	err := list(ctx, c.rbac, "clusterrolebindings", "", opts, &l)
	return l.Items, l.Continue, err
}

// ListCustom implements API.
func (c *Client) ListCustom(ctx context.Context, gvr schema.GroupVersionResource, namespace string, opts metav1.ListOptions) ([]unstructured.Unstructured, string, error) {
	l, err := c.dynamic.Resource(gvr).Namespace(namespace).List(ctx, opts)
	if err != nil {
		return nil, "", err
	}
	return l.Items, l.GetContinue(), nil
}

// GetSecret implements API.
func (c *Client) GetSecret(ctx context.Context, namespace, name string) (*corev1.Secret, error) {
	var s corev1.Secret
	if err := c.core.Get().Namespace(namespace).Resource("secrets").Name(name).Do(ctx).Into(&s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ServerGroups implements API.
func (c *Client) ServerGroups(ctx context.Context) (*metav1.APIGroupList, error) {
	var l metav1.APIGroupList
	if err := c.discovery.Get().AbsPath("/apis").Timeout(discoveryTimeout).Do(ctx).Into(&l); err != nil {
		return nil, err
	}
	return &l, nil
}

// ServerResources implements API.
func (c *Client) ServerResources(ctx context.Context, groupVersion string) (*metav1.APIResourceList, error) {
	l := metav1.APIResourceList{GroupVersion: groupVersion}
	if err := c.discovery.Get().AbsPath("/apis/" + groupVersion).Timeout(discoveryTimeout).Do(ctx).Into(&l); err != nil {
		return nil, err
	}
	return &l, nil
}
