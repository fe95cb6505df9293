package testimage

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestImageAndIndex(t *testing.T) {
	img := Image(t, "linux/arm/v7", map[string]string{"etc/": "", "etc/os-release": "ID=x\n"})
	mt, err := img.MediaType()
	if err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("media type %s, %v", mt, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if got := cf.Platform().String(); got != "linux/arm/v7" || !cf.Created.Equal(Created) {
		t.Errorf("platform %s, created %s", got, cf.Created)
	}
	idx := Index(t, true, img)
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 2 || m.Manifests[1].Platform.OS != "unknown" {
		t.Errorf("index = %+v, want the image and an attestation entry", m.Manifests)
	}
}

func TestBuildRejectsHistoryOfAnotherLength(t *testing.T) {
	l, err := TarLayer([]Entry{{Name: "a", Mode: 0o644}}, time.Unix(0, 0), false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Build([]v1.Layer{l}, Options{History: make([]v1.History, 2)}); err == nil {
		t.Error("two history entries for one layer accepted")
	}
}

func TestDirLayerIsReproducible(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	var diffs []string
	for _, name := range []string{"a.tar.gz", "b.tar.gz"} {
		l, p, err := DirLayer(context.Background(), dir, filepath.Join(t.TempDir(), name), DirOptions{MTime: time.Unix(1, 0), OCI: true})
		if err != nil {
			t.Fatal(err)
		}
		d, _ := l.DiffID()
		if d.String() != p.DiffID || p.Entries != 1 {
			t.Errorf("layer diffID %s, packed %+v", d, p)
		}
		if mt, _ := l.MediaType(); mt != types.OCILayer {
			t.Errorf("media type %s", mt)
		}
		diffs = append(diffs, p.DiffID)
		if err := os.Chtimes(filepath.Join(dir, "f"), time.Now(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if diffs[0] != diffs[1] {
		t.Errorf("two packings differ: %v", diffs)
	}
}
