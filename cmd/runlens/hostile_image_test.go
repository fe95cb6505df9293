package main

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/runlens/runlens/internal/extract"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// extractFileCap is extract's default cap on a package database read
// whole (extract.Options.MaxFileBytes).
const extractFileCap = 64 << 20

// oversizedStatusLayer holds a dpkg status one byte over the cap (a
// repeated stanza, streamed: it never exists in memory) beside a lodash
// package.json that must still be found.
func oversizedStatusLayer(t *testing.T) builtLayer {
	return gzTar(t, func(tw *tar.Writer) error {
		if err := files(stretch, file("app/node_modules/lodash/package.json", lodashJSON))(tw); err != nil {
			return err
		}
		const size = extractFileCap + 1
		if err := tw.WriteHeader(withMode(&tar.Header{Name: "var/lib/dpkg/status", Typeflag: tar.TypeReg, Size: size})); err != nil {
			return err
		}
		_, err := io.Copy(tw, &repeated{pattern: []byte(opensslStatus), n: size})
		return err
	})
}

// TestOversizedPackageDatabaseIsPartial: a dpkg status over the size cap
// is not "0 packages, clean": the scan is partial (exit 2), its reason
// names the file, the rest of the image is still scanned, and the result
// is not cached (a rescan is partial again, not a cached clean answer).
func TestOversizedPackageDatabaseIsPartial(t *testing.T) {
	archive := archiveOf(t, oversizedStatusLayer(t))
	c := newCLI(t)
	for _, scanNo := range []string{"first", "second"} {
		code, out, stderr := c.run("", "scan", "image", "--archive", archive, "--format", "json")
		if code != exitError {
			t.Fatalf("%s scan: exit %d, want %d; stderr:\n%s", scanNo, code, exitError, stderr)
		}
		r := jsonResult(t, out)
		if r.Status != result.StatusPartial || !strings.Contains(r.Error, "var/lib/dpkg/status") {
			t.Errorf("%s scan: status %q error %q; want partial naming var/lib/dpkg/status", scanNo, r.Status, r.Error)
		}
		if r.Cached {
			t.Errorf("%s scan: a partial result came from the cache", scanNo)
		}
		skipped := false
		for _, e := range r.FileErrors {
			skipped = skipped || (e.Path == "/var/lib/dpkg/status" && e.Skipped)
		}
		if !skipped {
			t.Errorf("%s scan: file errors %+v; want /var/lib/dpkg/status marked skipped", scanNo, r.FileErrors)
		}
		if !hasFinding(r, "lodash") {
			t.Errorf("%s scan: the rest of the image was not scanned: findings %v", scanNo, pairs(r))
		}
	}
}

// TestUnkeptPackageDatabaseIsPartial: a dpkg status whose contents the
// layer reader did not keep (over layerfs's MaxFileBytes) makes the scan
// partial too.
func TestUnkeptPackageDatabaseIsPartial(t *testing.T) {
	archive := archiveOf(t, gzTar(t, files(stretch, file("var/lib/dpkg/status", opensslStatus+strings.Repeat("#", 4096)))))
	r := scanArchive(t, archive, layerfs.Limits{MaxFileBytes: 1024})
	if r.Status != result.StatusPartial || !strings.Contains(r.Error, "var/lib/dpkg/status") {
		t.Errorf("status %q error %q; want partial naming var/lib/dpkg/status", r.Status, r.Error)
	}
}

// scanArchive scans an archive through scan.Scanner with limits no flag
// sets, against the sample advisories.
func scanArchive(t *testing.T, archive string, lim layerfs.Limits) *result.Image {
	t.Helper()
	c := newCLI(t)
	a := newApp(strings.NewReader(""), io.Discard, io.Discard)
	a.dbDir, a.cacheDir = c.dbDir, c.cacheDir
	if err := a.setup(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, _, err := scan.OpenDB(ctx, a.dbDir, 0, a.log)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	img, err := image.OpenArchive(ctx, archive, image.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	s := &scan.Scanner{Advisories: db, Limits: lim, TempDir: t.TempDir()}
	r, err := s.Scan(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRepeatedBombLayerStopsAtTheImageCap: one small gzip bomb layer
// listed 1,000 times in an archive stops at MaxImageBytes with a partial
// result naming the cap, after reading the cap and no more.
func TestRepeatedBombLayerStopsAtTheImageCap(t *testing.T) {
	const bombSize, imageCap = 32 << 20, 100 << 20
	bomb := gzTar(t, func(tw *tar.Writer) error {
		if err := tw.WriteHeader(withMode(&tar.Header{Name: "zeros", Typeflag: tar.TypeReg, Size: bombSize})); err != nil {
			return err
		}
		_, err := io.Copy(tw, &repeated{pattern: []byte{0}, n: bombSize})
		return err
	})
	base := gzTar(t, files(stretch, file("var/lib/dpkg/status", opensslStatus)))
	order := []int{0}
	for range 1000 {
		order = append(order, 1)
	}
	archive := filepath.Join(t.TempDir(), "bomb.tar")
	dockerSave(t, archive, []builtLayer{base, bomb}, order)

	lim := layerfs.Limits{MaxImageBytes: imageCap}
	start := time.Now()
	r := scanArchive(t, archive, lim)
	took := time.Since(start)
	if r.Status != result.StatusPartial || !strings.Contains(r.Error, "MaxImageBytes") {
		t.Errorf("status %q error %q; want partial naming MaxImageBytes", r.Status, r.Error)
	}
	if !hasFinding(r, "openssl") {
		t.Errorf("the base layer read before the cap was not scanned: %v", pairs(r))
	}

	// The bytes the same read inflates before it stops.
	img, err := image.OpenArchive(context.Background(), archive, image.LocalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	var read int64
	root, _ := img.RootFS(context.Background(), layerfs.Options{Want: extract.Want(), Limits: lim, TempDir: t.TempDir(),
		Progress: func(_ int, n int64) { read = max(read, n) }})
	if root != nil {
		root.Close()
	}
	fi, _ := os.Stat(archive)
	t.Logf("archive of %d KB listing the bomb 1,000 times: scan stopped after %d bytes (%d MiB) in %v",
		fi.Size()>>10, read, read>>20, took.Round(time.Millisecond))
	if read != imageCap {
		t.Errorf("read %d bytes before stopping; want exactly the %d-byte cap", read, imageCap)
	}
}
