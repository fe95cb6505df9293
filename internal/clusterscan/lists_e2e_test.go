package clusterscan_test

import (
	"context"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/k8stest"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/testing/testimage"
	"github.com/runlens/runlens/internal/workload"
)

// kindPaths are the list URLs of every kind a cluster scan reads.
var kindPaths = map[string]bool{
	"/api/v1/pods": true, "/apis/apps/v1/replicasets": true, "/apis/batch/v1/jobs": true,
	"/api/v1/namespaces": true, "/api/v1/serviceaccounts": true,
	"/api/v1/services": true, "/apis/networking.k8s.io/v1/ingresses": true, "/apis/networking.k8s.io/v1/networkpolicies": true,
	"/apis/rbac.authorization.k8s.io/v1/roles": true, "/apis/rbac.authorization.k8s.io/v1/rolebindings": true,
	"/apis/rbac.authorization.k8s.io/v1/clusterroles": true, "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings": true,
}

// postureOnly are the URL parts only the posture pass requests.
var postureOnly = []string{"/services", "/ingresses", "/networkpolicies", "rbac.authorization.k8s.io", "gateway.networking.k8s.io"}

// On a real API server, as the read-only scanner role, by counting the
// requests: a cluster scan lists every kind once (Namespaces and
// ServiceAccounts too, shared by discovery and posture) and reads a pull
// secret once; its one warning about the unreadable secret names it and
// the fix, for the image that was not pulled only. Discovery alone (scan
// registry --running-in) never asks for Services, Ingresses,
// NetworkPolicies, RBAC or API groups, and works with a role that grants
// none of them, reporting no problem.
func TestListsEachKindOnce(t *testing.T) {
	ctx := context.Background()
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	c := cluster.Start(t, cluster.ModeAPI, cluster.WithName("clusterscan-lists"))
	cs := c.Admin(t)
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Secrets("default").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "regcred"},
		Type: corev1.SecretTypeDockerConfigJson, Data: map[string][]byte{corev1.DockerConfigJsonKey: c.DockerConfigJSON()}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	img := testimage.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"})
	d := c.PushImage(ctx, t, img, "runlens-lists/app", "1")
	for _, p := range []struct{ name, image, imageID string }{
		{"app", c.Registry + "/runlens-lists/app:1", c.Registry + "/runlens-lists/app@" + d.DigestStr()},
		{"ghost", c.Registry + "/runlens-lists/gone:1", c.Registry + "/runlens-lists/gone@" + missingDigest},
	} {
		pod, err := cs.CoreV1().Pods("default").Create(ctx, &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: p.name},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: p.image}},
				ImagePullSecrets: []corev1.LocalObjectReference{{Name: "regcred"}}}}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cluster.SetPodStatus(ctx, t, cs, pod, "node-1", nil, []corev1.ContainerStatus{cluster.RunningStatus("main", p.image, p.imageID)})
	}
	ropts := registry.Options{Insecure: true, Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: 1})}

	cfg, reqs := k8stest.Count(cluster.RESTConfig(t, c.ScannerKubeconfig))
	s := &scan.Scanner{Advisories: noAdvisories{}, TempDir: t.TempDir()}
	res, err := clusterscan.Run(ctx, s, clusterscan.Options{Clients: []k8s.ClusterClient{k8s.NewClusterClient("live", cfg)}, Registry: ropts})
	if err != nil {
		t.Fatal(err)
	}
	starts := reqs.ListStarts()
	for path := range kindPaths {
		if starts[path] != 1 {
			t.Errorf("%s listed %d times, want once", path, starts[path])
		}
	}
	if n := starts["/api/v1/namespaces/default/secrets/regcred"]; n != 1 {
		t.Errorf("the pull secret was read %d times, want once", n)
	}
	status := map[string]string{}
	for _, r := range res.Images {
		status[r.Target.Digest] = r.Status
	}
	if status[d.DigestStr()] != result.StatusScanned || status[missingDigest] != result.StatusFailed {
		t.Fatalf("image statuses %v; want the app scanned (pulled without its secret) and the ghost failed", status)
	}
	var problems []workload.Problem
	for _, cr := range res.Clusters {
		problems = append(problems, cr.Problems...)
	}
	want := workload.Problem{Cluster: "live", Kind: "secrets", Reason: "image pull secrets not usable: default/regcred (forbidden); " +
		"1 image(s) naming them could not be resolved or pulled. Fix: grant the scanner get on these secrets, or give the registry's credentials in ~/.docker/config.json"}
	if len(problems) != 1 || problems[0] != want {
		t.Errorf("problems = %+v\nwant only %+v", problems, want)
	}

	// Discovery only, as the scanner role and as a role for discovery alone.
	for _, who := range []struct {
		name string
		cfg  *rest.Config
	}{
		{"scanner", cluster.RESTConfig(t, c.ScannerKubeconfig)},
		{"discovery-only", discoveryOnlyConfig(ctx, t, c)},
	} {
		cfg, reqs := k8stest.Count(who.cfg)
		discs, err := clusterscan.Discover(ctx, clusterscan.Options{Clients: []k8s.ClusterClient{k8s.NewClusterClient(who.name, cfg)}, Registry: ropts})
		if err != nil {
			t.Fatal(err)
		}
		if touched := reqs.Touched(postureOnly...); len(touched) > 0 || reqs.ListStarts()["/apis"] > 0 {
			t.Errorf("%s: discovery requested %v (API groups: %d times); it needs none of them", who.name, touched, reqs.ListStarts()["/apis"])
		}
		if len(discs) != 1 || len(discs[0].Workloads) != 2 || len(discs[0].Problems) != 0 || discs[0].Funnel.Digests != 2 {
			t.Errorf("%s: discovery found %+v", who.name, discs)
		}
		for path, n := range reqs.ListStarts() {
			if kindPaths[path] && n != 1 {
				t.Errorf("%s: %s listed %d times, want once", who.name, path, n)
			}
		}
	}
}

// discoveryOnlyConfig authenticates as a service account whose role lets
// it list pods, their owners, namespaces and service accounts, and nothing
// else: no Services, networking, RBAC or secrets.
func discoveryOnlyConfig(ctx context.Context, t *testing.T, c *cluster.Cluster) *rest.Config {
	t.Helper()
	cs := c.Admin(t)
	const name = "runlens-discovery-only"
	list := []string{"get", "list"}
	steps := []func() error{
		func() error {
			_, err := cs.CoreV1().ServiceAccounts("default").Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: []rbacv1.PolicyRule{
				{APIGroups: []string{""}, Resources: []string{"pods", "namespaces", "serviceaccounts"}, Verbs: list},
				{APIGroups: []string{"apps"}, Resources: []string{"replicasets"}, Verbs: list},
				{APIGroups: []string{"batch"}, Resources: []string{"jobs"}, Verbs: list},
			}}, metav1.CreateOptions{})
			return err
		},
		func() error {
			_, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
				RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
				Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: name, Namespace: "default"}}}, metav1.CreateOptions{})
			return err
		},
	}
	for _, step := range steps {
		if err := step(); err != nil && !strings.Contains(err.Error(), "already exists") {
			t.Fatal(err)
		}
	}
	tok, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := rest.AnonymousClientConfig(cluster.RESTConfig(t, c.Kubeconfig))
	cfg.BearerToken = tok.Status.Token
	return cfg
}
