package image_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/layerfs/layerfstest"
	"github.com/runlens/runlens/internal/registry"
	"github.com/runlens/runlens/internal/registry/registrytest"
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
	return registrytest.Image(t, "linux/amd64",
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
		Created:      registrytest.Created,
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
	img, err := mutate.AppendLayers(registrytest.Image(t, "linux/amd64"), layer)
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
	amd := registrytest.Image(t, "linux/amd64", map[string]string{"arch": "amd64"})
	arm := registrytest.Image(t, "linux/arm64", map[string]string{"arch": "arm64"})
	v7 := registrytest.Image(t, "linux/arm/v7", map[string]string{"arch": "armv7"})
	idxDigest := srv.PushIndex(t, "multi:latest", registrytest.Index(t, true, amd, arm, v7))

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

func TestOversizedConfigAndManifest(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{})
	base := twoLayers(t)
	cf, _ := base.ConfigFile()
	cf = cf.DeepCopy()
	cf.Config.Labels = map[string]string{}
	for i := 0; len(cf.Config.Labels) < 90000; i++ { // ~9 MiB of labels
		cf.Config.Labels["label-"+strconv.Itoa(i)] = strings.Repeat("x", 90)
	}
	big, err := mutate.ConfigFile(base, cf)
	if err != nil {
		t.Fatal(err)
	}
	srv.Push(t, "big:config", big)
	m, _ := big.Manifest()
	if m.Config.Size <= image.DefaultMaxConfigBytes {
		t.Fatalf("config is only %d bytes", m.Config.Size)
	}
	srv.Push(t, "small:v1", base)

	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if !strings.HasSuffix(r.URL.Path, "/manifests/huge") {
			return false
		}
		w.Header().Set("Content-Type", string(types.OCIManifestSchema1))
		chunk := []byte(strings.Repeat(" ", 64<<10))
		for i := 0; i < 80; i++ {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return true
	})
	for _, tc := range []struct {
		ref       string
		maxConfig int64
	}{
		{"big:config", 0},
		{"small:v1", 100},
		{"huge:huge", 0},
	} {
		o := regOpts(t)
		o.MaxConfigBytes = tc.maxConfig
		before := len(srv.Requests())
		_, err := image.OpenRegistry(context.Background(), srv.Ref(tc.ref), o)
		if !errors.Is(err, image.ErrTooLarge) {
			t.Errorf("%s: err = %v, want ErrTooLarge", tc.ref, err)
		}
		for _, r := range srv.Requests()[before:] {
			if strings.Contains(r, "/blobs/") {
				t.Errorf("%s: fetched %s although the descriptor was over the cap", tc.ref, r)
			}
		}
	}
}

func TestHostileDigests(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{})
	img := twoLayers(t)
	srv.Push(t, "app:v1", img)
	raw, _ := img.RawManifest()
	m, _ := img.Manifest()
	evilLayer := strings.Replace(string(raw), m.Layers[0].Digest.String(), "sha256:../../../../etc/passwd", 1)
	evilConfig := strings.Replace(string(raw), m.Config.Digest.String(), "sha256:"+strings.Repeat("A", 64), 1)
	evilIndex := `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
		`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:..%2f..%2fx","size":10,"platform":{"os":"linux","architecture":"amd64"}}]}`
	served := map[string]string{"evil-layer": evilLayer, "evil-config": evilConfig, "evil-index": evilIndex}
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		for tag, body := range served {
			if strings.HasSuffix(r.URL.Path, "/manifests/"+tag) {
				mt := types.OCIManifestSchema1
				if strings.Contains(tag, "index") {
					mt = types.OCIImageIndex
				}
				w.Header().Set("Content-Type", string(mt))
				io.WriteString(w, body)
				return true
			}
		}
		return false
	})
	for _, ref := range []string{
		srv.Ref("app@sha256:../../x"),
		srv.Ref("app@sha256:" + strings.Repeat("0", 63)),
		srv.Ref("app:evil-layer"),
		srv.Ref("app:evil-config"),
		srv.Ref("app:evil-index"),
	} {
		im, err := image.OpenRegistry(context.Background(), ref, regOpts(t))
		if err == nil {
			im.Close()
			t.Errorf("%s: opened", ref)
		}
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r, "..") || strings.Contains(r, "%2f") || strings.Contains(r, "AAAA") {
			t.Errorf("a hostile digest reached the registry: %s", r)
		}
	}
	for _, s := range []string{"sha256:../../x", "sha256:" + strings.Repeat("g", 64), "md5:abcd", "sha256", "",
		"sha256:" + strings.Repeat("A", 64), "sha512:" + strings.Repeat("0", 64)} {
		if _, err := image.ParseDigest(s); !errors.Is(err, image.ErrBadDigest) {
			t.Errorf("ParseDigest(%q) err = %v, want ErrBadDigest", s, err)
		}
	}
	if _, err := image.ParseDigest("sha256:" + strings.Repeat("0", 64)); err != nil {
		t.Errorf("valid digest refused: %v", err)
	}
}

// tamper answers the first layer's blob request the hostile way named.
func tamper(t *testing.T, how string, real []byte) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		switch how {
		case "longer":
			w.WriteHeader(http.StatusOK)
			w.Write(real)
			w.(http.Flusher).Flush()
			w.Write(make([]byte, 4096))
		case "declared-longer":
			w.Header().Set("Content-Length", fmt.Sprint(len(real)+10))
			w.WriteHeader(http.StatusOK)
			w.Write(real)
			w.Write(make([]byte, 10))
		case "endless":
			w.WriteHeader(http.StatusOK)
			buf := make([]byte, 32<<10)
			copy(buf, real)
			for {
				if _, err := w.Write(buf); err != nil || r.Context().Err() != nil {
					return
				}
				clear(buf)
			}
		case "mismatch":
			b := slices.Clone(real)
			b[9] ^= 0x01 // the gzip header's OS byte: still decompresses, digest differs
			w.Header().Set("Content-Length", fmt.Sprint(len(b)))
			w.Write(b)
		case "truncated":
			w.WriteHeader(http.StatusOK)
			w.Write(real[:len(real)/2])
		}
	}
}

func TestTamperedBlobs(t *testing.T) {
	srv := registrytest.New(t, registrytest.Config{})
	img := twoLayers(t)
	srv.Push(t, "app:v1", img)
	layers, _ := img.Layers()
	target, _ := layers[0].Digest()
	rc, _ := layers[0].Compressed()
	real, _ := io.ReadAll(rc)

	for _, tc := range []struct {
		how  string
		want error
	}{
		{"longer", image.ErrTooLarge},
		{"declared-longer", image.ErrTooLarge},
		{"endless", image.ErrTooLarge},
		{"mismatch", image.ErrDigestMismatch},
		{"truncated", io.ErrUnexpectedEOF},
	} {
		t.Run(tc.how, func(t *testing.T) {
			im, err := image.OpenRegistry(context.Background(), srv.Ref("app:v1"), regOpts(t))
			if err != nil {
				t.Fatal(err)
			}
			defer im.Close()
			h := tamper(t, tc.how, real)
			srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
				if strings.HasSuffix(r.URL.Path, "/blobs/"+target.String()) {
					h(w, r)
					return true
				}
				return false
			})
			defer srv.Intercept(nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			fsys, err := im.RootFS(ctx, layerfs.Options{TempDir: t.TempDir()})
			if !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			var le *layerfs.LayerError
			if !errors.As(err, &le) || le.Index != 0 {
				t.Errorf("err = %v, want a LayerError for layer 0", err)
			}
			diffID, _ := layers[0].DiffID()
			if err != nil && !strings.Contains(err.Error(), diffID.String()) {
				t.Errorf("error does not name the layer: %v", err)
			}
			if fsys == nil {
				t.Fatal("no partial RootFS")
			}
			defer fsys.Close()
			// The untouched second layer is still there.
			if got := readFile(t, fsys, "lib/apk/db/installed"); !strings.HasPrefix(got, "P:musl") {
				t.Errorf("second layer lost: %q", got)
			}
		})
	}
}

func TestForeignLayerURLsNeverFetched(t *testing.T) {
	attacker := registrytest.NewRecorder(t)
	srv := registrytest.New(t, registrytest.Config{})
	foreign := registrytest.Layer(t, map[string]string{"windows": "base"})
	img, err := mutate.Append(registrytest.Image(t, "linux/amd64"), mutate.Addendum{
		Layer:     foreign,
		MediaType: types.DockerForeignLayer,
		URLs:      []string{"http://" + attacker.Host + "/foreign.tar.gz"},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv.Push(t, "win:v1", img)
	fd, _ := foreign.Digest()
	srv.Intercept(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, "/blobs/"+fd.String()) {
			// As for a real Windows base layer: the registry does not have it.
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"errors":[{"code":"BLOB_UNKNOWN","message":"blob unknown"}]}`)
			return true
		}
		return false
	})
	im, err := image.OpenRegistry(context.Background(), srv.Ref("win:v1"), regOpts(t))
	if err != nil {
		t.Fatal(err)
	}
	defer im.Close()
	fsys, err := im.RootFS(context.Background(), layerfs.Options{TempDir: t.TempDir()})
	if fsys != nil {
		fsys.Close()
	}
	if err == nil || !strings.Contains(err.Error(), "foreign layer") {
		t.Errorf("err = %v, want a foreign-layer failure", err)
	}
	if n, _ := attacker.Got(); n != 0 {
		t.Errorf("the foreign URL host received %d requests", n)
	}
}
