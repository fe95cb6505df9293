package layerfs_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"io/fs"
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

// Short fixture constructors.
func F(name, body string) layerfstest.Entry {
	return layerfstest.Entry{Name: name, Mode: 0o644, Body: body}
}
func D(name string) layerfstest.Entry { return layerfstest.Entry{Name: name, Mode: fs.ModeDir | 0o755} }
func L(name, target string) layerfstest.Entry {
	return layerfstest.Entry{Name: name, Mode: fs.ModeSymlink | 0o777, Link: target}
}
func H(name, target string) layerfstest.Entry { return layerfstest.Entry{Name: name, Hardlink: target} }

// dump renders every path as "type layer [contents]" so a whole view can be
// compared with cmp.Diff. Unkept contents show as "<not kept>".
func dump(t testing.TB, fsys layerfs.RootFS) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == "." {
			return nil
		}
		layer := fsys.LayerOf(p)
		switch d.Type() {
		case fs.ModeDir:
			out[p] = "dir " + layer
		case fs.ModeSymlink:
			target, err := fsys.ReadLink(p)
			if err != nil {
				return err
			}
			out[p] = "link " + layer + " -> " + target
		case 0:
			b, err := fs.ReadFile(fsys, p)
			switch {
			case errors.Is(err, layerfs.ErrNotKept):
				out[p] = "file " + layer + " <not kept>"
			case err != nil:
				return err
			default:
				out[p] = "file " + layer + " " + string(b)
			}
		default:
			out[p] = d.Type().String() + " " + layer
		}
		return nil
	})
	if err != nil {
		t.Fatalf("walk: %v", err)
	}
	return out
}
