package clusterscan_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/k8stest"
	"github.com/runlens/runlens/internal/result"
)

// Registry digests a cluster runs are marked running with their
// workloads; the others stale; entries without a digest are left alone.
func TestMarkRunning(t *testing.T) {
	const (
		live  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
		stale = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	)
	client := fake.NewClientset(
		runningPod("web-1", "localhost:5000/shop/web@"+live),
		runningPod("web-2", "localhost:5000/shop/web@"+live),
	)
	images := []*result.Image{
		{Target: image.Descriptor{Reference: "localhost:5000/shop/web@" + live, Digest: live}},
		{Target: image.Descriptor{Reference: "localhost:5000/shop/web@" + stale, Digest: stale}},
		{Target: image.Descriptor{Reference: "localhost:5000/shop/api:1"}},
	}
	opts := clusterscan.Options{Clients: []k8s.ClusterClient{{Name: "prod", API: k8stest.Clientset(client, nil)}}}
	if _, err := clusterscan.MarkRunning(context.Background(), opts, images); err != nil {
		t.Fatal(err)
	}
	type mark struct {
		Running *bool
		In      []string
	}
	yes, no := true, false
	want := []mark{{&yes, []string{"prod/shop/Pod/web-1", "prod/shop/Pod/web-2"}}, {&no, nil}, {nil, nil}}
	var got []mark
	for _, r := range images {
		got = append(got, mark{r.Running, r.RunningIn})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("marks (-want +got):\n%s", diff)
	}
}
