// Package clusterdiscovery benchmarks agentless discovery: two
// api-mode clusters holding 10,000 pods and 500 unique running digests
// between them, discovered through the shipped read-only scanner role.
//
//	sudo RUNLENS_E2E=1 go test ./bench/cluster-discovery/ -run TestDiscoveryBench -v -timeout 30m
//
// Object creation is timed on its own. Discovery runs in a child process
// (this test binary re-executed) so its peak RSS (VmHWM) is discovery's
// alone, not the creation clients'.
package clusterdiscovery

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/bench/cluster-discovery/fixture"
	"github.com/runlens/runlens/internal/k8s"
	"github.com/runlens/runlens/internal/k8s/discover"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/workload"
)

const childEnv = "RUNLENS_BENCH_DISCOVERY_CHILD"

// result is what the child reports.
type result struct {
	WallSeconds float64                    `json:"wall_seconds"`
	PeakRSSMB   float64                    `json:"peak_rss_mb"`
	Pods        int                        `json:"pods"`
	Containers  int                        `json:"containers"`
	Workloads   int                        `json:"workloads"`
	Digests     int                        `json:"unique_digests"`
	PerCluster  map[string]workload.Funnel `json:"per_cluster"`
	Problems    []string                   `json:"problems,omitempty"`
}

func TestDiscoveryBench(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child mode")
	}
	a := cluster.Start(t, cluster.ModeAPI, cluster.WithName("disc-bench-a"))
	b := cluster.Start(t, cluster.ModeAPI, cluster.WithName("disc-bench-b"))
	ctx := context.Background()

	t0 := time.Now()
	var wg sync.WaitGroup
	for i, c := range []*cluster.Cluster{a, b} {
		cfg := cluster.RESTConfig(t, c.Kubeconfig)
		cfg.QPS, cfg.Burst = 2000, 4000
		cs := kubernetes.NewForConfigOrDie(cfg)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fixture.Populate(ctx, cs, fixture.Config{DigestOffset: i * fixture.DigestOffsetB}); err != nil {
				t.Errorf("%s: %v", c.Name, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("created 2 x %d pods (with statuses), owners and nodes in %s", fixture.PodsPerCluster, time.Since(t0).Round(100*time.Millisecond))

	var r result
	fixture.RunChild(ctx, t, "TestDiscoveryChild", []string{childEnv + "=" + a.ScannerKubeconfig + string(os.PathListSeparator) + b.ScannerKubeconfig}, &r)
	fmt.Printf("\ncluster discovery: 2 clusters, %d pods, %d containers, %d workloads, %d unique digests\n", r.Pods, r.Containers, r.Workloads, r.Digests)
	fmt.Printf("  wall %.2f s   peak RSS %.1f MB   (targets for discovery + context: <= %s, <= %d MB)\n", r.WallSeconds, r.PeakRSSMB, maxWall, maxRSSMB)
	for n, f := range r.PerCluster {
		fmt.Printf("  %s: %+v\n", n, f)
	}
	if r.Pods != 2*fixture.PodsPerCluster || r.Digests != fixture.UniqueDigests {
		t.Errorf("discovered %d pods, %d digests; want %d, %d", r.Pods, r.Digests, 2*fixture.PodsPerCluster, fixture.UniqueDigests)
	}
	if len(r.Problems) > 0 {
		t.Errorf("problems: %v", r.Problems)
	}
	if r.WallSeconds > maxWall.Seconds() {
		t.Errorf("FAIL: discovery took %.2f s, target <= %s", r.WallSeconds, maxWall)
	}
	if r.PeakRSSMB > maxRSSMB {
		t.Errorf("FAIL: discovery peak RSS %.1f MB, target <= %d MB", r.PeakRSSMB, maxRSSMB)
	}
}

// The targets for discovering two clusters of 10,000 pods with their
// exposure and privilege context.
const (
	maxWall  = 10 * time.Second
	maxRSSMB = 300
)

// TestDiscoveryChild is the measured process.
func TestDiscoveryChild(t *testing.T) {
	kcs := os.Getenv(childEnv)
	if kcs == "" {
		t.Skip("run by TestDiscoveryBench")
	}
	var clients []k8s.ClusterClient
	for i, kc := range strings.Split(kcs, string(os.PathListSeparator)) {
		cs, err := k8s.LoadContexts(kc, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		cs[0].Name = fmt.Sprintf("cluster-%c", 'a'+i)
		clients = append(clients, cs[0])
	}
	t0 := time.Now()
	ds, err := discover.All(context.Background(), clients, discover.Options{NoRegistry: true}, 0)
	wall := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	rss, err := fixture.PeakRSSMB()
	if err != nil {
		t.Fatal(err)
	}
	r := result{WallSeconds: wall.Seconds(), PeakRSSMB: rss, PerCluster: map[string]workload.Funnel{}}
	digests := map[string]bool{}
	for _, d := range ds {
		r.PerCluster[d.Cluster] = d.Funnel
		r.Pods += d.Funnel.Pods
		r.Containers += d.Funnel.Containers
		r.Workloads += len(d.Workloads)
		for _, w := range d.Workloads {
			for _, c := range w.Containers {
				if c.Digest != "" {
					digests[c.Digest] = true
				}
			}
		}
		for _, p := range d.Problems {
			r.Problems = append(r.Problems, p.Cluster+" "+p.Kind+": "+p.Reason)
		}
	}
	r.Digests = len(digests)
	fixture.EmitResult(t, r)
}
