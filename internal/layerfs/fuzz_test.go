package layerfs_test

import (
	"archive/tar"
	"context"
	"io"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
)

// FuzzFlatten feeds arbitrary bytes as the top layer over the conformance
// fixture (whose symlinks aim at a host sentinel). Flatten must not panic
// or hang, and no read through the view may return the sentinel.
func FuzzFlatten(f *testing.F) {
	s := layerfstest.NewSentinel(f, f.TempDir())
	base := layerfstest.Tar(f, layerfstest.Fixture(s))
	// Seeds stay small: the fuzzer minimises every new interesting input.
	f.Add(rawTar(f, reg("../../x"), hard("h", "../../etc/shadow"), sym("a", "/etc"), reg("a/pwn"), reg(`..\x`)))
	f.Add(rawTar(f, sym("l1", "l2"), sym("l2", "l1"), reg("l1/x"), hard("h", "evil/abs"), reg("evil/up/escape")))
	f.Add(rawTar(f, reg("good/.wh..wh..opq"), reg(".wh.evil"), &tar.Header{Name: "good/etc/", Typeflag: tar.TypeDir, Mode: 0o755}))
	f.Add(gzipBytes(f, rawTar(f, reg("good/etc/os-release"))))
	f.Add([]byte{})

	f.Fuzz(func(t *testing.T, data []byte) {
		tmp := t.TempDir()
		opts := layerfs.Options{
			TempDir: tmp,
			Limits:  layerfs.Limits{MaxLayerBytes: 4 << 20, MaxEntries: 20_000, MaxTotalBytes: 8 << 20},
		}
		fsys, err := layerfs.Flatten(context.Background(), []layerfs.Layer{memLayer("base", base), memLayer("fuzz", data)}, opts)
		if fsys == nil {
			t.Fatalf("no view: %v", err)
		}
		defer fsys.Close()
		if ents, _ := os.ReadDir(tmp); len(ents) != 0 {
			t.Fatalf("files left in TempDir: %v", ents)
		}
		n := 0
		fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if n++; n > 50_000 {
				return fs.SkipAll
			}
			fsys.LayerOf(p)
			fsys.Lstat(p)
			if d.Type()&fs.ModeSymlink != 0 {
				fsys.ReadLink(p)
			}
			if _, err := fsys.Stat(p); err != nil {
				return nil
			}
			file, err := fsys.Open(p)
			if err != nil {
				return nil
			}
			defer file.Close()
			if rd, ok := file.(fs.ReadDirFile); ok {
				rd.ReadDir(-1)
				return nil
			}
			b, _ := io.ReadAll(io.LimitReader(file, 1<<20))
			if strings.Contains(string(b), s.Body) {
				t.Fatalf("%s read the host sentinel", p)
			}
			return nil
		})
	})
}
