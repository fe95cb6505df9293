package discover

import (
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/workload"
)

// TestDiscoverFull runs the shared workload set on a real kubelet and
// containerd and discovers, with the shipped read-only scanner role, the
// digest the web Deployment really runs: the one the registry holds for
// the tag, as the kubelet reports it.
func TestDiscoverFull(t *testing.T) {
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("disc-full"))
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	img := cluster.AppImage(ctx, t)
	pushed := c.PushImage(ctx, t, img, "runlens-disc/app", "v1")
	c.ApplyWorkloads(ctx, t, c.Registry+"/runlens-disc/app:v1")
	admin := c.Admin(t)
	err := wait.PollUntilContextTimeout(ctx, time.Second, 5*time.Minute, true, func(ctx context.Context) (bool, error) {
		l, err := admin.CoreV1().Pods(cluster.FixtureNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
		if err != nil || len(l.Items) == 0 {
			return false, nil
		}
		for _, p := range l.Items {
			if len(p.Status.ContainerStatuses) == 0 || p.Status.ContainerStatuses[0].ImageID == "" {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("web pods never reported an imageID: %v", err)
	}

	d, err := Cluster(ctx, k8s.NewClusterClient("full", cluster.RESTConfig(t, c.ScannerKubeconfig)), Options{Namespaces: []string{cluster.FixtureNamespace}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("workloads:\n%s\nproblems:\n%s\nfunnel %+v", strings.Join(summary(d), "\n"), strings.Join(problemKinds(d), "\n"), d.Funnel)
	var web *workload.Workload
	for i := range d.Workloads {
		if d.Workloads[i].Kind == "Deployment" && d.Workloads[i].Name == "web" {
			web = &d.Workloads[i]
		}
	}
	if web == nil {
		t.Fatalf("no Deployment web in %v", summary(d))
	}
	if len(web.Nodes) != 1 || web.Nodes[0] != c.NodeName {
		t.Errorf("web nodes = %v, want [%s]", web.Nodes, c.NodeName)
	}
	found := false
	for _, ct := range web.Containers {
		if ct.Type == TypeContainer {
			found = true
			if ct.Digest != pushed.DigestStr() || ct.Repository != pushed.Context().Name() || ct.Image != c.Registry+"/runlens-disc/app:v1" {
				t.Errorf("web container %s: repo %s digest %s image %s; want %s", ct.Name, ct.Repository, ct.Digest, ct.Image, pushed)
			}
		}
	}
	if !found {
		t.Errorf("web has no containers: %+v", web)
	}
	if d.Funnel.Digests < 1 {
		t.Errorf("funnel = %+v", d.Funnel)
	}
}
