package contentstore

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/testing/testimage"
)

func tarOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"etc/motd", "etc/issue"} {
		data, ok := files[name]
		if !ok {
			continue
		}
		must(t, tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: testimage.Created}))
		tw.Write([]byte(data))
	}
	must(t, tw.Close())
	return buf.Bytes()
}

// TestLayerCompressions reads an uncompressed and a zstd layer; a byte
// changed in the uncompressed one still parses as tar, and only the
// digest check catches it.
func TestLayerCompressions(t *testing.T) {
	plain := tarOf(t, map[string]string{"etc/motd": "plain layer"})
	zt := tarOf(t, map[string]string{"etc/issue": "zstd layer"})
	zl, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(zt)), nil },
		tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	must(t, err)
	img, err := testimage.Build([]v1.Layer{static.NewLayer(plain, types.OCIUncompressedLayer), zl},
		testimage.Options{Platform: host, Created: testimage.Created, OCI: true})
	must(t, err)
	w := newStoreDir(t)
	md := w.image(img)
	s, err := Open(w.root)
	must(t, err)
	defer s.Close()
	got, err := s.Image(context.Background(), md.String())
	must(t, err)
	if d := got.Descriptor(); d.Layers[0].MediaType != string(types.OCIUncompressedLayer) || d.Layers[1].MediaType != string(types.OCILayerZStd) {
		t.Fatalf("layers %+v", d.Layers)
	}
	for name, want := range map[string]string{"etc/motd": "plain layer", "etc/issue": "zstd layer"} {
		if s, err := readFile(t, got, name); err != nil || s != want {
			t.Errorf("%s = %q, %v", name, s, err)
		}
	}

	ls := layerDigests(t, img)
	p := w.path(ls[0])
	b, err := os.ReadFile(p)
	must(t, err)
	i := bytes.Index(b, []byte("plain layer"))
	copy(b[i:], "PLAIN")
	must(t, os.WriteFile(p, b, 0o644))
	got, err = s.Image(context.Background(), md.String())
	must(t, err)
	if _, err := readFile(t, got, "etc/motd"); !errors.Is(err, image.ErrDigestMismatch) || !strings.Contains(err.Error(), ls[0].String()) {
		t.Errorf("changed uncompressed layer: %v, want a digest mismatch naming %s", err, ls[0])
	}
}
