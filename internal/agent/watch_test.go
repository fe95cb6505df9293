package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestWatcherSumsSnapshotsAndEvents: what a process used stays after it
// exits; exec and open events are attributed through /proc/<pid>/cgroup;
// host processes and relative paths are left out.
func TestWatcherSumsSnapshotsAndEvents(t *testing.T) {
	proc := t.TempDir()
	const id = "4f5c1d0b2a3e4f5c1d0b2a3e4f5c1d0b2a3e4f5c1d0b2a3e4f5c1d0b2a3e4f5c"
	cg := func(pid, text string) {
		if err := os.MkdirAll(filepath.Join(proc, pid), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(proc, pid, "cgroup"), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cg("77", "0::/runlens-x/kubepods/besteffort/pod0a1b2c3d-0000-4000-8000-000000000001/"+id+"\n")
	cg("1", "0::/init.scope\n")
	w := NewWatcher(proc)
	w.AddSnapshot(map[string][]Process{id: {{PID: 42, Exe: "/usr/bin/python3.11", Mapped: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}, Ports: []string{"tcp/8080"}}}})
	w.AddSnapshot(map[string][]Process{id: {{PID: 42, Exe: "/usr/bin/python3.11", Mapped: []string{"/usr/lib/x86_64-linux-gnu/libssl.so.3"}}}}) // again: no duplicates
	if err := os.WriteFile(filepath.Join(proc, "77", "maps"), []byte("7f1c2a000000-7f1c2a022000 r-xp 00000000 fd:01 1835099    /usr/lib/x86_64-linux-gnu/libcurl.so.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.Exec(77, "/usr/bin/curl")
	w.Rescan() // after an exec, its maps are read once
	w.Open(77, "/etc/ssl/certs/ca-certificates.crt")
	w.Open(77, "relative/file")
	w.Exec(1, "/usr/sbin/cron") // the host
	got, err := w.Processes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	procs := map[int]Process{}
	for _, p := range got[id] {
		procs[p.PID] = p
	}
	if len(got) != 1 || len(procs) != 2 {
		t.Fatalf("%+v", got)
	}
	if p := procs[42]; len(p.Mapped) != 1 || len(p.Ports) != 1 || p.Exe != "/usr/bin/python3.11" {
		t.Errorf("pid 42: %+v", p)
	}
	if p := procs[77]; len(p.Executed) != 1 || p.Executed[0] != "/usr/bin/curl" || len(p.Opened) != 1 || p.Opened[0] != "/etc/ssl/certs/ca-certificates.crt" ||
		len(p.Mapped) != 1 || p.Mapped[0] != "/usr/lib/x86_64-linux-gnu/libcurl.so.4" {
		t.Errorf("pid 77: %+v", p)
	}
	if w.Cut() != 0 {
		t.Errorf("cut %d", w.Cut())
	}
}
