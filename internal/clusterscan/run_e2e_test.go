package clusterscan_test

import (
	"context"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/testing/testimage"
	"github.com/runlens/runlens/internal/vulndb"
)

const missingDigest = "sha256:0000000000000000000000000000000000000000000000000000000000000001"

// pod creates a bare pod running image and writes its status with imageID.
func pod(ctx context.Context, t *testing.T, c *cluster.Cluster, ns, name, image, imageID string) {
	t.Helper()
	cs := c.Admin(t)
	p, err := cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "main", Image: image}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cluster.SetPodStatus(ctx, t, cs, p, "node-1", nil, []corev1.ContainerStatus{cluster.RunningStatus("main", image, imageID)})
}

// A cluster scan whose running images include one the registry does not
// have, next to an unreachable cluster: the missing image is listed as
// failed with its reason and counted in the funnel, the shared digest is
// scanned once, the unreachable cluster is a problem, and a second run
// answers every scanned digest from the cache without asking the registry.
func TestRunFailedImageAndUnreachableCluster(t *testing.T) {
	ctx := context.Background()
	c := cluster.Start(t, cluster.ModeAPI, cluster.WithName("clusterscan-run"))
	cs := c.Admin(t)
	if _, err := cs.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "node-1"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	img := testimage.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=\"12\"\n"})
	d := c.PushImage(ctx, t, img, "runlens-cs/app", "1")
	ref := c.Registry + "/runlens-cs/app:1"
	pod(ctx, t, c, "default", "a", ref, c.Registry+"/runlens-cs/app@"+d.DigestStr())
	pod(ctx, t, c, "default", "b", ref, "docker-pullable://"+c.Registry+"/runlens-cs/app@"+d.DigestStr())
	gone := c.Registry + "/runlens-cs/gone:1"
	pod(ctx, t, c, "default", "ghost", gone, c.Registry+"/runlens-cs/gone@"+missingDigest)

	dbDir := t.TempDir()
	if _, err := vulndb.Import(ctx, dbDir, vulndb.OSVDir("../scan/testdata/osv")); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dbDir)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	invCache, _ := cache.Open(t.TempDir())
	s := &scan.Scanner{Advisories: db, Cache: invCache, TempDir: t.TempDir()}
	kubeconfig := kubeconfigWithGone(t, c)
	opts := clusterscan.Options{Kubeconfig: kubeconfig, Contexts: []string{"live", "gone"}, Registry: registry.Options{Insecure: true}}

	res, err := clusterscan.Run(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	if res.ScanRequests != 2 {
		t.Errorf("%d scans requested, want 2 (one per unique digest)", res.ScanRequests)
	}
	status := map[string]*result.Image{}
	for _, r := range res.Images {
		status[r.Target.Digest] = r
	}
	if r := status[d.DigestStr()]; r == nil || r.Status != result.StatusScanned {
		t.Errorf("app image: %+v", r)
	}
	ghost := status[missingDigest]
	if ghost == nil || ghost.Status != result.StatusFailed || ghost.Error == "" || ghost.Findings == nil {
		t.Fatalf("missing image must be failed with a reason and an empty finding list: %+v", ghost)
	}
	clusters := map[string]result.Cluster{}
	for _, cr := range res.Clusters {
		clusters[cr.Name] = cr
	}
	live := clusters["live"]
	if live.Pods != 3 || live.Digests != 2 || live.Scanned != 1 || live.Failed != 1 {
		t.Errorf("live funnel = %+v; want 3 pods, 2 digests, 1 scanned, 1 failed", live)
	}
	if g, ok := clusters["gone"]; !ok || len(g.Problems) == 0 || g.Problems[0].Reason == "" {
		t.Errorf("unreachable cluster not reported as a problem: %+v", g)
	}
	var ghostWorkload bool
	for _, w := range res.Workloads {
		if w.Name == "ghost" {
			ghostWorkload = true
			if len(w.Unscanned) != 1 {
				t.Errorf("ghost workload does not list its image as unscanned: %+v", w.Unscanned)
			}
		}
	}
	if !ghostWorkload {
		t.Error("the workload running the failed image is missing")
	}

	// Again: the scanned digest comes from the cache, the failed one is
	// tried again (a failure is never cached).
	again, err := clusterscan.Run(ctx, s, opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range again.Images {
		switch r.Target.Digest {
		case d.DigestStr():
			if !r.Cached {
				t.Error("second run rescanned a cached digest")
			}
		case missingDigest:
			if r.Cached || r.Status != result.StatusFailed {
				t.Errorf("second run: missing image %+v", r)
			}
		}
	}
}

// kubeconfigWithGone writes a kubeconfig with c's read-only scanner
// context as "live" and a context whose server is a closed port as "gone".
func kubeconfigWithGone(t *testing.T, c *cluster.Cluster) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(c.ScannerKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	cur := *cfg.Contexts[cfg.CurrentContext]
	cfg.Contexts = map[string]*clientcmdapi.Context{"live": &cur}
	cfg.Clusters["gone"] = &clientcmdapi.Cluster{Server: "https://127.0.0.1:1"}
	cfg.AuthInfos["gone"] = &clientcmdapi.AuthInfo{Token: "x"}
	cfg.Contexts["gone"] = &clientcmdapi.Context{Cluster: "gone", AuthInfo: "gone"}
	cfg.CurrentContext = "live"
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}
