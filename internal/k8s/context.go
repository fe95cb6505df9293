package k8s

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/internal/fanout"
)

// ContextOptions tune LoadContext.
type ContextOptions struct {
	// Cluster names the kubeconfig context, for Problems.
	Cluster string
	// PageSize is the list page size; 0 means 500.
	PageSize int64
}

// Objects are the cluster objects a ClusterContext is built from. LoadContext
// fills them from the API; tests and callers holding objects already can
// build a context directly with NewClusterContext.
type Objects struct {
	Services            []corev1.Service
	Ingresses           []networkingv1.Ingress
	NetworkPolicies     []networkingv1.NetworkPolicy
	ServiceAccounts     []corev1.ServiceAccount
	Namespaces          []corev1.Namespace
	Roles               []rbacv1.Role
	RoleBindings        []rbacv1.RoleBinding
	ClusterRoles        []rbacv1.ClusterRole
	ClusterRoleBindings []rbacv1.ClusterRoleBinding
	// Routes are the Gateway API routes (HTTPRoute, GRPCRoute, TLSRoute).
	Routes []Route
	// Missing maps each kind that could not be read ("networkpolicies") to
	// why ("forbidden"); conclusions depending on it are marked unknown.
	Missing map[string]string
}

// Kinds a ClusterContext reads, as resource names (also Problem.Kind).
const (
	KindServices            = "services"
	KindIngresses           = "ingresses"
	KindNetworkPolicies     = "networkpolicies"
	KindServiceAccounts     = "serviceaccounts"
	KindNamespaces          = "namespaces"
	KindRoles               = "roles"
	KindRoleBindings        = "rolebindings"
	KindClusterRoles        = "clusterroles"
	KindClusterRoleBindings = "clusterrolebindings"
	KindHTTPRoutes          = "httproutes"
	KindGRPCRoutes          = "grpcroutes"
	KindTLSRoutes           = "tlsroutes"
)

// affects says which conclusions a missing kind leaves unknown.
var affects = map[string]string{
	KindServices:            "exposure unknown",
	KindIngresses:           "Ingress exposure unknown",
	KindNetworkPolicies:     "NetworkPolicy isolation not evaluated",
	KindServiceAccounts:     "token automount and cloud identity unknown",
	KindNamespaces:          "namespace criticality unknown",
	KindRoles:               "service-account RBAC partly unknown",
	KindRoleBindings:        "service-account RBAC partly unknown",
	KindClusterRoles:        "service-account RBAC partly unknown",
	KindClusterRoleBindings: "service-account RBAC partly unknown",
	KindHTTPRoutes:          "Gateway exposure unknown",
	KindGRPCRoutes:          "Gateway exposure unknown",
	KindTLSRoutes:           "Gateway exposure unknown",
}

// ClusterContext is one cluster's exposure and privilege context, indexed
// for per-workload questions: Exposure, Sensitivity and RBAC. It is safe
// for concurrent use; answers are cached per (namespace, label set) and per
// service account.
type ClusterContext struct {
	// Cluster is the kubeconfig context name.
	Cluster string

	services         map[string]*nsServices    // by namespace
	ingressByService map[string][]ingressRef   // "ns/service"
	routesByService  map[string][]routeBackend // "ns/service"
	policies         map[string][]*policy      // by namespace
	serviceAccounts  map[string]*corev1.ServiceAccount
	namespaces       map[string]map[string]string
	roles            map[string]*rbacv1.Role // "ns/name"
	clusterRoles     map[string]*rbacv1.ClusterRole
	roleBindings     []rbacv1.RoleBinding
	crBindings       []rbacv1.ClusterRoleBinding
	missing          map[string]string

	mu         sync.Mutex
	matchCache map[string]*podMatch
	rbacCache  map[string]*RBACPower
	rbacOnce   sync.Once
	rbacIdx    *rbacIndex
}

// NewClusterContext indexes objs. It keeps references to objs' items.
func NewClusterContext(cluster string, objs *Objects) *ClusterContext {
	if objs == nil {
		objs = &Objects{}
	}
	c := &ClusterContext{
		Cluster:          cluster,
		services:         map[string]*nsServices{},
		ingressByService: map[string][]ingressRef{},
		routesByService:  map[string][]routeBackend{},
		policies:         map[string][]*policy{},
		serviceAccounts:  map[string]*corev1.ServiceAccount{},
		namespaces:       map[string]map[string]string{},
		roles:            map[string]*rbacv1.Role{},
		clusterRoles:     map[string]*rbacv1.ClusterRole{},
		roleBindings:     objs.RoleBindings,
		crBindings:       objs.ClusterRoleBindings,
		missing:          map[string]string{},
		matchCache:       map[string]*podMatch{},
		rbacCache:        map[string]*RBACPower{},
	}
	for k, v := range objs.Missing {
		c.missing[k] = v
	}
	for i := range objs.Services {
		c.addService(&objs.Services[i])
	}
	for i := range objs.Ingresses {
		c.addIngress(&objs.Ingresses[i])
	}
	for i := range objs.Routes {
		c.addRoute(&objs.Routes[i])
	}
	for i := range objs.NetworkPolicies {
		p := compilePolicy(&objs.NetworkPolicies[i])
		c.policies[p.ns] = append(c.policies[p.ns], p)
	}
	for i := range objs.ServiceAccounts {
		sa := &objs.ServiceAccounts[i]
		c.serviceAccounts[sa.Namespace+"/"+sa.Name] = sa
	}
	for i := range objs.Namespaces {
		ns := &objs.Namespaces[i]
		c.namespaces[ns.Name] = ns.Labels
	}
	for i := range objs.Roles {
		r := &objs.Roles[i]
		c.roles[r.Namespace+"/"+r.Name] = r
	}
	for i := range objs.ClusterRoles {
		r := &objs.ClusterRoles[i]
		c.clusterRoles[r.Name] = r
	}
	aggregate(c.clusterRoles)
	return c
}

// Missing reports the kinds that could not be read and why, sorted by kind.
func (c *ClusterContext) Missing() []Problem {
	var out []Problem
	for k, why := range c.missing {
		out = append(out, Problem{Cluster: c.Cluster, Kind: k, Reason: why})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// unknown returns "kind: reason" for each missing kind in kinds.
func (c *ClusterContext) unknown(kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		if why, ok := c.missing[k]; ok {
			out = append(out, k+": "+why)
		}
	}
	return out
}

// LoadContext lists, page by page, what exposure and privilege questions
// need: Services, Ingresses, NetworkPolicies, ServiceAccounts, Namespaces,
// RBAC objects and, when their CRDs are served, Gateway API routes (through
// dyn; nil skips them). Secrets are never read. A kind the caller may not
// list (forbidden) or the server does not serve becomes a Problem and the
// rest goes on; answers that depend on it are marked unknown. The error is
// non-nil only when ctx ends or no kind at all could be listed.
func LoadContext(ctx context.Context, client kubernetes.Interface, dyn dynamic.Interface, opts ContextOptions) (*ClusterContext, []Problem, error) {
	ps := opts.PageSize
	if ps <= 0 {
		ps = 500
	}
	objs := &Objects{Missing: map[string]string{}}
	core, net, rbac := client.CoreV1(), client.NetworkingV1(), client.RbacV1()
	all := metav1.NamespaceAll
	jobs := []struct {
		kind string
		run  func(context.Context) error
	}{
		{KindServices, func(ctx context.Context) (err error) {
			objs.Services, err = listPages(ctx, ps, core.Services(all).List,
				func(l *corev1.ServiceList) ([]corev1.Service, string) { return l.Items, l.Continue })
			return err
		}},
		{KindIngresses, func(ctx context.Context) (err error) {
			objs.Ingresses, err = listPages(ctx, ps, net.Ingresses(all).List,
				func(l *networkingv1.IngressList) ([]networkingv1.Ingress, string) { return l.Items, l.Continue })
			return err
		}},
		{KindNetworkPolicies, func(ctx context.Context) (err error) {
			objs.NetworkPolicies, err = listPages(ctx, ps, net.NetworkPolicies(all).List,
				func(l *networkingv1.NetworkPolicyList) ([]networkingv1.NetworkPolicy, string) {
					return l.Items, l.Continue
				})
			return err
		}},
		{KindServiceAccounts, func(ctx context.Context) (err error) {
			objs.ServiceAccounts, err = listPages(ctx, ps, core.ServiceAccounts(all).List,
				func(l *corev1.ServiceAccountList) ([]corev1.ServiceAccount, string) { return l.Items, l.Continue })
			return err
		}},
		{KindNamespaces, func(ctx context.Context) (err error) {
			objs.Namespaces, err = listPages(ctx, ps, core.Namespaces().List,
				func(l *corev1.NamespaceList) ([]corev1.Namespace, string) { return l.Items, l.Continue })
			return err
		}},
		{KindRoles, func(ctx context.Context) (err error) {
			objs.Roles, err = listPages(ctx, ps, rbac.Roles(all).List,
				func(l *rbacv1.RoleList) ([]rbacv1.Role, string) { return l.Items, l.Continue })
			return err
		}},
		{KindRoleBindings, func(ctx context.Context) (err error) {
			objs.RoleBindings, err = listPages(ctx, ps, rbac.RoleBindings(all).List,
				func(l *rbacv1.RoleBindingList) ([]rbacv1.RoleBinding, string) { return l.Items, l.Continue })
			return err
		}},
		{KindClusterRoles, func(ctx context.Context) (err error) {
			objs.ClusterRoles, err = listPages(ctx, ps, rbac.ClusterRoles().List,
				func(l *rbacv1.ClusterRoleList) ([]rbacv1.ClusterRole, string) { return l.Items, l.Continue })
			return err
		}},
		{KindClusterRoleBindings, func(ctx context.Context) (err error) {
			objs.ClusterRoleBindings, err = listPages(ctx, ps, rbac.ClusterRoleBindings().List,
				func(l *rbacv1.ClusterRoleBindingList) ([]rbacv1.ClusterRoleBinding, string) {
					return l.Items, l.Continue
				})
			return err
		}},
	}
	var (
		mu       sync.Mutex
		problems []Problem
		failed   []error
	)
	record := func(kind string, err error) {
		mu.Lock()
		defer mu.Unlock()
		why := describe(err)
		objs.Missing[kind] = why
		problems = append(problems, Problem{Cluster: opts.Cluster, Kind: kind,
			Reason: fmt.Sprintf("cannot list %s (%s): %s", kind, why, affects[kind])})
		if !apierrors.IsForbidden(err) && !apierrors.IsNotFound(err) && !apierrors.IsUnauthorized(err) {
			failed = append(failed, fmt.Errorf("%s: %w", kind, err))
		}
	}
	fanout.Each(4, len(jobs), func(i int) {
		if err := jobs[i].run(ctx); err != nil && ctx.Err() == nil {
			record(jobs[i].kind, err)
		}
	})
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("cluster context %s: %w", opts.Cluster, err)
	}
	if len(failed) == len(jobs) {
		return nil, problems, fmt.Errorf("cluster context %s: nothing could be listed: %w", opts.Cluster, errors.Join(failed...))
	}
	if dyn != nil {
		routes, rp := loadRoutes(ctx, client, dyn, ps, opts.Cluster)
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("cluster context %s: %w", opts.Cluster, err)
		}
		objs.Routes = routes
		for _, p := range rp {
			problems = append(problems, p.Problem)
			if p.missing {
				objs.Missing[p.Kind] = p.why
			}
		}
	}
	sort.Slice(problems, func(i, j int) bool { return problems[i].Kind < problems[j].Kind })
	return NewClusterContext(opts.Cluster, objs), problems, nil
}

// describe names an API error briefly, without the server's full message
// for the common cases.
func describe(err error) string {
	switch {
	case apierrors.IsForbidden(err):
		return "forbidden"
	case apierrors.IsUnauthorized(err):
		return "unauthorized"
	case apierrors.IsNotFound(err):
		return "not served"
	}
	s := err.Error()
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return strings.TrimSpace(s)
}

// listPages runs a paginated list to its end. An expired continue token
// (410 Gone, the list took longer than etcd keeps the snapshot) restarts
// once with an unpaginated, consistent list.
func listPages[L any, T any](ctx context.Context, pageSize int64,
	list func(context.Context, metav1.ListOptions) (*L, error),
	items func(*L) ([]T, string)) ([]T, error) {
	var out []T
	opts := metav1.ListOptions{Limit: pageSize}
	restarted := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		l, err := list(ctx, opts)
		if err != nil {
			if apierrors.IsResourceExpired(err) && opts.Continue != "" && !restarted {
				restarted = true
				out = out[:0]
				opts = metav1.ListOptions{}
				continue
			}
			return nil, err
		}
		its, cont := items(l)
		out = append(out, its...)
		if cont == "" {
			return out, nil
		}
		opts.Continue = cont
	}
}
