package posture

import (
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/runlens/runlens/internal/workload"
)

// Scale of the cluster benchmarks (bench/cluster-discovery, bench/cluster-scan):
// both of their clusters together.
const (
	benchPods      = 10000
	benchServices  = 2000
	benchIngresses = 500
	benchPolicies  = 300
	benchNS        = 100
	benchWorkloads = 2000 // 5 pods each
)

type benchPod struct {
	ns     string
	labels map[string]string
	spec   *corev1.PodSpec
}

// benchCluster builds synthetic objects at that scale: every
// workload has a Service (some NodePort/LoadBalancer), a quarter of them
// an Ingress, and some namespaces a deny-all or an allow-from-namespace
// policy; RBAC has a binding per service account.
func benchCluster() (*Objects, []benchPod) {
	o := &Objects{}
	for n := 0; n < benchNS; n++ {
		ns := fmt.Sprintf("ns-%03d", n)
		o.Namespaces = append(o.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns,
			Labels: map[string]string{"env": []string{"prod", "dev"}[n%2]}}})
	}
	o.ClusterRoles = append(o.ClusterRoles, tcClusterRole("cluster-admin", tcRule([]string{"*"}, []string{"*"}, []string{"*"})),
		tcClusterRole("edit", tcRule([]string{"get", "list", "create"}, []string{"", "apps"}, []string{"pods", "secrets", "deployments", "pods/exec"})))
	var pods []benchPod
	for w := 0; w < benchWorkloads; w++ {
		ns := fmt.Sprintf("ns-%03d", w%benchNS)
		app := fmt.Sprintf("app-%04d", w)
		sel := map[string]string{"app": app, "team": "t" + fmt.Sprint(w%7)}
		typ := []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort, corev1.ServiceTypeLoadBalancer}[w%4]
		if w < benchServices {
			o.Services = append(o.Services, tcSvc(ns, app, typ, sel, tcSport("http", 80, intstr.FromString("http"), 0),
				tcSport("metrics", 9090, intstr.FromInt32(9090), 0)))
		}
		if w%4 == 1 && len(o.Ingresses) < benchIngresses {
			o.Ingresses = append(o.Ingresses, tcIngress(ns, app, app+".example.com", app, networkingv1.ServiceBackendPort{Name: "http"}))
		}
		if w < benchPolicies {
			from := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
			if w%3 == 0 {
				from = []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"role": "front"}}}}
			}
			o.NetworkPolicies = append(o.NetworkPolicies, tcNetpol(ns, app, map[string]string{"app": app}, ingressOnly,
				networkingv1.NetworkPolicyIngressRule{From: from}))
		}
		saName := "sa-" + app
		o.ServiceAccounts = append(o.ServiceAccounts, corev1.ServiceAccount{ObjectMeta: tcMeta(ns, saName)})
		o.RoleBindings = append(o.RoleBindings, tcRb(ns, saName, "ClusterRole", "edit", tcSa(ns, saName)))
		if w%200 == 0 {
			o.ClusterRoleBindings = append(o.ClusterRoleBindings, tcCrb(saName, "cluster-admin", tcSa(ns, saName)))
		}
		spec := &corev1.PodSpec{ServiceAccountName: saName, Containers: []corev1.Container{{Name: "app",
			Ports: []corev1.ContainerPort{tcCport("http", 8080), tcCport("metrics", 9090)},
			Env: []corev1.EnvVar{{Name: "P", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{
				LocalObjectReference: corev1.LocalObjectReference{Name: "db"}}}}}}}}
		for p := 0; p < benchPods/benchWorkloads; p++ {
			pods = append(pods, benchPod{ns: ns, spec: spec,
				labels: map[string]string{"app": app, "team": sel["team"], "pod-template-hash": fmt.Sprintf("h%d", p%2)}})
		}
	}
	return o, pods
}

// BenchmarkPosture indexes a 10,000-pod cluster's context and answers
// Exposure and Sensitivity (with RBAC) for every pod, as the scan would if
// it asked per pod rather than per workload.
func BenchmarkPosture(b *testing.B) {
	objs, pods := benchCluster()
	crit := SensitivityOptions{CriticalNamespaces: []labels.Selector{labels.SelectorFromSet(labels.Set{"env": "prod"})}}
	var levels map[string]int
	b.ReportAllocs()
	for b.Loop() {
		c := New("bench", objs)
		levels = map[string]int{}
		for i := range pods {
			p := &pods[i]
			e := c.Exposure(p.ns, p.labels, p.spec)
			c.Sensitivity(p.ns, p.labels, p.spec, nil, crit)
			levels[e.Level]++
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(pods)), "ns/pod")
	b.Logf("%d pods, %d Services, %d Ingresses, %d NetworkPolicies, %d RoleBindings: levels %v",
		len(pods), len(objs.Services), len(objs.Ingresses), len(objs.NetworkPolicies), len(objs.RoleBindings), levels)
}

// TestPostureScale is the benchmark's budget as a test: the whole
// context for 10,000 pods in under 2 s, well within the cluster-scan
// target of 10 s for the whole scan.
func TestPostureScale(t *testing.T) {
	if testing.Short() {
		t.Skip("scale test")
	}
	objs, pods := benchCluster()
	t0 := time.Now()
	c := New("bench", objs)
	build := time.Since(t0)
	internet := 0
	for i := range pods {
		p := &pods[i]
		if c.Exposure(p.ns, p.labels, p.spec).Level == workload.ExposureInternet {
			internet++
		}
		c.Sensitivity(p.ns, p.labels, p.spec, nil, SensitivityOptions{})
	}
	total := time.Since(t0)
	t.Logf("index %s, index+10,000 pods %s, %d internet-exposed", build, total, internet)
	if total > 2*time.Second {
		t.Errorf("context for %d pods took %s, want well under a few seconds", len(pods), total)
	}
	if internet == 0 {
		t.Error("synthetic cluster has no internet exposure: the benchmark measures nothing")
	}
}
