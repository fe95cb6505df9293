package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/testing/cluster"
)

// TestAgentDriftReportsADroppedBinary: on a full local cluster, `runlens
// agent --once` finds no drift in freshly started containers; then a
// binary is written into the running web container through
// /proc/<pid>/root (what a file dropped at runtime looks like from the
// node) and run in it with crictl exec: the next snapshot's drift of web
// names it, added, executable, executed by the new process; a package
// "installed" the same way (its dpkg stanza, file list and binary) is
// named as a package the image has not, its binary owned by it; batch
// (same image, untouched) still has no drift.
func TestAgentDriftReportsADroppedBinary(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the agent reads other processes' /proc entries: run as root")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName("agentdrift"))
	sample, err := tarball.ImageFromPath(sampleImage, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.PushImage(ctx, t, cluster.WithApp(ctx, t, sample), "agent/app", "1")
	manifest := strings.ReplaceAll(agentManifest, "{{IMAGE}}", c.Registry+"/agent/app:1")
	if _, err := cluster.Apply(ctx, cluster.RESTConfig(t, c.Kubeconfig), []byte(manifest)); err != nil {
		t.Fatal(err)
	}
	agentWaitRunning(ctx, t, c, 3*time.Minute)
	cli := newCLI(t)
	snapshot := func(name string) *evidence.Document {
		t.Helper()
		t0 := time.Now()
		_, d := agentOnce(t, cli, c)
		t.Logf("%s: agent --once (with drift) in %s", name, time.Since(t0).Round(time.Millisecond))
		return d
	}
	pod := func(d *evidence.Document, prefix string) *evidence.Container {
		t.Helper()
		for i := range d.Containers {
			if x := &d.Containers[i]; x.PodNamespace == "agent-demo" && strings.HasPrefix(x.PodName, prefix) {
				if x.Drift == nil || len(x.PIDs) == 0 {
					t.Fatalf("%s: drift not checked or no pid: %+v", x.PodName, x)
				}
				t.Logf("%s: drift compared %d entries in %d ms, %d files changed, %d packages", x.PodName, x.Drift.Compared, x.Drift.DurationMS, x.Drift.FilesChanged, len(x.Drift.Packages))
				return x
			}
		}
		t.Fatalf("no %s container in %+v", prefix, d.Containers)
		return nil
	}
	clean := func(x *evidence.Container) {
		t.Helper()
		if d := x.Drift; !d.Complete || d.FilesChanged != 0 || len(d.Packages) != 0 {
			t.Errorf("%s: drift in an untouched container: %+v", x.PodName, d)
		}
	}

	before := snapshot("before")
	if len(before.Problems) > 0 {
		t.Errorf("problems: %q", before.Problems)
	}
	web := pod(before, "web-")
	clean(web)
	clean(pod(before, "batch-"))

	// Drop a binary into web's root from the node, and run it there.
	proc := "/proc/" + strconv.Itoa(web.PIDs[0])
	bin, err := os.ReadFile(proc + "/exe")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(proc+"/root/runlens-dropped", bin, 0o755); err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(proc + "/root/var/lib/dpkg/status")
	if err != nil {
		t.Fatal(err)
	}
	installed := map[string]string{
		"var/lib/dpkg/status":         string(status) + "\nPackage: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1-10+deb12u5\n",
		"var/lib/dpkg/info/curl.list": "/.\n/usr\n/usr/bin\n/usr/bin/curl\n",
		"usr/bin/curl":                string(bin),
	}
	for name, text := range installed {
		p := proc + "/root/" + name
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	execCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := c.Crictl(execCtx, "exec", web.ID, "/runlens-dropped", "-listen", "127.0.0.1:18082")
		done <- err
	}()
	defer func() { stop(); <-done }()
	if !waitExe(web.ID, "/runlens-dropped", 30*time.Second) {
		select {
		case err := <-done:
			t.Fatalf("crictl exec ended: %v", err)
		default:
			t.Fatal("the dropped binary is not running in web's container")
		}
	}

	after := snapshot("after")
	w := pod(after, "web-")
	clean(pod(after, "batch-"))
	var dropped *evidence.DriftFile
	for i := range w.Drift.Files {
		if w.Drift.Files[i].Path == "/runlens-dropped" {
			dropped = &w.Drift.Files[i]
		}
	}
	if dropped == nil {
		t.Fatalf("web's drift does not name /runlens-dropped: %+v", w.Drift)
	}
	if dropped.Change != evidence.DriftAdded || !dropped.Executable || dropped.State != result.RuntimeExecuted || len(dropped.PIDs) == 0 || dropped.Size != int64(len(bin)) || dropped.Owner != "" {
		t.Errorf("dropped binary: %+v", dropped)
	}
	if w.Drift.Files[0].Path != "/runlens-dropped" || !w.Drift.Complete {
		t.Errorf("web drift: %+v", w.Drift)
	}
	if p := w.Drift.Packages; len(p) != 1 || p[0].Name != "curl" || p[0].Version != "7.88.1-10+deb12u5" || p[0].Type != "deb" {
		t.Errorf("web drift packages %+v, want curl 7.88.1-10+deb12u5 (deb)", p)
	}
	owned := false
	for _, f := range w.Drift.Files {
		owned = owned || f.Path == "/usr/bin/curl" && f.Owner == "curl" && f.Change == evidence.DriftAdded
	}
	if !owned {
		t.Errorf("/usr/bin/curl not added and owned by curl: %+v", w.Drift.Files)
	}
}

// waitExe waits until a process of container id runs exe (its cgroup
// names the container, its exe link the file).
func waitExe(id, exe string, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		dirs, _ := filepath.Glob("/proc/[0-9]*")
		for _, d := range dirs {
			cg, err := os.ReadFile(d + "/cgroup")
			if err != nil || !strings.Contains(string(cg), id) {
				continue
			}
			if l, err := os.Readlink(d + "/exe"); err == nil && l == exe {
				return true
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return false
}
