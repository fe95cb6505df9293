package main

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/testing/cluster"
)

// agentManifest runs one image as two workloads: web, internet-exposed
// through a NodePort, whose process holds the log4j jar open; and batch,
// in-cluster only, whose process does not.
const agentManifest = `
apiVersion: v1
kind: Namespace
metadata: {name: agent-demo}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: agent-demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: {{IMAGE}}
          args: ["-hold", "/app/lib/log4j-core-2.14.1.jar"]
          ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: agent-demo}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: batch, namespace: agent-demo}
spec:
  replicas: 1
  selector: {matchLabels: {app: batch}}
  template:
    metadata: {labels: {app: batch}}
    spec:
      containers:
        - name: batch
          image: {{IMAGE}}
          args: ["-listen", "127.0.0.1:8081"]
`

// TestAgentEvidenceRanksWhatRuns: on a full local cluster, `runlens agent
// --once` reads the node's containers through containerd's CRI socket and
// their image from its content store (no registry), sees web's process
// hold log4j-core open; `scan cluster --evidence` then makes log4shell
// "loaded" on web, with the record in its reasons, and ranks it above the
// same finding on batch, watched and not seen in use.
func TestAgentEvidenceRanksWhatRuns(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the agent reads other processes' /proc entries: run as root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("agent"))
	sample, err := tarball.ImageFromPath(sampleImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	pushed := c.PushImage(ctx, t, cluster.WithApp(ctx, t, sample), "agent/app", "1")
	manifest := strings.ReplaceAll(agentManifest, "{{IMAGE}}", c.Registry+"/agent/app:1")
	if _, err := cluster.Apply(ctx, cluster.RESTConfig(t, c.Kubeconfig), []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	agentWaitRunning(ctx, t, c, 3*time.Minute)

	cli := newCLI(t)
	evFile, ev := agentOnce(t, cli, c)
	if len(ev.Problems) > 0 {
		t.Errorf("agent problems: %q", ev.Problems)
	}
	var web *evidence.Record
	for i := range ev.Records {
		r := &ev.Records[i]
		if r.PodNamespace == "agent-demo" && strings.HasPrefix(r.PodName, "web-") && r.Package.Name == "org.apache.logging.log4j:log4j-core" {
			web = r
		}
		if r.Digest != pushed.DigestStr() && r.PodNamespace == "agent-demo" {
			t.Errorf("record of digest %s, want the pushed %s", r.Digest, pushed.DigestStr())
		}
	}
	if web == nil || web.State != result.RuntimeLoaded || len(web.Files) == 0 || web.Files[0] != "/app/lib/log4j-core-2.14.1.jar" {
		t.Fatalf("no loaded log4j-core record for web: %+v\n%+v", web, ev.Records)
	}

	saved := filepath.Join(t.TempDir(), "result.json")
	if code, _, stderr := cli.run("", "scan", "cluster", "--kubeconfig", c.ScannerKubeconfig, "--evidence", evFile, "-f", "json", "-o", saved); code != exitOK {
		t.Fatalf("scan cluster --evidence: exit %d\n%s", code, stderr)
	}
	doc := riskReadResult(t, saved)
	var onWeb, onBatch *result.Risk
	for i := range doc.Risks {
		r := &doc.Risks[i]
		if r.Vulnerability != riskKEV || r.Namespace != "agent-demo" {
			continue
		}
		switch r.Workload {
		case "Deployment/web":
			onWeb = r
		case "Deployment/batch":
			onBatch = r
		}
	}
	if onWeb == nil || onBatch == nil {
		t.Fatalf("log4shell risks on web %v and batch %v", onWeb, onBatch)
	}
	if onWeb.Runtime.State != result.RuntimeLoaded || !strings.Contains(strings.Join(onWeb.Reasons, "|"), "runtime: loaded (loaded by pid") {
		t.Errorf("web: runtime %+v, reasons %q", onWeb.Runtime, onWeb.Reasons)
	}
	if onBatch.Runtime.State != result.RuntimeNotObserved || onBatch.Runtime.Window == nil || onBatch.Runtime.Window.Proves(0) {
		t.Errorf("batch: runtime %+v, want not-observed over a window that proves nothing (one snapshot)", onBatch.Runtime)
	}
	if onWeb.Score <= onBatch.Score {
		t.Errorf("web %.1f not above batch %.1f", onWeb.Score, onBatch.Score)
	}
	if f := doc.Summary.Risk; f.InUse == nil || *f.InUse == 0 {
		t.Errorf("funnel in use %v", f.InUse)
	}
	if !t.Failed() {
		agentCheckListen(ctx, t, c, cli)
	}
}

// agentCheckListen runs `runlens agent --listen` with its tracer, reads
// its evidence over HTTP while it watches, and ranks with it: the window
// is complete (nothing dropped), so with a policy whose minimum window the
// watch has covered, log4shell on batch — watched and never used — gets
// System Exposure small from runtime, while web's stays as loaded.
func agentCheckListen(ctx context.Context, t *testing.T, c *cluster.Cluster, cli *cli) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	actx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	var stderr strings.Builder
	go func() {
		done <- run(actx, []string{"--db-dir", cli.dbDir, "agent", "--listen", addr, "--interval", "1s", "--cri-socket", c.ContainerdSocket,
			"--containerd-root", filepath.Join(c.Dir, "containerd", "root"), "--node", c.NodeName}, strings.NewReader(""), io.Discard, &stderr)
	}()
	defer func() {
		stop()
		<-done
	}()
	url := "http://" + addr + "/v1/evidence"
	var ev evidence.Document
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&ev)
			resp.Body.Close()
		}
		if err == nil && ev.Window.End.Sub(ev.Window.Start) >= 3*time.Second {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("agent --listen: no evidence with a 3 s window at %s: %v\n%s", url, err, stderr.String())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !ev.Window.Complete {
		t.Fatalf("the tracer's window is not complete: %+v\n%s", ev.Window, stderr.String())
	}
	policy := writeFile(t, "policy.yaml", "minObservation: 2s\n")
	saved := filepath.Join(t.TempDir(), "listen.json")
	if code, _, serr := cli.run("", "scan", "cluster", "--kubeconfig", c.ScannerKubeconfig, "--evidence", url, "--policy", policy, "-f", "json", "-o", saved); code != exitOK {
		t.Fatalf("scan cluster --evidence URL: exit %d\n%s", code, serr)
	}
	doc := riskReadResult(t, saved)
	for _, r := range doc.Risks {
		if r.Vulnerability != riskKEV || r.Namespace != "agent-demo" {
			continue
		}
		switch r.Workload {
		case "Deployment/batch":
			if r.Runtime.State != result.RuntimeNotObserved || r.Decision.SystemExposure.Value != "small" || r.Decision.SystemExposure.Source != result.SourceRuntime {
				t.Errorf("batch over a complete window: runtime %+v, exposure %+v", r.Runtime, r.Decision.SystemExposure)
			}
		case "Deployment/web":
			if r.Runtime.State != result.RuntimeLoaded {
				t.Errorf("web: runtime %+v", r.Runtime)
			}
		}
	}
}

func agentWaitRunning(ctx context.Context, t *testing.T, c *cluster.Cluster, timeout time.Duration) {
	t.Helper()
	agentWaitNamespace(ctx, t, c, "agent-demo", 2, timeout)
}

// agentWaitNamespace waits until want single-container pods of ns run.
func agentWaitNamespace(ctx context.Context, t *testing.T, c *cluster.Cluster, ns string, want int, timeout time.Duration) {
	t.Helper()
	cs := c.Admin(t)
	deadline := time.Now().Add(timeout)
	for {
		l, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		running := 0
		if err == nil {
			for _, p := range l.Items {
				if len(p.Status.ContainerStatuses) == 1 && p.Status.ContainerStatuses[0].State.Running != nil {
					running++
				}
			}
		}
		if running == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods not running after %s (%v): %+v\n%s", timeout, err, l, c.LogTails(40))
		}
		time.Sleep(time.Second)
	}
}

// agentOnce runs `runlens agent --once` against c's containerd and returns
// the evidence file and what it holds.
func agentOnce(t *testing.T, cli *cli, c *cluster.Cluster) (string, *evidence.Document) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "evidence.json")
	code, _, stderr := cli.run("", "agent", "--once", "-o", out, "--cri-socket", c.ContainerdSocket,
		"--containerd-root", filepath.Join(c.Dir, "containerd", "root"), "--node", c.NodeName)
	if code != 0 {
		t.Fatalf("agent --once: exit %d: %s", code, stderr)
	}
	return out, agentReadEvidence(t, out)
}

func agentReadEvidence(t *testing.T, path string) *evidence.Document {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d evidence.Document
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("evidence: %v\n%s", err, b)
	}
	return &d
}
