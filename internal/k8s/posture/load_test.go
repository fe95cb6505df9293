package posture

import (
	"context"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	discoveryfake "k8s.io/client-go/discovery/fake"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/runlens/runlens/internal/k8s/k8stest"
	"github.com/runlens/runlens/internal/workload"
)

// TestLoad drives Load through client-go's in-memory
// clientset: a forbidden kind becomes a Problem and an unknown mark, the
// Gateway routes are read through the dynamic client when discovery
// serves them, and the rest is used. (Pagination against a real API
// server is covered by TestPostureE2E.)
func TestLoad(t *testing.T) {
	web := tcSvc("shop", "web", "", map[string]string{"app": "web"}, tcSport("http", 80, intstr.FromString("http"), 0))
	deny := tcNetpol("shop", "deny-all", nil, nil)
	client := fake.NewClientset(&web, &deny)
	client.PrependReactor("list", "networkpolicies", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}, "", errors.New("no"))
	})
	client.Discovery().(*discoveryfake.FakeDiscovery).Resources = []*metav1.APIResourceList{{
		GroupVersion: "gateway.networking.k8s.io/v1",
		APIResources: []metav1.APIResource{{Name: "httproutes", Kind: "HTTPRoute", Namespaced: true}},
	}}
	route := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"namespace": "shop", "name": "web"},
		"spec": map[string]any{
			"parentRefs": []any{map[string]any{"name": "public", "namespace": "infra"}},
			"hostnames":  []any{"shop.example.com"},
			"rules": []any{map[string]any{"backendRefs": []any{
				map[string]any{"name": "web", "port": int64(80)},
				map[string]any{"name": "bucket", "kind": "Backend", "group": "example.com"},
			}}},
		},
	}}
	gvr := schema.GroupVersionResource{Group: GatewayGroup, Version: "v1", Resource: "httproutes"}
	dyn := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{gvr: "HTTPRouteList"}, route)

	c, problems, err := Load(context.Background(), k8stest.Clientset(client, dyn), Options{Cluster: "prod-eu", PageSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	wantProblems := []workload.Problem{{Cluster: "prod-eu", Kind: "networkpolicies",
		Reason: "cannot list networkpolicies (forbidden): NetworkPolicy isolation not evaluated"}}
	if diff := cmp.Diff(wantProblems, problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	got := c.Exposure("shop", map[string]string{"app": "web"}, tcSpec(tcCport("http", 8080)))
	want := &workload.Exposure{Level: workload.ExposureInternet, Unknown: []string{"networkpolicies: forbidden"}, Paths: []string{
		"HTTPRoute shop/web (shop.example.com) via Gateway infra/public → Service shop/web:80 → pod port 8080",
		"Service shop/web:80 → pod port 8080",
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Exposure (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]workload.Problem{{Cluster: "prod-eu", Kind: "networkpolicies", Reason: "forbidden"}}, c.Missing()); diff != "" {
		t.Errorf("Missing (-want +got):\n%s", diff)
	}
}

func TestLoadNothingListable(t *testing.T) {
	client := fake.NewClientset()
	client.PrependReactor("list", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewServiceUnavailable("down")
	})
	_, problems, err := Load(context.Background(), k8stest.Clientset(client, nil), Options{Cluster: "gone"})
	if err == nil {
		t.Fatal("want an error when no kind can be listed")
	}
	if len(problems) != 9 {
		t.Errorf("got %d problems, want one per kind (9)", len(problems))
	}
}

func TestLoadCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Load(ctx, k8stest.Clientset(fake.NewClientset(), nil), Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestRouteFromBadFields(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"namespace": "a", "name": "r"},
		"spec": map[string]any{"parentRefs": "oops", "hostnames": []any{1, "h"},
			"rules": []any{"x", map[string]any{"backendRefs": []any{map[string]any{"name": "s", "namespace": "b", "port": 8.0}}}}},
	}}
	got := routeFrom("GRPCRoute", u)
	want := Route{Kind: "GRPCRoute", Namespace: "a", Name: "r", Hostnames: []string{"h"}, Backends: []RouteBackend{{Namespace: "b", Name: "s", Port: 8}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routeFrom (-want +got):\n%s", diff)
	}
	// No parents: the route exposes nothing.
	c := New("t", &Objects{
		Services: []corev1.Service{tcSvc("b", "s", "", map[string]string{"a": "b"}, tcSport("", 8, intstr.IntOrString{}, 0))},
		Routes:   []Route{got}, Ingresses: []networkingv1.Ingress{{ObjectMeta: tcMeta("b", "empty")}}})
	if e := c.Exposure("b", map[string]string{"a": "b"}, nil); e.Level != workload.ExposureCluster {
		t.Errorf("Level = %q, want cluster", e.Level)
	}
}
