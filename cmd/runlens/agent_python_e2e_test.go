package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/testing/cluster"
)

// pythonManifest serves a directory with python3 -m http.server 8080 from
// a debootstrap Debian image that also has curl, behind a Service.
const pythonManifest = `
apiVersion: v1
kind: Namespace
metadata: {name: agent-py}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: files, namespace: agent-py}
spec:
  replicas: 1
  selector: {matchLabels: {app: files}}
  template:
    metadata: {labels: {app: files}}
    spec:
      containers:
        - name: files
          image: {{IMAGE}}
          command: ["python3", "-m", "http.server", "8080"]
          ports: [{containerPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: files, namespace: agent-py}
spec:
  selector: {app: files}
  ports: [{port: 80, targetPort: 8080}]
`

// debianImage builds (once per machine, cached) the debootstrap bookworm
// image with python3, openssl and curl, and returns its archive.
func debianImage(t *testing.T) string {
	t.Helper()
	cmd := exec.Command("../../hack/fixtures/bench-images.sh", "debian")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("building the Debian image: %v\n%s", err, errb.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if name, path, ok := strings.Cut(line, " "); ok && name == "debian" {
			return path
		}
	}
	t.Fatalf("bench-images.sh printed no debian image:\n%s", out.String())
	return ""
}

// TestAgentSeesAPythonServer: a python3 http.server pod from a real
// Debian image, already running when the agent starts (no restart): the
// agent finds python3 executed, libssl3 and libcrypto3 mapped by the
// process listening on 8080, and records nothing for curl, present but
// never run.
func TestAgentSeesAPythonServer(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the agent reads other processes' /proc entries: run as root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("agent-py"))
	img, err := tarball.ImageFromPath(debianImage(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	pushed := c.PushImage(ctx, t, img, "agent/py", "1")
	manifest := strings.ReplaceAll(pythonManifest, "{{IMAGE}}", c.Registry+"/agent/py:1")
	if _, err := cluster.Apply(ctx, cluster.RESTConfig(t, c.Kubeconfig), []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	agentWaitNamespace(ctx, t, c, "agent-py", 1, 3*time.Minute)
	time.Sleep(2 * time.Second) // python imports its modules after the container starts

	cli := newCLI(t)
	_, ev := agentOnce(t, cli, c)
	got := map[string]*evidence.Record{}
	for i := range ev.Records {
		r := &ev.Records[i]
		if r.PodNamespace == "agent-py" {
			got[r.Package.Name] = r
			if r.Digest != pushed.DigestStr() {
				t.Errorf("%s: digest %s, want %s", r.Package.Name, r.Digest, pushed.DigestStr())
			}
		}
	}
	names := make([]string, 0, len(got))
	for n, r := range got {
		names = append(names, n+"="+r.State)
	}
	python := ""
	for n, r := range got {
		if strings.HasPrefix(n, "python3") && strings.HasSuffix(n, "-minimal") && r.State == result.RuntimeExecuted {
			python = n
		}
	}
	if python == "" {
		t.Errorf("no python3.x-minimal executed among %v", names)
	}
	for _, lib := range []string{"libssl3", "libcrypto3"} {
		name := lib
		if got[name] == nil && lib == "libcrypto3" {
			name = "libssl3" // bookworm ships libcrypto.so.3 in libssl3
		}
		r := got[name]
		if r == nil || r.State != result.RuntimeListening || !containsStr(r.Ports, "tcp/8080") {
			t.Errorf("%s: %+v, want listening on tcp/8080 (all: %v)", lib, r, names)
		}
	}
	if r := got["curl"]; r != nil {
		t.Errorf("curl was never run but has a record: %+v", r)
	}
	if len(ev.Problems) > 0 {
		t.Errorf("problems: %q", ev.Problems)
	}
}

func containsStr(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
