package agentbench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/runlens/runlens/internal/agent/contentstore"
	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
)

// benchImage is the image archive inventoried: RUNLENS_AGENT_BENCH_IMAGE,
// else bench/image-scan.sh's Debian image when it was built, else the
// bundled sample.
func benchImage() string {
	if p := os.Getenv("RUNLENS_AGENT_BENCH_IMAGE"); p != "" {
		return p
	}
	if home, err := os.UserHomeDir(); err == nil {
		p := filepath.Join(home, ".cache", "runlens-bench", "images", "v1", "debian.tar")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "../../testdata/sample/image.tar"
}

// writeStore writes img's manifest, config and compressed layers into a
// containerd content store under root, and returns the manifest digest.
func writeStore(t testing.TB, root string, img v1.Image) v1.Hash {
	t.Helper()
	dir := filepath.Join(root, contentstore.ContentDir, "blobs", "sha256")
	must(t, os.MkdirAll(dir, 0o755))
	put := func(d v1.Hash, b []byte) { must(t, os.WriteFile(filepath.Join(dir, d.Hex), b, 0o644)) }
	raw, err := img.RawManifest()
	must(t, err)
	md, err := img.Digest()
	must(t, err)
	put(md, raw)
	cfg, err := img.RawConfigFile()
	must(t, err)
	cd, err := img.ConfigName()
	must(t, err)
	put(cd, cfg)
	layers, err := img.Layers()
	must(t, err)
	for _, l := range layers {
		ld, err := l.Digest()
		must(t, err)
		rc, err := l.Compressed()
		must(t, err)
		f, err := os.Create(filepath.Join(dir, ld.Hex))
		must(t, err)
		_, err = f.ReadFrom(rc)
		must(t, err)
		must(t, f.Close())
		rc.Close()
	}
	return md
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// inventoryFigures times a cold scan.Scanner.Inventory of the image at
// archive, read from a content store and from an in-process registry,
// runs times each (interleaved), and adds the medians and their ratio.
func inventoryFigures(t testing.TB, tb *table, archive string, runs int) {
	t.Helper()
	ctx := context.Background()
	img, err := tarball.ImageFromPath(archive, nil)
	must(t, err)
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	root := t.TempDir()
	md := writeStore(t, root, img)
	store, err := contentstore.Open(root)
	must(t, err)
	defer store.Close()
	srv := registrytest.New(t, registrytest.Config{})
	srv.Push(t, "bench:latest", img)
	ref := srv.Ref("bench@" + md.String())

	cold := func(open func() (image.Image, error)) (time.Duration, int) {
		start := time.Now()
		im, err := open()
		must(t, err)
		defer im.Close()
		sc := &scan.Scanner{TempDir: t.TempDir()}
		inv, res, err := sc.Inventory(ctx, im)
		must(t, err)
		if res.Status != result.StatusScanned {
			t.Fatalf("inventory %s: %s", res.Status, res.Error)
		}
		return time.Since(start), len(inv.Packages)
	}
	fromStore := func() (image.Image, error) { return store.Image(ctx, md.String()) }
	fromRegistry := func() (image.Image, error) {
		return image.OpenRegistry(ctx, ref, image.RegistryOptions{Options: registry.Options{}})
	}
	var st, rg []time.Duration
	var nStore, nReg int
	for range runs {
		d, n := cold(fromStore)
		st, nStore = append(st, d), n
		d, n = cold(fromRegistry)
		rg, nReg = append(rg, d), n
	}
	if nStore != nReg || nStore == 0 {
		t.Errorf("packages: %d from the content store, %d from the registry", nStore, nReg)
	}
	ms, mr := median(st), median(rg)
	t.Logf("inventory of %s (%d packages): content store %v, registry %v", filepath.Base(archive), nStore, st, rg)
	tb.add("inventory, content store", fmt.Sprintf("%v median of %d (%s, %d packages)", ms.Round(time.Millisecond), runs, filepath.Base(archive), nStore), "", nil)
	tb.add("inventory, cold registry scan", fmt.Sprintf("%v median of %d", mr.Round(time.Millisecond), runs), "", nil)
	tb.add("content store / registry", fmt.Sprintf("%.2f", ms.Seconds()/mr.Seconds()), "≤ 1", ptr(ms <= mr))
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
