package testimage

import (
	"sort"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Created is the fixed creation time of the images Layer and Image build.
var Created = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// Layer builds an OCI gzip layer holding files (path -> content), sorted
// by path, at Created; a path ending in "/" is a directory (mode 0755),
// every other path a regular file (mode 0644). Paths are written verbatim.
// It fails the test on error.
func Layer(t testing.TB, files map[string]string) v1.Layer {
	t.Helper()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	entries := make([]Entry, len(names))
	for i, n := range names {
		entries[i] = Entry{Name: n, Mode: 0o644, Data: []byte(files[n])}
		if strings.HasSuffix(n, "/") {
			entries[i].Mode = 0o755
		}
	}
	l, err := TarLayer(entries, Created, true)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// Image builds an OCI image for platform ("os/arch[/variant]") from
// layers of files (see Layer), base first, created at Created. It fails
// the test on error.
func Image(t testing.TB, platform string, layers ...map[string]string) v1.Image {
	t.Helper()
	ls := make([]v1.Layer, len(layers))
	for i, files := range layers {
		ls[i] = Layer(t, files)
	}
	img, err := Build(ls, Options{Platform: platform, Created: Created, OCI: true})
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// Index builds an OCI index of imgs, each entry carrying its config's
// platform, plus an attestation-like "unknown/unknown" entry when
// attestation is true. It fails the test on error.
func Index(t testing.TB, attestation bool, imgs ...v1.Image) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{
				OS: cf.OS, Architecture: cf.Architecture, Variant: cf.Variant,
			}},
		})
	}
	if attestation {
		att := Image(t, "unknown/unknown", map[string]string{"intoto.json": "{}"})
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        att,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "unknown", Architecture: "unknown"}},
		})
	}
	return idx
}
