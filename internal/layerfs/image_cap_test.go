package layerfs_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layerfs"
)

// bombLayer is a gzip layer of one file of size zero bytes (a few KB per
// 16 MiB compressed) that counts its opens.
func bombLayer(t *testing.T, size int64) (layerfs.Layer, *atomic.Int32) {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Mode: 0o644, Size: size})
	io.CopyN(tw, zeros{}, size)
	tw.Close()
	zw.Close()
	gz := buf.Bytes()
	opens := &atomic.Int32{}
	return layerfs.Layer{DiffID: "sha256:bomb", Open: func(context.Context) (io.ReadCloser, error) {
		opens.Add(1)
		return gzip.NewReader(bytes.NewReader(gz))
	}}, opens
}

// TestImageCapStopsARepeatedBomb: one small bomb layer listed 1,000 times
// stops at MaxImageBytes with a partial view, after reading exactly the
// cap, instead of inflating every copy.
func TestImageCapStopsARepeatedBomb(t *testing.T) {
	const layerSize, imageCap = 16 << 20, 40 << 20
	bomb, opens := bombLayer(t, layerSize)
	layers := []layerfs.Layer{tarLayer(t, "sha256:base", F("before", "ok"))}
	for range 1000 {
		layers = append(layers, bomb)
	}
	var read int64
	opts := layerfs.Options{
		Limits:   layerfs.Limits{MaxImageBytes: imageCap},
		Progress: func(_ int, n int64) { read = max(read, n) },
	}
	start := time.Now()
	fsys, err := flatten(t, opts, layers...)
	took := time.Since(start)
	t.Logf("stopped after %d bytes (%d layer opens) in %v", read, opens.Load(), took.Round(time.Millisecond))
	limitErr(t, err, "MaxImageBytes")
	if fsys == nil {
		t.Fatal("no partial view returned")
	}
	if read != imageCap {
		t.Errorf("read %d bytes; want exactly the %d-byte image cap", read, imageCap)
	}
	if n := opens.Load(); n != imageCap/layerSize+1 {
		t.Errorf("bomb opened %d times; want %d", n, imageCap/layerSize+1)
	}
	if !hasIssue(fsys, "MaxImageBytes") {
		t.Errorf("issues %+v; want the image cap", fsys.Issues())
	}
	if b, err := fsys.Open("before"); err != nil {
		t.Errorf("the layer before the cap is gone: %v", err)
	} else {
		b.Close()
	}
}

// TestLayerOverItsCapIsNotReadTwice: a layer that hit MaxLayerBytes is
// reported again, not inflated again, wherever it is listed again.
func TestLayerOverItsCapIsNotReadTwice(t *testing.T) {
	bomb, opens := bombLayer(t, 8<<20)
	layers := []layerfs.Layer{bomb, bomb, bomb, tarLayer(t, "sha256:top", F("after", "ok"))}
	fsys, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxLayerBytes: 1 << 20}}, layers...)
	limitErr(t, err, "MaxLayerBytes")
	if n := opens.Load(); n != 1 {
		t.Errorf("bomb opened %d times; want 1", n)
	}
	var n int
	for _, is := range fsys.Issues() {
		if is.Layer == "sha256:bomb" {
			n++
		}
	}
	if n != 3 {
		t.Errorf("issues %+v; want one per listing of the bomb", fsys.Issues())
	}
	if b, err := fsys.Open("after"); err != nil {
		t.Errorf("the layer after the bombs is gone: %v", err)
	} else {
		b.Close()
	}
}

// TestImageCapSameWithReplays: a replay that would take the image past
// MaxImageBytes is not used; the layer is read and cut where an uncached
// read cuts it.
func TestImageCapSameWithReplays(t *testing.T) {
	cls := replayFixture(t)
	layers := layersOf(cls...)
	c := openCache(t, t.TempDir())
	var total int64
	snapshot(t, layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", LayerCache: c,
		Progress: func(_ int, n int64) { total = n }}, layers)
	// Cut inside the base layer, and inside the top one (the lower
	// layers replayed, the top one's replay refused).
	for _, cap := range []int64{50 << 10, total - 1} {
		opts := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", Limits: layerfs.Limits{MaxImageBytes: cap}}
		want := snapshot(t, opts, layers)
		opts.LayerCache = c
		got := snapshot(t, opts, layers)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("cap %d: replayed view differs (-uncached +replayed):\n%s", cap, diff)
		}
		if !strings.Contains(got.Err, "MaxImageBytes") {
			t.Errorf("cap %d: err = %q, want the image cap", cap, got.Err)
		}
	}
}
