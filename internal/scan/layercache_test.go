package scan_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layercache"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/result"
	"github.com/runlens/runlens/internal/scan"
	"github.com/runlens/runlens/internal/testing/testimage"
	"github.com/runlens/runlens/internal/vulndb"
)

const dpkgStatus = `Package: dpkg
Essential: yes
Status: install ok installed
Priority: required
Section: admin
Installed-Size: 6693
Maintainer: Dpkg Developers <debian-dpkg@lists.debian.org>
Architecture: amd64
Multi-Arch: foreign
Version: 1.18.25
Description: Debian package management system

Package: openssl
Status: install ok installed
Priority: optional
Section: utils
Installed-Size: 1421
Maintainer: Debian OpenSSL Team <pkg-openssl-devel@lists.alioth.debian.org>
Architecture: amd64
Version: 1.1.0j-1~deb9u1
Description: Secure Sockets Layer toolkit - cryptographic utility

`

// baseFiles is a Debian 9 base layer: dpkg's status and its info/*.list
// files, the packages' files, and filler bytes of fillerSize that make the
// layer worth not fetching again.
func baseFiles(fillerSize int) map[string]string {
	// Words drawn at random compress about as well as real binaries and
	// text do (3-4x), so decompressing them costs what a real layer does.
	r := rand.New(rand.NewPCG(1, 2))
	words := make([]string, 4096)
	for i := range words {
		b := make([]byte, 3+r.IntN(8))
		for j := range b {
			b[j] = byte('a' + r.IntN(26))
		}
		words[i] = string(b)
	}
	var filler strings.Builder
	for filler.Len() < fillerSize {
		filler.WriteString(words[r.IntN(len(words))])
		filler.WriteByte(' ')
	}
	files := map[string]string{
		"etc/os-release":                 "PRETTY_NAME=\"Debian GNU/Linux 9 (stretch)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"9\"\nVERSION=\"9 (stretch)\"\nID=debian\n",
		"var/lib/dpkg/status":            dpkgStatus,
		"var/lib/dpkg/info/dpkg.list":    "/.\n/usr\n/usr/bin\n/usr/bin/dpkg\n",
		"var/lib/dpkg/info/openssl.list": "/.\n/usr\n/usr/bin\n/usr/bin/openssl\n",
		"usr/bin/dpkg":                   "dpkg binary",
		"usr/bin/openssl":                "openssl binary",
	}
	// Spread over files as a real base layer is.
	fs := filler.String()
	for i := 0; len(fs) > 0; i++ {
		n := min(len(fs), 64<<10)
		files[fmt.Sprintf("usr/share/doc/f%05d", i)] = fs[:n]
		fs = fs[n:]
	}
	return files
}

type fixture struct {
	reg        *registrytest.Server
	refA, refB string
	baseBlob   v1.Hash
	db         *vulndb.DB
}

// newFixture pushes two images sharing the base layer, each with its own
// top layer (B's deletes a file of the base).
func newFixture(t testing.TB, fillerSize int) *fixture {
	t.Helper()
	ctx := context.Background()
	base := baseFiles(fillerSize)
	a := testimage.Image(t, "linux/amd64", base, map[string]string{"app/a.txt": "a"})
	b := testimage.Image(t, "linux/amd64", base, map[string]string{"app/b.txt": "b", "usr/bin/.wh.dpkg": ""})
	la, _ := a.Layers()
	lb, _ := b.Layers()
	da, _ := la[0].Digest()
	db0, _ := lb[0].Digest()
	if da != db0 {
		t.Fatalf("base layers differ: %s %s", da, db0)
	}
	reg := registrytest.New(t, registrytest.Config{})
	reg.Push(t, "app/a:1", a)
	reg.Push(t, "app/b:1", b)
	dbDir := t.TempDir()
	if _, err := vulndb.Import(ctx, dbDir, vulndb.OSVDir("testdata/osv")); err != nil {
		t.Fatal(err)
	}
	db, err := vulndb.Open(ctx, dbDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &fixture{reg: reg, refA: reg.Ref("app/a:1"), refB: reg.Ref("app/b:1"), baseBlob: da, db: db}
}

func (f *fixture) scan(t testing.TB, s *scan.Scanner, ref string) *result.Image {
	t.Helper()
	ctx := context.Background()
	img, err := image.OpenRegistry(ctx, ref, image.RegistryOptions{Options: registry.Options{Insecure: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	res, err := s.Scan(ctx, img)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// baseFetches counts GETs of the shared base layer's blob since request i.
func (f *fixture) baseFetches(from int) int {
	n := 0
	for _, r := range f.reg.Requests()[from:] {
		if strings.HasPrefix(r, "GET ") && strings.Contains(r, "/blobs/"+f.baseBlob.String()) {
			n++
		}
	}
	return n
}

var ignoreTiming = cmpopts.IgnoreFields(result.Image{}, "DurationMS")

func TestLayerCacheSecondImageSkipsSharedBase(t *testing.T) {
	f := newFixture(t, 1<<20)
	plain := &scan.Scanner{Advisories: f.db, IncludePackages: true, TempDir: t.TempDir()}
	wantA := f.scan(t, plain, f.refA)
	wantB := f.scan(t, plain, f.refB)
	if len(wantB.Findings) == 0 || wantB.PackageCount != 2 || len(wantB.Packages[1].Files) == 0 {
		t.Fatalf("fixture lost its point: %d findings, %d packages %+v", len(wantB.Findings), wantB.PackageCount, wantB.Packages)
	}

	lc, err := layercache.Open(t.TempDir(), layercache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cached := &scan.Scanner{Advisories: f.db, IncludePackages: true, TempDir: t.TempDir(), LayerCache: lc}
	n := len(f.reg.Requests())
	gotA := f.scan(t, cached, f.refA)
	if got := f.baseFetches(n); got != 1 {
		t.Errorf("first scan fetched the base blob %d times, want 1", got)
	}
	n = len(f.reg.Requests())
	gotB := f.scan(t, cached, f.refB)
	if got := f.baseFetches(n); got != 0 {
		t.Errorf("second scan fetched the shared base blob %d times, want 0", got)
	}
	if diff := cmp.Diff(wantA, gotA, ignoreTiming); diff != "" {
		t.Errorf("image A (-uncached +layer cache):\n%s", diff)
	}
	if diff := cmp.Diff(wantB, gotB, ignoreTiming); diff != "" {
		t.Errorf("image B (-uncached +layer cache):\n%s", diff)
	}

	t.Run("corrupt entry is a miss", func(t *testing.T) {
		dir := t.TempDir()
		lc, _ := layercache.Open(dir, layercache.Options{})
		s := &scan.Scanner{Advisories: f.db, IncludePackages: true, TempDir: t.TempDir(), LayerCache: lc}
		f.scan(t, s, f.refA)
		files, _ := filepath.Glob(filepath.Join(dir, "layer-*"))
		if len(files) != 2 {
			t.Fatalf("%d cache entries, want 2", len(files))
		}
		for _, p := range files {
			b, _ := os.ReadFile(p)
			b[len(b)-40] ^= 0x55
			os.WriteFile(p, b, 0o644)
		}
		n := len(f.reg.Requests())
		got := f.scan(t, s, f.refB)
		if got := f.baseFetches(n); got != 1 {
			t.Errorf("base blob fetched %d times after corrupting the cache, want 1", got)
		}
		if diff := cmp.Diff(wantB, got, ignoreTiming); diff != "" {
			t.Errorf("(-uncached +corrupt cache):\n%s", diff)
		}
	})
}

// TestLayerCacheBenefit measures the second scan of an image sharing a big
// base layer, with and without the layer cache (-v shows the numbers).
func TestLayerCacheBenefit(t *testing.T) {
	if testing.Short() {
		t.Skip("measures a 64 MB layer")
	}
	f := newFixture(t, 64<<20)
	plain := &scan.Scanner{Advisories: f.db, TempDir: t.TempDir()}
	lc, _ := layercache.Open(t.TempDir(), layercache.Options{})
	cached := &scan.Scanner{Advisories: f.db, TempDir: t.TempDir(), LayerCache: lc}
	f.scan(t, cached, f.refA)
	start := time.Now()
	want := f.scan(t, plain, f.refB)
	without := time.Since(start)
	start = time.Now()
	got := f.scan(t, cached, f.refB)
	with := time.Since(start)
	if diff := cmp.Diff(want, got, ignoreTiming); diff != "" {
		t.Errorf("(-uncached +layer cache):\n%s", diff)
	}
	t.Logf("second image, 64 MB shared base layer: without layer cache %v, with %v (%.1fx)", without, with, float64(without)/float64(with))
}
