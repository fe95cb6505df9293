package image_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/registry/registrytest"
	"github.com/runlens/runlens/internal/testing/testimage"
)

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
	foreign := testimage.Layer(t, map[string]string{"windows": "base"})
	img, err := mutate.Append(testimage.Image(t, "linux/amd64"), mutate.Addendum{
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
