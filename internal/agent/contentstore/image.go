package contentstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/runlens/runlens/internal/image"
	"github.com/runlens/runlens/internal/layerfs"
	"github.com/runlens/runlens/internal/registry"
)

// maxIndexDepth bounds indexes of indexes.
const maxIndexDepth = 4

// Image opens the image whose manifest (or index) digest ref names:
// "sha256:<hex>", or "repo@sha256:<hex>" as a pod's imageID and the CRI's
// repo digests give it (the name then becomes the image's Reference and
// repo digest). An index resolves to the manifest of s.Platform. The
// manifest, index and config are read and verified here; each layer blob
// is checked to be present with its declared size, and verified as
// RootFS reads it. A missing blob is an error wrapping ErrBlobMissing that
// names its digest. The image reads through s: keep s open while it is
// used.
func (s *Store) Image(ctx context.Context, ref string) (image.Image, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, digest := "", ref
	if i := strings.LastIndexByte(ref, '@'); i >= 0 {
		name, digest = ref[:i], ref[i+1:]
	}
	h, err := image.ParseDigest(digest)
	if err != nil {
		return nil, fmt.Errorf("content store image %q: %w", ref, err)
	}
	what := "content store image " + ref
	raw, err := s.readJSON(h, -1, s.maxManifest(), "manifest")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	desc := image.Descriptor{Reference: ref}
	if name != "" {
		desc.RepoDigests = []string{ref}
	}
	md := v1.Descriptor{Digest: h, MediaType: mediaType(raw)}
	for depth := 0; isIndex(md.MediaType, raw); depth++ {
		if depth >= maxIndexDepth {
			return nil, fmt.Errorf("%s: indexes nested more than %d deep", what, maxIndexDepth)
		}
		idx, err := v1.ParseIndexManifest(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("%s: index %s: %w", what, md.Digest, err)
		}
		child, err := registry.SelectPlatform(idx, s.Platform)
		if err != nil {
			return nil, fmt.Errorf("%s: index %s: %w: %w", what, md.Digest, image.ErrNotFound, err)
		}
		desc.IndexDigest = md.Digest.String()
		if raw, err = s.readJSON(child.Digest, child.Size, s.maxManifest(), "manifest"); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		md = child
	}
	img, err := s.build(ctx, what, md, raw, desc)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// build reads the config of the image manifest raw and checks its layers
// are all in the store.
func (s *Store) build(ctx context.Context, what string, md v1.Descriptor, raw []byte, desc image.Descriptor) (*storeImage, error) {
	m, err := v1.ParseManifest(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("%s: manifest %s: %w", what, md.Digest, err)
	}
	if m.SchemaVersion != 2 {
		return nil, fmt.Errorf("%s: manifest schema version %d is not supported", what, m.SchemaVersion)
	}
	switch m.Config.MediaType {
	case types.DockerConfigJSON, types.OCIConfigJSON, "":
	default:
		return nil, fmt.Errorf("%s: %w: manifest %s is an artifact (config %s), not a container image", what, image.ErrNotFound, md.Digest, m.Config.MediaType)
	}
	cfgBytes, err := s.readJSON(m.Config.Digest, m.Config.Size, s.maxConfig(), "config")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	cfg, err := v1.ParseConfigFile(bytes.NewReader(cfgBytes))
	if err != nil {
		return nil, fmt.Errorf("%s: config %s: %w", what, m.Config.Digest, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(m.Layers) {
		return nil, fmt.Errorf("%s: manifest has %d layers but config lists %d diff IDs", what, len(m.Layers), len(cfg.RootFS.DiffIDs))
	}
	desc.Digest = md.Digest.String()
	desc.ConfigDigest = m.Config.Digest.String()
	desc.Created = cfg.Created.Time
	if cfg.OS != "" && cfg.Architecture != "" {
		desc.Platform = registry.FormatPlatform(v1.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant})
	}
	img := &storeImage{s: s}
	for i, l := range m.Layers {
		f, err := s.open(l.Digest, l.Size)
		if err != nil {
			if errors.Is(err, ErrBlobMissing) && len(l.URLs) > 0 {
				return nil, fmt.Errorf("%s: layer %d: foreign layer not in the store (its URLs are never fetched): %w", what, i, err)
			}
			return nil, fmt.Errorf("%s: layer %d: %w", what, i, err)
		}
		f.Close()
		desc.Layers = append(desc.Layers, image.LayerInfo{DiffID: cfg.RootFS.DiffIDs[i].String(), Digest: l.Digest.String(), Size: l.Size, MediaType: string(l.MediaType)})
		img.layers = append(img.layers, l)
	}
	img.desc = desc
	return img, ctx.Err()
}

// mediaType is the mediaType a manifest or index names itself with.
func mediaType(raw []byte) types.MediaType {
	var probe struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	json.Unmarshal(raw, &probe)
	return probe.MediaType
}

// isIndex tells an index without a mediaType (OCI allows leaving it out)
// by its "manifests".
func isIndex(mt types.MediaType, raw []byte) bool {
	if mt != "" {
		return mt.IsIndex()
	}
	var probe struct {
		Manifests json.RawMessage `json:"manifests"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.Manifests != nil
}

// storeImage is an image read from the content store.
type storeImage struct {
	s      *Store
	desc   image.Descriptor
	layers []v1.Descriptor
}

// Descriptor implements image.Image.
func (i *storeImage) Descriptor() image.Descriptor {
	d := i.desc
	d.RepoDigests = append([]string(nil), d.RepoDigests...)
	d.Layers = append([]image.LayerInfo(nil), d.Layers...)
	return d
}

// RootFS implements image.Image by flattening the verified layer blobs
// with layerfs (the same confinement and limits as every other source).
func (i *storeImage) RootFS(ctx context.Context, opts layerfs.Options) (layerfs.RootFS, error) {
	ls := make([]layerfs.Layer, len(i.layers))
	for n, l := range i.layers {
		ls[n] = layerfs.Layer{
			DiffID: i.desc.Layers[n].DiffID,
			Open: func(ctx context.Context) (io.ReadCloser, error) {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				rc, err := i.s.openLayer(l.Digest, l.Size)
				if err != nil {
					return nil, fmt.Errorf("content store image %s layer %d: %w", i.desc.Reference, n, err)
				}
				return rc, nil
			},
		}
	}
	fs, err := layerfs.Flatten(ctx, ls, opts)
	if err != nil {
		return fs, fmt.Errorf("content store image %s: %w", i.desc.Reference, err)
	}
	return fs, nil
}

// Close implements image.Image; the Store stays open.
func (i *storeImage) Close() error { return nil }
