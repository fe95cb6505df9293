package image_test

import (
	"archive/tar"
	"bytes"
	"io"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func tarballLayer(b []byte) (v1.Layer, error) {
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	})
}

// layerfstestTar is an uncompressed tar of name/content pairs.
func layerfstestTar(t *testing.T, kv ...string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for i := 0; i < len(kv); i += 2 {
		if err := tw.WriteHeader(&tar.Header{Name: kv[i], Mode: 0o644, Typeflag: tar.TypeReg, Size: int64(len(kv[i+1]))}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(kv[i+1]))
	}
	tw.Close()
	return buf.String()
}

// rawLayer is an uncompressed layer stored as is (media type
// application/vnd.oci.image.layer.v1.tar).
type rawLayer struct{ b []byte }

func (r *rawLayer) Digest() (v1.Hash, error) {
	h, _, err := v1.SHA256(bytes.NewReader(r.b))
	return h, err
}
func (r *rawLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(r.b)), nil
}
func (r *rawLayer) Size() (int64, error)                { return int64(len(r.b)), nil }
func (r *rawLayer) MediaType() (types.MediaType, error) { return types.OCIUncompressedLayer, nil }
