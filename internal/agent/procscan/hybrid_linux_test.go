package procscan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestScanLiveHybridV1 moves a process into an imitated kubepods cgroup of
// a cgroup v1 hierarchy only (as on a hybrid host whose kubelet uses v1):
// the attribution comes from the v1 line, and says so.
func TestScanLiveHybridV1(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to create cgroups")
	}
	mnt, ctl := cgroupV1Mount(t, "pids")
	if mnt == "" {
		t.Skip("no cgroup v1 pids hierarchy mounted")
	}
	b := randHex(t, 16)
	uid := b[0:8] + "-" + b[8:12] + "-" + b[12:16] + "-" + b[16:20] + "-" + b[20:32]
	id := randHex(t, 32)
	top := filepath.Join(mnt, "runlens-test-"+randHex(t, 4))
	rel := "/kubepods/burstable/pod" + uid + "/" + id
	leaf := filepath.Join(top, rel)
	if err := os.MkdirAll(leaf, 0o755); err != nil {
		t.Skipf("cannot create a v1 cgroup: %v", err)
	}
	t.Cleanup(func() {
		for d := leaf; d != mnt; d = filepath.Dir(d) {
			rmdirRetry(d)
		}
	})
	cmd := exec.Command("sleep", "600")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	})
	if err := os.WriteFile(filepath.Join(leaf, "cgroup.procs"), []byte(strconv.Itoa(cmd.Process.Pid)), 0); err != nil {
		t.Fatalf("move into v1 cgroup: %v", err)
	}

	snap, err := Scan(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := findProc(t, snap, cmd.Process.Pid)
	if p.Attribution.PodUID != uid || p.Attribution.ContainerID != id || p.Attribution.QoS != "burstable" {
		t.Errorf("attribution = %+v, want pod %s container %s", p.Attribution, uid, id)
	}
	if want := ctl + ":/" + filepath.Base(top) + rel; p.CgroupV1 != want {
		t.Errorf("CgroupV1 = %q, want %q", p.CgroupV1, want)
	}
	if _, ok := ParseCgroupPath(p.Cgroup); ok {
		t.Errorf("the v2 path %q names a pod; the test meant it not to", p.Cgroup)
	}
	if c := snap.Containers[id]; c == nil || c.PodUID != uid || len(c.Exes) != 1 || !strings.HasSuffix(c.Exes[0].Path, "/sleep") {
		t.Errorf("container = %+v, want pod %s running sleep", c, uid)
	}
}

// v1Controllers are the cgroup v1 controllers the kernel knows.
var v1Controllers = []string{"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio",
	"pids", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc"}

// cgroupV1Mount finds the mount of the v1 hierarchy with controller and
// returns it with the controller list /proc/<pid>/cgroup prints for it.
func cgroupV1Mount(t *testing.T, controller string) (mnt, ctl string) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Skipf("mountinfo: %v", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		pre, post, ok := strings.Cut(line, " - ")
		f, g := strings.Fields(pre), strings.Fields(post)
		if !ok || len(f) < 5 || len(g) < 3 || g[0] != "cgroup" || f[3] != "/" {
			continue
		}
		// The super options name the controllers among mount flags.
		var ctls []string
		for _, o := range strings.Split(g[2], ",") {
			if slices.Contains(v1Controllers, o) || strings.HasPrefix(o, "name=") {
				ctls = append(ctls, o)
			}
		}
		if slices.Contains(ctls, controller) {
			return f[4], strings.Join(ctls, ",")
		}
	}
	return "", ""
}
