package agentbench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
)

// fakeInventories gives every container an inventory of its own, made
// afresh on each call as a content-store read would be: a Debian-like
// image of 120 packages and 40 files each, where python3.11, libc6 and
// zlib own the files the http.server maps, "bench-load" owns the
// container's load file and "bench-loadgen" is the load's program.
func fakeInventories(files, exe string) func(ctx context.Context, c *evidence.Container) (*inventory.Inventory, error) {
	return func(_ context.Context, c *evidence.Container) (*inventory.Inventory, error) {
		deb := func(name string, paths ...string) inventory.Package {
			return inventory.Package{Name: name, Version: "1.0-1", Ecosystem: "Debian:12", Type: "deb",
				PURL: "pkg:deb/debian/" + name + "@1.0-1", Locations: []string{"/var/lib/dpkg/status"}, Files: paths}
		}
		inv := &inventory.Inventory{Distro: &inventory.Distro{ID: "debian", VersionID: "12"}, Packages: []inventory.Package{
			deb("python3.11-minimal", "/usr/bin/python3.11"),
			deb("libpython3.11-stdlib", "/usr/lib/python3.11/http/server.py", "/usr/lib/python3.11/socketserver.py"),
			deb("libc6", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libm.so.6",
				"/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", "/usr/lib/locale/C.utf8/LC_CTYPE"),
			deb("zlib1g", "/usr/lib/x86_64-linux-gnu/libz.so.1.2.13"),
			deb("libexpat1", "/usr/lib/x86_64-linux-gnu/libexpat.so.1.8.10"),
			deb("bench-load", filepath.Join(files, c.ID[:12])),
			{Name: "bench-loadgen", Version: "(devel)", Type: "go-binary", Locations: []string{exe}},
		}}
		for i := range 120 {
			name := fmt.Sprintf("filler%03d", i)
			paths := make([]string, 40)
			for j := range paths {
				paths[j] = fmt.Sprintf("/usr/share/%s/file%02d", name, j)
			}
			inv.Packages = append(inv.Packages, deb(name, paths...))
		}
		return inv, nil
	}
}

// agentProc is a running agent child.
type agentProc struct{ *child }

// startAgent starts the agent child (in this test's own cgroup, not a
// container's) and waits for its bootstrap snapshot.
func startAgent(t testing.TB, p *pool, interval time.Duration) (*agentProc, agentStats) {
	t.Helper()
	cmd := exec.Command(os.Args[0], strconv.Itoa(int(interval.Milliseconds())), p.name, p.files)
	cmd.Env = append(os.Environ(), roleEnv+"=agent")
	a := &agentProc{startIn(t, cmd, "")}
	l := a.line(t)
	js, ok := strings.CutPrefix(l, "ready ")
	if !ok {
		t.Fatalf("agent: %q", l)
	}
	return a, decodeStats(t, js)
}

// stats asks the agent for its figures so far.
func (a *agentProc) stats(t testing.TB) agentStats {
	t.Helper()
	fmt.Fprintln(a.stdin, "stats")
	return decodeStats(t, a.line(t))
}

// restart moves the agent's next snapshot to half an interval from now.
func (a *agentProc) restart() { fmt.Fprintln(a.stdin, "go") }

// finish ends the agent and returns its last figures.
func (a *agentProc) finish(t testing.TB) agentStats {
	t.Helper()
	a.stdin.Close()
	st := decodeStats(t, a.line(t))
	if err := a.cmd.Wait(); err != nil {
		t.Fatalf("agent: %v", err)
	}
	return st
}

func decodeStats(t testing.TB, js string) agentStats {
	t.Helper()
	var st agentStats
	if err := json.Unmarshal([]byte(js), &st); err != nil {
		t.Fatalf("agent stats %q: %v", js, err)
	}
	return st
}
