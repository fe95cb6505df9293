package contentstore

import (
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// blobWriter writes blobs the way containerd's content store keeps them.
type blobWriter struct {
	t    *testing.T
	root string // containerd's root
}

func newStoreDir(t *testing.T) blobWriter {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, ContentDir, "blobs", "sha256"), 0o755); err != nil {
		t.Fatal(err)
	}
	return blobWriter{t: t, root: root}
}

func (w blobWriter) path(d v1.Hash) string {
	return filepath.Join(w.root, ContentDir, "blobs", "sha256", d.Hex)
}

func (w blobWriter) put(d v1.Hash, b []byte) {
	w.t.Helper()
	if err := os.WriteFile(w.path(d), b, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// image writes img's manifest, config and compressed layers and returns
// the manifest digest.
func (w blobWriter) image(img v1.Image) v1.Hash {
	w.t.Helper()
	raw, err := img.RawManifest()
	must(w.t, err)
	d, err := img.Digest()
	must(w.t, err)
	w.put(d, raw)
	cfg, err := img.RawConfigFile()
	must(w.t, err)
	cd, err := img.ConfigName()
	must(w.t, err)
	w.put(cd, cfg)
	ls, err := img.Layers()
	must(w.t, err)
	for _, l := range ls {
		ld, err := l.Digest()
		must(w.t, err)
		rc, err := l.Compressed()
		must(w.t, err)
		f, err := os.Create(w.path(ld))
		must(w.t, err)
		_, err = f.ReadFrom(rc)
		must(w.t, err)
		must(w.t, f.Close())
		rc.Close()
	}
	return d
}

// index writes idx and every image it lists, and returns its digest.
func (w blobWriter) index(idx v1.ImageIndex) v1.Hash {
	w.t.Helper()
	im, err := idx.IndexManifest()
	must(w.t, err)
	for _, m := range im.Manifests {
		img, err := idx.Image(m.Digest)
		must(w.t, err)
		w.image(img)
	}
	raw, err := idx.RawManifest()
	must(w.t, err)
	d, err := idx.Digest()
	must(w.t, err)
	w.put(d, raw)
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func layerDigests(t *testing.T, img v1.Image) []v1.Hash {
	t.Helper()
	ls, err := img.Layers()
	must(t, err)
	var out []v1.Hash
	for _, l := range ls {
		d, err := l.Digest()
		must(t, err)
		out = append(out, d)
	}
	return out
}
