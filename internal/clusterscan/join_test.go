package clusterscan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/k8s/discover"
	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/workload"
)

const (
	dWeb  = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	dTiny = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	dGone = "sha256:3333333333333333333333333333333333333333333333333333333333333333"
)

func disc(cluster string, wls ...workload.Workload) *discover.Discovery {
	for i := range wls {
		wls[i].Cluster = cluster
	}
	return &discover.Discovery{Snapshot: workload.Snapshot{Cluster: cluster, Workloads: wls,
		Funnel: workload.Funnel{Pods: 2, Containers: 3, Digests: 2}}}
}

func ctr(name, digest string, secrets ...string) workload.Container {
	c := workload.Container{Name: name, Type: "container", Digest: digest, PullSecrets: secrets}
	if digest != "" {
		c.Repository = "localhost:5000/shop/" + name
	}
	return c
}

func TestTargetsAreUniqueDigestsAcrossClusters(t *testing.T) {
	discs := []*discover.Discovery{
		disc("eu", workload.Workload{Namespace: "shop", Kind: "Deployment", Name: "web", Containers: []workload.Container{ctr("web", dWeb, "regcred"), ctr("migrate", dTiny)}}),
		disc("us", workload.Workload{Namespace: "shop", Kind: "Deployment", Name: "web", Containers: []workload.Container{ctr("web", dWeb)}},
			workload.Workload{Namespace: "shop", Kind: "Pod", Name: "pending", Containers: []workload.Container{ctr("x", "")}}),
	}
	got := map[string][]string{}
	for _, tg := range collectTargets(discs) {
		got[tg.digest] = tg.runningIn
	}
	want := map[string][]string{
		dWeb:  {"eu/shop/Deployment/web", "us/shop/Deployment/web"},
		dTiny: {"eu/shop/Deployment/web"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("targets (-want +got):\n%s", diff)
	}
}

func TestJoinFansResultsOutAndCountsTheFunnel(t *testing.T) {
	discs := []*discover.Discovery{
		disc("eu", workload.Workload{Namespace: "shop", Kind: "Deployment", Name: "web",
			Containers: []workload.Container{ctr("web", dWeb), ctr("sidecar", dWeb), ctr("old", dGone), ctr("pending", "")}}),
	}
	byDigest := map[string]*result.Image{
		dWeb:  {Status: result.StatusScanned, Findings: []match.Finding{{ID: "CVE-1", Severity: "CRITICAL"}, {ID: "CVE-2", Severity: "LOW"}}},
		dGone: {Status: result.StatusFailed, Error: "manifest unknown"},
	}
	wls, clusters := join(discs, byDigest)
	if len(wls) != 1 {
		t.Fatalf("got %d workloads", len(wls))
	}
	// The same digest in two containers counts once.
	if diff := cmp.Diff(map[string]int{"CRITICAL": 1, "LOW": 1}, wls[0].FindingsBySeverity); diff != "" {
		t.Errorf("findings by severity (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"old: manifest unknown", "pending: running digest unknown"}, wls[0].Unscanned); diff != "" {
		t.Errorf("unscanned (-want +got):\n%s", diff)
	}
	c := clusters[0]
	if c.Scanned != 1 || c.Failed != 1 || c.Findings != 2 || c.Workloads != 1 {
		t.Errorf("cluster funnel = %+v; want 1 scanned, 1 failed, 2 findings", c)
	}

	if c.Status != result.StatusScanned {
		t.Errorf("cluster status = %q, want scanned", c.Status)
	}

	// Filtering the document narrows workloads and clusters alike.
	byDigest[dWeb].Target.Digest = dWeb
	byDigest[dGone].Target.Digest = dGone
	doc := result.New(result.Header{}, []*result.Image{byDigest[dWeb], byDigest[dGone]}, wls, clusters)
	doc.Filter(result.Filters{Severities: []string{"CRITICAL"}})
	if diff := cmp.Diff(map[string]int{"CRITICAL": 1}, doc.Workloads[0].FindingsBySeverity); diff != "" {
		t.Errorf("after filter (-want +got):\n%s", diff)
	}
	if doc.Summary.Clusters[0].Findings != 1 {
		t.Errorf("cluster findings after filter = %d, want 1", doc.Summary.Clusters[0].Findings)
	}
}

func TestJoinMarksAnUnreachableClusterFailed(t *testing.T) {
	d := disc("gone")
	d.Problems = []workload.Problem{{Cluster: "gone", Kind: discover.ProblemConnect, Reason: "cluster unreachable"}}
	_, clusters := join([]*discover.Discovery{d, disc("eu")}, nil)
	if clusters[0].Status != result.StatusFailed || clusters[1].Status != result.StatusScanned {
		t.Errorf("statuses %q, %q; want failed, scanned", clusters[0].Status, clusters[1].Status)
	}
}
