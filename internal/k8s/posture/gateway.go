package posture

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/workload"
)

// GatewayGroup is the Gateway API group.
const GatewayGroup = "gateway.networking.k8s.io"

// Route is the part of a Gateway API route (HTTPRoute, GRPCRoute, TLSRoute)
// that exposure needs.
type Route struct {
	// Kind is "HTTPRoute", "GRPCRoute" or "TLSRoute".
	Kind      string
	Namespace string
	Name      string
	// Parents are the Gateways the route attaches to ("ns/name"); a route
	// without parents exposes nothing.
	Parents   []string
	Hostnames []string
	Backends  []RouteBackend
}

// RouteBackend is a backendRef to a Service. Port is the Service port; 0
// means unset.
type RouteBackend struct {
	Namespace, Name string
	Port            int32
}

// routeKinds maps the route resources to their kinds.
var routeKinds = map[string]string{
	KindHTTPRoutes: "HTTPRoute",
	KindGRPCRoutes: "GRPCRoute",
	KindTLSRoutes:  "TLSRoute",
}

type routeProblem struct {
	workload.Problem
	missing bool
	why     string
}

// loadRoutes lists the Gateway API routes whose CRDs the server serves,
// each at the first version that serves it, preferred version first.
// Absent CRDs are no problem: there is nothing to expose through them.
func loadRoutes(ctx context.Context, api k8s.API, pageSize int64, cluster string) ([]Route, []routeProblem) {
	groups, err := api.ServerGroups(ctx)
	if err != nil {
		return nil, []routeProblem{{Problem: workload.Problem{Cluster: cluster, Kind: GatewayGroup,
			Reason: "API discovery failed (" + k8s.Describe(err) + "): Gateway exposure unknown"}}}
	}
	var versions []string
	for _, g := range groups.Groups {
		if g.Name != GatewayGroup {
			continue
		}
		versions = append(versions, g.PreferredVersion.Version)
		for _, v := range g.Versions {
			if v.Version != g.PreferredVersion.Version {
				versions = append(versions, v.Version)
			}
		}
	}
	served := map[string]string{} // resource -> version
	for _, v := range versions {
		rl, err := api.ServerResources(ctx, GatewayGroup+"/"+v)
		if err != nil {
			continue
		}
		for _, r := range rl.APIResources {
			if _, ok := routeKinds[r.Name]; ok && served[r.Name] == "" {
				served[r.Name] = v
			}
		}
	}
	var routes []Route
	var problems []routeProblem
	for _, res := range []string{KindHTTPRoutes, KindGRPCRoutes, KindTLSRoutes} {
		v := served[res]
		if v == "" {
			continue
		}
		gvr := schema.GroupVersionResource{Group: GatewayGroup, Version: v, Resource: res}
		items, err := k8s.ListAll(ctx, pageSize, func(ctx context.Context, opts metav1.ListOptions) ([]unstructured.Unstructured, string, error) {
			return api.ListCustom(ctx, gvr, metav1.NamespaceAll, opts)
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil
			}
			problems = append(problems, routeProblem{missing: !apierrors.IsNotFound(err), why: k8s.Describe(err),
				Problem: k8s.ListProblem(cluster, res, err, affects[res])})
			continue
		}
		for i := range items {
			routes = append(routes, routeFrom(routeKinds[res], &items[i]))
		}
	}
	return routes, problems
}

// routeFrom reads parentRefs, hostnames and rules[].backendRefs, ignoring
// fields of the wrong type rather than failing.
func routeFrom(kind string, u *unstructured.Unstructured) Route {
	r := Route{Kind: kind, Namespace: u.GetNamespace(), Name: u.GetName()}
	spec, _ := u.Object["spec"].(map[string]any)
	for _, p := range slice(spec["parentRefs"]) {
		m, _ := p.(map[string]any)
		name := str(m["name"])
		if name == "" || (str(m["kind"]) != "" && str(m["kind"]) != "Gateway") {
			continue
		}
		ns := str(m["namespace"])
		if ns == "" {
			ns = r.Namespace
		}
		r.Parents = append(r.Parents, ns+"/"+name)
	}
	for _, h := range slice(spec["hostnames"]) {
		if s := str(h); s != "" {
			r.Hostnames = append(r.Hostnames, s)
		}
	}
	for _, rule := range slice(spec["rules"]) {
		rm, _ := rule.(map[string]any)
		for _, b := range slice(rm["backendRefs"]) {
			bm, _ := b.(map[string]any)
			if g := str(bm["group"]); g != "" && g != "core" {
				continue
			}
			if k := str(bm["kind"]); k != "" && k != "Service" {
				continue
			}
			name := str(bm["name"])
			if name == "" {
				continue
			}
			ns := str(bm["namespace"])
			if ns == "" {
				ns = r.Namespace
			}
			var port int32
			switch p := bm["port"].(type) {
			case int64:
				port = int32(p)
			case float64:
				port = int32(p)
			}
			r.Backends = append(r.Backends, RouteBackend{Namespace: ns, Name: name, Port: port})
		}
	}
	return r
}

func slice(v any) []any { s, _ := v.([]any); return s }
func str(v any) string  { s, _ := v.(string); return s }
