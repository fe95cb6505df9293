package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/scan"
)

// TestLiveRootSymlinksStayInside: a container whose root has /lib -> /,
// a dpkg database that is an absolute symlink to a path holding, on the
// host, a package list, ../ links climbing out, and a symlink loop: the
// live root is read confined — links resolve inside it — so nothing of
// the host is inventoried, and the loop is skipped, not followed forever.
func TestLiveRootSymlinksStayInside(t *testing.T) {
	proc := t.TempDir()
	root := filepath.Join(proc, "42", "root")
	host := filepath.Join(proc, "host")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{filepath.Join(root, "var/lib/dpkg"), filepath.Join(root, "etc"), filepath.Join(host, "var/lib/dpkg/info")} {
		must(os.MkdirAll(d, 0o755))
	}
	// On the host, outside the container: a package database.
	must(os.WriteFile(filepath.Join(host, "var/lib/dpkg/status"), []byte("Package: host-secret\nStatus: install ok installed\nVersion: 1.0\nArchitecture: amd64\n\n"), 0o644))
	must(os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=debian\nVERSION_ID=\"12\"\n"), 0o644))
	must(os.Symlink("/", filepath.Join(root, "lib")))
	// Absolute: inside the container it names its own /host/var/...
	must(os.Symlink(filepath.Join(host, "var/lib/dpkg/status"), filepath.Join(root, "var/lib/dpkg/status")))
	// Relative, climbing out of the root.
	must(os.Symlink("../../../../host/var/lib/dpkg/info", filepath.Join(root, "var/lib/dpkg/info")))
	must(os.Symlink("b", filepath.Join(root, "a")))
	must(os.Symlink("a", filepath.Join(root, "b")))

	inv, err := Inventories(nil, proc, &scan.Scanner{})(context.Background(), &evidence.Container{ID: "c1", PIDs: []int{42}})
	if inv == nil {
		t.Fatalf("no inventory: %v", err)
	}
	for _, p := range inv.Packages {
		if p.Name == "host-secret" {
			t.Fatalf("a package of the host was read through the container's symlinks: %+v", p)
		}
	}
}
