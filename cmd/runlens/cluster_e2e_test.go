package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/testing/cluster"
)

// shopCluster brings up an api-mode cluster with the shop workload set, the
// bundled sample image as web and a tiny image, with pod statuses written
// as a kubelet would (imageID = registry@digest). It returns the cluster
// and the web digest.
func shopCluster(ctx context.Context, t *testing.T, name string) (*cluster.Cluster, string) {
	c := cluster.Start(t, cluster.ModeAPI, cluster.WithName(name))
	sample, err := tarball.ImageFromPath(sampleImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	web := c.PushImage(ctx, t, sample, "shop/web", "1.0")
	tiny := c.PushImage(ctx, t, registrytest.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"}), "shop/tiny", "1")
	manifest, err := os.ReadFile("testdata/cluster-shop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := strings.NewReplacer("{{WEB}}", c.Registry+"/shop/web:1.0", "{{TINY}}", c.Registry+"/shop/tiny:1").Replace(string(manifest))
	if _, err := cluster.Apply(ctx, cluster.RESTConfig(t, c.Kubeconfig), []byte(y)); err != nil {
		t.Fatal(err)
	}
	cs := c.Admin(t)
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	webID := c.Registry + "/shop/web@" + web.DigestStr()
	tinyID := c.Registry + "/shop/tiny@" + tiny.DigestStr()
	// The Deployment's pods come from the real controller-manager; write
	// their status as the kubelet would.
	var pods []corev1.Pod
	err = wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		l, err := cs.CoreV1().Pods("shop").List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		pods = l.Items
		return len(pods) == 3, nil
	})
	if err != nil {
		t.Fatalf("waiting for 3 pods in shop: have %d: %v", len(pods), err)
	}
	for i := range pods {
		p := &pods[i]
		var init, main []corev1.ContainerStatus
		for _, ic := range p.Spec.InitContainers {
			init = append(init, cluster.RunningStatus(ic.Name, ic.Image, tinyID))
		}
		for _, mc := range p.Spec.Containers {
			id := tinyID
			if mc.Name == "web" {
				id = "docker-pullable://" + webID
			}
			main = append(main, cluster.RunningStatus(mc.Name, mc.Image, id))
		}
		cluster.SetPodStatus(ctx, t, cs, p, "node-1", init, main)
	}
	return c, web.DigestStr()
}

// mergeKubeconfigs writes one kubeconfig whose contexts are the given
// clusters' read-only scanner users, named as the map says, plus a context
// pointing at a closed port.
func mergeKubeconfigs(t *testing.T, clusters map[string]*cluster.Cluster) string {
	t.Helper()
	out := clientcmdapi.NewConfig()
	for ctxName, c := range clusters {
		cfg, err := clientcmd.LoadFromFile(c.ScannerKubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		cur := cfg.Contexts[cfg.CurrentContext]
		out.Clusters[ctxName] = cfg.Clusters[cur.Cluster]
		out.AuthInfos[ctxName] = cfg.AuthInfos[cur.AuthInfo]
		out.Contexts[ctxName] = &clientcmdapi.Context{Cluster: ctxName, AuthInfo: ctxName}
	}
	out.Clusters["gone"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	out.AuthInfos["gone"] = &clientcmdapi.AuthInfo{Token: "x"}
	out.Contexts["gone"] = &clientcmdapi.Context{Cluster: "gone", AuthInfo: "gone"}
	out.CurrentContext = "prod-eu"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*out, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestScanClusterTwoClustersReadOnlyRole(t *testing.T) {
	ctx := context.Background()
	eu, webDigest := shopCluster(ctx, t, "scan-eu")
	us, webDigestUS := shopCluster(ctx, t, "scan-us")
	if webDigest != webDigestUS {
		t.Fatalf("the same image pushed twice has two digests: %s %s", webDigest, webDigestUS)
	}
	kubeconfig := mergeKubeconfigs(t, map[string]*cluster.Cluster{"prod-eu": eu, "prod-us": us})
	c := newCLI(t)

	doc := c.json("", exitError, "scan", "cluster", "--kubeconfig", kubeconfig, "--context", "prod-eu,prod-us,gone",
		"--critical-namespaces", "env=prod", "--internal-registries", "localhost")

	// One scan per unique digest across both clusters: web and tiny.
	if len(doc.Images) != 2 {
		t.Fatalf("scanned %d images, want 2 (web + tiny, shared by both clusters): %+v", len(doc.Images), doc.Images)
	}
	var web *result.Image
	for i := range doc.Images {
		if doc.Images[i].Target.Digest == webDigest {
			web = doc.Images[i]
		}
	}
	if web == nil || web.Status != result.StatusScanned {
		t.Fatalf("web image not scanned: %+v", doc.Images)
	}
	if len(web.Findings) == 0 || len(web.RunningIn) != 2 {
		t.Errorf("web: %d findings, running in %v; want the sample's findings in both clusters", len(web.Findings), web.RunningIn)
	}

	wls := map[string]*result.Workload{}
	for _, w := range doc.Workloads {
		wls[w.Cluster+"/"+w.Kind+"/"+w.Name] = w
	}
	for _, cl := range []string{"prod-eu", "prod-us"} {
		w, ok := wls[cl+"/Deployment/web"]
		if !ok {
			t.Fatalf("%s: Deployment web not found in %v", cl, keys(wls))
		}
		if w.Pods != 2 || len(w.Containers) != 2 {
			t.Errorf("%s web: %d pods, %d containers; want 2 pods, 2 containers (init included)", cl, w.Pods, len(w.Containers))
		}
		if w.Exposure == nil || w.Exposure.Level != "internet" || !containsPrefix(w.Exposure.Paths, "Service shop/web NodePort") {
			t.Errorf("%s web exposure = %+v; want internet via NodePort", cl, w.Exposure)
		}
		if s := w.Sensitivity; s == nil || s.RBAC == nil || !s.RBAC.ClusterAdmin || !s.CriticalNamespace {
			t.Errorf("%s web sensitivity = %+v; want cluster-admin RBAC in a critical namespace", cl, w.Sensitivity)
		}
		if w.FindingsBySeverity["CRITICAL"] == 0 {
			t.Errorf("%s web carries no critical findings: %v", cl, w.FindingsBySeverity)
		}
		if w.Containers[0].Owner != "internal" {
			t.Errorf("%s web owner = %q (%s); want internal", cl, w.Containers[0].Owner, w.Containers[0].OwnerReason)
		}
		db, ok := wls[cl+"/Pod/db"]
		if !ok || db.Exposure == nil || db.Exposure.Level != "isolated" {
			t.Errorf("%s db exposure = %+v; want isolated behind the deny-all policy", cl, db.Exposure)
		}
	}

	// The funnel per cluster, and the unreachable context reported, not fatal.
	got := map[string]result.Cluster{}
	for _, cr := range doc.Summary.Clusters {
		got[cr.Name] = cr
	}
	for _, cl := range []string{"prod-eu", "prod-us"} {
		cr := got[cl]
		if cr.Pods != 3 || cr.Containers != 5 || cr.Digests != 2 || cr.Scanned != 2 || cr.Failed != 0 || cr.Findings == 0 {
			t.Errorf("%s funnel = %+v; want 3 pods, 5 containers, 2 digests, 2 scanned", cl, cr)
		}
	}
	if gone := got["gone"]; len(gone.Problems) == 0 {
		t.Errorf("unreachable context not reported: %+v", gone)
	}

	// The registry view marks what runs and what is stale.
	eu.PushImage(ctx, t, registrytest.Image(t, "linux/amd64", map[string]string{"old": "build"}), "shop/web", "0.9")
	reg := c.json("", 0, "scan", "registry", eu.Registry+"/shop/web", "--running-in", "prod-eu", "--kubeconfig", kubeconfig)
	marks := map[string]string{}
	for _, img := range reg.Images {
		if img.Running == nil {
			t.Fatalf("%s has no running mark", img.Target.Reference)
		}
		marks[strings.Join(img.Tags, ",")] = map[bool]string{true: "running", false: "stale"}[*img.Running]
	}
	want := map[string]string{eu.Registry + "/shop/web:1.0": "running", eu.Registry + "/shop/web:0.9": "stale"}
	if len(marks) != 2 || marks[eu.Registry+"/shop/web:1.0"] != want[eu.Registry+"/shop/web:1.0"] || marks[eu.Registry+"/shop/web:0.9"] != "stale" {
		t.Errorf("running marks = %v, want %v", marks, want)
	}

	// The table shows the workload view and the funnel.
	code, out, _ := c.run("", "scan", "cluster", "--kubeconfig", kubeconfig, "--context", "prod-eu", "--view", "workloads")
	if code != 0 || !strings.Contains(out, "WORKLOADS") || !strings.Contains(out, "Cluster prod-eu: 3 pods") {
		t.Errorf("table view: exit %d\n%s", code, out)
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func containsPrefix(list []string, prefix string) bool {
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}
