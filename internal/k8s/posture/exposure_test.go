package posture

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/runlens/runlens/internal/workload"
)

func TestExposure(t *testing.T) {
	web := map[string]string{"app": "web", "pod-template-hash": "abc"}
	webSel := map[string]string{"app": "web"}
	http := tcSpec(tcCport("http", 8080), tcCport("metrics", 9090))
	named := intstr.FromString("http")
	lb := tcSvc("shop", "web-lb", corev1.ServiceTypeLoadBalancer, webSel, tcSport("https", 443, named, 31443))
	lb.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{IP: "203.0.113.7"}}
	eip := tcSvc("shop", "web-eip", corev1.ServiceTypeClusterIP, webSel, tcSport("", 80, intstr.FromInt32(8080), 0))
	eip.Spec.ExternalIPs = []string{"198.51.100.9"}
	headless := tcSvc("shop", "web-hl", "", webSel, tcSport("", 8080, intstr.IntOrString{}, 0))
	headless.Spec.ClusterIP = corev1.ClusterIPNone
	defaultBackend := networkingv1.Ingress{ObjectMeta: tcMeta("shop", "catchall"), Spec: networkingv1.IngressSpec{
		DefaultBackend: &networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
			Name: "web", Port: networkingv1.ServiceBackendPort{Number: 80}}}}}
	clusterIP := tcSvc("shop", "web", corev1.ServiceTypeClusterIP, webSel, tcSport("http", 80, named, 0))
	nodePort := tcSvc("shop", "web-np", corev1.ServiceTypeNodePort, webSel, tcSport("http", 80, named, 30080))
	allNS := networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}}
	tcp := corev1.ProtocolTCP

	tests := []struct {
		name   string
		objs   Objects
		labels map[string]string
		spec   *corev1.PodSpec
		want   *workload.Exposure
	}{{
		name: "no service, no policy: reachable by pod IP",
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureCluster, Paths: []string{"any pod → pod IP (no NetworkPolicy restricts ingress)"}},
	}, {
		name: "ClusterIP with named targetPort resolved against container ports",
		objs: Objects{Services: []corev1.Service{clusterIP}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureCluster, Paths: []string{"Service shop/web:80 → pod port 8080"}},
	}, {
		name: "named targetPort no container declares: this pod is no endpoint",
		objs: Objects{Services: []corev1.Service{clusterIP}}, spec: tcSpec(tcCport("web", 8080)), labels: web,
		want: &workload.Exposure{Level: workload.ExposureCluster, Paths: []string{"any pod → pod IP (no NetworkPolicy restricts ingress)"}},
	}, {
		name: "numeric targetPort reaches the pod even if undeclared; unset targetPort is the port",
		objs: Objects{Services: []corev1.Service{
			tcSvc("shop", "a", "", webSel, tcSport("", 80, intstr.FromInt32(7000), 0)),
			tcSvc("shop", "b", "", webSel, tcSport("", 9090, intstr.IntOrString{}, 0)),
		}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureCluster, Paths: []string{"Service shop/a:80 → pod port 7000", "Service shop/b:9090 → pod port 9090"}},
	}, {
		name: "selector not a subset, other namespace, ExternalName and selector-less Services select nothing",
		objs: Objects{Services: []corev1.Service{
			tcSvc("shop", "x", "", map[string]string{"app": "web", "tier": "db"}, tcSport("", 80, named, 0)),
			tcSvc("other", "y", corev1.ServiceTypeNodePort, webSel, tcSport("", 80, named, 30001)),
			tcSvc("shop", "ext", corev1.ServiceTypeExternalName, webSel, tcSport("", 80, named, 0)),
			tcSvc("shop", "manual", corev1.ServiceTypeNodePort, nil, tcSport("", 80, named, 30002)),
		}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureCluster, Paths: []string{"any pod → pod IP (no NetworkPolicy restricts ingress)"}},
	}, {
		name: "headless Service",
		objs: Objects{Services: []corev1.Service{headless}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureCluster, Paths: []string{"Service shop/web-hl (headless) → pod port 8080"}},
	}, {
		name: "NodePort, LoadBalancer and ExternalIPs are internet paths",
		objs: Objects{Services: []corev1.Service{nodePort, lb, eip}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{
			"Service shop/web-eip ExternalIP 198.51.100.9:80 → pod port 8080",
			"Service shop/web-lb LoadBalancer 203.0.113.7:443 → pod port 8080",
			"Service shop/web-np NodePort 30080 → pod port 8080",
			"Service shop/web-eip:80 → pod port 8080",
		}},
	}, {
		name: "Ingress rule by Service port name",
		objs: Objects{Services: []corev1.Service{clusterIP},
			Ingresses: []networkingv1.Ingress{tcIngress("shop", "web", "shop.example.com", "web", networkingv1.ServiceBackendPort{Name: "http"})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{
			"Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080",
			"Service shop/web:80 → pod port 8080",
		}},
	}, {
		name: "Ingress defaultBackend by port number; a rule to a missing port adds nothing",
		objs: Objects{Services: []corev1.Service{clusterIP}, Ingresses: []networkingv1.Ingress{defaultBackend,
			tcIngress("shop", "wrong", "", "web", networkingv1.ServiceBackendPort{Number: 81})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{
			"Ingress shop/catchall (default backend) → Service shop/web:80 → pod port 8080",
			"Service shop/web:80 → pod port 8080",
		}},
	}, {
		name: "Gateway HTTPRoute backendRef",
		objs: Objects{Services: []corev1.Service{clusterIP}, Routes: []Route{
			{Kind: "HTTPRoute", Namespace: "shop", Name: "web", Parents: []string{"infra/public"},
				Hostnames: []string{"shop.example.com"}, Backends: []RouteBackend{{Namespace: "shop", Name: "web", Port: 80}}},
			{Kind: "HTTPRoute", Namespace: "shop", Name: "detached", Backends: []RouteBackend{{Namespace: "shop", Name: "web", Port: 80}}},
		}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{
			"HTTPRoute shop/web (shop.example.com) via Gateway infra/public → Service shop/web:80 → pod port 8080",
			"Service shop/web:80 → pod port 8080",
		}},
	}, {
		name: "deny-all policy blocks even a LoadBalancer",
		objs: Objects{Services: []corev1.Service{lb},
			NetworkPolicies: []networkingv1.NetworkPolicy{tcNetpol("shop", "deny-all", nil, []networkingv1.PolicyType{networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureIsolated, NetworkPolicies: []string{"shop/deny-all"}, Paths: []string{
			"Service shop/web-lb LoadBalancer 203.0.113.7:443 → pod port 8080 [denied by NetworkPolicy shop/deny-all]",
		}},
	}, {
		name: "deny-all without any Service: no path in",
		objs: Objects{NetworkPolicies: []networkingv1.NetworkPolicy{tcNetpol("shop", "deny-all", nil, nil)}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureIsolated, NetworkPolicies: []string{"shop/deny-all"},
			Paths: []string{"no path in: denied by NetworkPolicy shop/deny-all"}},
	}, {
		name: "policy allowing 0.0.0.0/0 keeps a NodePort on the internet",
		objs: Objects{Services: []corev1.Service{nodePort}, NetworkPolicies: []networkingv1.NetworkPolicy{
			tcNetpol("shop", "open", webSel, ingressOnly, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{tcFromCIDR("0.0.0.0/0")}})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, NetworkPolicies: []string{"shop/open"},
			Paths: []string{"Service shop/web-np NodePort 30080 → pod port 8080"}},
	}, {
		name: "all-namespaces policy: Ingress proxies get in, outside NodePort traffic does not",
		objs: Objects{Services: []corev1.Service{clusterIP, nodePort},
			Ingresses: []networkingv1.Ingress{tcIngress("shop", "web", "shop.example.com", "web", networkingv1.ServiceBackendPort{Name: "http"})},
			NetworkPolicies: []networkingv1.NetworkPolicy{
				tcNetpol("shop", "cluster", webSel, ingressOnly, networkingv1.NetworkPolicyIngressRule{From: []networkingv1.NetworkPolicyPeer{allNS}})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, NetworkPolicies: []string{"shop/cluster"}, Paths: []string{
			"Ingress shop/web (shop.example.com/) → Service shop/web:80 → pod port 8080",
			"Service shop/web:80 → pod port 8080",
			"Service shop/web-np NodePort 30080 → pod port 8080 [NetworkPolicy shop/cluster allows all namespaces; outside traffic not allowed]",
		}},
	}, {
		name: "policy allowing selected pods only isolates, Ingress included",
		objs: Objects{Services: []corev1.Service{clusterIP},
			Ingresses: []networkingv1.Ingress{tcIngress("shop", "web", "", "web", networkingv1.ServiceBackendPort{Name: "http"})},
			NetworkPolicies: []networkingv1.NetworkPolicy{tcNetpol("shop", "frontend", webSel, ingressOnly, networkingv1.NetworkPolicyIngressRule{
				From: []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "front"}}}, tcFromCIDR("10.0.0.0/8")}})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureIsolated, NetworkPolicies: []string{"shop/frontend"}, Paths: []string{
			"Ingress shop/web (*/) → Service shop/web:80 → pod port 8080 [NetworkPolicy shop/frontend allows selected peers only]",
			"Service shop/web:80 → pod port 8080 [NetworkPolicy shop/frontend allows selected peers only]",
		}},
	}, {
		name: "egress-only policy does not isolate ingress; policies of other pods do not apply",
		objs: Objects{Services: []corev1.Service{nodePort}, NetworkPolicies: []networkingv1.NetworkPolicy{
			tcNetpol("shop", "egress", nil, []networkingv1.PolicyType{networkingv1.PolicyTypeEgress}),
			tcNetpol("shop", "db-deny", map[string]string{"app": "db"}, nil),
			tcNetpol("other", "deny-all", nil, nil),
		}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{"Service shop/web-np NodePort 30080 → pod port 8080"}},
	}, {
		name: "open only on the metrics port (named): LB on http denied, pod still reachable in-cluster",
		objs: Objects{Services: []corev1.Service{lb}, NetworkPolicies: []networkingv1.NetworkPolicy{
			tcNetpol("shop", "metrics", webSel, ingressOnly, networkingv1.NetworkPolicyIngressRule{
				Ports: []networkingv1.NetworkPolicyPort{tcNpPort(intstr.FromString("metrics"))}})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureCluster, NetworkPolicies: []string{"shop/metrics"}, Paths: []string{
			"any pod → pod IP (NetworkPolicy shop/metrics allows all sources)",
			"Service shop/web-lb LoadBalancer 203.0.113.7:443 → pod port 8080 [denied by NetworkPolicy shop/metrics]",
		}},
	}, {
		name: "port range admits the NodePort target",
		objs: Objects{Services: []corev1.Service{nodePort}, NetworkPolicies: []networkingv1.NetworkPolicy{
			tcNetpol("shop", "range", webSel, ingressOnly, networkingv1.NetworkPolicyIngressRule{
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: tcPtr(intstr.FromInt32(8000)), EndPort: tcPtr(int32(8100))}}})}},
		spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, NetworkPolicies: []string{"shop/range"},
			Paths: []string{"Service shop/web-np NodePort 30080 → pod port 8080"}},
	}, {
		name:   "hostNetwork: on the node, NetworkPolicy does not apply",
		objs:   Objects{NetworkPolicies: []networkingv1.NetworkPolicy{tcNetpol("shop", "deny-all", nil, nil)}},
		spec:   &corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{tcCport("http", 8080)}}}},
		labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, NetworkPolicies: []string{"shop/deny-all"},
			Paths: []string{"hostNetwork: node port 8080 → pod port 8080"}},
	}, {
		name:   "hostNetwork without declared ports; hostPort",
		spec:   &corev1.PodSpec{HostNetwork: true, Containers: []corev1.Container{{Name: "a"}}},
		labels: web,
		want:   &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{"hostNetwork: shares the node's network (listening ports not declared)"}},
	}, {
		name:   "hostPort",
		spec:   &corev1.PodSpec{Containers: []corev1.Container{{Name: "a", Ports: []corev1.ContainerPort{{ContainerPort: 80, HostPort: 8081}}}}},
		labels: web,
		want:   &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{"hostPort 8081 on the node → pod port 80"}},
	}, {
		name: "Services unreadable: unknown, not cluster",
		objs: Objects{Missing: map[string]string{KindServices: "forbidden"}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureUnknown, Unknown: []string{"services: forbidden"},
			Paths: []string{"any pod → pod IP (no NetworkPolicy restricts ingress)"}},
	}, {
		name: "Ingresses unreadable with a selecting Service: unknown",
		objs: Objects{Services: []corev1.Service{clusterIP}, Missing: map[string]string{KindIngresses: "forbidden"}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureUnknown, Unknown: []string{"ingresses: forbidden"},
			Paths: []string{"Service shop/web:80 → pod port 8080"}},
	}, {
		name: "NetworkPolicies unreadable: level is an upper bound, marked",
		objs: Objects{Services: []corev1.Service{nodePort}, Missing: map[string]string{KindNetworkPolicies: "forbidden"}}, spec: http, labels: web,
		want: &workload.Exposure{Level: workload.ExposureInternet, Unknown: []string{"networkpolicies: forbidden"},
			Paths: []string{"Service shop/web-np NodePort 30080 → pod port 8080"}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New("test", &tt.objs)
			got := c.Exposure("shop", tt.labels, tt.spec)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Exposure (-want +got):\n%s", diff)
			}
			// The cached second answer is the same.
			if diff := cmp.Diff(got, c.Exposure("shop", tt.labels, tt.spec)); diff != "" {
				t.Errorf("second Exposure differs:\n%s", diff)
			}
		})
	}
}

func TestExposureNilInputs(t *testing.T) {
	c := New("test", nil)
	got := c.Exposure("", nil, nil)
	if got.Level != workload.ExposureCluster {
		t.Errorf("Level = %q, want cluster", got.Level)
	}
}
