package extract

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"io/fs"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/inventory"
	"github.com/runlens/runlens/internal/layerfs"
)

// TestSkippedPackageDatabases: a package database or manifest that was
// never read (over the cap, contents not kept) is a Skipped FileError and
// makes the inventory Incomplete, naming it; one read and failing to
// parse, and an executable over its cap, are plain FileErrors.
func TestSkippedPackageDatabases(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "etc/os-release", []byte("ID=debian\nVERSION_ID=12\n"), 0o644)
	writeFile(t, dir, "var/lib/dpkg/status", longLine(2<<20), 0o644)
	writeFile(t, dir, "srv/app/package-lock.json", longLine(2<<20), 0o644)
	writeFile(t, dir, "srv/bad/package.json", []byte(`{"name":`), 0o644)
	writeFile(t, dir, "usr/local/bin/tool", append([]byte("\x7fELF"), longLine(3<<20)...), 0o755)
	inv, err := Extract(context.Background(), newDirRoot(t, dir), Options{MaxFileBytes: 1 << 20, MaxBinaryBytes: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"/var/lib/dpkg/status": true, "/srv/app/package-lock.json": true, "/srv/bad/package.json": false, "/usr/local/bin/tool": false}
	got := map[string]bool{}
	for _, e := range inv.Errors {
		got[e.Path] = got[e.Path] || e.Skipped
		if _, ok := want[e.Path]; !ok {
			t.Errorf("unexpected error %+v", e)
		}
	}
	for p, skipped := range want {
		if s, ok := got[p]; !ok || s != skipped {
			t.Errorf("%s: skipped=%v (reported %v), want skipped=%v; errors %+v", p, s, ok, skipped, inv.Errors)
		}
	}
	why := Incomplete(inv)
	if !strings.Contains(why, "2 package databases not read") || !strings.Contains(why, "/var/lib/dpkg/status") || !strings.Contains(why, "/srv/app/package-lock.json") {
		t.Errorf("Incomplete = %q", why)
	}
	if why := Incomplete(&inventory.Inventory{Errors: []inventory.FileError{{Path: "/x", Reason: "parse"}}}); why != "" {
		t.Errorf("Incomplete without skipped files = %q", why)
	}
}

// TestUnkeptPackageDatabaseIsSkipped: contents layerfs did not keep (over
// its MaxFileBytes) make the dpkg status a skipped file.
func TestUnkeptPackageDatabaseIsSkipped(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, body := range map[string]string{"etc/os-release": "ID=debian\nVERSION_ID=12\n", "var/lib/dpkg/status": strings.Repeat("x", 4096)} {
		tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
		tw.Write([]byte(body))
	}
	tw.Close()
	layer := layerfs.Layer{DiffID: "sha256:l", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(buf.Bytes())), nil
	}}
	root, err := layerfs.Flatten(context.Background(), []layerfs.Layer{layer},
		layerfs.Options{Want: Want(), Limits: layerfs.Limits{MaxFileBytes: 1024}, TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := fs.ReadFile(root, "var/lib/dpkg/status"); err == nil {
		t.Fatal("fixture lost its point: the status was kept")
	}
	inv, err := Extract(context.Background(), root, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if why := Incomplete(inv); !strings.Contains(why, "/var/lib/dpkg/status") {
		t.Errorf("Incomplete = %q; errors %+v", why, inv.Errors)
	}
}
