package image_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/compression"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/testing/testimage"
)

const (
	user = "scanner"
	pass = "s3cret-Pa55word"
)

func regOpts(t *testing.T) image.RegistryOptions {
	t.Setenv("DOCKER_CONFIG", t.TempDir())
	return image.RegistryOptions{Options: registry.Options{
		Username:  user,
		Password:  pass,
		Transport: registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond, MaxWait: 50 * time.Millisecond}),
	}}
}

func basicServer(t *testing.T) *registrytest.Server {
	return registrytest.New(t, registrytest.Config{Auth: registrytest.BasicAuth, Username: user, Password: pass})
}

// twoLayers is a small image with real files; the second layer overrides
// etc/os-release.
func twoLayers(t *testing.T) v1.Image {
	return testimage.Image(t, "linux/amd64",
		map[string]string{"etc/": "", "etc/os-release": "ID=debian\n", "bin/sh": "\x7fELF"},
		map[string]string{"etc/os-release": "ID=alpine\n", "lib/apk/db/installed": "P:musl\nV:1.2.5-r0\n"},
	)
}

// wantDescriptor describes img as an Image must.
func wantDescriptor(t *testing.T, img v1.Image, ref string) image.Descriptor {
	t.Helper()
	m, _ := img.Manifest()
	cf, _ := img.ConfigFile()
	dig, _ := img.Digest()
	d := image.Descriptor{
		Reference:    ref,
		Digest:       dig.String(),
		ConfigDigest: m.Config.Digest.String(),
		Platform:     cf.OS + "/" + cf.Architecture,
		Created:      testimage.Created,
	}
	if cf.Variant != "" {
		d.Platform += "/" + cf.Variant
	}
	for i, l := range m.Layers {
		d.Layers = append(d.Layers, image.LayerInfo{
			DiffID: cf.RootFS.DiffIDs[i].String(), Digest: l.Digest.String(), Size: l.Size, MediaType: string(l.MediaType),
		})
	}
	return d
}

func readFile(t *testing.T, fsys layerfs.RootFS, name string) string {
	t.Helper()
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

func TestOpenRegistry(t *testing.T) {
	srv := basicServer(t)
	img := twoLayers(t)
	dig := srv.Push(t, "team/app:v1", img)
	cf, _ := img.ConfigFile()

	byTag := wantDescriptor(t, img, srv.Ref("team/app:v1"))
	byTag.RepoTags = []string{srv.Ref("team/app:v1")}
	byTag.RepoDigests = []string{srv.Ref("team/app@" + dig.String())}
	byDigest := wantDescriptor(t, img, srv.Ref("team/app@"+dig.String()))
	byDigest.RepoDigests = byTag.RepoDigests

	for _, tc := range []struct {
		ref  string
		want image.Descriptor
	}{
		{srv.Ref("team/app:v1"), byTag},
		{srv.Ref("team/app@" + dig.String()), byDigest},
	} {
		t.Run(tc.ref, func(t *testing.T) {
			ctx := context.Background()
			im, err := image.OpenRegistry(ctx, tc.ref, regOpts(t))
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			if diff := cmp.Diff(tc.want, im.Descriptor()); diff != "" {
				t.Errorf("Descriptor (-want +got):\n%s", diff)
			}
			before := len(srv.Requests())
			fsys, err := im.RootFS(ctx, layerfs.Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if got := readFile(t, fsys, "etc/os-release"); got != "ID=alpine\n" {
				t.Errorf("etc/os-release = %q, want the upper layer's", got)
			}
			if got, want := fsys.LayerOf("bin/sh"), cf.RootFS.DiffIDs[0].String(); got != want {
				t.Errorf("LayerOf(bin/sh) = %s, want %s", got, want)
			}
			if got, want := fsys.LayerOf("lib/apk/db/installed"), cf.RootFS.DiffIDs[1].String(); got != want {
				t.Errorf("LayerOf(lib/apk/db/installed) = %s, want %s", got, want)
			}
			// RootFS fetched the two layer blobs, nothing else.
			var blobs []string
			for _, r := range srv.Requests()[before:] {
				if strings.Contains(r, "/blobs/") {
					blobs = append(blobs, r)
				}
			}
			if len(blobs) != 2 {
				t.Errorf("RootFS requests = %v, want the two layer blobs", srv.Requests()[before:])
			}
		})
	}
}

// The layerfs conformance fixture survives a real push and pull.
func TestOpenRegistryConformance(t *testing.T) {
	s := layerfstest.NewSentinel(t, t.TempDir())
	tarBytes := layerfstest.Tar(t, layerfstest.Fixture(s))
	layer, err := tarballLayer(tarBytes)
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(testimage.Image(t, "linux/amd64"), layer)
	if err != nil {
		t.Fatal(err)
	}
	srv := registrytest.New(t, registrytest.Config{})
	srv.Push(t, "fixture:latest", img)
	im, err := image.OpenRegistry(context.Background(), srv.Ref("fixture:latest"), regOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	fsys, err := im.RootFS(context.Background(), layerfs.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	layerfstest.Run(t, fsys, s)
}

func TestOpenRegistryMultiArch(t *testing.T) {
	srv := basicServer(t)
	amd := testimage.Image(t, "linux/amd64", map[string]string{"arch": "amd64"})
	arm := testimage.Image(t, "linux/arm64", map[string]string{"arch": "arm64"})
	v7 := testimage.Image(t, "linux/arm/v7", map[string]string{"arch": "armv7"})
	idxDigest := srv.PushIndex(t, "multi:latest", testimage.Index(t, true, amd, arm, v7))

	for _, tc := range []struct {
		platform string
		img      v1.Image
		content  string
	}{
		{"linux/amd64", amd, "amd64"},
		{"linux/arm64", arm, "arm64"},
		{"linux/arm", v7, "armv7"},
		{"linux/arm/v7", v7, "armv7"},
	} {
		t.Run(tc.platform, func(t *testing.T) {
			o := regOpts(t)
			o.Platform = tc.platform
			im, err := image.OpenRegistry(context.Background(), srv.Ref("multi:latest"), o)
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			dig, _ := tc.img.Digest()
			want := wantDescriptor(t, tc.img, srv.Ref("multi:latest"))
			want.IndexDigest = idxDigest.String()
			want.RepoTags = []string{srv.Ref("multi:latest")}
			want.RepoDigests = []string{srv.Ref("multi@" + dig.String())}
			if diff := cmp.Diff(want, im.Descriptor()); diff != "" {
				t.Errorf("Descriptor (-want +got):\n%s", diff)
			}
			fsys, err := im.RootFS(context.Background(), layerfs.Options{TempDir: t.TempDir()})
			if err != nil {
				t.Fatal(err)
			}
			defer fsys.Close()
			if got := readFile(t, fsys, "arch"); got != tc.content {
				t.Errorf("arch = %q, want %q", got, tc.content)
			}
		})
	}
	o := regOpts(t)
	o.Platform = "windows/amd64"
	_, err := image.OpenRegistry(context.Background(), srv.Ref("multi:latest"), o)
	if !errors.Is(err, image.ErrNotFound) || !strings.Contains(err.Error(), "linux/arm64") {
		t.Errorf("missing platform: err = %v, want ErrNotFound listing the platforms", err)
	}
}

func TestOpenRegistryAuth(t *testing.T) {
	srv := basicServer(t)
	srv.Push(t, "app:v1", twoLayers(t))
	for _, password := range []string{"wrong-Pa55word-xyz", ""} {
		o := regOpts(t)
		o.Password = password
		if password == "" {
			o.Username = ""
		}
		_, err := image.OpenRegistry(context.Background(), srv.Ref("app:v1"), o)
		if err == nil {
			t.Fatalf("password %q: open succeeded", password)
		}
		if (password != "" && strings.Contains(err.Error(), password)) || strings.Contains(err.Error(), pass) {
			t.Errorf("error carries a password: %v", err)
		}
	}
}

func TestOpenRegistryThrottled(t *testing.T) {
	srv := basicServer(t)
	srv.Push(t, "app:v1", twoLayers(t))
	served429 := false
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case strings.HasSuffix(r.URL.Path, "/manifests/v1") && !served429:
			served429 = true
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		}
		return false
	})
	start := time.Now()
	o := regOpts(t)
	o.Transport = registry.NewTransport(nil, registry.RetryOptions{BaseDelay: time.Millisecond, MaxWait: 5 * time.Second})
	im, err := image.OpenRegistry(context.Background(), srv.Ref("app:v1"), o)
	if err != nil {
		t.Fatalf("429 then success: %v", err)
	}
	im.Close()
	if el := time.Since(start); el < time.Second {
		t.Errorf("opened after %v; Retry-After: 1 was not honoured", el)
	}

	// Then every blob answers 503: the layer fails, bounded, as throttled.
	im, err = image.OpenRegistry(context.Background(), srv.Ref("app:v1"), regOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.Contains(r.URL.Path, "/blobs/") {
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	start = time.Now()
	fsys, err := im.RootFS(context.Background(), layerfs.Options{TempDir: t.TempDir()})
	if fsys != nil {
		fsys.Close()
	}
	if !errors.Is(err, registry.ErrThrottled) {
		t.Errorf("err = %v, want ErrThrottled", err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Errorf("gave up after %v", el)
	}
}

// zstd and uncompressed layers decompress (and verify) like gzip ones.
func TestOpenRegistryCompressions(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{})
	tarBytes := []byte(layerfstestTar(t, "etc/os-release", "ID=zstd\n"))
	zl, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(tarBytes)), nil },
		tarball.WithCompression(compression.ZStd), tarball.WithMediaType(types.OCILayerZStd))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := partial.CompressedToLayer(&rawLayer{b: []byte(layerfstestTar(t, "etc/motd", "plain\n"))})
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(testimage.Image(t, "linux/amd64"), zl, plain)
	if err != nil {
		t.Fatal(err)
	}
	if d, _ := plain.Digest(); d != mustDiffID(t, plain) {
		t.Fatal("the plain layer is stored compressed; the test would not test plain layers")
	}
	srv.Push(t, "z:v1", img)
	im, err := image.OpenRegistry(context.Background(), srv.Ref("z:v1"), regOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	fsys, err := im.RootFS(context.Background(), layerfs.Options{TempDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if got := readFile(t, fsys, "etc/os-release"); got != "ID=zstd\n" {
		t.Errorf("etc/os-release = %q", got)
	}
	if got := readFile(t, fsys, "etc/motd"); got != "plain\n" {
		t.Errorf("etc/motd = %q", got)
	}
}

func mustDiffID(t *testing.T, l interface{ DiffID() (v1.Hash, error) }) v1.Hash {
	h, err := l.DiffID()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
