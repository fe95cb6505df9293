package layerfs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"testing"

	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
)

// memLayer is a layer whose uncompressed tar is b.
func memLayer(diff string, b []byte) layerfs.Layer {
	return layerfs.Layer{DiffID: diff, Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

// gzLayer is a layer stored gzip-compressed and decompressed on Open, as
// an image source would.
func gzLayer(t testing.TB, diff string, gz []byte) layerfs.Layer {
	return layerfs.Layer{DiffID: diff, Open: func(context.Context) (io.ReadCloser, error) {
		return gzip.NewReader(bytes.NewReader(gz))
	}}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// tarLayer builds a layer from fixture entries.
func tarLayer(t testing.TB, diff string, entries ...layerfstest.Entry) layerfs.Layer {
	return memLayer(diff, layerfstest.Tar(t, entries))
}

func flatten(t testing.TB, opts layerfs.Options, layers ...layerfs.Layer) (layerfs.RootFS, error) {
	t.Helper()
	if opts.TempDir == "" {
		opts.TempDir = t.TempDir()
	}
	fsys, err := layerfs.Flatten(context.Background(), layers, opts)
	if fsys != nil {
		t.Cleanup(func() { fsys.Close() })
	}
	return fsys, err
}

func mustFlatten(t testing.TB, opts layerfs.Options, layers ...layerfs.Layer) layerfs.RootFS {
	t.Helper()
	fsys, err := flatten(t, opts, layers...)
	if err != nil {
		t.Fatalf("Flatten: %v", err)
	}
	return fsys
}
