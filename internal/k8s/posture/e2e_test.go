package posture

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/workload"
)

// TestPostureE2E loads the posture of a real API server, as the read-only
// scanner user, after applying the e2e workload set plus
// testdata/context/extra.yaml, and checks exposure paths, sensitivity
// flags and RBAC conclusions; then, as a service account whose role lacks
// NetworkPolicies, that the forbidden kind is a Problem and isolation is
// reported unknown rather than safe.
func TestPostureE2E(t *testing.T) {
	c := cluster.Start(t, cluster.ModeAPI, cluster.WithName("ctx-api"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	admin := c.Admin(t)
	c.ApplyWorkloads(ctx, t, "localhost:5000/runlens-e2e/app:1")
	extra, err := os.ReadFile(filepath.Join("testdata", "context", "extra.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.Apply(ctx, cluster.RESTConfig(t, c.Kubeconfig), extra); err != nil {
		t.Fatal(err)
	}
	// The aggregation controller fills the aggregated role's rules.
	if err := wait.PollUntilContextTimeout(ctx, 300*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		cr, err := admin.RbacV1().ClusterRoles().Get(ctx, "runlens-ctx-aggregated", metav1.GetOptions{})
		return err == nil && len(cr.Rules) > 0, nil
	}); err != nil {
		t.Fatalf("aggregated ClusterRole never filled: %v", err)
	}

	scannerCfg := cluster.RESTConfig(t, c.ScannerKubeconfig)
	cc, problems := loadAs(ctx, t, "scanner", scannerCfg)
	if len(problems) != 0 {
		t.Errorf("scanner role: problems %v, want none", problems)
	}
	ns, iso := cluster.FixtureNamespace, cluster.IsolatedNamespace
	nodePort := func(name string) int32 {
		s, err := admin.CoreV1().Services(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return s.Spec.Ports[0].NodePort
	}
	web := template(ctx, t, admin, ns, "Deployment", "web")
	gotWeb := cc.Exposure(ns, web.Labels, &web.Spec)
	wantWeb := &workload.Exposure{Level: workload.ExposureInternet, Paths: []string{
		"Ingress runlens-fixtures/web (web.runlens.invalid/) → Service runlens-fixtures/web-clusterip:80 → pod port 8080",
		"Service runlens-fixtures/web-lb LoadBalancer :80 → pod port 8080",
		fmt.Sprintf("Service runlens-fixtures/web-nodeport NodePort %d → pod port 8080", nodePort("web-nodeport")),
		"Service runlens-fixtures/web-clusterip:80 → pod port 8080",
	}}
	if diff := cmp.Diff(wantWeb, gotWeb); diff != "" {
		t.Errorf("web exposure (-want +got):\n%s", diff)
	}
	db := template(ctx, t, admin, ns, "StatefulSet", "db")
	if diff := cmp.Diff(&workload.Exposure{Level: workload.ExposureCluster, Paths: []string{"Service runlens-fixtures/db-headless (headless) → pod port 8080"}},
		cc.Exposure(ns, db.Labels, &db.Spec)); diff != "" {
		t.Errorf("db exposure (-want +got):\n%s", diff)
	}
	internal := template(ctx, t, admin, iso, "Deployment", "internal")
	wantInternal := &workload.Exposure{Level: workload.ExposureIsolated, NetworkPolicies: []string{"runlens-isolated/deny-all"},
		Paths: []string{"no path in: denied by NetworkPolicy runlens-isolated/deny-all"}}
	if diff := cmp.Diff(wantInternal, cc.Exposure(iso, internal.Labels, &internal.Spec)); diff != "" {
		t.Errorf("internal exposure (-want +got):\n%s", diff)
	}
	nodeRoot := template(ctx, t, admin, ns, "Pod", "node-root")
	if e := cc.Exposure(ns, nodeRoot.Labels, &nodeRoot.Spec); e.Level != workload.ExposureInternet ||
		!slices.Contains(e.Paths, "hostNetwork: shares the node's network (listening ports not declared)") {
		t.Errorf("node-root exposure = %+v, want internet through hostNetwork", e)
	}

	crit := SensitivityOptions{CriticalNamespaces: []labels.Selector{labels.SelectorFromSet(labels.Set{"runlens.dev/fixture": "true"})}}
	s := cc.Sensitivity(ns, nodeRoot.Labels, &nodeRoot.Spec, nil, crit)
	if !s.Privileged || !s.HostPID || !s.HostNetwork || !s.ServiceAccountToken || !s.CriticalNamespace ||
		!cmp.Equal(s.SensitiveHostPaths, []string{"/"}) || s.RBAC == nil || !s.RBAC.ClusterAdmin ||
		!cmp.Equal(s.RBAC.Bindings, []string{"ClusterRoleBinding runlens-fixture-cluster-admin → ClusterRole cluster-admin"}) {
		t.Errorf("node-root sensitivity = %+v rbac %+v", s, s.RBAC)
	}
	s = cc.Sensitivity(ns, web.Labels, &web.Spec, nil, SensitivityOptions{})
	if !cmp.Equal(s.CloudIdentity, []string{"aws:arn:aws:iam::111122223333:role/runlens-fixture-web"}) || !s.ServiceAccountToken ||
		!s.MayRunAsRoot || s.Privileged || s.RBAC.ClusterAdmin || s.RBAC.ReadSecrets {
		t.Errorf("web sensitivity = %+v", s)
	}
	for _, tt := range []struct {
		ns, sa string
		want   *workload.RBACPower
	}{
		{ns, "sa-secret-reader", &workload.RBACPower{ReadSecrets: true, ReadSecretsScope: []string{"cluster"},
			Bindings: []string{"ClusterRoleBinding runlens-fixture-secret-reader → ClusterRole runlens-fixture-secret-reader"}}},
		{ns, "sa-pod-reader", &workload.RBACPower{}},
		{ns, "sa-plain", &workload.RBACPower{}},
		{iso, "default", &workload.RBACPower{ExecPods: true,
			Bindings: []string{"RoleBinding runlens-isolated/runlens-ctx-exec → ClusterRole runlens-ctx-aggregated (group system:serviceaccounts:runlens-isolated)"}}},
	} {
		if diff := cmp.Diff(tt.want, cc.RBAC(tt.ns, tt.sa)); diff != "" {
			t.Errorf("RBAC %s/%s (-want +got):\n%s", tt.ns, tt.sa, diff)
		}
	}

	// A service account without NetworkPolicy (or Gateway) access.
	tok, err := admin.CoreV1().ServiceAccounts(ns).CreateToken(ctx, "runlens-ctx-limited",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptrInt64(600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	limited := rest.CopyConfig(cluster.RESTConfig(t, c.Kubeconfig))
	limited.BearerToken, limited.BearerTokenFile = tok.Status.Token, ""
	limited.CertFile, limited.KeyFile, limited.CertData, limited.KeyData = "", "", nil, nil
	lc, problems := loadAs(ctx, t, "limited", limited)
	wantProblems := []workload.Problem{{Cluster: "limited", Kind: "networkpolicies",
		Reason: "cannot list networkpolicies (forbidden): NetworkPolicy isolation not evaluated"}}
	if diff := cmp.Diff(wantProblems, problems); diff != "" {
		t.Errorf("limited problems (-want +got):\n%s", diff)
	}
	e := lc.Exposure(iso, internal.Labels, &internal.Spec)
	if e.Level == workload.ExposureIsolated || !cmp.Equal(e.Unknown, []string{"networkpolicies: forbidden"}) {
		t.Errorf("internal exposure without NetworkPolicy access = %+v, want not isolated, marked unknown", e)
	}
}

func ptrInt64(v int64) *int64 { return &v }

// loadAs loads the posture through cfg with a small page size, so the
// lists really paginate.
func loadAs(ctx context.Context, t *testing.T, name string, cfg *rest.Config) (*Cluster, []workload.Problem) {
	t.Helper()
	api, err := k8s.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cc, problems, err := Load(ctx, api, Options{Cluster: name, PageSize: 2})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return cc, problems
}

// template returns a workload's pod template (or a bare pod's metadata and
// spec) as the API server stored it, defaults included.
func template(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, kind, name string) corev1.PodTemplateSpec {
	t.Helper()
	var (
		pt  corev1.PodTemplateSpec
		err error
	)
	switch kind {
	case "Deployment":
		var dep, e = cs.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if err == nil {
			pt = dep.Spec.Template
		}
	case "StatefulSet":
		var st, e = cs.AppsV1().StatefulSets(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if err == nil {
			pt = st.Spec.Template
		}
	case "Pod":
		var p, e = cs.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		err = e
		if err == nil {
			pt = corev1.PodTemplateSpec{ObjectMeta: p.ObjectMeta, Spec: p.Spec}
		}
	}
	if err != nil {
		t.Fatalf("%s %s/%s: %v", kind, ns, name, err)
	}
	return pt
}
