package layerfs_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/layerfs"
)

// zeros is an endless stream of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// streamLayer serves the tar written by gen through a pipe, so huge layers
// never exist in memory; gen stops when Flatten closes the stream.
func streamLayer(diff string, gen func(tw *tar.Writer) error) layerfs.Layer {
	return layerfs.Layer{DiffID: diff, Open: func(context.Context) (io.ReadCloser, error) {
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			err := gen(tw)
			if err == nil {
				err = tw.Close()
			}
			pw.CloseWithError(err)
		}()
		return pr, nil
	}}
}

func limitErr(t *testing.T, err error, limit string) {
	t.Helper()
	if !errors.Is(err, layerfs.ErrLimit) {
		t.Fatalf("err = %v; want ErrLimit", err)
	}
	var le *layerfs.LimitError
	if !errors.As(err, &le) || le.Limit != limit {
		t.Fatalf("err = %v; want *LimitError for %s", err, limit)
	}
}

func hasIssue(fsys layerfs.RootFS, substr string) bool {
	for _, is := range fsys.Issues() {
		if strings.Contains(is.Reason, substr) {
			return true
		}
	}
	return false
}

// TestGzipBomb: a gzip layer inflating to 64 MiB stops at a 1 MiB cap; the
// layer is marked too large, its earlier entries and later layers remain.
func TestGzipBomb(t *testing.T) {
	var raw bytes.Buffer
	zw := gzip.NewWriter(&raw)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "before", Typeflag: tar.TypeReg, Size: 2, Mode: 0o644})
	tw.Write([]byte("ok"))
	const bomb = 64 << 20
	tw.WriteHeader(&tar.Header{Name: "bomb", Typeflag: tar.TypeReg, Size: bomb, Mode: 0o644})
	io.CopyN(tw, zeros{}, bomb)
	tw.Close()
	zw.Close()
	if raw.Len() > 1<<20 {
		t.Fatalf("bomb compressed to %d bytes; want < 1 MiB", raw.Len())
	}

	var maxRead int64
	opts := layerfs.Options{
		Limits:   layerfs.Limits{MaxLayerBytes: 1 << 20},
		Progress: func(_ int, n int64) { maxRead = max(maxRead, n) },
	}
	fsys, err := flatten(t, opts, gzLayer(t, "sha256:bomb", raw.Bytes()), tarLayer(t, "sha256:next", F("after", "ok")))
	limitErr(t, err, "MaxLayerBytes")
	var le *layerfs.LayerError
	if !errors.As(err, &le) || le.DiffID != "sha256:bomb" || le.Index != 0 {
		t.Errorf("err = %v; want a LayerError for layer 0", err)
	}
	if fsys == nil {
		t.Fatal("no partial view returned")
	}
	if maxRead > 1<<20+10<<10 {
		t.Errorf("read %d bytes from the bomb layer; cap was 1 MiB", maxRead)
	}
	for _, p := range []string{"before", "after"} {
		if b, err := fs.ReadFile(fsys, p); err != nil || string(b) != "ok" {
			t.Errorf("ReadFile(%s) = %q, %v", p, b, err)
		}
	}
	if !hasIssue(fsys, "MaxLayerBytes") {
		t.Errorf("issues %+v; want the layer marked too large", fsys.Issues())
	}
}

// TestEndlessBlob: a stream that never ends (zeros after a valid
// end-of-archive) is cut at the cap instead of hanging.
func TestEndlessBlob(t *testing.T) {
	layer := layerfs.Layer{DiffID: "sha256:endless", Open: func(context.Context) (io.ReadCloser, error) {
		return io.NopCloser(zeros{}), nil
	}}
	_, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxLayerBytes: 4 << 20}}, layer)
	limitErr(t, err, "MaxLayerBytes")
}

// TestExactCapIsNotTooLarge: a layer exactly at the cap is complete (its
// file kept, no issue), and one byte less is the limit: the cap is exact.
func TestExactCapIsNotTooLarge(t *testing.T) {
	b := rawTar(t, reg("x"))
	fsys, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxLayerBytes: int64(len(b))}}, memLayer("L", b))
	if err != nil {
		t.Fatalf("Flatten: %v", err)
	}
	if d := dump(t, fsys); len(d) != 1 || d["x"] != "file L body of x" {
		t.Errorf("view at the cap = %v; want x, whole, from layer L", d)
	}
	if is := fsys.Issues(); len(is) != 0 {
		t.Errorf("issues %+v; want none for a layer at the cap", is)
	}
	under, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxLayerBytes: int64(len(b)) - 1}}, memLayer("L", b))
	limitErr(t, err, "MaxLayerBytes")
	if !hasIssue(under, "MaxLayerBytes") {
		t.Errorf("issues %+v; want the layer one byte over the cap marked too large", under.Issues())
	}
}

// TestMillionEntries: a million-entry layer against a 10,000 cap stops
// early, in bounded time, without generating the rest of the stream.
func TestMillionEntries(t *testing.T) {
	var written atomic.Int64
	layer := streamLayer("sha256:many", func(tw *tar.Writer) error {
		for i := range 1_000_000 {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d%d/f%d", i%100, i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
				return err
			}
			written.Add(1)
		}
		return nil
	})
	start := time.Now()
	fsys, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxEntries: 10_000}}, layer, tarLayer(t, "sha256:never", F("x", "x")))
	limitErr(t, err, "MaxEntries")
	if n := written.Load(); n > 20_000 {
		t.Errorf("generator wrote %d entries; Flatten should have stopped near 10,000", n)
	}
	if _, err := fsys.Stat("x"); err == nil {
		t.Error("layers after an entry cap were still applied")
	}
	if _, err := fsys.Stat("d0/f0"); err != nil {
		t.Errorf("entries before the cap are missing: %v", err)
	}
	t.Logf("stopped after %d generated entries in %v", written.Load(), time.Since(start))
}

// TestDeepAndLongPaths: 10,000-deep directories and 4 KB paths.
func TestDeepAndLongPaths(t *testing.T) {
	deep := strings.Repeat("d/", 10_000) + "f"
	path4k := strings.Repeat(strings.Repeat("p", 254)+"/", 17)
	path4k = path4k[:4095] + "x" // exactly 4096 bytes
	tests := []struct {
		name   string
		lim    layerfs.Limits
		hdr    string
		kept   bool
		reason string
	}{
		{name: "10k deep, default limits", hdr: deep, reason: "MaxPathLen"},
		{name: "10k deep, long paths allowed", lim: layerfs.Limits{MaxPathLen: 1 << 20}, hdr: deep, reason: "MaxDepth"},
		{name: "exactly 4096 bytes", hdr: path4k, kept: true},
		{name: "4097 bytes", hdr: path4k + "y", reason: "MaxPathLen"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fsys := mustFlatten(t, layerfs.Options{Limits: tc.lim}, memLayer("L", rawTar(t, reg(tc.hdr), reg("good"))))
			if _, err := fsys.Stat(strings.TrimSuffix(tc.hdr, "/")); (err == nil) != tc.kept {
				t.Errorf("Stat(long) err = %v; want kept=%v", err, tc.kept)
			}
			if _, err := fsys.Stat("good"); err != nil {
				t.Errorf("good file lost: %v", err)
			}
			if tc.reason != "" && !hasIssue(fsys, tc.reason) {
				t.Errorf("issues %+v; want %q", fsys.Issues(), tc.reason)
			}
		})
	}
	// Building many deep directory entries one by one stays within MaxDepth.
	var hdrs []*tar.Header
	for i := 1; i <= 300; i++ {
		hdrs = append(hdrs, &tar.Header{Name: strings.Repeat("a/", i), Typeflag: tar.TypeDir, Mode: 0o755})
	}
	fsys := mustFlatten(t, layerfs.Options{}, memLayer("L", rawTar(t, hdrs...)))
	if _, err := fsys.Stat(strings.Repeat("a/", 255) + "a"); err != nil {
		t.Errorf("256-deep dir missing: %v", err)
	}
	if _, err := fsys.Stat(strings.Repeat("a/", 256) + "a"); err == nil {
		t.Error("257-deep dir exists past MaxDepth")
	}
}

func TestContentLimits(t *testing.T) {
	big := strings.Repeat("x", 2000)
	t.Run("MaxFileBytes", func(t *testing.T) {
		fsys, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxFileBytes: 1000}}, tarLayer(t, "L", F("big", big), F("small", "s")))
		if err != nil {
			t.Fatalf("Flatten: %v (a per-file cap is only an issue)", err)
		}
		if _, err := fsys.Open("big"); !errors.Is(err, layerfs.ErrNotKept) {
			t.Errorf("Open(big) = %v; want ErrNotKept", err)
		}
		if fi, err := fsys.Stat("big"); err != nil || fi.Size() != 2000 {
			t.Errorf("Stat(big) = %v, %v; want size 2000", fi, err)
		}
		if b, _ := fs.ReadFile(fsys, "small"); string(b) != "s" {
			t.Errorf("small = %q", b)
		}
		if !hasIssue(fsys, "MaxFileBytes") {
			t.Errorf("issues %+v", fsys.Issues())
		}
	})
	t.Run("MaxTotalBytes", func(t *testing.T) {
		fsys, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxTotalBytes: 3000}}, tarLayer(t, "L", F("a", big), F("b", big), F("c", "c")))
		limitErr(t, err, "MaxTotalBytes")
		if b, _ := fs.ReadFile(fsys, "a"); string(b) != big {
			t.Error("first file not kept")
		}
		if _, err := fsys.Open("b"); !errors.Is(err, layerfs.ErrNotKept) {
			t.Errorf("Open(b) = %v; want ErrNotKept", err)
		}
		if b, _ := fs.ReadFile(fsys, "c"); string(b) != "c" {
			t.Error("small file after the cap not kept")
		}
	})
	t.Run("MaxMetaBytes", func(t *testing.T) {
		layer := streamLayer("L", func(tw *tar.Writer) error {
			for i := range 100_000 {
				if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprint("l", i), Typeflag: tar.TypeSymlink, Linkname: strings.Repeat("t", 4000)}); err != nil {
					return err
				}
			}
			return nil
		})
		_, err := flatten(t, layerfs.Options{Limits: layerfs.Limits{MaxMetaBytes: 4 << 20}}, layer)
		limitErr(t, err, "MaxMetaBytes")
	})
}

// TestRepeatedOpaqueMarkers: a layer writing many files and then
// repeating opaque markers and whiteouts over them must cost linear, not
// quadratic, time (each marker would otherwise walk the whole subtree).
func TestRepeatedOpaqueMarkers(t *testing.T) {
	base := tarLayer(t, "base", F("d/old", "o"), F("other", "o"))
	top := streamLayer("top", func(tw *tar.Writer) error {
		for i := range 30_000 {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprintf("d/s%d/f%d", i%50, i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
				return err
			}
		}
		for i := range 30_000 {
			name := []string{"d/.wh..wh..opq", ".wh..wh..opq", ".wh.d"}[i%3]
			if err := tw.WriteHeader(&tar.Header{Name: name, Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
				return err
			}
		}
		return nil
	})
	start := time.Now()
	fsys := mustFlatten(t, layerfs.Options{}, base, top)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v", d)
	}
	ents, err := fsys.ReadDir("d")
	if err != nil || len(ents) != 50 {
		t.Errorf("ReadDir(d) = %d entries, %v; want 50 (d/old hidden)", len(ents), err)
	}
	for _, p := range []string{"d/old", "other"} {
		if _, err := fsys.Stat(p); err == nil {
			t.Errorf("%s survived the opaque markers", p)
		}
	}
}

// TestSymlinkChainBudget: every entry written below a chain of 40 long
// symlinks would cost 40,000 lookup steps; a budget keeps the whole layer
// bounded and reports what it skipped.
func TestSymlinkChainBudget(t *testing.T) {
	layer := streamLayer("chain", func(tw *tar.Writer) error {
		tw.WriteHeader(&tar.Header{Name: "d/", Typeflag: tar.TypeDir, Mode: 0o755})
		for i := range 40 {
			target := strings.Repeat("./", 1000) + fmt.Sprint("c", i+1)
			if i == 39 {
				target = "d"
			}
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprint("c", i), Typeflag: tar.TypeSymlink, Linkname: target}); err != nil {
				return err
			}
		}
		for i := range 100_000 {
			if err := tw.WriteHeader(&tar.Header{Name: fmt.Sprint("c0/f", i), Typeflag: tar.TypeReg, Mode: 0o644}); err != nil {
				return err
			}
		}
		return tw.WriteHeader(&tar.Header{Name: "last", Typeflag: tar.TypeReg, Mode: 0o644})
	})
	start := time.Now()
	fsys := mustFlatten(t, layerfs.Options{Limits: layerfs.Limits{MaxEntries: 1_000_000}}, layer)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("took %v", d)
	}
	if _, err := fsys.Stat("d/f0"); err != nil {
		t.Errorf("early entry below the chain missing: %v", err)
	}
	if _, err := fsys.Stat("last"); err != nil {
		t.Errorf("entry after the chain missing: %v", err)
	}
	if !hasIssue(fsys, "budget") {
		t.Error("no issue reports the exhausted budget")
	}
}
