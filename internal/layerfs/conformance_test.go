package layerfs_test

import (
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
)

func TestConformanceFlatten(t *testing.T) {
	s := layerfstest.NewSentinel(t, t.TempDir())
	fsys := mustFlatten(t, layerfs.Options{}, tarLayer(t, "sha256:l0", layerfstest.Fixture(s)...))
	layerfstest.Run(t, fsys, s)
}

func dirFixture(t *testing.T) (layerfs.RootFS, layerfstest.Sentinel) {
	t.Helper()
	tmp := t.TempDir()
	s := layerfstest.NewSentinel(t, tmp)
	root := filepath.Join(tmp, "root")
	layerfstest.WriteDir(t, root, layerfstest.Fixture(s))
	fsys, err := layerfs.Dir(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fsys.Close() })
	return fsys, s
}

func TestConformanceDir(t *testing.T) {
	for _, portable := range []bool{false, true} {
		name := "openat2"
		if portable {
			name = "os.Root"
		}
		t.Run(name, func(t *testing.T) {
			defer layerfs.SetForceRootBackend(portable)()
			fsys, s := dirFixture(t)
			layerfstest.Run(t, fsys, s)
			if got := fsys.LayerOf("good/etc/passwd"); got != "" {
				t.Errorf("LayerOf = %q; want empty for a directory", got)
			}
		})
	}
}

// TestFlattenMatchesDir checks both implementations present the same tree.
func TestFlattenMatchesDir(t *testing.T) {
	dfs, s := dirFixture(t)
	ffs := mustFlatten(t, layerfs.Options{}, tarLayer(t, "sha256:l0", layerfstest.Fixture(s)...))
	if diff := cmp.Diff(layerfstest.Listing(t, dfs), layerfstest.Listing(t, ffs)); diff != "" {
		t.Errorf("Dir vs Flatten listing (-dir +flatten):\n%s", diff)
	}
}
