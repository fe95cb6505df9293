// Package posture judges how dangerous a vulnerable workload is where it
// runs: its network exposure (Services, Ingresses, Gateway routes, host
// ports, NetworkPolicy isolation) and what an attacker gains there
// (privileges, host access, secrets, the service account's effective RBAC,
// cloud identity). Load reads what it needs from one cluster's API; New
// builds the same answers from objects in hand.
package posture

import (
	"sort"
	"sync"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/workload"
)

// Objects are the cluster objects a Cluster is built from. Load fills
// them from the API; tests and callers holding objects already can build a
// Cluster directly with New.
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

// Kinds a Cluster reads, as resource names (also Problem.Kind).
const (
	KindServices            = "services"
	KindIngresses           = "ingresses"
	KindNetworkPolicies     = "networkpolicies"
	KindServiceAccounts     = k8s.KindServiceAccounts
	KindNamespaces          = k8s.KindNamespaces
	KindRoles               = "roles"
	KindRoleBindings        = "rolebindings"
	KindClusterRoles        = "clusterroles"
	KindClusterRoleBindings = "clusterrolebindings"
	KindHTTPRoutes          = "httproutes"
	KindGRPCRoutes          = "grpcroutes"
	KindTLSRoutes           = "tlsroutes"
)

// affects says which conclusions a missing kind leaves unknown (the
// shared kinds say so in k8s.Shared.Problems).
var affects = map[string]string{
	KindServices:            "exposure unknown",
	KindIngresses:           "Ingress exposure unknown",
	KindNetworkPolicies:     "NetworkPolicy isolation not evaluated",
	KindRoles:               "service-account RBAC partly unknown",
	KindRoleBindings:        "service-account RBAC partly unknown",
	KindClusterRoles:        "service-account RBAC partly unknown",
	KindClusterRoleBindings: "service-account RBAC partly unknown",
	KindHTTPRoutes:          "Gateway exposure unknown",
	KindGRPCRoutes:          "Gateway exposure unknown",
	KindTLSRoutes:           "Gateway exposure unknown",
}

// Cluster is one cluster's exposure and privilege posture, indexed for
// per-workload questions: Exposure, Sensitivity and RBAC. It is safe
// for concurrent use; answers are cached per (namespace, label set) and per
// service account.
type Cluster struct {
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
	rbacCache  map[string]*workload.RBACPower
	rbacOnce   sync.Once
	rbacIdx    *rbacIndex
}

// New indexes objs. It keeps references to objs' items.
func New(cluster string, objs *Objects) *Cluster {
	if objs == nil {
		objs = &Objects{}
	}
	c := &Cluster{
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
		rbacCache:        map[string]*workload.RBACPower{},
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
func (c *Cluster) Missing() []workload.Problem {
	var out []workload.Problem
	for k, why := range c.missing {
		out = append(out, workload.Problem{Cluster: c.Cluster, Kind: k, Reason: why})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Kind < out[j].Kind })
	return out
}

// unknown returns "kind: reason" for each missing kind in kinds.
func (c *Cluster) unknown(kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		if why, ok := c.missing[k]; ok {
			out = append(out, k+": "+why)
		}
	}
	return out
}
