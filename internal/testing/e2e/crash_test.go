package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/runlens/runlens/internal/testing/cluster"
)

// TestCrashedRunIsCleaned kills the kubelet and containerd of a full cluster with
// SIGKILL, as a crashed CI job would leave them: shims, containers, overlay and
// network-namespace mounts stay behind with no CRI to remove them. The next `up`
// under the same name must clean all of that and come back healthy.
func TestCrashedRunIsCleaned(t *testing.T) {
	const name = "e2e-crash"
	hostBefore := hostEntries()
	c := cluster.Start(t, cluster.ModeFull, cluster.WithName(name))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cs := c.Admin(t)
	img := c.PushImage(ctx, t, cluster.AppImage(ctx, t), "runlens-e2e/app", "v1")
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "victim", Labels: map[string]string{"app": "victim"}},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: img.String()}}},
	}
	if _, err := cs.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitPods(ctx, t, cs, "default", "app=victim", 3*time.Minute, allRunning)
	out, err := c.Crictl(ctx, "ps", "-q", "--name", "app")
	if err != nil {
		t.Fatal(err)
	}
	id := strings.TrimSpace(string(out))
	out, err = c.Crictl(ctx, "inspect", "-o", "go-template", "--template", "{{.info.pid}}", id)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("container pid %q: %v", out, err)
	}
	netns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		t.Fatal(err)
	}
	pids := map[int]string{pid: procStart(pid)}

	for _, comp := range []string{"kubelet", "containerd"} {
		b, err := os.ReadFile(filepath.Join(c.Dir, "pids", comp+".pid"))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.Atoi(strings.Fields(string(b))[0])
		if err := syscall.Kill(p, syscall.SIGKILL); err != nil {
			t.Fatalf("kill %s: %v", comp, err)
		}
	}
	time.Sleep(time.Second)
	if procStart(pid) != pids[pid] {
		t.Fatal("the container died with containerd; the crash left nothing to clean")
	}
	if st, err := c.Status(ctx); err == nil {
		t.Fatalf("status after the crash reports healthy:\n%s", st)
	}

	// A new `up` under the same name cleans the crashed run first. (Reuse mode keeps
	// Start from running `down` before `up`; the first Start's cleanup still tears
	// the cluster down.)
	old := *c
	t.Setenv(cluster.EnvReuse, "1")
	c2 := cluster.Start(t, cluster.ModeFull, cluster.WithName(name))
	if left := leftovers(&old, []string{netns}, pids); len(left) > 0 {
		// The new cluster legitimately uses the same directory, cgroup root and
		// bridge; only the old container, its namespace and processes count.
		var real []string
		for _, l := range left {
			if strings.Contains(l, "container process") || strings.Contains(l, "network namespace") {
				real = append(real, l)
			}
		}
		if len(real) > 0 {
			t.Errorf("the crashed run left behind:\n%s", strings.Join(real, "\n"))
		}
	}
	if _, err := c2.Admin(t).CoreV1().Pods("default").Get(ctx, "victim", metav1.GetOptions{}); err == nil {
		t.Error("the new cluster has the crashed cluster's pod: its etcd was not wiped")
	}
	if err := c2.Down(ctx); err != nil {
		t.Fatal(err)
	}
	if left := leftovers(c2, []string{netns}, pids); len(left) > 0 {
		t.Errorf("down left behind:\n%s", strings.Join(left, "\n"))
	}
	if left := newHostEntries(hostBefore); len(left) > 0 {
		t.Errorf("down left shim sockets or CNI state behind:\n%s", strings.Join(left, "\n"))
	}
}
