package e2e

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/runlens/runlens/internal/testing/cluster"
)

// waitPods polls the pods matching selector in ns until done accepts them.
func waitPods(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns, selector string, timeout time.Duration,
	done func([]corev1.Pod) (bool, string)) []corev1.Pod {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var last string
	for {
		list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err == nil {
			ok, why := done(list.Items)
			if ok {
				return list.Items
			}
			last = why
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			t.Fatalf("pods %s/%q not ready after %s: %s", ns, selector, timeout, last)
		}
		time.Sleep(time.Second)
	}
}

// allRunning accepts a non-empty set whose pods run every container, or finished.
func allRunning(pods []corev1.Pod) (bool, string) {
	if len(pods) == 0 {
		return false, "no pods yet"
	}
	var waiting []string
	for _, p := range pods {
		switch p.Status.Phase {
		case corev1.PodSucceeded:
			continue
		case corev1.PodRunning:
			ready := true
			for _, s := range p.Status.ContainerStatuses {
				if s.State.Running == nil {
					ready = false
				}
			}
			if ready {
				continue
			}
		}
		waiting = append(waiting, fmt.Sprintf("%s: %s", p.Name, podState(p)))
	}
	return len(waiting) == 0, strings.Join(waiting, "; ")
}

func podState(p corev1.Pod) string {
	parts := []string{string(p.Status.Phase)}
	for _, s := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
		switch {
		case s.State.Waiting != nil:
			parts = append(parts, s.Name+"="+s.State.Waiting.Reason+" "+s.State.Waiting.Message)
		case s.State.Terminated != nil:
			parts = append(parts, fmt.Sprintf("%s=exited(%d)", s.Name, s.State.Terminated.ExitCode))
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			parts = append(parts, string(c.Type)+": "+c.Message)
		}
	}
	return strings.Join(parts, " ")
}

// procStart identifies a process across PID reuse: its start time from /proc.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+2:]
	}
	f := strings.Fields(s)
	if len(f) < 20 || f[0] == "Z" || f[0] == "X" { // a zombie is gone, only not yet reaped
		return ""
	}
	return f[19]
}

// leftovers lists what a torn-down cluster must not leave: processes naming its
// directory or living in its cgroup root, mounts under its directory, nsfs mounts
// of the given network namespaces, its bridge, cgroup directories and directory.
func leftovers(c *cluster.Cluster, netns []string, pids map[int]string) []string {
	var found []string
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		pid, _ := strconv.Atoi(filepath.Base(p))
		if pid == os.Getpid() {
			continue
		}
		cmd, _ := os.ReadFile(p + "/cmdline")
		if strings.Contains(string(cmd), c.Dir+"/") {
			found = append(found, fmt.Sprintf("process %d: %s", pid, strings.ReplaceAll(string(cmd), "\x00", " ")))
			continue
		}
		if c.CgroupRoot != "" {
			cg, _ := os.ReadFile(p + "/cgroup")
			if strings.Contains(string(cg), ":/"+c.CgroupRoot+"/") {
				found = append(found, fmt.Sprintf("process %d in cgroup %s", pid, c.CgroupRoot))
				continue
			}
		}
		if ns, err := os.Readlink(p + "/ns/net"); err == nil {
			for _, n := range netns {
				if ns == n {
					found = append(found, fmt.Sprintf("process %d still in pod network namespace %s", pid, n))
				}
			}
		}
	}
	for pid, start := range pids {
		if procStart(pid) == start {
			found = append(found, fmt.Sprintf("container process %d still alive", pid))
		}
	}
	mi, _ := os.ReadFile("/proc/self/mountinfo")
	for _, line := range strings.Split(string(mi), "\n") {
		if strings.Contains(line, c.Dir+"/") || strings.Contains(line, " "+c.Dir+" ") {
			found = append(found, "mount: "+line)
		}
		for _, n := range netns {
			if strings.Contains(line, n) {
				found = append(found, "network namespace mount: "+line)
			}
		}
	}
	if c.Bridge != "" {
		if _, err := net.InterfaceByName(c.Bridge); err == nil {
			found = append(found, "bridge "+c.Bridge)
		}
	}
	if c.CgroupRoot != "" {
		dirs, _ := filepath.Glob("/sys/fs/cgroup/*/" + c.CgroupRoot)
		for _, d := range dirs {
			found = append(found, "cgroup "+d)
		}
	}
	if _, err := os.Stat(c.Dir); err == nil {
		found = append(found, "directory "+c.Dir)
	}
	if c.Mode == cluster.ModeFull {
		// Host paths the kubelet hard-codes, and iptables chains it would make.
		if _, err := os.Stat("/var/lib/kubelet/device-plugins/kubelet.sock"); err == nil {
			found = append(found, "/var/lib/kubelet/device-plugins/kubelet.sock")
		}
		if ipt, err := exec.LookPath("iptables"); err == nil {
			for _, table := range []string{"filter", "nat", "mangle"} {
				out, _ := exec.Command(ipt, "-t", table, "-S").Output()
				if strings.Contains(string(out), "KUBE-") {
					found = append(found, "iptables "+table+" chains: "+string(out))
				}
			}
		}
	}
	return found
}

// hostStateDirs are directories outside the cluster's own that containerd's shims
// and CNI write to by fixed path.
var hostStateDirs = []string{"/run/containerd/s", "/var/lib/cni/results", "/var/lib/cni/networks"}

// hostEntries lists what is in hostStateDirs now.
func hostEntries() map[string]bool {
	m := map[string]bool{}
	for _, d := range hostStateDirs {
		ents, _ := os.ReadDir(d)
		for _, e := range ents {
			m[filepath.Join(d, e.Name())] = true
		}
	}
	return m
}

// newHostEntries returns the entries of hostStateDirs that were not there before.
func newHostEntries(before map[string]bool) []string {
	var out []string
	for p := range hostEntries() {
		if !before[p] {
			out = append(out, p)
		}
	}
	return out
}
