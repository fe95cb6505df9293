//go:build linux

package procscan

import (
	"context"
	"path/filepath"
	"testing"
)

// ContainersOnly reads a host process's stat and cgroup and nothing
// else, and a container's process in full.
func TestContainersOnlySkipsHostProcesses(t *testing.T) {
	root := t.TempDir()
	proc := filepath.Join(root, "proc")
	bin := realFile(t, filepath.Join(root, "files"), "usr/bin/server")
	maps := "55d4a0a00000-55d4a0a2c000 r-xp 00000000 fd:01 100 /usr/bin/server\n"
	kube := "0::/kubepods/besteffort/pod" + puid + "/" + cid + "\n"
	writeFake(t, proc, fakeProc{pid: 1, comm: "kubelet", cgroup: "0::/system.slice/kubelet.service\n", exe: bin, netns: 4026531833, maps: maps,
		fds: map[int]string{3: "socket:[9001]"}})
	writeFake(t, proc, fakeProc{pid: 10, comm: "server", cgroup: kube, exe: bin, netns: 4026532500, maps: maps,
		fds: map[int]string{3: "socket:[7001]"}})
	snap, err := Scan(context.Background(), Options{ProcRoot: proc, ContainersOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	host, ctr := findProc(t, snap, 1), findProc(t, snap, 10)
	if host.Comm != "kubelet" || host.Cgroup != "/system.slice/kubelet.service" {
		t.Errorf("host process = %+v, want its stat and cgroup", host)
	}
	if host.Exe.Path != "" || len(host.Maps) != 0 || len(host.Sockets) != 0 || host.NetNS != 0 {
		t.Errorf("host process read beyond its cgroup: %+v", host)
	}
	if ctr.Exe.Path != bin || len(ctr.Maps) != 1 || len(ctr.Sockets) != 1 || ctr.NetNS != 4026532500 {
		t.Errorf("container process = %+v, want it read in full", ctr)
	}
}
