//go:build linux

package procscan

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// A NetCache reads a namespace's tables once while its processes hold
// only sockets already classified, again when a new socket appears, and
// never for a namespace whose processes hold none.
func TestNetCacheReadsOnlyWhatMayHaveChanged(t *testing.T) {
	if !littleEndian() {
		t.Skip("tables are in little-endian word order")
	}
	proc := filepath.Join(t.TempDir(), "proc")
	kube := "0::/kubepods/besteffort/pod" + puid + "/" + cid + "\n"
	net := map[string]string{
		"tcp": tcpHeader +
			"   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7001 1\n" +
			"   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 7003 1\n",
	}
	server := writeFake(t, proc, fakeProc{pid: 10, comm: "server", cgroup: kube, netns: 4026532500, net: net,
		fds: map[int]string{3: "socket:[7001]", 4: "socket:[7003]"}})
	// Another namespace whose process holds no socket: a table that
	// would fail to parse proves it is never read.
	writeFake(t, proc, fakeProc{pid: 20, comm: "batch", cgroup: kube, netns: 4026532600,
		net: map[string]string{"tcp": "garbage\n"}})

	cache := &NetCache{}
	scan := func() *Snapshot {
		t.Helper()
		snap, err := Scan(context.Background(), Options{ProcRoot: proc, NetCache: cache})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range snap.Problems {
			t.Errorf("problem: %s", p)
		}
		return snap
	}
	ports := func(s *Snapshot) []uint16 {
		var out []uint16
		for _, l := range s.Listeners {
			out = append(out, l.Port)
		}
		return out
	}
	first := scan()
	if got := ports(first); len(got) != 1 || got[0] != 8080 || len(first.Listeners[0].PIDs) != 1 {
		t.Fatalf("first scan listeners = %+v, want 8080 held by pid 10", first.Listeners)
	}
	second := scan()
	if got := ports(second); len(got) != 1 || got[0] != 8080 {
		t.Fatalf("second scan listeners = %+v", second.Listeners)
	}
	if reads, reuses := cache.Counts(); reads != 1 || reuses != 1 {
		t.Errorf("reads %d, reuses %d after two scans; want 1 and 1", reads, reuses)
	}

	// A new socket, not in any table yet (it may listen later): read again.
	must(t, os.Symlink("socket:[7004]", filepath.Join(server, "fd", "5")))
	scan()
	if reads, _ := cache.Counts(); reads != 2 {
		t.Errorf("reads = %d after a new socket, want 2", reads)
	}
	// The listener closed: it is no longer reported, without a read.
	must(t, os.Remove(filepath.Join(server, "fd", "3")))
	must(t, os.Remove(filepath.Join(server, "fd", "5")))
	if got := scan(); len(got.Listeners) != 0 {
		t.Errorf("listeners after the close = %+v, want none", got.Listeners)
	}
	if reads, _ := cache.Counts(); reads != 2 {
		t.Errorf("reads = %d after the close, want still 2", reads)
	}
}
