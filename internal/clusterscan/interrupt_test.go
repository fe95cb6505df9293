package clusterscan_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/k8stest"
	"github.com/runlens/runlens/internal/osv"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/scan"
)

type noAdvisories struct{}

func (noAdvisories) Lookup(context.Context, string, string) ([]*osv.Vulnerability, error) {
	return nil, nil
}

func runningPod(name, imageID string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: imageID}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
			{Name: "app", Image: imageID, ImageID: imageID},
		}},
	}
}

// A deadline during the scans keeps what finished: the fast image is
// scanned, the one whose registry trickles is failed with the reason, and
// the workloads are still joined.
func TestRunInterruptedKeepsFinishedResults(t *testing.T) {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	reg := registrytest.New(t, registrytest.Config{})
	fast := reg.Push(t, "shop/fast:1", registrytest.Image(t, "linux/amd64", map[string]string{"etc/os-release": "ID=debian\n"}))
	slow := reg.Push(t, "shop/slow:1", registrytest.Image(t, "linux/amd64", map[string]string{"slow": "slow"}))
	reg.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasPrefix(r.URL.Path, "/v2/shop/slow/manifests/") {
			return false
		}
		for {
			if _, err := w.Write([]byte(" ")); err != nil {
				return true
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return true
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	client := fake.NewClientset(
		runningPod("fast", reg.Ref("shop/fast@"+fast.String())),
		runningPod("slow", reg.Ref("shop/slow@"+slow.String())),
	)
	const limit = 1500 * time.Millisecond
	ctx, cancel := context.WithTimeoutCause(context.Background(), limit, &scan.TimeoutError{Timeout: limit})
	defer cancel()
	s := &scan.Scanner{Advisories: noAdvisories{}, TempDir: t.TempDir()}
	res, err := clusterscan.Run(ctx, s, clusterscan.Options{
		Clients:  []k8s.ClusterClient{{Name: "kind", API: k8stest.Clientset(client, nil)}},
		Registry: registry.Options{Insecure: true, Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond})},
	})
	if !errors.Is(err, scan.ErrInterrupted) || res == nil {
		t.Fatalf("Run = %v, %v; want the result so far and the interruption", res, err)
	}
	got := map[string]string{}
	for _, r := range res.Images {
		got[r.Target.Digest] = r.Status + ": " + r.Error
	}
	if got[fast.String()] != "scanned: " || got[slow.String()] != "failed: scan interrupted: deadline exceeded (the scan's time limit of 1.5s ran out)" {
		t.Errorf("results %v", got)
	}
	if len(res.Workloads) != 2 {
		t.Errorf("%d workloads joined, want 2", len(res.Workloads))
	}
}
