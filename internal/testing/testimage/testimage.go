// Package testimage is runlens's one builder of real, reproducible
// container images for tests, the local Kubernetes harness (hack/cluster),
// benchmarks and fixture images (hack/mkimage). The same inputs always
// give the same digest: times, owners and entry order are fixed.
//
// Layers come from files held in memory (TarLayer, FromFiles, and the test
// helpers Layer, Image and Index) or from a directory tree (DirLayer);
// Build assembles them into an image, and WriteTarball and Push take it to
// a docker-save archive or a registry.
package testimage

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one regular file placed in the image layer.
type File struct {
	// Path is the absolute path inside the image, e.g. "/app".
	Path string
	// Mode is the file mode; 0 means 0o755.
	Mode int64
	// Data is the file content.
	Data []byte
}

// Config is the part of the image configuration the tests care about.
type Config struct {
	// Entrypoint is the container's command.
	Entrypoint []string
	// Cmd is the container's default arguments.
	Cmd []string
	// Env is a list of KEY=VALUE pairs.
	Env []string
	// Labels are the image labels.
	Labels map[string]string
	// WorkingDir is the container's working directory.
	WorkingDir string
}

// Options say how Build assembles an image.
type Options struct {
	// Platform is "os/arch[/variant][:osversion]"; "" means linux/amd64.
	Platform string
	// Created is the config's creation time.
	Created time.Time
	// OCI selects OCI media types for the manifest and config; otherwise
	// Docker's. Layers carry their own media type (see TarLayer, DirLayer).
	OCI bool
	// Config is written into the image configuration.
	Config Config
	// History has one entry per layer, or none.
	History []v1.History
}

// epoch keeps layer and config timestamps of FromFiles fixed so that
// digests are reproducible.
var epoch = time.Unix(0, 0).UTC()

// layerType is the media type of a gzip layer in an image with OCI or
// Docker media types.
func layerType(oci bool) types.MediaType {
	if oci {
		return types.OCILayer
	}
	return types.DockerLayer
}

// Build assembles an image from layers, base first.
func Build(layers []v1.Layer, opts Options) (v1.Image, error) {
	if len(opts.History) != 0 && len(opts.History) != len(layers) {
		return nil, fmt.Errorf("%d history entries for %d layers", len(opts.History), len(layers))
	}
	platform := opts.Platform
	if platform == "" {
		platform = "linux/amd64"
	}
	plat, err := v1.ParsePlatform(platform)
	if err != nil {
		return nil, fmt.Errorf("platform %q: %w", platform, err)
	}
	manifestType, configType := types.DockerManifestSchema2, types.DockerConfigJSON
	if opts.OCI {
		manifestType, configType = types.OCIManifestSchema1, types.OCIConfigJSON
	}
	img := mutate.MediaType(empty.Image, manifestType)
	img = mutate.ConfigMediaType(img, configType)
	adds := make([]mutate.Addendum, len(layers))
	for i, l := range layers {
		adds[i].Layer = l
		if len(opts.History) > 0 {
			adds[i].History = opts.History[i]
		}
	}
	if img, err = mutate.Append(img, adds...); err != nil {
		return nil, fmt.Errorf("append layers: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant, cf.OSVersion = plat.OS, plat.Architecture, plat.Variant, plat.OSVersion
	cf.Created = v1.Time{Time: opts.Created}
	c := opts.Config
	cf.Config.Entrypoint, cf.Config.Cmd, cf.Config.Env = c.Entrypoint, c.Cmd, c.Env
	cf.Config.Labels, cf.Config.WorkingDir = c.Labels, c.WorkingDir
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("set config: %w", err)
	}
	return img, nil
}

// FromFiles returns a linux/amd64 image with Docker media types and one
// layer holding files, sorted by path, each preceded by those of its
// parent directories not written yet, all at the Unix epoch.
func FromFiles(files []File, cfg Config) (v1.Image, error) {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	dirs := map[string]bool{}
	var entries []Entry
	for _, f := range sorted {
		p := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		if p == "" {
			return nil, fmt.Errorf("file path %q: empty", f.Path)
		}
		for d := path.Dir(p); d != "."; d = path.Dir(d) {
			if !dirs[d] {
				dirs[d] = true
				entries = append(entries, Entry{Name: d + "/", Mode: 0o755})
			}
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o755
		}
		entries = append(entries, Entry{Name: p, Mode: mode, Data: f.Data})
	}
	layer, err := TarLayer(entries, epoch, false)
	if err != nil {
		return nil, err
	}
	return Build([]v1.Layer{layer}, Options{Created: epoch, Config: cfg})
}
