package layerfs_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"

	"github.com/runlens/runlens/internal/layercache"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
)

// countedLayer is a layer with its real diffID that counts its opens.
type countedLayer struct {
	layerfs.Layer
	opens *atomic.Int32
}

func realLayer(t testing.TB, entries ...layerfstest.Entry) countedLayer {
	return rawLayer(layerfstest.Tar(t, entries))
}

func rawLayer(b []byte) countedLayer {
	sum := sha256.Sum256(b)
	n := &atomic.Int32{}
	return countedLayer{opens: n, Layer: layerfs.Layer{
		DiffID: "sha256:" + hex.EncodeToString(sum[:]),
		Open: func(context.Context) (io.ReadCloser, error) {
			n.Add(1)
			return io.NopCloser(bytes.NewReader(b)), nil
		},
	}}
}

func layersOf(cls ...countedLayer) []layerfs.Layer {
	out := make([]layerfs.Layer, len(cls))
	for i, c := range cls {
		out[i] = c.Layer
	}
	return out
}

func opens(cls ...countedLayer) []int32 {
	out := make([]int32, len(cls))
	for i, c := range cls {
		out[i] = c.opens.Load()
	}
	return out
}

// view is everything a RootFS shows: paths, types, modes, sizes, layers,
// kept contents, issues, and the error Flatten returned.
type view struct {
	Listing []string
	Dump    map[string]string
	Issues  []layerfs.Issue
	Err     string
}

func snapshot(t testing.TB, opts layerfs.Options, layers []layerfs.Layer) view {
	t.Helper()
	fsys, err := flatten(t, opts, layers...)
	if fsys == nil {
		t.Fatalf("Flatten: %v", err)
	}
	v := view{Listing: layerfstest.Listing(t, fsys), Dump: dump(t, fsys), Issues: fsys.Issues()}
	if err != nil {
		v.Err = err.Error()
	}
	return v
}

func openCache(t testing.TB, dir string) *layercache.Cache {
	t.Helper()
	c, err := layercache.Open(dir, layercache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// wantEtc keeps only files under etc/ and "kept*" names: others are
// replayed without contents.
func wantEtc(p string, _ fs.FileInfo) bool {
	return strings.HasPrefix(p, "etc/") || strings.HasPrefix(filepath.Base(p), "kept")
}

// replayFixture has whiteouts, an opaque directory, hardlinks (to kept and
// unkept files, across layers), symlinks, a file written through a
// symlinked directory, and a hostile name, so every kind of entry goes
// through a replay.
func replayFixture(t testing.TB) []countedLayer {
	base := realLayer(t,
		D("etc"), F("etc/os-release", "ID=debian\n"), F("etc/gone", "x"),
		D("usr"), D("usr/lib"), L("lib", "usr/lib"), F("usr/lib/big.so", strings.Repeat("b", 100<<10)),
		D("opq"), F("opq/old", "o"), F("etc/hard-src", "shared"), F("unkept-src", "u"),
		F("../escape", "no"),
	)
	mid := realLayer(t,
		F("etc/.wh.gone", ""), D("opq"), F("opq/.wh..wh..opq", ""), F("opq/kept-new", "n"),
		H("etc/hard", "etc/hard-src"), H("kept-hard", "unkept-src"), H("usr/lib/big2.so", "usr/lib/big.so"),
		F("lib/kept-through-link", "via link"), L("etc/abs", "/etc/os-release"),
	)
	top := realLayer(t, F("etc/os-release", "ID=debian\nVERSION_ID=12\n"), F(".wh.lib", ""))
	return []countedLayer{base, mid, top}
}

func TestLayerCacheReplaysIdentically(t *testing.T) {
	cls := replayFixture(t)
	layers := layersOf(cls...)
	opts := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1"}
	want := snapshot(t, opts, layers)
	if got := opens(cls...); !cmp.Equal(got, []int32{1, 1, 1}) {
		t.Fatalf("opens without cache = %v", got)
	}

	opts.LayerCache = openCache(t, t.TempDir())
	first := snapshot(t, opts, layers) // records
	second := snapshot(t, opts, layers)
	if diff := cmp.Diff(want, first); diff != "" {
		t.Errorf("recording flatten differs from an uncached one (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, second); diff != "" {
		t.Errorf("replayed flatten differs from an uncached one (-want +got):\n%s", diff)
	}
	if got := opens(cls...); !cmp.Equal(got, []int32{2, 2, 2}) {
		t.Errorf("opens after a recording and a replaying flatten = %v, want [2 2 2] (replays never open)", got)
	}
	if want.Dump["etc/hard"] != "file "+cls[1].DiffID+" shared" || !strings.Contains(want.Dump["usr/lib/big2.so"], "<not kept>") {
		t.Errorf("fixture lost its point: %q %q", want.Dump["etc/hard"], want.Dump["usr/lib/big2.so"])
	}
}

func TestLayerCacheSharedBaseWithAnotherTop(t *testing.T) {
	cls := replayFixture(t)
	other := realLayer(t, F("etc/other", "x"))
	c := openCache(t, t.TempDir())
	opts := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", LayerCache: c}
	snapshot(t, opts, layersOf(cls...))
	nocache := opts
	nocache.LayerCache = nil
	want := snapshot(t, nocache, layersOf(cls[0], cls[1], other))
	got := snapshot(t, opts, layersOf(cls[0], cls[1], other))
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := opens(cls[0], cls[1], other); !cmp.Equal(got, []int32{2, 2, 2}) {
		t.Errorf("opens = %v, want the shared layers opened only by the first and uncached flattens", got)
	}
}

func TestLayerCacheNotRecorded(t *testing.T) {
	good := realLayer(t, F("etc/a", "a"))
	big := realLayer(t, F("etc/big", strings.Repeat("x", 4096)))
	truncated := realLayer(t, F("etc/t", strings.Repeat("t", 4096)))
	tb := layerfstest.Tar(t, []layerfstest.Entry{F("etc/t", strings.Repeat("t", 4096))})
	truncated.Open = func(context.Context) (io.ReadCloser, error) {
		truncated.opens.Add(1)
		return io.NopCloser(bytes.NewReader(tb[:1024])), nil
	}
	lying := realLayer(t, F("etc/l", "l"))
	lying.DiffID = good.DiffID // a config naming another layer's diffID
	// A source that verifies the diffID itself fails the stream's end on a
	// mismatch; Flatten skips its own hash but must still not cache it.
	vb := layerfstest.Tar(t, []layerfstest.Entry{F("etc/v", "v")})
	verifiedBad := rawLayer(vb)
	verifiedBad.DiffIDVerified = true
	verifiedBad.Open = func(context.Context) (io.ReadCloser, error) {
		verifiedBad.opens.Add(1)
		return io.NopCloser(io.MultiReader(bytes.NewReader(vb), iotest.ErrReader(errors.New("digest mismatch")))), nil
	}
	tests := []struct {
		name   string
		layers []countedLayer
		limits layerfs.Limits
	}{
		{"file over MaxFileBytes", []countedLayer{good, big}, layerfs.Limits{MaxFileBytes: 1024}},
		{"MaxTotalBytes", []countedLayer{good, big}, layerfs.Limits{MaxTotalBytes: 1024}},
		{"MaxLayerBytes", []countedLayer{good, big}, layerfs.Limits{MaxLayerBytes: 3000}},
		{"truncated layer", []countedLayer{good, truncated}, layerfs.Limits{}},
		{"diffID mismatch", []countedLayer{lying}, layerfs.Limits{}},
		{"source-verified stream failing at its end", []countedLayer{good, verifiedBad}, layerfs.Limits{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			last := tt.layers[len(tt.layers)-1]
			opts := layerfs.Options{Want: wantEtc, Limits: tt.limits, LayerCacheKey: "v1", LayerCache: openCache(t, t.TempDir())}
			nocache := opts
			nocache.LayerCache = nil
			want := snapshot(t, nocache, layersOf(tt.layers...))
			before := last.opens.Load()
			snapshot(t, opts, layersOf(tt.layers...))
			got := snapshot(t, opts, layersOf(tt.layers...))
			if n := last.opens.Load() - before; n != 2 {
				t.Errorf("last layer opened %d times by two cached flattens, want 2 (never cached)", n)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestLayerCacheTrustsASourceVerifiedDiffID(t *testing.T) {
	l := realLayer(t, F("etc/a", "a"))
	l.DiffIDVerified = true
	opts := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", LayerCache: openCache(t, t.TempDir())}
	nocache := opts
	nocache.LayerCache = nil
	want := snapshot(t, nocache, layersOf(l))
	snapshot(t, opts, layersOf(l))
	got := snapshot(t, opts, layersOf(l))
	if n := l.opens.Load(); n != 2 {
		t.Errorf("layer opened %d times, want 2 (uncached, then recorded; the third flatten replays)", n)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestLayerCacheReplayFallsBack covers replays that cannot stand in for
// their layer: each must give the uncached result, by reading the layer.
func TestLayerCacheReplayFallsBack(t *testing.T) {
	cls := replayFixture(t)
	layers := layersOf(cls...)
	dir := t.TempDir()
	rec := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", LayerCache: openCache(t, dir)}
	snapshot(t, rec, layers)
	files, _ := filepath.Glob(filepath.Join(dir, "layer-*"))
	if len(files) != 3 {
		t.Fatalf("cache holds %d entries, want 3", len(files))
	}

	t.Run("Want asks for more under the same key", func(t *testing.T) {
		opts := rec
		opts.Want = nil // every file: big.so is not in the replay
		nocache := opts
		nocache.LayerCache = nil
		want := snapshot(t, nocache, layers)
		before := opens(cls...)
		got := snapshot(t, opts, layers)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if after := opens(cls...); after[0] == before[0] {
			t.Errorf("base layer not read again: opens %v -> %v", before, after)
		}
	})
	t.Run("smaller MaxLayerBytes", func(t *testing.T) {
		opts := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", LayerCache: openCache(t, t.TempDir()),
			Limits: layerfs.Limits{MaxLayerBytes: 64 << 10}}
		big := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", LayerCache: opts.LayerCache}
		snapshot(t, big, layers)
		nocache := opts
		nocache.LayerCache = nil
		want := snapshot(t, nocache, layers)
		got := snapshot(t, opts, layers)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		if !strings.Contains(got.Err, "MaxLayerBytes") {
			t.Errorf("err = %q, want the layer cap", got.Err)
		}
	})
	t.Run("corrupt entries", func(t *testing.T) {
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)/2] ^= 0xff
			if err := os.WriteFile(f, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		nocache := rec
		nocache.LayerCache = nil
		want := snapshot(t, nocache, layers)
		before := opens(cls...)
		got := snapshot(t, rec, layers)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		after := opens(cls...)
		for i := range after {
			if after[i] != before[i]+1 {
				t.Errorf("layer %d opened %d times, want once (corrupt entry = miss)", i, after[i]-before[i])
			}
		}
		// The misses re-recorded good entries.
		before = opens(cls...)
		snapshot(t, rec, layers)
		if after := opens(cls...); !cmp.Equal(after, before) {
			t.Errorf("opens %v -> %v after re-recording", before, after)
		}
	})
}

func TestLayerCacheCancelled(t *testing.T) {
	cls := replayFixture(t)
	opts := layerfs.Options{Want: wantEtc, LayerCacheKey: "v1", LayerCache: openCache(t, t.TempDir()), TempDir: t.TempDir()}
	snapshot(t, opts, layersOf(cls...))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fsys, err := layerfs.Flatten(ctx, layersOf(cls...), opts)
	if fsys != nil || !errors.Is(err, context.Canceled) {
		t.Errorf("Flatten on a cancelled context = %v, %v", fsys, err)
	}
}
