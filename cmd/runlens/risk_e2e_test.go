package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/runlens/runlens/internal/match"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/testing/cluster"
	"github.com/runlens/runlens/internal/workload"
)

// The KEV-listed log4j finding of the bundled sample: CISA says
// exploitation active, automatable yes, technical impact total.
const riskKEV = "CVE-2021-44228"

// Workloads of the scenario (internal/testing/cluster/testdata/risk.yaml).
const (
	riskStorefront  = "shop-prod/Deployment/storefront"
	riskInternalAPI = "shop-prod/Deployment/internal-api"
	riskWorker      = "batch/Deployment/worker"
)

// TestRiskRankingOnRealCluster runs the bundled sample (with a small server
// added so its pods stay up) on a full local cluster as three workloads of
// very different exposure and privilege, scans the cluster as the read-only
// scanner user, and checks that the ranking of the same findings follows
// the workloads: immediate only where exploitation is active and the
// workload is open to the internet with the power to hurt, lower elsewhere.
func TestRiskRankingOnRealCluster(t *testing.T) {
	t0 := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("risk"))
	tUp := time.Now()

	sample, err := tarball.ImageFromPath(sampleImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	pushed := c.PushImage(ctx, t, cluster.WithApp(ctx, t, sample), "shop/app", "2.14")
	digest := pushed.DigestStr()
	if _, err := cluster.Apply(ctx, cluster.RESTConfig(t, c.Kubeconfig), cluster.RiskManifest(c.Registry+"/shop/app:2.14")); err != nil {
		t.Fatal(err)
	}
	pods := riskWaitPods(ctx, t, c.Admin(t), 4*time.Minute)
	for _, p := range pods {
		if id := p.Status.ContainerStatuses[0].ImageID; id != pushed.String() {
			t.Errorf("pod %s/%s runs %q, want the pushed %q", p.Namespace, p.Name, id, pushed.String())
		}
	}
	tPods := time.Now()

	cfg, err := clientcmd.LoadFromFile(c.ScannerKubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	clusterName := cfg.CurrentContext
	cli := newCLI(t)
	saved := filepath.Join(t.TempDir(), "result.json")
	scan := []string{"scan", "cluster", "--kubeconfig", c.ScannerKubeconfig,
		"--critical-namespaces", "env=prod", "--internal-registries", "localhost"}
	if code, _, stderr := cli.run("", append(scan, "-f", "json", "-o", saved)...); code != exitOK {
		t.Fatalf("scan cluster: exit %d\n%s", code, stderr)
	}
	tScan := time.Now()
	doc := riskReadResult(t, saved)

	img := riskCheckScenario(t, doc, clusterName, digest)
	if !t.Failed() {
		riskCheckRanking(t, doc, img, clusterName)
	}
	if !t.Failed() {
		riskCheckExplain(t, cli, doc, saved)
		riskCheckExplainAll(t, cli, doc, saved)
		riskCheckFormats(t, cli, saved)
		riskCheckTable(t, cli, scan)
	}
	if !t.Failed() {
		serverCheckCluster(t, cli, scan, clusterName, doc)
	}
	ms := func(d time.Duration) time.Duration { return d.Round(10 * time.Millisecond) }
	t.Logf("timings: cluster up %s, image+apply+pods running %s, db import+scan %s, checks %s, total %s (before teardown)",
		ms(tUp.Sub(t0)), ms(tPods.Sub(tUp)), ms(tScan.Sub(tPods)), ms(time.Since(tScan)), ms(time.Since(t0)))
}

// riskWaitPods waits until storefront's two pods, internal-api's and
// worker's run, and returns them.
func riskWaitPods(ctx context.Context, t *testing.T, cs kubernetes.Interface, timeout time.Duration) []corev1.Pod {
	t.Helper()
	want := map[string]int{"storefront": 2, "internal-api": 1, "worker": 1}
	deadline := time.Now().Add(timeout)
	for {
		var pods []corev1.Pod
		var waiting []string
		for _, ns := range []string{cluster.RiskProdNamespace, cluster.RiskBatchNamespace} {
			l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				waiting = append(waiting, err.Error())
				continue
			}
			pods = append(pods, l.Items...)
		}
		running := map[string]int{}
		for _, p := range pods {
			if p.Status.Phase == corev1.PodRunning && len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil {
				running[p.Labels["app"]]++
				continue
			}
			waiting = append(waiting, fmt.Sprintf("%s/%s: %s %+v", p.Namespace, p.Name, p.Status.Phase, p.Status.ContainerStatuses))
		}
		done := len(waiting) == 0
		for app, n := range want {
			done = done && running[app] == n
		}
		if done {
			return pods
		}
		if time.Now().After(deadline) {
			t.Fatalf("scenario pods not running after %s: running %v; %s", timeout, running, strings.Join(waiting, "; "))
		}
		time.Sleep(time.Second)
	}
}

func riskReadResult(t *testing.T, path string) *result.Document {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc result.Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return &doc
}

// riskCheckScenario checks what the ranking stands on: one image, run by the
// three workloads, whose exposure and sensitivity are as the manifest means.
func riskCheckScenario(t *testing.T, doc *result.Document, clusterName, digest string) *result.Image {
	t.Helper()
	if len(doc.Images) != 1 || doc.Images[0].Target.Digest != digest || doc.Images[0].Status != result.StatusScanned {
		t.Fatalf("images = %d, want exactly the pushed %s, scanned", len(doc.Images), digest)
	}
	img := doc.Images[0]
	if !riskImageHas(img, riskKEV) {
		t.Fatalf("the image lacks %s", riskKEV)
	}
	nonKEV := 0
	for _, f := range img.Findings {
		if f.KEV == nil {
			nonKEV++
		}
	}
	if nonKEV == 0 {
		t.Errorf("the image has no finding outside KEV")
	}
	wls := riskWorkloads(doc)
	if len(wls) != 3 {
		t.Fatalf("workloads = %v, want storefront, internal-api and worker", keys(wls))
	}
	for ref, w := range wls {
		if w.Cluster != clusterName || len(w.Containers) != 1 || w.Containers[0].Digest != digest {
			t.Errorf("%s: cluster %q, containers %+v; want %s running %s", ref, w.Cluster, w.Containers, clusterName, digest)
		}
		if w.Exposure == nil || w.Sensitivity == nil {
			t.Fatalf("%s: exposure or sensitivity not evaluated: %+v %+v", ref, w.Exposure, w.Sensitivity)
		}
		if len(w.Exposure.Unknown)+len(w.Sensitivity.Unknown) > 0 {
			t.Errorf("%s: the scanner role left unknowns: %v %v", ref, w.Exposure.Unknown, w.Sensitivity.Unknown)
		}
	}
	sf, api, wk := wls[riskStorefront], wls[riskInternalAPI], wls[riskWorker]
	if sf.Pods != 2 || sf.Exposure.Level != workload.ExposureInternet ||
		!containsPrefix(sf.Exposure.Paths, "Ingress shop-prod/storefront (shop.runlens.invalid/) → Service shop-prod/storefront:80 → pod port 8080") {
		t.Errorf("storefront: %d pods, exposure %+v; want 2 pods, internet through the Ingress", sf.Pods, sf.Exposure)
	}
	if s := sf.Sensitivity; s.RBAC == nil || !s.RBAC.ClusterAdmin || !s.CriticalNamespace || !s.ServiceAccountToken {
		t.Errorf("storefront sensitivity = %+v; want cluster-admin token in a critical namespace", s)
	}
	if api.Exposure.Level != workload.ExposureCluster {
		t.Errorf("internal-api exposure = %+v; want cluster", api.Exposure)
	}
	if s := api.Sensitivity; !s.CriticalNamespace || riskHumanImpact(s) != riskHIMedium {
		t.Errorf("internal-api sensitivity = %+v; want a critical namespace and no power beyond a plain token", s)
	}
	if wk.Exposure.Level != workload.ExposureIsolated || len(wk.Exposure.NetworkPolicies) != 1 || wk.Exposure.NetworkPolicies[0] != "batch/worker-deny-ingress" {
		t.Errorf("worker exposure = %+v; want isolated by batch/worker-deny-ingress", wk.Exposure)
	}
	if s := wk.Sensitivity; s.CriticalNamespace || s.ServiceAccountToken || s.MayRunAsRoot || s.RunsAsRoot || s.AllowPrivilegeEscalation || len(s.Reasons) > 0 {
		t.Errorf("worker sensitivity = %+v; want nothing sensitive", s)
	}
	return img
}

// riskWorkloads indexes the scenario's workloads by namespace/Kind/name.
func riskWorkloads(doc *result.Document) map[string]*result.Workload {
	out := map[string]*result.Workload{}
	for _, w := range doc.Workloads {
		if w.Namespace == cluster.RiskProdNamespace || w.Namespace == cluster.RiskBatchNamespace {
			out[w.Namespace+"/"+w.Kind+"/"+w.Name] = w
		}
	}
	return out
}

func riskImageHas(img *result.Image, id string) bool {
	for _, f := range img.Findings {
		if f.ID == id {
			return true
		}
	}
	return false
}

// Human Impact levels, lowest first.
const (
	riskHILow = iota
	riskHIMedium
	riskHIHigh
	riskHIVeryHigh
)

// riskHumanImpact is the Human Impact a workload's sensitivity gives, before
// the namespace and the vulnerability adjust it.
func riskHumanImpact(s *workload.Sensitivity) int {
	r := s.RBAC
	if r == nil {
		r = &workload.RBACPower{}
	}
	switch {
	case s.Privileged || len(s.SensitiveHostPaths) > 0 || r.ClusterAdmin || r.EscalateOrBind || r.Impersonate:
		return riskHIVeryHigh
	case r.ReadSecrets || r.CreatePods || r.ExecPods || len(s.CloudIdentity) > 0 || s.HostPID || s.HostNetwork || s.HostIPC:
		return riskHIHigh
	case len(s.SecretVolumes)+len(s.SecretEnv) > 0 || s.ServiceAccountToken || s.RunsAsRoot || s.MayRunAsRoot || s.AllowPrivilegeEscalation:
		return riskHIMedium
	}
	return riskHILow
}

// riskHINames are the Human Impact values, riskHILow first.
var riskHINames = []string{"low", "medium", "high", "very high"}

// riskExpect derives the decision inputs of finding f on workload w from
// the finding's SSVC points and the workload's posture alone: Exploitation
// (CISA's, else KEV → active), Automatable, and Human Impact (the
// sensitivity, one step up in a critical namespace, then one step down for
// a partial technical impact).
func riskExpect(f *match.Finding, w *result.Workload) (expl, auto string, hi int) {
	impact := ""
	if f.SSVC != nil {
		if p := f.SSVC.Exploitation; p != nil {
			expl = p.Value
		}
		if p := f.SSVC.Automatable; p != nil {
			auto = p.Value
		}
		if p := f.SSVC.TechnicalImpact; p != nil {
			impact = p.Value
		}
	}
	if f.KEV != nil && (f.SSVC == nil || f.SSVC.Exploitation == nil || f.SSVC.Exploitation.Source != "cisa") {
		expl = "active"
	}
	hi = riskHumanImpact(w.Sensitivity)
	if w.Sensitivity.CriticalNamespace {
		hi = min(hi+1, riskHIVeryHigh)
	}
	if impact == "partial" {
		hi = max(hi-1, riskHILow)
	}
	return expl, auto, hi
}

// riskExpectImmediate says whether the Deployer table must say immediate:
// exploitation active, exposure open (internet), and Human Impact very
// high, or high with an automatable vulnerability.
func riskExpectImmediate(f *match.Finding, w *result.Workload) bool {
	expl, auto, hi := riskExpect(f, w)
	if expl != "active" || w.Exposure.Level != workload.ExposureInternet {
		return false
	}
	return hi == riskHIVeryHigh || (hi == riskHIHigh && auto == "yes")
}

// riskFormats reads the formats `scan cluster --help` lists for --format.
func riskFormats(t *testing.T, help string) []string {
	t.Helper()
	m := regexp.MustCompile(`--format string\s+report format: ([^\n(]+)`).FindStringSubmatch(help)
	if m == nil {
		t.Fatalf("no --format line in the help:\n%s", help)
	}
	var out []string
	for _, f := range regexp.MustCompile(`,|\bor\b`).Split(m[1], -1) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
