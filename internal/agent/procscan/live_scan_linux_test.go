package procscan

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestScanLive starts, in two container cgroups of one imitated kubepods
// pod, the helper (maps a file, opens a file, listens on TCP and UDP) and
// python3's http.server (in a network namespace of its own, as a pod's),
// scans the real /proc and checks that each is attributed to its
// container with what it executes, maps and listens on.
func TestScanLive(t *testing.T) {
	pod := newFakePod(t)
	dir := t.TempDir()
	mapped := filepath.Join(dir, "mapped.bin")
	opened := filepath.Join(dir, "opened.txt")
	for _, f := range []string{mapped, opened} {
		if err := os.WriteFile(f, make([]byte, 8192), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	helperID, helperDir := pod.container(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(self, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"=1", "HELPER_MAP="+mapped, "HELPER_OPEN="+opened)
	helper := startIn(t, cmd, helperDir)
	var tcpPort, udpPort int
	if line := helper.line(t); !strings.HasPrefix(line, "ready") {
		t.Fatalf("helper: %q", line)
	} else if _, err := fmt.Sscanf(line, "ready tcp=%d udp=%d", &tcpPort, &udpPort); err != nil {
		t.Fatalf("helper line %q: %v", line, err)
	}

	var py *child
	var pyID string
	var pyPort int
	if python := pythonPath(); python != "" {
		var pyDir string
		pyID, pyDir = pod.container(t)
		py = startIn(t, podNetwork(exec.Command(python, "-u", "-m", "http.server", "0", "--bind", "0.0.0.0")), pyDir)
		m := regexp.MustCompile(`port (\d+)`).FindStringSubmatch(py.line(t))
		if m == nil {
			t.Fatal("python3 http.server did not say its port")
		}
		pyPort, _ = strconv.Atoi(m[1])
	} else {
		t.Log("python3 not installed: only the helper is checked")
	}

	snap, err := Scan(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("scanned %d processes (%d kernel threads, %d vanished) in %v; %d containers, %d listeners, %d problems",
		len(snap.Processes), snap.KernelThreads, snap.Vanished, snap.Duration, len(snap.Containers), len(snap.Listeners), len(snap.Problems))
	for _, p := range snap.Problems {
		t.Log("problem:", p)
	}

	// The helper: attributed, its exe, the mapped and the open file with
	// the inodes os.Stat gives, both ports.
	hp := findProc(t, snap, helper.cmd.Process.Pid)
	if hp.Attribution.PodUID != pod.uid || hp.Attribution.ContainerID != helperID || hp.Attribution.QoS != "besteffort" {
		t.Errorf("helper attributed to %+v, want pod %s container %s", hp.Attribution, pod.uid, helperID)
	}
	if want := pod.suffix + "/" + helperID; !strings.HasSuffix(hp.Cgroup, want) || !strings.HasSuffix(hp.Attribution.Cgroup, want) {
		t.Errorf("helper cgroup %q (attribution %q), want …%s", hp.Cgroup, hp.Attribution.Cgroup, want)
	}
	checkExe(t, hp, self)
	if hp.PPID != os.Getpid() {
		t.Errorf("helper ppid = %d, want %d", hp.PPID, os.Getpid())
	}
	if me := findProc(t, snap, os.Getpid()); hp.StartTime < me.StartTime || me.StartTime == 0 {
		t.Errorf("helper started at %d, before the test process (%d)", hp.StartTime, me.StartTime)
	}
	m := findMapping(hp.Maps, mapped)
	if m == nil {
		t.Fatalf("mapped file %s not in the helper's maps", mapped)
	}
	checkInode(t, "mapped file", m.FileID, mapped)
	if !m.Exec {
		t.Error("mapped file not marked executable")
	}
	f := findFile(hp.Files, opened)
	if f == nil {
		t.Fatalf("open file %s not in the helper's fds", opened)
	}
	checkInode(t, "open file", *f, opened)
	checkListener(t, snap, "tcp", netip.MustParseAddr("127.0.0.1"), tcpPort, hp.PID)
	checkListener(t, snap, "udp6", netip.MustParseAddr("::1"), udpPort, hp.PID)

	c := snap.Containers[helperID]
	if c == nil {
		t.Fatalf("no container %s in %d containers", helperID, len(snap.Containers))
	}
	if c.PodUID != pod.uid || !slices.Equal(c.PIDs, []int{hp.PID}) {
		t.Errorf("container = pod %s pids %v, want pod %s pids [%d]", c.PodUID, c.PIDs, pod.uid, hp.PID)
	}
	if findMapping(c.Mapped, mapped) == nil || findFile(c.Open, opened) == nil || len(c.Exes) != 1 {
		t.Errorf("container lacks the mapped file, the open file or its one exe: exes %v", c.Exes)
	}
	if !hasPort(c.Listeners, "tcp", tcpPort) || !hasPort(c.Listeners, "udp6", udpPort) {
		t.Errorf("container listeners %+v lack tcp/%d or udp6/%d", c.Listeners, tcpPort, udpPort)
	}

	// This test process is a host process.
	if me := findProc(t, snap, os.Getpid()); me.Attribution.ContainerID == helperID || me.Attribution.PodUID == pod.uid {
		t.Errorf("the test process is attributed to %+v", me.Attribution)
	}
	for _, c := range snap.Containers {
		if slices.Contains(c.PIDs, os.Getpid()) {
			t.Errorf("the test process is in container %s", c.ID)
		}
	}

	if py != nil {
		checkPython(t, snap, py.cmd.Process.Pid, pod.uid, pyID, pyPort)
	}
}

// checkPython checks the http.server: its container, a python3 exe, libc
// (and libpython where the build has one) mapped with the inodes os.Stat
// gives, its port.
func checkPython(t *testing.T, snap *Snapshot, pid int, uid, id string, port int) {
	t.Helper()
	p := findProc(t, snap, pid)
	if p.Attribution.PodUID != uid || p.Attribution.ContainerID != id {
		t.Errorf("python attributed to %+v, want %s/%s", p.Attribution, uid, id)
	}
	if !strings.HasPrefix(filepath.Base(p.Exe.Path), "python3") {
		t.Errorf("python exe = %q", p.Exe.Path)
	}
	checkInode(t, "python exe", p.Exe, p.Exe.Path)
	libs := 0
	for _, m := range p.Maps {
		base := filepath.Base(m.Path)
		if strings.HasPrefix(base, "libc.so") || strings.HasPrefix(base, "libpython3") {
			checkInode(t, base, m.FileID, m.Path)
			if !m.Exec {
				t.Errorf("%s not mapped executable", m.Path)
			}
			libs++
		}
	}
	if libs == 0 {
		t.Errorf("neither libc nor libpython in python's %d maps", len(p.Maps))
	}
	// It runs in a network namespace of its own, read separately.
	checkListener(t, snap, "tcp", netip.MustParseAddr("0.0.0.0"), port, pid)
	if c := snap.Containers[id]; c == nil || !hasPort(c.Listeners, "tcp", port) {
		t.Errorf("python's container lacks tcp/%d", port)
	}
	me := findProc(t, snap, os.Getpid())
	if p.NetNS == 0 || p.NetNS == me.NetNS {
		t.Errorf("python's netns %d, the test's %d: want a namespace of its own", p.NetNS, me.NetNS)
	}
	for _, l := range snap.Listeners {
		if slices.Contains(l.PIDs, pid) && l.NetNS != p.NetNS {
			t.Errorf("python's listener %+v not in its namespace %d", l, p.NetNS)
		}
	}
}

// pythonPath is Debian's python3, else the one on PATH.
func pythonPath() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, _ := exec.LookPath("python3")
	return p
}

func findProc(t *testing.T, snap *Snapshot, pid int) *Process {
	t.Helper()
	for i := range snap.Processes {
		if snap.Processes[i].PID == pid {
			return &snap.Processes[i]
		}
	}
	t.Fatalf("pid %d not in the snapshot", pid)
	return nil
}

func findMapping(ms []Mapping, path string) *Mapping {
	for i := range ms {
		if ms[i].Path == path {
			return &ms[i]
		}
	}
	return nil
}

func findFile(fs []FileID, path string) *FileID {
	for i := range fs {
		if fs[i].Path == path {
			return &fs[i]
		}
	}
	return nil
}

// checkExe compares the exe with the binary the helper runs.
func checkExe(t *testing.T, p *Process, bin string) {
	t.Helper()
	real, err := filepath.EvalSymlinks(bin)
	if err != nil {
		t.Fatal(err)
	}
	if p.Exe.Path != real {
		t.Errorf("exe = %q, want %q", p.Exe.Path, real)
	}
	checkInode(t, "exe", p.Exe, real)
}

// checkInode compares a reported file with os.Stat of path.
func checkInode(t *testing.T, what string, got FileID, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	if got.Inode != st.Ino || got.Inode == 0 {
		t.Errorf("%s %s: inode %d, os.Stat says %d", what, path, got.Inode, st.Ino)
	}
	if got.Dev.Major != uint32(st.Dev>>8&0xfff) || got.Dev.Minor != uint32(st.Dev&0xff|st.Dev>>12&^0xff) {
		t.Errorf("%s %s: dev %s, os.Stat says %#x", what, path, got.Dev, st.Dev)
	}
}

// checkListener finds proto addr:port held by pid.
func checkListener(t *testing.T, snap *Snapshot, proto string, addr netip.Addr, port, pid int) {
	t.Helper()
	for _, l := range snap.Listeners {
		if l.Proto == proto && l.Addr == addr && int(l.Port) == port {
			if !slices.Contains(l.PIDs, pid) {
				t.Errorf("%s %s:%d held by %v, want pid %d", proto, addr, port, l.PIDs, pid)
			}
			return
		}
	}
	t.Errorf("no %s listener on %s:%d among %d", proto, addr, port, len(snap.Listeners))
}

func hasPort(ls []Listener, proto string, port int) bool {
	for _, l := range ls {
		if l.Proto == proto && int(l.Port) == port {
			return true
		}
	}
	return false
}
