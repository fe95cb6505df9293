package agent

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/runlens/runlens/internal/agent/procscan"
	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/scan"
)

func TestProcessesOfGroupsByContainerWithPorts(t *testing.T) {
	snap := &procscan.Snapshot{
		Processes: []procscan.Process{
			{PID: 42, Exe: procscan.FileID{Path: "/usr/bin/python3.11"}, Attribution: procscan.Attribution{PodUID: "p1", ContainerID: "c1"},
				Maps:  []procscan.Mapping{{FileID: procscan.FileID{Path: "/usr/lib/x86_64-linux-gnu/libssl.so.3"}, Exec: true}},
				Files: []procscan.FileID{{Path: "/srv/index.html"}}},
			{PID: 7, Exe: procscan.FileID{Path: "/usr/sbin/sshd"}}, // a host process
		},
		Listeners: []procscan.Listener{{Proto: "tcp6", Addr: netip.IPv6Unspecified(), Port: 8080, PIDs: []int{42}}},
	}
	got := processesOf(snap)
	if len(got) != 1 || len(got["c1"]) != 1 {
		t.Fatalf("%+v", got)
	}
	p := got["c1"][0]
	if p.Exe != "/usr/bin/python3.11" || p.Mapped[0] != "/usr/lib/x86_64-linux-gnu/libssl.so.3" || p.Opened[0] != "/srv/index.html" || p.Ports[0] != "tcp/8080" {
		t.Errorf("%+v", p)
	}
}

// TestInventoriesReadTheLiveRoot: without a content store the image is
// read from /proc/<pid>/root, here a fake proc tree whose root holds a
// dpkg database; the package's file list comes along for attribution.
func TestInventoriesReadTheLiveRoot(t *testing.T) {
	proc := t.TempDir()
	root := filepath.Join(proc, "42", "root")
	write := func(name, text string) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("etc/os-release", "ID=debian\nVERSION_ID=\"12\"\n")
	write("var/lib/dpkg/status", "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3.0.11-1~deb12u2\nSource: openssl\n\n")
	write("var/lib/dpkg/info/libssl3:amd64.list", "/.\n/usr\n/usr/lib/x86_64-linux-gnu/libssl.so.3\n")
	write("usr/lib/x86_64-linux-gnu/libssl.so.3", "ELF")
	inv, err := Inventories(nil, proc, &scan.Scanner{})(context.Background(), &evidence.Container{ID: "c1", PIDs: []int{42}})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, p := range inv.Packages {
		if p.Name == "libssl3" {
			files = p.Files
		}
	}
	if len(files) != 1 || files[0] != "/usr/lib/x86_64-linux-gnu/libssl.so.3" {
		t.Fatalf("libssl3 files %q in %+v", files, inv.Packages)
	}
	if _, err := Inventories(nil, proc, &scan.Scanner{})(context.Background(), &evidence.Container{ID: "c2"}); err == nil {
		t.Error("a container without processes and no store gave an inventory")
	}
}

func TestContainerProblemsLeaveOutTheHost(t *testing.T) {
	snap := &procscan.Snapshot{
		Processes: []procscan.Process{{PID: 1}, {PID: 42, Attribution: procscan.Attribution{PodUID: "p", ContainerID: "c1"}}},
		Problems:  []string{"pid 1 (init): maps: permission denied", "pid 42 (python3): fd: permission denied on 3 descriptors", "net/tcp6 of namespace 4026531840: cut at 1048576 lines"},
	}
	got := containerProblems(snap)
	if len(got) != 2 || got[0] != "pid 42 (python3): fd: permission denied on 3 descriptors" {
		t.Errorf("%q", got)
	}
}
