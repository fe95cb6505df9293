//go:build linux

package procscan

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeProc is one pid directory of a fake proc tree.
type fakeProc struct {
	pid, ppid int
	comm      string
	flags     uint64
	stat      string // raw stat, instead of one made from the fields
	cgroup    string
	exe, cwd  string // link targets
	netns     uint64
	maps      string
	fds       map[int]string    // fd -> link target
	net       map[string]string // tcp, tcp6, udp, udp6 -> table
}

// writeFake lays p out under root as the kernel would show it.
func writeFake(t *testing.T, root string, p fakeProc) string {
	t.Helper()
	dir := filepath.Join(root, itoa(p.pid))
	must(t, os.MkdirAll(filepath.Join(dir, "fd"), 0o755))
	must(t, os.MkdirAll(filepath.Join(dir, "ns"), 0o755))
	stat := p.stat
	if stat == "" {
		if p.flags == 0 {
			p.flags = 0x400100 // PF_RANDOMIZE|PF_FORKNOEXEC: a user process
		}
		stat = fmt.Sprintf("%d (%s) S %d %d %d 0 -1 %d 109 0 0 0 2 1 0 0 20 0 1 0 42 1000 10\n", p.pid, p.comm, p.ppid, p.pid, p.pid, p.flags)
	}
	must(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o444))
	if p.cgroup != "" {
		must(t, os.WriteFile(filepath.Join(dir, "cgroup"), []byte(p.cgroup), 0o444))
	}
	if p.exe != "" {
		must(t, os.Symlink(p.exe, filepath.Join(dir, "exe")))
	}
	if p.cwd != "" {
		must(t, os.Symlink(p.cwd, filepath.Join(dir, "cwd")))
	}
	if p.netns != 0 {
		must(t, os.Symlink(fmt.Sprintf("net:[%d]", p.netns), filepath.Join(dir, "ns", "net")))
	}
	if p.maps != "" {
		must(t, os.WriteFile(filepath.Join(dir, "maps"), []byte(p.maps), 0o444))
	}
	for fd, target := range p.fds {
		must(t, os.Symlink(target, filepath.Join(dir, "fd", itoa(fd))))
	}
	if len(p.net) > 0 {
		must(t, os.MkdirAll(filepath.Join(dir, "net"), 0o755))
		for name, table := range p.net {
			must(t, os.WriteFile(filepath.Join(dir, "net", name), []byte(table), 0o444))
		}
	}
	return dir
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// realFile makes a file under dir and returns its path.
func realFile(t *testing.T, dir, name string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	must(t, os.MkdirAll(filepath.Dir(p), 0o755))
	must(t, os.WriteFile(p, []byte(name), 0o755))
	return p
}

func TestScanFakeTree(t *testing.T) {
	if !littleEndian() {
		t.Skip("tables are in little-endian word order")
	}
	root := t.TempDir()
	proc := filepath.Join(root, "proc")
	files := filepath.Join(root, "files")
	initBin := realFile(t, files, "sbin/init")
	server := realFile(t, files, "usr/bin/server")
	logf := realFile(t, files, "var/log/server.log")
	kube := "/runlens-full/kubepods/besteffort/pod" + puid + "/" + cid
	serverMaps := "55d4a0a00000-55d4a0a2c000 r-xp 00000000 fd:01 100 /usr/bin/server\n" +
		"7f3c1a228000-7f3c1a3bd000 r-xp 00028000 fd:01 200 /lib/libssl.so.3\n" +
		"7f3c1a415000-7f3c1a419000 rw-p 00214000 fd:01 200 /lib/libssl.so.3\n" +
		"this line is not a mapping\n" +
		"7f3c1a500000-7f3c1a600000 r-xp 00000000 00:1f 300 /tmp/plugin.so (deleted)\n"
	containerNet := map[string]string{
		"tcp": tcpHeader,
		"tcp6": tcpHeader +
			"   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1\n" +
			"   1: B80D0120000000000000000001000000:1F91 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7002 1\n" +
			"   2: nonsense\n",
		"udp": tcpHeader,
	}
	hostNet := map[string]string{
		"tcp": tcpHeader + "   0: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 9001 1\n",
	}
	writeFake(t, proc, fakeProc{pid: 1, comm: "init", cgroup: "0::/\n", exe: initBin, cwd: "/", netns: 4026531833,
		fds: map[int]string{0: "/dev/null", 3: "socket:[9001]"}, net: hostNet})
	writeFake(t, proc, fakeProc{pid: 2, comm: "kthreadd", flags: 0x208040})
	// Two processes of one container, sharing files; a comm with ") (".
	writeFake(t, proc, fakeProc{pid: 10, ppid: 1, comm: "server) (x", cgroup: "0::" + kube + "\n", exe: server, cwd: "/srv",
		netns: 4026532500, maps: serverMaps, net: containerNet,
		fds: map[int]string{0: "pipe:[55]", 1: logf, 2: logf, 3: "socket:[7001]", 4: "anon_inode:[eventpoll]"}})
	writeFake(t, proc, fakeProc{pid: 11, ppid: 10, comm: "worker", cgroup: "0::" + kube + "/sub\n", exe: server,
		netns: 4026532500, maps: serverMaps, net: containerNet, fds: map[int]string{5: "socket:[7002]", 6: logf}})
	// Vanished before its stat was read: the directory was listed only.
	must(t, os.MkdirAll(filepath.Join(proc, "20"), 0o755))
	// Vanishes between its stat and the rest.
	gone := writeFake(t, proc, fakeProc{pid: 21, comm: "short", cgroup: "0::" + kube + "\n", exe: server, netns: 4026532500})
	// Exits and its pid is taken by a new process (another start time)
	// while it is read.
	reused := writeFake(t, proc, fakeProc{pid: 25, comm: "old", cgroup: "0::" + kube + "\n", exe: server, netns: 4026532500})
	// A zombie: stat only.
	writeFake(t, proc, fakeProc{pid: 22, ppid: 10, comm: "zombie", stat: "22 (zombie) Z 10 22 22 0 -1 4227084 0 0 0 0 0 0 0 0 20 0 1 0 42 0 0\n"})
	// Malformed stat: a problem, skipped.
	writeFake(t, proc, fakeProc{pid: 23, stat: "23 no parentheses here\n"})
	// maps unreadable for a reason other than exiting: a problem, the rest read.
	odd := writeFake(t, proc, fakeProc{pid: 24, comm: "odd", cgroup: "0::/system.slice/odd.service\n", exe: initBin, netns: 4026531833})
	must(t, os.Mkdir(filepath.Join(odd, "maps"), 0o755))
	// Not pids.
	must(t, os.MkdirAll(filepath.Join(proc, "self"), 0o755))
	must(t, os.WriteFile(filepath.Join(proc, "uptime"), []byte("1 1\n"), 0o444))

	testHookAfterStat = func(dir string) {
		switch dir {
		case gone:
			os.RemoveAll(dir)
		case reused:
			os.WriteFile(filepath.Join(dir, "stat"), []byte("25 (new) S 1 25 25 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 9999 0 0\n"), 0o444)
		}
	}
	t.Cleanup(func() { testHookAfterStat = nil })

	snap, err := Scan(context.Background(), Options{ProcRoot: proc, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range snap.Problems {
		t.Log("problem:", p)
	}
	var pids []int
	for _, p := range snap.Processes {
		pids = append(pids, p.PID)
	}
	if !slices.Equal(pids, []int{1, 10, 11, 22, 24}) {
		t.Errorf("pids = %v, want [1 10 11 22 24]", pids)
	}
	if snap.Vanished != 3 || snap.KernelThreads != 1 {
		t.Errorf("vanished=%d kernel=%d, want 3 (20, 21, 25) and 1", snap.Vanished, snap.KernelThreads)
	}
	wantProblems := []string{"pid 23 (): stat: ", "pid 10 (server) (x): maps: 1 malformed lines",
		"pid 11 (worker): maps: 1 malformed lines", "pid 24 (odd): maps: ", "net/tcp6: 1 malformed lines"}
	for _, w := range wantProblems {
		if !slices.ContainsFunc(snap.Problems, func(p string) bool { return strings.Contains(p, w) }) {
			t.Errorf("no problem %q in %q", w, snap.Problems)
		}
	}
	if len(snap.Problems) != len(wantProblems) {
		t.Errorf("%d problems, want %d: %q", len(snap.Problems), len(wantProblems), snap.Problems)
	}

	p10 := findProc(t, snap, 10)
	if p10.Comm != "server) (x" || p10.PPID != 1 || p10.Cwd != "/srv" || p10.NetNS != 4026532500 || p10.StartTime != 42 {
		t.Errorf("pid 10 = comm %q ppid %d cwd %q netns %d start %d", p10.Comm, p10.PPID, p10.Cwd, p10.NetNS, p10.StartTime)
	}
	checkInode(t, "exe", p10.Exe, server)
	if len(p10.Files) != 1 || p10.Files[0].Path != logf {
		t.Errorf("pid 10 files = %+v, want the log once (fds 1 and 2)", p10.Files)
	} else {
		checkInode(t, "log", p10.Files[0], logf)
	}
	if !slices.Equal(p10.Sockets, []uint64{7001}) {
		t.Errorf("pid 10 sockets = %v, want [7001]", p10.Sockets)
	}
	wantMaps := []Mapping{
		{FileID: FileID{Path: "/usr/bin/server", Dev: Dev{253, 1}, Inode: 100}, Exec: true},
		{FileID: FileID{Path: "/lib/libssl.so.3", Dev: Dev{253, 1}, Inode: 200}, Exec: true},
		{FileID: FileID{Path: "/tmp/plugin.so", Dev: Dev{0, 31}, Inode: 300, Deleted: true}, Exec: true},
	}
	if !slices.Equal(p10.Maps, wantMaps) {
		t.Errorf("pid 10 maps = %+v\nwant %+v", p10.Maps, wantMaps)
	}
	if z := findProc(t, snap, 22); z.Comm != "zombie" || z.Exe.Path != "" || len(z.Maps) != 0 {
		t.Errorf("zombie = %+v", z)
	}
	if o := findProc(t, snap, 24); o.Exe.Path != initBin || !o.Attribution.IsZero() || o.Cgroup != "/system.slice/odd.service" {
		t.Errorf("pid 24 = exe %q attribution %+v cgroup %q", o.Exe.Path, o.Attribution, o.Cgroup)
	}

	// Listeners: the host's sshd-like port, and the container's two IPv6
	// ports read once for its namespace.
	checkListener(t, snap, "tcp", netip.MustParseAddr("0.0.0.0"), 22, 1)
	checkListener(t, snap, "tcp6", netip.MustParseAddr("::"), 8080, 10)
	checkListener(t, snap, "tcp6", netip.MustParseAddr("2001:db8::1"), 8081, 11)
	if len(snap.Listeners) != 3 {
		t.Errorf("%d listeners, want 3: %+v", len(snap.Listeners), snap.Listeners)
	}

	// The container: both processes, each file once.
	if len(snap.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(snap.Containers))
	}
	c := snap.Containers[cid]
	if c == nil {
		t.Fatalf("container %s missing", cid)
	}
	if c.PodUID != puid || c.QoS != "besteffort" || !slices.Equal(c.PIDs, []int{10, 11}) || !strings.HasSuffix(c.CgroupPath, "/"+cid) {
		t.Errorf("container = pod %s qos %s pids %v cgroup %s", c.PodUID, c.QoS, c.PIDs, c.CgroupPath)
	}
	if len(c.Exes) != 1 || len(c.Open) != 1 || len(c.Mapped) != 3 {
		t.Errorf("container exes %d open %d mapped %d, want 1 1 3 (deduplicated)", len(c.Exes), len(c.Open), len(c.Mapped))
	}
	if c.Mapped[0].Path != "/lib/libssl.so.3" { // sorted by path
		t.Errorf("mapped not sorted: %+v", c.Mapped)
	}
	var ports []string
	for _, l := range c.Listeners {
		ports = append(ports, l.PortName())
	}
	if !slices.Equal(ports, []string{"tcp/8080", "tcp/8081"}) {
		t.Errorf("container ports = %v, want [tcp/8080 tcp/8081]", ports)
	}
}
