package agent

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/evidence"
	"github.com/runlens/runlens/internal/inventory"
)

// A library a process maps under a path no package names — a hard link
// of the package's file — is the package's by inode; a copy (another
// inode) is not. The container here is this test process (its root is
// the node's).
func TestSnapshotMatchesMappedFilesByInode(t *testing.T) {
	dir := t.TempDir()
	var rootSt, dirSt syscall.Stat_t
	if syscall.Stat("/", &rootSt) != nil || syscall.Stat(dir, &dirSt) != nil || rootSt.Dev != dirSt.Dev {
		t.Skipf("%s is not on the root file system: inodes are only matched within one", dir)
	}
	owned := filepath.Join(dir, "usr/lib/libfoo.so.1")
	link := filepath.Join(dir, "opt/app/lib/libfoo.so.1")
	cp := filepath.Join(dir, "opt/app/lib/libcopy.so.1")
	for _, d := range []string{filepath.Dir(owned), filepath.Dir(link)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(owned, []byte("\x7fELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(owned, link); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, []byte("\x7fELF"), 0o644); err != nil {
		t.Fatal(err)
	}
	ino := func(p string) uint64 {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return st.Ino
	}
	pid := os.Getpid()
	src := Sources{
		Node:     "n",
		ProcRoot: "/proc",
		Containers: func(context.Context) ([]evidence.Container, error) {
			return []evidence.Container{{ID: "c1", PodUID: "p1", Digest: "sha256:app"}}, nil
		},
		Processes: func(context.Context) (map[string][]Process, error) {
			return map[string][]Process{"c1": {{PID: pid, Mapped: []string{link, cp},
				MappedInodes: map[string]uint64{link: ino(link), cp: ino(cp)}}}}, nil
		},
		Inventory: func(context.Context, *evidence.Container) (*inventory.Inventory, error) {
			return &inventory.Inventory{Packages: []inventory.Package{
				{Name: "libfoo1", Version: "1.0-1", Type: "deb", Files: []string{owned, filepath.Join(dir, "usr/lib/libcopy.so.1")}},
			}}, nil
		},
		Complete: true,
		Now:      func() time.Time { return time.Unix(1000, 0) },
		Indexes:  &IndexCache{},
	}
	doc, err := Snapshot(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Records) != 1 || doc.Records[0].Package.Name != "libfoo1" || doc.Records[0].State != "loaded" {
		t.Fatalf("records %+v, want libfoo1 loaded through its hard link", doc.Records)
	}
	if files := doc.Records[0].Files; len(files) != 1 || files[0] != link {
		t.Errorf("files %q, want the path the process mapped (%s), not the copy", files, link)
	}
	// Without ProcRoot nothing is matched by inode.
	src.ProcRoot = ""
	if doc, err = Snapshot(context.Background(), src); err != nil || len(doc.Records) != 0 {
		t.Errorf("without ProcRoot: records %+v, %v", doc.Records, err)
	}
}
