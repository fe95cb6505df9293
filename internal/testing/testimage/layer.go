package testimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Entry is one tar entry of a layer built in memory.
type Entry struct {
	// Name is the tar name, written verbatim (hostile names included); a
	// name ending in "/" is a directory.
	Name string
	// Mode is the permission bits.
	Mode int64
	// Data is a regular file's content.
	Data []byte
}

// TarLayer builds a gzip layer of entries, in the order given, every entry
// modified at mtime. oci selects the OCI layer media type, else Docker's.
func TarLayer(entries []Entry, mtime time.Time, oci bool) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Typeflag: tar.TypeReg, Name: e.Name, Mode: e.Mode, Size: int64(len(e.Data)), ModTime: mtime}
		if strings.HasSuffix(e.Name, "/") {
			h = &tar.Header{Typeflag: tar.TypeDir, Name: e.Name, Mode: e.Mode, ModTime: mtime}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("tar header %s: %w", e.Name, err)
		}
		if _, err := tw.Write(e.Data); err != nil {
			return nil, fmt.Errorf("tar data %s: %w", e.Name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar close: %w", err)
	}
	data := buf.Bytes()
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithMediaType(layerType(oci)))
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return layer, nil
}
