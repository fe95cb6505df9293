// Package clusterscanbench is the cluster-scan performance benchmark: a whole
// agentless cluster scan (discovery, exposure/sensitivity/RBAC context,
// one scan per unique digest, join) over two api-mode clusters holding
// 10,000 pods, 2,000 Services, 500 Ingresses, 300 NetworkPolicies and 500
// unique running digests.
//
//	sudo RUNLENS_E2E=1 go test ./bench/cluster-scan/ -run TestClusterScanBench -v -timeout 40m
//
// The image scans, and only they, are stubbed out by a pre-filled inventory
// cache: each digest's scan is answered by scan.Scanner.ScanDigest from the
// cache and matched against the real sample advisories, without a registry.
// The objects come from bench/cluster-discovery/fixture. The scan runs in a
// child process (this test binary re-executed) so its peak RSS (VmHWM) is
// the scan's alone, not the object-creating clients'.
package clusterscanbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/bench/cluster-discovery/fixture"
	"github.com/runlens/runlens/internal/cache"
	"github.com/runlens/runlens/internal/clusterscan"
	"github.com/runlens/runlens/internal/k8s"
	runresult "github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/vulndb"
	"github.com/runlens/runlens/internal/workload"
)

// The targets: the whole scan of both clusters within maxWall and maxRSSMB,
// with one scan per unique running digest.
const (
	maxWall     = 10 * time.Second
	maxRSSMB    = 300
	wantScans   = fixture.UniqueDigests
	childEnv    = "RUNLENS_BENCH_SCAN_CHILD" // scanner kubeconfigs, list-separated
	cacheDirEnv = "RUNLENS_BENCH_SCAN_CACHE"
	dbDirEnv    = "RUNLENS_BENCH_SCAN_DB"
)

// result is what the child reports.
type result struct {
	WallSeconds   float64        `json:"wall_seconds"`
	PeakRSSMB     float64        `json:"peak_rss_mb"`
	ScanRequests  int            `json:"scan_requests"`
	Images        int            `json:"images"`
	NotCached     []string       `json:"not_cached,omitempty"`
	NotScanned    []string       `json:"not_scanned,omitempty"`
	Findings      int            `json:"findings"`
	KEVFindings   int            `json:"kev_findings"`
	Workloads     int            `json:"workloads"`
	NoExposure    []string       `json:"no_exposure,omitempty"`
	NoSensitivity []string       `json:"no_sensitivity,omitempty"`
	Exposure      map[string]int `json:"exposure"`
	// Examples are one workload per exposure level with its explanation.
	Examples      map[string]string   `json:"examples"`
	ClusterAdmin  int                 `json:"cluster_admin_workloads"`
	ReadSecrets   int                 `json:"read_secrets_workloads"`
	CloudIdentity int                 `json:"cloud_identity_workloads"`
	Privileged    int                 `json:"privileged_workloads"`
	Clusters      []runresult.Cluster `json:"clusters"`
	Problems      []string            `json:"problems,omitempty"`
}

func TestClusterScanBench(t *testing.T) {
	if os.Getenv(childEnv) != "" {
		t.Skip("child mode")
	}
	a := cluster.Start(t, cluster.ModeAPI, cluster.WithName("scan-bench-a"))
	b := cluster.Start(t, cluster.ModeAPI, cluster.WithName("scan-bench-b"))
	ctx := context.Background()

	var admins []kubernetes.Interface
	for _, c := range []*cluster.Cluster{a, b} {
		cfg := cluster.RESTConfig(t, c.Kubeconfig)
		cfg.QPS, cfg.Burst = 2000, 4000
		admins = append(admins, kubernetes.NewForConfigOrDie(cfg))
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, cs := range admins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := fixture.Populate(ctx, cs, fixture.Config{DigestOffset: i * fixture.DigestOffsetB, Context: true}); err != nil {
				t.Errorf("cluster %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	creation := time.Since(t0)
	var total counts
	for _, cs := range admins {
		c, err := countObjects(ctx, cs)
		if err != nil {
			t.Fatal(err)
		}
		total.pods += c.pods
		total.services += c.services
		total.ingresses += c.ingresses
		total.policies += c.policies
		total.serviceAccounts += c.serviceAccounts
		total.roleBindings += c.roleBindings
	}
	if want := (counts{pods: 2 * fixture.PodsPerCluster, services: 2 * fixture.ServicesPerCluster,
		ingresses: 2 * fixture.IngressesPerCluster, policies: 2 * fixture.PoliciesPerCluster}); total.pods != want.pods ||
		total.services != want.services || total.ingresses != want.ingresses || total.policies != want.policies {
		t.Fatalf("clusters hold %+v, want at least %+v", total, want)
	}

	work := t.TempDir()
	cacheDir, dbDir := filepath.Join(work, "cache"), filepath.Join(work, "db")
	t1 := time.Now()
	if err := importDB(ctx, dbDir); err != nil {
		t.Fatal(err)
	}
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := fillCache(ctx, c); err != nil {
		t.Fatal(err)
	}
	prep := time.Since(t1)

	var r result
	fixture.RunChild(ctx, t, "TestClusterScanChild", []string{
		childEnv + "=" + a.ScannerKubeconfig + string(os.PathListSeparator) + b.ScannerKubeconfig,
		cacheDirEnv + "=" + cacheDir, dbDirEnv + "=" + dbDir}, &r)
	printFigures(total, creation, prep, &r)
	check(t, &r)
}

// check asserts the targets and that the scan really did the whole job.
func check(t *testing.T, r *result) {
	t.Helper()
	if r.WallSeconds > maxWall.Seconds() {
		t.Errorf("wall %.2f s, target <= %s", r.WallSeconds, maxWall)
	}
	if r.PeakRSSMB > maxRSSMB {
		t.Errorf("peak RSS %.1f MB, target <= %d MB", r.PeakRSSMB, maxRSSMB)
	}
	if r.ScanRequests != wantScans || r.Images != wantScans {
		t.Errorf("%d scans requested, %d image results; want exactly %d", r.ScanRequests, r.Images, wantScans)
	}
	if len(r.NotCached) > 0 || len(r.NotScanned) > 0 {
		t.Errorf("images not answered from the cache (a registry would have been contacted): %d not cached %v, %d not scanned %v",
			len(r.NotCached), first(r.NotCached), len(r.NotScanned), first(r.NotScanned))
	}
	if r.Findings == 0 {
		t.Error("no findings: the cached inventories matched nothing")
	}
	if r.Workloads != 2*fixture.WorkloadsPerCluster {
		t.Errorf("%d workloads, want %d", r.Workloads, 2*fixture.WorkloadsPerCluster)
	}
	if len(r.NoExposure) > 0 || len(r.NoSensitivity) > 0 {
		t.Errorf("workloads without exposure: %d %v; without sensitivity: %d %v",
			len(r.NoExposure), first(r.NoExposure), len(r.NoSensitivity), first(r.NoSensitivity))
	}
	for _, l := range []string{workload.ExposureInternet, workload.ExposureCluster, workload.ExposureIsolated} {
		if r.Exposure[l] == 0 {
			t.Errorf("no %s workloads: the fixture does not exercise that path (%v)", l, r.Exposure)
		}
	}
	if r.ClusterAdmin == 0 || r.CloudIdentity == 0 || r.Privileged == 0 {
		t.Errorf("sensitivity not exercised: %d cluster-admin, %d cloud identity, %d privileged", r.ClusterAdmin, r.CloudIdentity, r.Privileged)
	}
	if len(r.Problems) > 0 {
		t.Errorf("problems: %v", r.Problems)
	}
}

func first(s []string) []string { return s[:min(len(s), 5)] }

func printFigures(total counts, creation, prep time.Duration, r *result) {
	verdict := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	fmt.Printf("\ncluster scan benchmark: 2 api-mode clusters, %d pods, %d Services, %d Ingresses, %d NetworkPolicies, %d ServiceAccounts, %d RoleBindings\n",
		total.pods, total.services, total.ingresses, total.policies, total.serviceAccounts, total.roleBindings)
	fmt.Printf("object creation (not measured below): %s; vulndb import + cache fill: %s\n\n",
		creation.Round(100*time.Millisecond), prep.Round(10*time.Millisecond))
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "measure\tfigure\ttarget\tresult")
	fmt.Fprintf(w, "wall, clusterscan.Run (discovery + context + cached scans + join)\t%.2f s\t<= %.0f s\t%s\n",
		r.WallSeconds, maxWall.Seconds(), verdict(r.WallSeconds <= maxWall.Seconds()))
	fmt.Fprintf(w, "peak RSS of the scanning process (VmHWM)\t%.1f MB\t<= %d MB\t%s\n", r.PeakRSSMB, maxRSSMB, verdict(r.PeakRSSMB <= maxRSSMB))
	fmt.Fprintf(w, "scans requested (unique digests)\t%d\t= %d\t%s\n", r.ScanRequests, wantScans, verdict(r.ScanRequests == wantScans))
	fmt.Fprintf(w, "image results cached+scanned (no registry)\t%d/%d\t= %d\t%s\n", r.Images-len(r.NotCached)-len(r.NotScanned), r.Images,
		wantScans, verdict(r.Images == wantScans && len(r.NotCached)+len(r.NotScanned) == 0))
	fmt.Fprintf(w, "workloads with exposure and sensitivity\t%d/%d\t= all\t%s\n", r.Workloads-max(len(r.NoExposure), len(r.NoSensitivity)),
		r.Workloads, verdict(len(r.NoExposure)+len(r.NoSensitivity) == 0))
	w.Flush()
	levels := make([]string, 0, len(r.Exposure))
	for l, n := range r.Exposure {
		levels = append(levels, fmt.Sprintf("%s %d", l, n))
	}
	sort.Strings(levels)
	fmt.Printf("\nfindings %d (%d in KEV); exposure: %s; cluster-admin %d, read-secrets %d, cloud identity %d, privileged %d workloads\n",
		r.Findings, r.KEVFindings, strings.Join(levels, ", "), r.ClusterAdmin, r.ReadSecrets, r.CloudIdentity, r.Privileged)
	examples := make([]string, 0, len(r.Examples))
	for l := range r.Examples {
		examples = append(examples, l)
	}
	sort.Strings(examples)
	for _, l := range examples {
		fmt.Printf("  e.g. %s: %s\n", l, r.Examples[l])
	}
	for _, c := range r.Clusters {
		fmt.Printf("  %s: %d pods, %d containers, %d workloads, %d digests, %d scanned, %d failed, %d findings\n",
			c.Name, c.Pods, c.Containers, c.Workloads, c.Digests, c.Scanned, c.Failed, c.Findings)
	}
}

// TestClusterScanChild is the measured process.
func TestClusterScanChild(t *testing.T) {
	kcs := os.Getenv(childEnv)
	if kcs == "" {
		t.Skip("run by TestClusterScanBench")
	}
	ctx := context.Background()
	var clients []k8s.ClusterClient
	for i, kc := range strings.Split(kcs, string(os.PathListSeparator)) {
		cs, err := k8s.LoadContexts(kc, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		cs[0].Name = fmt.Sprintf("cluster-%c", 'a'+i)
		clients = append(clients, cs[0])
	}
	db, err := vulndb.Open(ctx, os.Getenv(dbDirEnv))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := cache.Open(os.Getenv(cacheDirEnv))
	if err != nil {
		t.Fatal(err)
	}
	s := &scan.Scanner{Advisories: db, Threats: db, Cache: c}

	t0 := time.Now()
	res, err := clusterscan.Run(ctx, s, clusterscan.Options{Clients: clients})
	wall := time.Since(t0)
	if err != nil {
		t.Fatal(err)
	}
	rss, err := fixture.PeakRSSMB()
	if err != nil {
		t.Fatal(err)
	}
	fixture.EmitResult(t, summarize(res, wall, rss))
}

// summarize reduces a cluster scan to the figures and checks the parent needs.
func summarize(res *clusterscan.Result, wall time.Duration, rss float64) *result {
	r := &result{WallSeconds: wall.Seconds(), PeakRSSMB: rss, ScanRequests: res.ScanRequests, Images: len(res.Images),
		Workloads: len(res.Workloads), Exposure: map[string]int{}, Examples: map[string]string{}, Clusters: res.Clusters}
	for _, img := range res.Images {
		if !img.Cached {
			r.NotCached = append(r.NotCached, img.Target.Digest)
		}
		if img.Status != runresult.StatusScanned {
			r.NotScanned = append(r.NotScanned, img.Target.Digest+": "+img.Status+" "+img.Error)
		}
		r.Findings += len(img.Findings)
		for _, f := range img.Findings {
			if f.KEV != nil {
				r.KEVFindings++
			}
		}
	}
	for _, w := range res.Workloads {
		if w.Exposure == nil || w.Exposure.Level == "" {
			r.NoExposure = append(r.NoExposure, w.Ref())
		} else {
			r.Exposure[w.Exposure.Level]++
			key := w.Exposure.Level
			if strings.Contains(strings.Join(w.Exposure.Paths, " "), "Ingress") {
				key += " via Ingress"
			}
			if _, ok := r.Examples[key]; !ok {
				r.Examples[key] = fmt.Sprintf("%s: paths %q, policies %q", w.Ref(), w.Exposure.Paths, w.Exposure.NetworkPolicies)
			}
		}
		if w.Sensitivity == nil {
			r.NoSensitivity = append(r.NoSensitivity, w.Ref())
			continue
		}
		sn := w.Sensitivity
		if sn.RBAC != nil && sn.RBAC.ClusterAdmin {
			r.ClusterAdmin++
		}
		if sn.RBAC != nil && sn.RBAC.ReadSecrets {
			r.ReadSecrets++
		}
		if len(sn.CloudIdentity) > 0 {
			r.CloudIdentity++
		}
		if sn.Privileged {
			r.Privileged++
		}
	}
	for _, c := range res.Clusters {
		for _, p := range c.Problems {
			r.Problems = append(r.Problems, p.Cluster+" "+p.Kind+": "+p.Reason)
		}
	}
	return r
}
