package extract

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layerfs"
)

var update = flag.Bool("update", false, "rewrite golden files")

// dirRoot is layerfs.Dir with an optional fixed layer attribution, so
// tests can check that Extract fills Layer from LayerOf.
type dirRoot struct {
	layerfs.RootFS
	layer string
}

func newDirRoot(t testing.TB, dir string) *dirRoot {
	t.Helper()
	r, err := layerfs.Dir(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return &dirRoot{RootFS: r}
}

func (d *dirRoot) LayerOf(name string) string {
	if d.layer == "" {
		return ""
	}
	if _, err := d.Lstat(name); err != nil {
		return ""
	}
	return d.layer
}

// copyTree copies a fixture tree, keeping file modes (executables matter).
func copyTree(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, b, info.Mode().Perm()|0o200)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, root, name string, data []byte, mode os.FileMode) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, mode); err != nil {
		t.Fatal(err)
	}
}

// materializeDpkgLists creates the files and directories named by every
// real .list file in root, as empty placeholders, so the ownership step can
// tell files from directories. A line is a directory when another line is
// inside it, which is how dpkg writes them.
func materializeDpkgLists(t testing.TB, root string) {
	t.Helper()
	lists, _ := filepath.Glob(filepath.Join(root, "var/lib/dpkg/info/*.list"))
	var lines []string
	for _, l := range lists {
		b, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if s := sc.Text(); s != "" && s != "/." {
				lines = append(lines, s)
			}
		}
	}
	isDir := map[string]bool{}
	for _, s := range lines {
		for d := filepath.Dir(s); d != "/" && d != "."; d = filepath.Dir(d) {
			isDir[d] = true
		}
	}
	for _, s := range lines {
		p := filepath.Join(root, s)
		if isDir[s] {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Lstat(p); err == nil {
			continue
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

type zipEntry struct {
	name string
	data []byte
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		w, err := zw.Create(e.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(e.data); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func pomProperties(group, artifact, version string) zipEntry {
	return zipEntry{
		name: fmt.Sprintf("META-INF/maven/%s/%s/pom.properties", group, artifact),
		data: fmt.Appendf(nil, "#Created by Apache Maven 3.6.3\nversion=%s\ngroupId=%s\nartifactId=%s\n", version, group, artifact),
	}
}

func compareGolden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	p := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", p, diff)
	}
}
