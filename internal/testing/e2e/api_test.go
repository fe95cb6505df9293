package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/testing/cluster"
)

// TestAPIClusters runs two api-mode clusters at once: the read-only scanner
// kubeconfig is held to deploy/rbac for real, each cluster keeps its own objects
// and registry, and down leaves nothing behind.
func TestAPIClusters(t *testing.T) {
	a := cluster.Start(t, cluster.ModeAPI, cluster.WithName("e2e-a"))
	b := cluster.Start(t, cluster.ModeAPI, cluster.WithName("e2e-b"))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if a.Server == b.Server || a.Registry == b.Registry || a.Dir == b.Dir {
		t.Fatalf("clusters share an endpoint: %s/%s, %s/%s", a.Server, b.Server, a.Registry, b.Registry)
	}

	img := cluster.AppImage(ctx, t)
	pushed := a.PushImage(ctx, t, img, "runlens-e2e/app", "v1")
	a.ApplyWorkloads(ctx, t, pushed.String())

	t.Run("scanner RBAC", func(t *testing.T) {
		sc := a.Scanner(t)
		pods, err := sc.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("scanner cannot list pods cluster-wide: %v", err)
		}
		if len(pods.Items) < 5 {
			t.Errorf("scanner sees %d pods, want the workload set's", len(pods.Items))
		}
		reads := map[string]func() error{
			"deployments": func() error { _, err := sc.AppsV1().Deployments("").List(ctx, metav1.ListOptions{}); return err },
			"cronjobs":    func() error { _, err := sc.BatchV1().CronJobs("").List(ctx, metav1.ListOptions{}); return err },
			"networkpolicies": func() error {
				_, err := sc.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
				return err
			},
			"clusterrolebindings": func() error { _, err := sc.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{}); return err },
			"endpointslices": func() error {
				_, err := sc.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
				return err
			},
		}
		for what, f := range reads {
			if err := f(); err != nil {
				t.Errorf("scanner cannot list %s: %v", what, err)
			}
		}
		denied := map[string]func() error{
			"list secrets": func() error { _, err := sc.CoreV1().Secrets("").List(ctx, metav1.ListOptions{}); return err },
			"get secret": func() error {
				_, err := sc.CoreV1().Secrets("kube-system").Get(ctx, "any", metav1.GetOptions{})
				return err
			},
			"create configmap": func() error {
				_, err := sc.CoreV1().ConfigMaps("default").Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
				return err
			},
			"create pod": func() error {
				_, err := sc.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "x"},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "x", Image: "x"}}}}, metav1.CreateOptions{})
				return err
			},
			"delete pod": func() error {
				return sc.CoreV1().Pods(cluster.FixtureNamespace).Delete(ctx, "standalone", metav1.DeleteOptions{})
			},
			"create namespace": func() error {
				_, err := sc.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "x"}}, metav1.CreateOptions{})
				return err
			},
		}
		for what, f := range denied {
			if err := f(); !apierrors.IsForbidden(err) {
				t.Errorf("scanner %s: err = %v, want Forbidden", what, err)
			}
		}
	})

	t.Run("clusters are separate", func(t *testing.T) {
		ca, cb := a.Admin(t), b.Admin(t)
		for _, x := range []struct {
			c    *cluster.Cluster
			name string
		}{{a, "only-in-a"}, {b, "only-in-b"}} {
			_, err := x.c.Admin(t).CoreV1().ConfigMaps("default").Create(ctx,
				&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: x.name}}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ca.CoreV1().ConfigMaps("default").Get(ctx, "only-in-b", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("cluster a sees b's configmap: %v", err)
		}
		if _, err := cb.CoreV1().ConfigMaps("default").Get(ctx, "only-in-a", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("cluster b sees a's configmap: %v", err)
		}
		if _, err := cb.CoreV1().Namespaces().Get(ctx, cluster.FixtureNamespace, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			t.Errorf("cluster b has a's workload namespace: %v", err)
		}
		deps, err := ca.AppsV1().Deployments(cluster.FixtureNamespace).List(ctx, metav1.ListOptions{})
		if err != nil || len(deps.Items) != 1 {
			t.Errorf("cluster a deployments = %v, %v", deps, err)
		}
		// Cluster b's registry does not have what was pushed to a's.
		if _, err := cluster.RemoteDigest(ctx, b.Registry+"/runlens-e2e/app:v1"); err == nil {
			t.Error("cluster b's registry has cluster a's image")
		}
		if d, err := cluster.RemoteDigest(ctx, a.Registry+"/runlens-e2e/app:v1"); err != nil || d != pushed.DigestStr() {
			t.Errorf("cluster a's registry: %s, %v; want %s", d, err, pushed.DigestStr())
		}
	})

	t.Run("down leaves nothing", func(t *testing.T) {
		if up := leftovers(b, nil, nil); len(up) < 3 {
			t.Errorf("leftover check sees only %d things while the cluster is up: %v", len(up), up)
		}
		if err := b.Down(ctx); err != nil {
			t.Fatal(err)
		}
		if left := leftovers(b, nil, nil); len(left) > 0 {
			t.Errorf("down left behind:\n%s", strings.Join(left, "\n"))
		}
		// The other cluster is untouched.
		if out, err := a.Status(ctx); err != nil {
			t.Errorf("cluster a after b's down: %v\n%s", err, out)
		}
	})
}
